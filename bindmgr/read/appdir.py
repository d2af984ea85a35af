"""Reading from disk: the App folder (found, read through a layout, hashed) and the text of
bindmgr's own files (layout, bindings, saved plans).

The read edge: it reads and hands bytes or text on; parsing bindmgr's own files is the
commands' job (they hold the parsers), writes go through `transaction`. It never writes.
"""

from __future__ import annotations

import os
import stat
import sys
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, replace
from pathlib import Path

from bindmgr.errors import BindmgrError, InputError, LayoutError
from bindmgr.ini.file import IniFile
from bindmgr.model import InputFile, Problem
from bindmgr.read.ansi import CodePageChoice
from bindmgr.read.config import ConfigView, read_config
from bindmgr.read.layout import Layout, default_layout_path, parse_layout

WINDOWS_DEFAULT = r"C:\MDaemon\App"
ENV_VAR = "MDAEMON_APP"
MIB = 1024 * 1024
# The most bindmgr reads of one file (docs/reliability.md, "Size caps"): MDaemon's INI files
# are a few MB with thousands of domains; bindmgr's own layout and bindings files are a few KB;
# a saved plan grows with the IPs and the check results it holds.
MDAEMON_FILE_CAP = 64 * MIB
OWN_FILE_CAP = 4 * MIB
PLAN_CAP = 64 * MIB
_CHUNK = MIB
# O_NONBLOCK: opening a FIFO must not wait for a writer (the type is checked before reading);
# O_NOCTTY: a terminal is never made the controlling one. Neither exists on Windows.
_OPEN_FLAGS = (
    os.O_RDONLY
    | getattr(os, "O_BINARY", 0)
    | getattr(os, "O_NONBLOCK", 0)
    | getattr(os, "O_NOCTTY", 0)
)
_KINDS = (
    (stat.S_ISDIR, "a folder"),
    (stat.S_ISFIFO, "a named pipe (FIFO)"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISSOCK, "a socket"),
)


def resolve_app_dir(
    arg: str | None,
    env: Mapping[str, str],
    platform: str = sys.platform,
    default: str | None = WINDOWS_DEFAULT,
) -> Path:
    """--app-dir, else $MDAEMON_APP (empty counts as unset), else `default` (C:\\MDaemon\\App)
    on Windows; an error elsewhere. Tests pass their own `default`: never the real folder."""
    chosen = arg or env.get(ENV_VAR) or (default if platform == "win32" else None)
    if not chosen:
        raise InputError(
            "no MDaemon App folder given",
            hint=f"pass --app-dir DIR (the folder holding MDaemon.ini) or set {ENV_VAR}",
        )
    path = Path(chosen)
    try:
        found = path.is_dir()
    except OSError as exc:  # a name the file system cannot hold (ENAMETOOLONG), a bad path
        raise InputError(
            f"the MDaemon App folder {path} cannot be looked up: {exc.strerror or exc}",
            hint=f"pass --app-dir DIR (the folder holding MDaemon.ini) or set {ENV_VAR}",
        ) from exc
    if not found:
        raise InputError(
            f"the MDaemon App folder {path} does not exist or is not a folder",
            hint=f"pass --app-dir DIR (the folder holding MDaemon.ini) or set {ENV_VAR}",
        )
    return path


@dataclass(frozen=True)
class App:
    """An App folder as read: the raw bytes and scans of every present file, and the config."""

    app_dir: Path
    layout: Layout
    data: Mapping[str, bytes]  # relative name -> bytes, for the files that exist
    files: Mapping[str, IniFile]
    view: ConfigView
    missing: tuple[str, ...]  # optional files the layout names that are not there
    codepage: CodePageChoice = CodePageChoice()  # noqa: RUF009 (frozen) the code page read in

    def originals(self) -> dict[str, bytes]:
        """Bytes to patch: every file the layout names, b"" for one not there yet."""
        return {name: self.data.get(name, b"") for name in self.layout.file_paths()}


def _kind(mode: int) -> str | None:
    """What a file that is not a regular file is, for messages; None for a regular file."""
    if stat.S_ISREG(mode):
        return None
    return next((kind for test, kind in _KINDS if test(mode)), "not a regular file")


def _size(n: int) -> str:
    return f"{n / MIB:.1f} MiB" if n >= MIB else f"{n} bytes"


