"""Which ANSI code page MDaemon's files are read in: --codepage, then Windows' own, then the
layout's, then 1252; a saved plan's own before Windows'; refused when bindmgr cannot read it."""

from __future__ import annotations

import dataclasses
import sys

import pytest

from bindmgr.errors import EncodingError, InputError
from bindmgr.read.ansi import CodePageChoice, PlannedCodePage, choose_codepage, system_codepage
from bindmgr.read.appdir import read_layout

LAYOUT = read_layout()
CYRILLIC = dataclasses.replace(LAYOUT, codepage=1251)


def test_the_order() -> None:
    assert choose_codepage(None, LAYOUT) == CodePageChoice(1252, "the default")
    assert choose_codepage(None, None) == CodePageChoice(1252, "the default")
    assert choose_codepage(None, CYRILLIC) == CodePageChoice(1251, f"the layout ({LAYOUT.source})")
    assert choose_codepage(932, CYRILLIC) == CodePageChoice(932, "--codepage")
    assert choose_codepage(932, CYRILLIC, system=1250) == CodePageChoice(932, "--codepage")
    # on Windows (system given) the system's code page comes before the layout's
    windows = choose_codepage(None, CYRILLIC, system=1250)
    assert windows.number == 1250
    assert windows.source == (
        "this system's ANSI code page; the layout's codepage = 1251 counts off Windows only"
    )
    agreeing = choose_codepage(None, CYRILLIC, system=1251)
    assert agreeing == CodePageChoice(1251, "this system's ANSI code page")


def test_a_code_page_bindmgr_cannot_read_names_its_source() -> None:
    with pytest.raises(EncodingError, match="--codepage: code page 437") as info:
        choose_codepage(437, LAYOUT)
    assert "pass --codepage N" in (info.value.hint or "")
    with pytest.raises(EncodingError, match="this system's ANSI code page: code page 720"):
        choose_codepage(None, LAYOUT, system=720)


def test_the_system_code_page_is_windows_only() -> None:
    assert system_codepage("linux") is None
    assert system_codepage("win32") in (1252, 1251, 1250, 932, 936, 949, 950, 65001)
    if sys.platform == "win32":
        assert system_codepage() in (1252, 1251, 1250, 932, 936, 949, 950, 65001)
    else:
        assert system_codepage() is None


def test_a_saved_plan_is_read_in_the_code_page_it_was_made_with() -> None:
    planned = PlannedCodePage(1251, "plan.json")
    made_here = choose_codepage(None, LAYOUT, planned=planned)
    assert made_here == CodePageChoice(1251, "the plan (plan.json)")
    assert choose_codepage(932, LAYOUT, system=1252, planned=planned).number == 932  # the option
    same = choose_codepage(None, CYRILLIC, system=1251, planned=planned)
    assert same == CodePageChoice(1251, "the plan (plan.json)")


def test_on_windows_a_plan_made_in_another_code_page_is_refused() -> None:
    with pytest.raises(InputError) as info:
        choose_codepage(None, LAYOUT, system=1252, planned=PlannedCodePage(1251, "plan.json"))
    assert str(info.value.message) == (
        "plan.json was made reading MDaemon's files in code page 1251, but this system's ANSI "
        "code page, the one MDaemon here reads them in, is 1252"
    )
    assert "--codepage 1251" in (info.value.hint or "")
