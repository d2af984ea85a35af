"""Backup folders: a private copy of every file an apply is about to change, plus a manifest.

`<App>/bindmgr-backups/<UTC timestamp>[-n]/` (mode 0700) holds the old bytes with their original
owner and mode and `manifest.json`. Writes go through safewrite; no INI or plan knowledge here.
A manifest's names are checked when it is read (`trust`); a backup dated in the future is listed
after all others (a clock that ran ahead, or a forgery, must not make it "the newest").
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import shutil
import socket
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path

from bindmgr.apply import faultpoint, trust, winacl
from bindmgr.apply.safewrite import ANY, fsync_dir, read_bytes, replace_file
from bindmgr.errors import BindmgrError, InputError, UsageError, WriteError
from bindmgr.model import digest, sha256_bytes, show_digest

BACKUP_DIR = "bindmgr-backups"
MANIFEST = "manifest.json"
FORMAT = 1
_NAME_RE = re.compile(r"^(\d{8}T\d{6}Z)(?:-(\d+))?$")
# A backup dated more than this after "now" is in the future (clocks of one host agree closely;
# a minute covers a time step between the backup and the listing).
FUTURE_SLACK = dt.timedelta(minutes=1)

# Manifest states: the copies are complete and nothing was written yet / the apply (or restore)
# finished and was verified / it failed and the files it had written were put back.
BACKED_UP = "backed-up"
WRITTEN = "written"
REVERTED = "reverted"


@dataclass(frozen=True, slots=True)
class BackupFile:
    """One file in a backup (names relative to the App folder, as the caller gave them)."""

    name: str
    stored: str | None  # the copy's file name inside the backup folder; None = did not exist
    old_sha256: str | None  # of the backed-up bytes; None = the file did not exist
    planned_sha256: str | None  # of the bytes the apply was about to write (None = to delete)
    new_sha256: str | None  # of the bytes put in place (None until verified, or deleted)


@dataclass(frozen=True, slots=True)
class Backup:
    """A backup folder and what its manifest says."""

    path: Path
    created: dt.datetime  # UTC
    pid: int
    host: str
    kind: str  # "apply" or "restore" (a rollback is backed up too, so it can be undone)
    app_dir: str  # the App folder the names are relative to
    state: str  # BACKED_UP, WRITTEN or REVERTED
    files: tuple[BackupFile, ...]
    meta: Mapping[str, object] = field(default_factory=dict)

    def in_future(self, now: dt.datetime) -> bool:
        """Dated after `now`: its time is not believed for ordering (listed last, never picked
        as the newest by a plain rollback)."""
        return self.created > now + FUTURE_SLACK

    def file(self, name: str) -> BackupFile:
        for f in self.files:
            if f.name == name:
                return f
        raise KeyError(name)

    def read_old(self, name: str) -> bytes | None:
        """The backed-up bytes of `name` (None: it did not exist); checked against the manifest."""
        entry = self.file(name)
        if entry.stored is None:
            return None
        copy = self.path / entry.stored
        try:
            data = read_bytes(copy)
        except WriteError as exc:  # not a regular file
            raise InputError(f"backup copy {exc.message}", hint=exc.hint) from exc
        except OSError as exc:
            raise InputError(
                f"backup copy {copy} cannot be read: {exc.strerror or exc}",
                hint="restore from another backup, or copy the file by hand",
            ) from exc
        if data is None:
            raise InputError(
                f"backup copy {copy} is missing; the backup is damaged, nothing restored",
                hint="restore from another backup folder",
            )
        if sha256_bytes(data) != entry.old_sha256:
            raise InputError(
                f"backup copy {copy} does not match its manifest (sha256 {sha256_bytes(data)[:12]},"
                f" manifest says {show_digest(entry.old_sha256)}); the backup is damaged, nothing "
                "restored",
                hint="restore from another backup folder",
            )
        return data


def default_root(app_dir: Path) -> Path:
    return Path(app_dir) / BACKUP_DIR


def create_backup(
    backup_root: Path,
    app_dir: Path,
    originals: Mapping[str, bytes | None],
    planned: Mapping[str, str | None],
    *,
    kind: str,
    meta: Mapping[str, object],
    now: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.UTC),
) -> Backup:
    """Copy `originals` (name -> old bytes, None = absent) into a new backup folder.

    `planned`: name -> sha256 of the bytes about to be written (None = to be deleted). Each
    copy gets the original's owner, group and mode. The manifest is written last, so a folder
    without one is an interrupted backup after which nothing was written (prune removes it).
    """
    trust.check_folder(Path(backup_root))  # a root others may write: its backups are worthless
    created = now()
    folder = _new_folder(Path(backup_root), created, Path(app_dir))
    files: list[BackupFile] = []
    used = {MANIFEST}
    for name, data in originals.items():
        stored = None
        if data is not None:
            stored = _unique(Path(name).name, used)
            replace_file(folder / stored, data, expected_sha256=None, like=Path(app_dir) / name)
            faultpoint.reached("backup.copied")
        files.append(
            BackupFile(
                name=name,
                stored=stored,
                old_sha256=digest(data),
                planned_sha256=planned[name],
                new_sha256=None,
            )
        )
    backup = Backup(
        path=folder,
        created=created,
        pid=os.getpid(),
        host=socket.gethostname(),
        kind=kind,
        app_dir=str(app_dir),
        state=BACKED_UP,
        files=tuple(files),
        meta=dict(meta),
    )
    _write_manifest(backup)
    faultpoint.reached("backup.manifest")
    return backup


def mark(backup: Backup, state: str, new_hashes: Mapping[str, str | None] | None = None) -> Backup:
    """Record the outcome in the manifest: the new hashes once verified, or that it reverted."""
    hashes = new_hashes or {}
    files = tuple(replace(f, new_sha256=hashes.get(f.name, f.new_sha256)) for f in backup.files)
    updated = replace(backup, state=state, files=files)
    _write_manifest(updated)
    return updated


def load_manifest_dict(folder: Path) -> dict[str, object]:
    try:
        raw = read_bytes(Path(folder) / MANIFEST)
        if raw is None:
            raise FileNotFoundError(f"{Path(folder) / MANIFEST} does not exist")
        d = json.loads(raw.decode("utf-8"))
    except (OSError, ValueError, WriteError) as exc:
        raise InputError(
            f"{Path(folder) / MANIFEST} cannot be read: {exc}",
            hint="pick another backup folder (bindmgr lists them newest first)",
        ) from exc
    if not isinstance(d, dict) or d.get("format") != FORMAT:
        raise InputError(f"{Path(folder) / MANIFEST} is not a bindmgr backup manifest")
    return d


def _digest_field(value: object) -> str | None:
    """A manifest's hash: null (or "", as older manifests wrote it) for an absent file."""
    return None if value in (None, "") else str(value)