def read_capped(
    path: Path,
    *,
    cap: int,
    label: str | None = None,
    error: type[BindmgrError] = InputError,
    hint: str = "check the path and its permissions (run as the account MDaemon runs as)",
) -> bytes:
    """The bytes of regular file `path` (symlinks followed), at most `cap` of them; `label`
    names it in messages (default: the path).

    Anything else is refused before a byte is read: a folder, a FIFO, a device or a socket (a
    FIFO or /dev/zero would never end), a file over `cap`, or one that grows past it while it is
    read. FileNotFoundError propagates (the caller knows whether the file may be absent).
    """
    label = str(path) if label is None else label
    refused = f"name a regular file of at most {_size(cap)} (docs/security.md)"
    try:
        kind = _kind(os.stat(path).st_mode)  # before opening: opening a device can act
        if kind is not None:
            raise error(f"cannot read {label}: it is {kind}, not a regular file", hint=refused)
        fd = os.open(path, _OPEN_FLAGS)
    except FileNotFoundError:
        raise
    except OSError as exc:
        raise error(f"cannot read {label}: {exc.strerror or exc}", hint=hint) from exc
    try:
        info = os.fstat(fd)
        kind = _kind(info.st_mode)  # the name may have been swapped since the stat
        if kind is not None:
            raise error(f"cannot read {label}: it is {kind}, not a regular file", hint=refused)
        if info.st_size > cap:
            raise error(
                f"cannot read {label}: it is {_size(info.st_size)}, more than the "
                f"{_size(cap)} bindmgr reads of it",
                hint=refused,
            )
        chunks: list[bytes] = []
        total = 0
        while total <= cap:  # bounded: every pass reads at least one byte or stops
            chunk = os.read(fd, min(_CHUNK, cap + 1 - total))
            if not chunk:
                break
            chunks.append(chunk)
            total += len(chunk)
    except OSError as exc:
        raise error(f"cannot read {label}: {exc.strerror or exc}", hint=hint) from exc
    finally:
        os.close(fd)
    if total > cap:
        raise error(
            f"cannot read {label}: it grew past the {_size(cap)} bindmgr reads of it "
            "while it was read",
            hint=refused,
        )
    return b"".join(chunks)


def _confined(app_dir: Path, layout: Layout) -> dict[str, Path]:
    """Each file the layout names, links followed; refused when it resolves outside the MDaemon
    folder (the App folder's parent, itself resolved) or is the same file as another name."""
    root = app_dir.resolve().parent
    found: dict[str, Path] = {}
    seen: dict[tuple[int, int], str] = {}
    for name in layout.file_paths():
        try:
            real = (app_dir / name).resolve()
        except (OSError, RuntimeError) as exc:  # a symlink loop
            raise InputError(
                f"{layout.named_at(name)}: cannot follow {app_dir / name}: {exc}",
                hint="fix the symbolic link, or name the file itself in the layout",
            ) from exc
        if not real.is_relative_to(root):
            raise InputError(
                f"{layout.named_at(name)}: {app_dir / name} resolves to {real}, outside the "
                f"MDaemon folder {root}",
                hint="bindmgr reads and writes only files inside the MDaemon folder: copy the "
                "file there or fix the link, then name it in the layout",
            )
        try:
            info = os.stat(real)
        except OSError:
            info = None  # absent (or unreadable: reading it says why)
        if info is not None and info.st_ino:
            other = seen.setdefault((info.st_dev, info.st_ino), name)
            if other != name:
                raise InputError(
                    f"{layout.named_at(name)} and {layout.named_at(other)} name the same file "
                    f"({real})",
                    hint="name each file once in the layout's [files] section and use that id",
                )
        found[name] = real
    return found


def load_app(app_dir: Path, layout: Layout, codepage: CodePageChoice | None = None) -> App:
    """Read every file the layout names; ANSI ones in `codepage` (default: 1252)."""
    codepage = CodePageChoice() if codepage is None else codepage
    data: dict[str, bytes] = {}
    missing: list[str] = []
    for name, real in _confined(app_dir, layout).items():
        path = app_dir / name
        try:
            label = f"{path} ({layout.named_at(name)})"
            data[name] = read_capped(real, cap=MDAEMON_FILE_CAP, label=label)
        except FileNotFoundError:
            if name in layout.required_files():
                raise InputError(
                    f"{path} does not exist: bindmgr needs it to read the domains' bindings",
                    hint=f"check --app-dir, or name the right file in the layout's [files] "
                    f"section ({layout.source})",
                ) from None
            missing.append(name)
    files = {name: IniFile.from_bytes(raw, name, codepage.number) for name, raw in data.items()}
    inputs = [InputFile.of(name, raw) for name, raw in data.items()]
    view = read_config(files, layout, inputs)
    if missing:
        notes = tuple(
            Problem(name, None, "not found: the layout's default ports are used for it")
            for name in missing
        )
        config = replace(view.config, problems=view.config.problems + notes)
        view = ConfigView(config, view.presence)
    return App(app_dir, layout, data, files, view, tuple(missing), codepage)


