"""Apply and roll back a set of file contents as one guarded step: lock, stale check, backup,
safe writes, read-back and verify, and on any failure put back what was written.

Bytes in, files out: it knows nothing of INI files or plans (the caller's `verify` does).
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import NoReturn

from bindmgr.apply import faultpoint, signals, trust
from bindmgr.apply.backup import (
    BACKED_UP,
    REVERTED,
    WRITTEN,
    Backup,
    create_backup,
    default_root,
    list_backups,
    mark,
    prune,
)
from bindmgr.apply.lock import AppLock
from bindmgr.apply.safewrite import read_bytes, remove_file, remove_leftovers, replace_file
from bindmgr.apply.targets import preflight
from bindmgr.errors import (
    BindmgrError,
    FileChangedError,
    LockError,
    StalePlanError,
    UsageError,
    WriteError,
)
from bindmgr.model import digest, show_digest

Verify = Callable[[str, bytes], None]
Explain = Callable[[str, bytes | None], str]  # (file, its current bytes) -> what changed
Message = Callable[[str], None]
Contents = Mapping[str, bytes | None]  # None: the file must not exist (restore of a new file)
Check = Callable[[Mapping[str, bytes | None]], None]


@dataclass(frozen=True, slots=True)
class CommitResult:
    """What a commit or restore did. `backup` is None exactly when nothing was written."""

    written: tuple[str, ...]  # names whose bytes were replaced (or removed), in write order
    unchanged: tuple[str, ...]  # names that already held the wanted bytes
    backup: Backup | None
    pruned: tuple[Path, ...]  # old backup folders deleted to keep `keep`

    @property
    def changed(self) -> bool:
        return bool(self.written)


def commit(
    app_dir: Path,
    new_contents: Mapping[str, bytes],
    *,
    expected: Mapping[str, str | None],
    verify: Verify | None = None,
    explain: Explain | None = None,
    stale_hint: str = "make a new plan from the current files and rerun",
    keep: int = 10,
    lock_timeout: float = 30.0,
    backup_root: Path | None = None,
    meta: Mapping[str, object] | None = None,
    on_message: Message | None = None,
    command: str = "bindmgr apply",
) -> CommitResult:
    """Write `new_contents` (name relative to `app_dir` -> bytes) as planned against `expected`.

    `expected` holds the sha256 the plan saw for every input file (None = must not exist yet); it
    must cover every name in `new_contents` and may name further inputs that are only checked.
    This is the stale check, made once, with the lock held: `explain(name, current bytes)` says
    what changed in a file (the caller knows its format; without it, the hashes are shown).
    Raises StalePlanError (naming every changed file; nothing written), LockError, WriteError
    (the message says whether files were restored), UsageError for bad arguments.
    """
    missing = [n for n in new_contents if n not in expected]
    if missing:
        raise UsageError(
            f"no planned sha256 for {', '.join(missing)}: every file written must be "
            "one the plan read"
        )
    app = Path(app_dir)

    def check(current: Mapping[str, bytes | None]) -> None:
        stale = []
        for name, want in expected.items():
            now = digest(current[name])
            if now != want:
                why = (
                    explain(name, current[name])
                    if explain is not None
                    else f"planned {show_digest(want)}, now {show_digest(now)}"
                )
                stale.append(f"{app / name} changed since the plan was made ({why})")
        if stale:
            raise StalePlanError(
                "the plan is stale, nothing was written:\n  " + "\n  ".join(stale),
                hint=stale_hint,
            )

    reads = [*new_contents, *(n for n in expected if n not in new_contents)]
    return _run(
        app,
        dict(new_contents),
        reads,
        check,
        kind="apply",
        verify=verify,
        keep=keep,
        lock_timeout=lock_timeout,
        backup_root=backup_root,
        meta=meta or {},
        say=on_message,
        command=command,
    )


def restore(
    app_dir: Path,
    backup: Backup,
    *,
    allowed: Collection[str],
    force: bool = False,
    verify: Verify | None = None,
    keep: int = 10,
    lock_timeout: float = 30.0,
    backup_root: Path | None = None,
    meta: Mapping[str, object] | None = None,
    on_message: Message | None = None,
    command: str = "bindmgr rollback",
) -> CommitResult:
    """Put `backup`'s old bytes back (a file the apply created is removed), as a new transaction.

    A manifest decides where this writes, so it is believed only this far (InputError otherwise,
    nothing written): every name is one of `allowed` (the files the layout names), the backup
    folder and the folder holding it are writable by nobody but this account and root
    (`trust.check_folder`), and every copy matches its hash. Refuses with FileChangedError when
    a file's current hash is neither what that apply wrote nor the backed-up one (someone
    changed it since), unless `force`. A file already equal to the backup is left alone. The
    files being replaced are backed up first (kind "restore"), so a rollback can be undone by
    restoring that backup.
    """
    faultpoint.reached("restore.start")
    app = Path(app_dir)
    trust.check_folder(backup.path.parent)
    trust.check_folder(backup.path)
    trust.check_allowed((f.name for f in backup.files), allowed, backup.path)
    contents = {f.name: backup.read_old(f.name) for f in backup.files}  # checks each copy's hash

    def check(current: Mapping[str, bytes | None]) -> None:
        stale = []
        for f in backup.files:
            now = digest(current[f.name])
            allowed: set[str | None] = set()  # REVERTED: the apply's writes were put back
            if backup.state == WRITTEN:
                allowed = {f.new_sha256}
            elif backup.state == BACKED_UP:  # interrupted: its new bytes may be in place
                allowed = {f.planned_sha256}
            if now != f.old_sha256 and now not in allowed:
                wrote = "?" if f.new_sha256 is None else show_digest(f.new_sha256)
                stale.append(
                    f"{app / f.name} changed after that {backup.kind} (it wrote {wrote}, "
                    f"now {show_digest(now)})"
                )
        if stale and not force:
            raise FileChangedError(
                f"not restoring {backup.path.name}, nothing was written: " + "; ".join(stale),
                hint="look at those changes first; to overwrite them anyway, rerun with --force "
                "(the current files are backed up before the restore)",
            )
        for line in stale:
            if on_message is not None:
                on_message(f"overwriting (forced): {line}")
        faultpoint.reached("restore.checked")

    info = {"restores": backup.path.name, "restored_kind": backup.kind, **(meta or {})}
    return _run(
        app,
        contents,
        list(contents),
        check,
        kind="restore",
        verify=verify,
        keep=keep,
        lock_timeout=lock_timeout,
        backup_root=backup_root,
        meta=info,
        say=on_message,
        command=command,
    )


def _run(
    app: Path,
    contents: Contents,
    reads: list[str],
    check: Check,
    *,
    kind: str,
    verify: Verify | None,
    keep: int,
    lock_timeout: float,
    backup_root: Path | None,
    meta: Mapping[str, object],
    say: Message | None,
    command: str,
) -> CommitResult:
    if keep < 1:
        raise UsageError(f"keep must be at least 1 (got {keep}): an apply always keeps its backup")
    paths = {n: _target(app, n) for n in reads}
    _no_duplicates(paths)
    root = Path(backup_root) if backup_root is not None else default_root(app)
    tell = say or (lambda _msg: None)
    with AppLock(app, command=command, timeout=lock_timeout, on_message=tell) as lock:
        remove_leftovers([paths[n] for n in contents], tell)
        _warn_interrupted(root, tell)
        current = {n: _read(paths[n]) for n in reads}
        check(current)
        changed = [n for n in contents if current[n] != contents[n]]
        unchanged = tuple(n for n in contents if n not in changed)
        if not changed:
            return CommitResult(written=(), unchanged=unchanged, backup=None, pruned=())
        preflight([paths[n] for n in changed], tell)
        planned = {n: digest(contents[n]) for n in changed}
        # From the backup to the manifest's last word, a stop signal is held back and makes the
        # run revert at the next safe point (between files): the files end all old or all new.
        with signals.held() as stop:
            backup = create_backup(
                root, app, {n: current[n] for n in changed}, planned, kind=kind, meta=meta
            )
            attempted: list[str] = []  # recorded before each replace: a revert covers it
            try:
                if not lock.still_held():
                    raise LockError(
                        f"the lock {lock.path} was taken over by another process during the "
                        f"backup; nothing was written (backup {backup.path} is unused)",
                        hint="rerun; if the other process changed the files, make a new plan first",
                    )
                stop.check()
                for n in changed:
                    attempted.append(n)
                    _put(paths[n], contents[n], expected=digest(current[n]))
                    stop.check()
                for n in changed:
                    _read_back(n, paths[n], contents[n], verify)
                faultpoint.reached("commit.verified")
                stop.check()
            except BaseException as exc:  # every failure, even ^C or SIGTERM, puts files back
                _revert(
                    paths,
                    backup=backup,
                    attempted=attempted,
                    contents=contents,
                    current=current,
                    exc=exc,
                )
            backup = mark(backup, WRITTEN, planned)
            pruned = _prune(root, keep, backup, tell)
    return CommitResult(
        written=tuple(changed), unchanged=unchanged, backup=backup, pruned=tuple(pruned)
    )


class _VerifyFailed(Exception):
    def __init__(self, path: Path, cause: BaseException) -> None:
        super().__init__(f"{path}: {cause}")
        self.path = path
        self.cause = cause


def _read_back(name: str, path: Path, want: bytes | None, verify: Verify | None) -> None:
    data = _read(path)
    if data != want:
        raise _VerifyFailed(path, ValueError("reads back different bytes than were written"))
    if verify is not None and data is not None:
        try:
            verify(name, data)
        except Exception as exc:
            raise _VerifyFailed(path, exc) from exc


def _revert(
    paths: Mapping[str, Path],
    *,
    backup: Backup,
    attempted: list[str],
    contents: Contents,
    current: Mapping[str, bytes | None],
    exc: BaseException,
) -> NoReturn:
    """Put back every file a replace was attempted on (newest first), then raise.

    A file still holding its old bytes was never replaced and is left alone; one holding the new
    bytes is put back; one holding neither is a failure to report. The manifest says `reverted`
    only when every file is back; otherwise it stays `backed-up` (interrupted), which the next
    run reports.
    """
    failures = []
    restored = 0
    for n in reversed(attempted):
        try:
            if digest(_read(paths[n])) == digest(current[n]):
                continue
            _put(paths[n], current[n], expected=digest(contents[n]))
            restored += 1
        except BindmgrError as err:
            failures.append(f"{paths[n]}: {err}")
    if failures:
        raise WriteError(
            f"{exc}; putting the old files back FAILED for " + "; ".join(failures),
            hint=f"copy them back by hand from {backup.path} (manifest.json says which is which)",
        ) from exc
    with contextlib.suppress(BindmgrError):
        mark(backup, REVERTED)
    if not isinstance(exc, Exception):
        raise exc  # KeyboardInterrupt, SystemExit: files are back, keep their meaning
    note = (
        f"the {restored} file(s) already written were restored from backup {backup.path}"
        if restored
        else "no file was changed"
    )
    if isinstance(exc, _VerifyFailed):
        raise WriteError(
            f"verification failed after writing {exc.path}: {exc.cause}; {note}",
            hint="nothing is half-applied; report this, the plan produced bytes that do not check",
        ) from exc
    if isinstance(exc, BindmgrError):
        raise type(exc)(f"{exc.message}; {note}", hint=exc.hint) from exc
    raise WriteError(f"unexpected failure while writing: {exc!r}; {note}") from exc


def _put(path: Path, data: bytes | None, *, expected: str | None) -> None:
    if data is None:
        remove_file(path, expected_sha256=expected)
    else:
        replace_file(path, data, expected_sha256=expected)


def _read(path: Path) -> bytes | None:
    try:
        return read_bytes(path)
    except OSError as exc:
        raise WriteError(
            f"cannot read {path}: {exc.strerror or exc}; nothing was written",
            hint="check that file's permissions and rerun",
        ) from exc


def _target(app: Path, name: str) -> Path:
    if not name or Path(name).is_absolute() or Path(name).drive:
        raise UsageError(f"file name {name!r} must be relative to the App folder {app}")
    return app / name


def _no_duplicates(paths: Mapping[str, Path]) -> None:
    seen: dict[str, str] = {}
    for n, p in paths.items():
        key = os.path.normcase(os.path.normpath(p))  # Windows: case-insensitive names
        if key in seen:
            raise UsageError(f"{seen[key]!r} and {n!r} name the same file")
        seen[key] = n


def _warn_interrupted(root: Path, tell: Message) -> None:
    newest = next(iter(list_backups(root)), None)
    if newest is not None and newest.state == BACKED_UP:
        tell(
            f"the {newest.kind} of {newest.created:%Y-%m-%d %H:%M:%S} UTC (pid {newest.pid}) was "
            f"interrupted: some files may hold its new bytes and others the old; backup "
            f"{newest.path} puts the old ones back (rollback); a new plan and apply finish the job"
        )


def _prune(root: Path, keep: int, backup: Backup, tell: Message) -> list[Path]:
    try:
        removed = prune(root, keep, protect=(backup.path,))
    except OSError as exc:  # the apply itself succeeded; an old backup staying is harmless
        tell(f"could not delete old backups in {root}: {exc}")
        return []
    return removed