def _name(value: object, check: Callable[[str], str | None]) -> str:
    text = str(value)
    problem = check(text)
    if problem is not None:
        raise ValueError(f"file name {text!r} is refused: {problem}")
    return text


def _created(value: object) -> dt.datetime:
    stamp = dt.datetime.fromisoformat(str(value))
    return stamp if stamp.tzinfo is not None else stamp.replace(tzinfo=dt.UTC)


def load_backup(folder: Path) -> Backup:
    """Read a backup folder's manifest (InputError when missing or damaged).

    Every `name` must be a plain name relative to the App folder and every `stored` a plain file
    name (`trust`): a manifest naming anything else is damaged, whatever its hashes say.
    """
    d = load_manifest_dict(folder)
    try:
        files = tuple(
            BackupFile(
                name=_name(f["name"], trust.name_problem),
                stored=None if f["stored"] is None else _name(f["stored"], trust.stored_problem),
                old_sha256=_digest_field(f["old_sha256"]),
                planned_sha256=_digest_field(f["planned_sha256"]),
                new_sha256=None if f["new_sha256"] is None else str(f["new_sha256"]),
            )
            for f in d["files"]  # type: ignore[attr-defined]
        )
        meta = d.get("meta") or {}
        return Backup(
            path=Path(folder),
            created=_created(d["created"]),
            pid=int(d["pid"]),  # type: ignore[call-overload]
            host=str(d["host"]),
            kind=str(d["kind"]),
            app_dir=str(d["app_dir"]),
            state=str(d["state"]),
            files=files,
            meta=dict(meta),  # type: ignore[call-overload]
        )
    except (KeyError, TypeError, ValueError) as exc:
        detail = str(exc) if type(exc) is ValueError else repr(exc)  # KeyError('name') reads
        raise InputError(
            f"{Path(folder) / MANIFEST} is damaged: {detail}",
            hint="pick another backup folder, or read that manifest by hand",
        ) from exc


def list_backups(backup_root: Path, *, now: dt.datetime | None = None) -> list[Backup]:
    """Every complete backup under `backup_root`, newest first, those dated in the future last
    (folders without a manifest, damaged ones and foreign folders are skipped: see `scan`)."""
    return [b for b, _problem in scan(backup_root, now=now) if b is not None]


