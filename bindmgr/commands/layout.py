"""`bindmgr layout detect`: where each layout setting lives in this App folder, with evidence.

Reads the candidate files through `read/appdir`, runs the pure detection, prints the proposals
(text or JSON) and, with --write, writes a layout to review. Exit 0 when every setting was found
unambiguously, 3 when one is ambiguous or not found (the written layout keeps its default).
"""

from __future__ import annotations

from pathlib import Path

from bindmgr.apply.safewrite import ANY, replace_file
from bindmgr.console import Console
from bindmgr.errors import EncodingError, ExitCode, InputError, LayoutError, UsageError
from bindmgr.ini.codec import fold
from bindmgr.ini.file import IniFile
from bindmgr.read.ansi import choose_codepage, system_codepage
from bindmgr.read.appdir import read_candidates, read_layout, resolve_app_dir
from bindmgr.read.detect import detect
from bindmgr.read.layout import parse_layout
from bindmgr.read.layout_text import render_layout
from bindmgr.report.detection import render_json, render_text


def run_detect(
    *,
    app_dir: str | None,
    write: Path | None,
    fmt: str,
    console: Console,
    force: bool = False,
    codepage: int | None = None,
) -> ExitCode:
    """`codepage`: --codepage; else this system's ANSI code page on Windows, else 1252."""
    folder = resolve_app_dir(app_dir, console.env)
    ansi = choose_codepage(codepage, None, system_codepage()).number
    if write is not None and not force and (write.exists() or write.is_symlink()):
        raise UsageError(
            f"{write} exists; bindmgr layout detect does not overwrite it",
            hint="pass another --write FILE, or --force to replace it",
        )
    found = read_candidates(folder)
    skipped = list(found.skipped)
    files: dict[str, IniFile] = {}
    for name, raw in found.data.items():
        try:
            files[name] = IniFile.from_bytes(raw, name, ansi)
        except EncodingError as exc:
            skipped.append((name, exc.message))
    if not any(fold(name) == fold("MDaemon.ini") for name in files):
        why = next((w for n, w in skipped if fold(n) == fold("MDaemon.ini")), "it is not there")
        raise InputError(
            f"{folder} holds no readable MDaemon.ini ({why}): it is not MDaemon's App folder",
            hint="pass --app-dir DIR, the folder holding MDaemon.ini (C:\\MDaemon\\App)",
        )
    detection = detect(files)
    render = render_json if fmt == "json" else render_text
    console.output(
        render(detection, app_dir=str(folder), scanned=list(files), skipped=skipped), fmt
    )
    if write is not None:
        text = render_layout(detection, read_layout())
        try:
            parse_layout(text, str(write))  # what is written must be usable as it is
        except LayoutError as exc:  # pragma: no cover - a bug of render_layout, not of input
            raise LayoutError(
                f"the layout detected for {folder} does not validate: {exc.message}",
                hint="nothing was written; report this with the output of --format json",
            ) from exc
        # None: the file must still not exist (unless --force), so a race cannot overwrite it
        replace_file(write, text.encode("utf-8"), expected_sha256=ANY if force else None)
        console.note(
            f"layout written to {write}; review the entries it marks, then pass --layout {write}"
        )
    return ExitCode.OK if detection.complete else ExitCode.CONFLICT
