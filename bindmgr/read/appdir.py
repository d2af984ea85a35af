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
from bindmgr.read.config import ConfigView, read_config
from bindmgr.read.layout import Layout, default_layout_path, parse_layout

WINDOWS_DEFAULT = r"C:\MDaemon\App"
ENV_VAR = "MDAEMON_APP"


def resolve_app_dir(arg: str | None, env: Mapping[str, str], platform: str = sys.platform) -> Path:
    """--app-dir, else $MDAEMON_APP, else C:\\MDaemon\\App on Windows; an error elsewhere."""
    chosen = arg or env.get(ENV_VAR) or (WINDOWS_DEFAULT if platform == "win32" else None)
    if not chosen:
        raise InputError(
            "no MDaemon App folder given",
            hint=f"pass --app-dir DIR (the folder holding MDaemon.ini) or set {ENV_VAR}",
        )
    path = Path(chosen)
    if not path.is_dir():
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

    def originals(self) -> dict[str, bytes]:
        """Bytes to patch: every file the layout names, b"" for one not there yet."""
        return {name: self.data.get(name, b"") for name in self.layout.file_paths()}


def load_app(app_dir: Path, layout: Layout) -> App:
    data: dict[str, bytes] = {}
    missing: list[str] = []
    for name in layout.file_paths():
        path = app_dir / name
        try:
            data[name] = path.read_bytes()
        except FileNotFoundError:
            if name in layout.required_files():
                raise InputError(
                    f"{path} does not exist: bindmgr needs it to read the domains' bindings",
                    hint=f"check --app-dir, or name the right file in the layout's [files] "
                    f"section ({layout.source})",
                ) from None
            missing.append(name)
        except OSError as exc:
            raise InputError(
                f"cannot read {path}: {exc.strerror}",
                hint="check the path and its permissions (run as the account MDaemon runs as)",
            ) from exc
    files = {name: IniFile.from_bytes(raw, name) for name, raw in data.items()}
    inputs = [InputFile.of(name, raw) for name, raw in data.items()]
    view = read_config(files, layout, inputs)
    if missing:
        notes = tuple(
            Problem(name, None, "not found: the layout's default ports are used for it")
            for name in missing
        )
        config = replace(view.config, problems=view.config.problems + notes)
        view = ConfigView(config, view.presence)
    return App(app_dir, layout, data, files, view, tuple(missing))


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


def read_text(path: Path, what: str, *, hint: str, error: type[BindmgrError] = InputError) -> str:
    """A UTF-8 file of bindmgr's own, or an error naming it, why, and what to pass instead."""
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        reason = (exc.strerror or str(exc)) if isinstance(exc, OSError) else "not UTF-8 text"
        raise error(f"cannot read {what} {path}: {reason}", hint=hint) from exc


def read_layout(path: Path | None = None) -> Layout:
    """Read and validate a layout file; the shipped default when `path` is None."""
    path = default_layout_path() if path is None else path
    hint = "pass an existing UTF-8 layout file with --layout, or omit it for the default"
    return parse_layout(read_text(path, "the layout", hint=hint, error=LayoutError), str(path))