def scan(
    backup_root: Path, *, now: dt.datetime | None = None
) -> list[tuple[Backup | None, str | None]]:
    """Every backup folder under `backup_root`, for a listing: (backup, None) for each complete
    one in `list_backups` order, then (None, why) for each that cannot be read (no manifest: an
    interrupted backup; a damaged manifest; an unreadable folder), by name."""
    moment = now if now is not None else dt.datetime.now(dt.UTC)
    found: list[tuple[bool, dt.datetime, int, Backup]] = []
    broken: list[tuple[str, str]] = []
    for folder, seq in _folders(Path(backup_root)):
        if not (folder / MANIFEST).exists():
            broken.append((folder.name, f"{folder}: no manifest (an interrupted backup)"))
            continue
        try:
            b = load_backup(folder)
        except BindmgrError as exc:
            broken.append((folder.name, exc.message))
            continue
        future = b.in_future(moment)
        found.append((not future, b.created, seq, b))
    found.sort(key=lambda t: (t[0], t[1], t[2]), reverse=True)
    listed: list[tuple[Backup | None, str | None]] = [(b, None) for *_k, b in found]
    listed += [(None, why) for _n, why in sorted(broken)]
    return listed


def prune(backup_root: Path, keep: int, *, protect: Collection[Path] = ()) -> list[Path]:
    """Delete all but the `keep` newest backups, and interrupted (manifest-less) folders.

    A folder whose manifest is damaged is kept: it may be the only copy of something, and
    `rollback --list` shows it. Run it under the App folder's lock (commit does): an unlocked
    prune could delete the folder another apply is filling. Folders in `protect` are never
    removed (the backup just made, even if the clock went backwards). Returns those removed.
    """
    if keep < 1:
        raise UsageError(f"keep must be at least 1 (got {keep}): the newest backup is never pruned")
    root = Path(backup_root)
    complete = list_backups(root)
    doomed = [b.path for b in complete[keep:]]
    doomed += [f for f, _seq in _folders(root) if not (f / MANIFEST).exists()]
    kept = {Path(p).resolve() for p in protect}
    doomed = [f for f in doomed if f.resolve() not in kept]
    for folder in doomed:
        shutil.rmtree(folder)
    return doomed


# -- internals --------------------------------------------------------------------------------


def _folders(root: Path) -> list[tuple[Path, int]]:
    try:
        names = os.listdir(root)
    except FileNotFoundError:
        return []
    out = []
    for n in names:
        m = _NAME_RE.match(n)
        if m and (root / n).is_dir() and not (root / n).is_symlink():
            out.append((root / n, int(m.group(2) or 0)))
    return out


def _new_folder(root: Path, created: dt.datetime, app_dir: Path) -> Path:
    """A new, private backup folder in `root`: 0700 on POSIX; on Windows the App folder's
    access list, protected, so that it is no more readable than the App folder wherever it is
    (the copies hold passwords)."""
    stamp = created.astimezone(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    try:
        if not root.is_dir():
            root.mkdir(mode=0o700, exist_ok=True)
            winacl.copy_security(app_dir, root, protect=True)
            fsync_dir(root.parent)
        for n in range(1000):
            folder = root / (stamp if n == 0 else f"{stamp}-{n}")
            try:
                folder.mkdir(mode=0o700)  # exclusive
            except FileExistsError:
                continue
            os.chmod(folder, 0o700)  # whatever the umask; Windows: only the read-only flag
            winacl.copy_security(app_dir, folder, protect=True)  # Windows: the App folder's
            fsync_dir(root)  # the folder survives a power cut along with the copies in it
            return folder
    except OSError as exc:
        raise WriteError(
            f"cannot create a backup folder in {root}: {exc.strerror or exc}; nothing was "
            "changed, the originals are intact",
            hint="make that folder writable (or free disk space) and rerun",
        ) from exc
    raise WriteError(f"more than 1000 backups named {stamp} in {root}; nothing was changed")


def _unique(name: str, used: set[str]) -> str:
    stem, dot, ext = name.rpartition(".")
    if not dot:
        stem, ext = name, ""
    candidate, n = name, 1
    while candidate.lower() in used:  # case-insensitive, as on Windows
        n += 1
        candidate = f"{stem}-{n}{dot}{ext}"
    used.add(candidate.lower())
    return candidate


def _write_manifest(backup: Backup) -> None:
    body = {
        "format": FORMAT,
        "created": backup.created.isoformat(),
        "pid": backup.pid,
        "host": backup.host,
        "kind": backup.kind,
        "state": backup.state,
        "app_dir": backup.app_dir,
        "files": [
            {
                "name": f.name,
                "stored": f.stored,
                "old_sha256": f.old_sha256,
                "planned_sha256": f.planned_sha256,
                "new_sha256": f.new_sha256,
            }
            for f in backup.files
        ],
        "meta": dict(backup.meta),
    }
    data = (json.dumps(body, indent=2, default=str) + "\n").encode("utf-8")
    replace_file(backup.path / MANIFEST, data, expected_sha256=ANY)
