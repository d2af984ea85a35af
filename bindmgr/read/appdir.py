"""Reading from disk: the App folder (found, read through a layout, hashed) and the text of
bindmgr's own files (layout, bindings, saved plans).

The read edge: it reads and hands bytes or text on; parsing bindmgr's own files is the
commands' job (they hold the parsers), writes go through `transaction`. It never writes.
"""

from __future__ import annotations

import sys
from collections.abc import Mapping
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