# `layout detect` reads at most this much: a file over MAX_CANDIDATE_BYTES (a domain file with
# ten thousand domains is about 3 MB), more than MAX_CANDIDATES files, or past
# MAX_CANDIDATES_TOTAL bytes in all, is skipped and listed as such.
MAX_CANDIDATE_BYTES = 16 * 1024 * 1024
MAX_CANDIDATES = 1000
MAX_CANDIDATES_TOTAL = 128 * 1024 * 1024
WEB_FOLDERS = ("WorldClient", "WebAdmin", "RemoteAdmin")  # beside the App folder


@dataclass(frozen=True)
class Candidates:
    """The files `layout detect` scans: name (relative to the App folder) -> bytes, and the
    files it skipped with the reason."""

    data: dict[str, bytes]
    skipped: tuple[tuple[str, str], ...]


def _candidate_paths(app_dir: Path) -> Iterator[tuple[str, Path]]:
    """(name relative to the App folder, path): *.ini and *.dat in it, *.ini in the web
    folders beside it, each folder in name order."""
    folders: list[tuple[str, Path, tuple[str, ...]]] = [("", app_dir, (".ini", ".dat"))]
    folders += [(f"../{n}/", app_dir.parent / n, (".ini",)) for n in WEB_FOLDERS]
    for prefix, folder, suffixes in folders:
        try:
            names = sorted(os.listdir(folder), key=lambda n: (n.casefold(), n))
        except OSError:
            continue  # an absent web folder: nothing of it to scan
        for name in names:
            if name.casefold().endswith(suffixes):
                yield prefix + name, folder / name


def read_candidates(
    app_dir: Path,
    *,
    max_bytes: int = MAX_CANDIDATE_BYTES,
    max_files: int = MAX_CANDIDATES,
    max_total: int = MAX_CANDIDATES_TOTAL,
) -> Candidates:
    """Read MDaemon.ini, every *.ini and *.dat beside it and the *.ini files of ../WorldClient,
    ../WebAdmin and ../RemoteAdmin, never a file outside the MDaemon folder (the App folder's
    parent: a link that leads out is skipped), never more than the caps (defaults above)."""
    root = app_dir.resolve().parent
    data: dict[str, bytes] = {}
    skipped: list[tuple[str, str]] = []
    total = 0
    for name, path in _candidate_paths(app_dir.resolve()):
        real = path.resolve()
        try:
            info = os.stat(real)
        except OSError as exc:
            skipped.append((name, f"cannot read it: {exc.strerror}"))
            continue
        if not real.is_relative_to(root):
            skipped.append((name, f"it leads outside the MDaemon folder {root}, to {real}"))
        elif not stat.S_ISREG(info.st_mode):
            skipped.append((name, "not a regular file"))
        elif len(data) >= max_files:
            skipped.append((name, f"more than {max_files} files to scan"))
        elif info.st_size > max_bytes:
            skipped.append((name, f"{info.st_size} bytes, over the cap of {max_bytes}"))
        elif total + info.st_size > max_total:
            skipped.append((name, f"the files scanned would pass {max_total} bytes in all"))
        else:
            try:
                with open(real, "rb") as f:
                    raw = f.read(max_bytes + 1)  # it may have grown since stat
            except OSError as exc:
                skipped.append((name, f"cannot read it: {exc.strerror}"))
                continue
            if len(raw) > max_bytes:
                skipped.append((name, f"over the cap of {max_bytes} bytes"))
                continue
            data[name] = raw
            total += len(raw)
    return Candidates(data, tuple(skipped))


def read_text(
    path: Path,
    what: str,
    *,
    hint: str,
    error: type[BindmgrError] = InputError,
    cap: int = OWN_FILE_CAP,
) -> str:
    """A UTF-8 file of bindmgr's own (a leading BOM dropped), at most `cap` bytes, or an error
    naming it, why, and what to pass instead."""
    label = f"{what} {path}"
    try:
        data = read_capped(path, cap=cap, label=label, error=error, hint=hint)
        return data.decode("utf-8-sig")
    except FileNotFoundError as exc:
        raise error(f"cannot read {label}: {exc.strerror}", hint=hint) from exc
    except UnicodeDecodeError as exc:
        raise error(f"cannot read {label}: not UTF-8 text", hint=hint) from exc


def read_layout(path: Path | None = None) -> Layout:
    """Read and validate a layout file; the shipped default when `path` is None."""
    path = default_layout_path() if path is None else path
    hint = "pass an existing UTF-8 layout file with --layout, or omit it for the default"
    return parse_layout(read_text(path, "the layout", hint=hint, error=LayoutError), str(path))
