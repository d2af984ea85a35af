"""Which ANSI code page MDaemon's files are read in (those without a UTF-16 BOM), and why.

In this order: `--codepage`; the code page a saved plan was made with (a plan is applied as it
was reviewed); on Windows the system's ANSI code page (GetACP: what MDaemon on this machine
uses); the layout's `codepage` (for a copy of the files read elsewhere); 1252. On Windows a plan
made in another code page than the system's is refused: MDaemon here reads its files in the
system's. Pure but for `system_codepage`, which asks Windows.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass

from bindmgr.errors import EncodingError, InputError
from bindmgr.ini.codepage import DEFAULT, lookup
from bindmgr.read.layout import Layout


def system_codepage(platform: str = sys.platform) -> int | None:
    """Windows' ANSI code page (GetACP), the one MDaemon's ANSI files are in on this machine;
    None elsewhere. Not `locale.getencoding()`, which a user's settings can change."""
    if platform != "win32":
        return None
    return _get_acp()


@dataclass(frozen=True, slots=True)
class CodePageChoice:
    """The ANSI code page MDaemon's files are read in, and where that came from."""

    number: int = DEFAULT
    source: str = "the default"


@dataclass(frozen=True, slots=True)
class PlannedCodePage:
    """The code page a saved plan was made with, and the plan's file name."""

    number: int
    plan: str


def choose_codepage(
    option: int | None,
    layout: Layout | None,
    system: int | None = None,
    planned: PlannedCodePage | None = None,
) -> CodePageChoice:
    """The code page in the order of the module's docstring. An unsupported number is an error
    naming where it came from."""
    wanted = None if layout is None else layout.codepage
    if option is not None:
        choice = CodePageChoice(option, "--codepage")
    elif planned is not None and system not in (None, planned.number):
        raise InputError(
            f"{planned.plan} was made reading MDaemon's files in code page {planned.number}, "
            f"but this system's ANSI code page, the one MDaemon here reads them in, is {system}",
            hint="make the plan on this server (bindmgr plan ... --out PLAN.json), or pass "
            f"--codepage {planned.number} if the files really are in that code page",
        )
    elif planned is not None:
        choice = CodePageChoice(planned.number, f"the plan ({planned.plan})")
    elif system is not None:
        unused = wanted not in (None, system)
        note = f"; the layout's codepage = {wanted} counts off Windows only"
        choice = CodePageChoice(system, "this system's ANSI code page" + (note if unused else ""))
    elif layout is not None and layout.codepage is not None:
        return CodePageChoice(layout.codepage, f"the layout ({layout.source})")  # validated
    else:
        return CodePageChoice()
    try:
        lookup(choice.number, choice.source)
    except EncodingError as exc:
        raise EncodingError(
            exc.message, hint=f"pass --codepage N with the code page of MDaemon's files: {exc.hint}"
        ) from None
    return choice


if sys.platform == "win32":

    def _get_acp() -> int:
        import ctypes  # noqa: PLC0415 - only Windows asks

        return int(ctypes.windll.kernel32.GetACP())

else:

    def _get_acp() -> int:
        return DEFAULT
