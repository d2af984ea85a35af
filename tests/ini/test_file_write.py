"""Edits give the bytes WritePrivateProfileString would write; refused values change nothing.

Golden pairs live in tests/data/ini/edit/<case>/{before,after}.ini; the edits are listed here.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from bindmgr.errors import ValueRefused
from bindmgr.ini.file import IniFile

DATA = Path(__file__).parent.parent / "data" / "ini" / "edit"

Edit = Callable[[IniFile], None]

EDITS: dict[str, list[Edit]] = {
    "change_keeps_spelling": [lambda f: f.set("DOMAIN", "IP", "10.0.0.2")],
    "change_keeps_eol": [lambda f: f.set("a", "x", "9")],
    "change_first_duplicate": [lambda f: f.set("A", "k", "3")],
    "change_quoted": [lambda f: f.set("a", "k", "new")],
    "change_empty": [lambda f: f.set("a", "k", "v")],
    "add_key_after_last_key": [lambda f: f.set("a", "z", "3")],
    "add_key_empty_section": [lambda f: f.set("a", "k", "v")],
    "add_key_no_final_eol": [lambda f: f.set("a", "y", "2")],
    "add_key_first_of_duplicates": [lambda f: f.set("A", "z", "3")],
    "add_two_keys_in_order": [lambda f: f.set("a", "p", "1"), lambda f: f.set("a", "q", "2")],
    "new_section_crlf": [lambda f: f.set("b", "k", "v")],
    "new_section_lf": [lambda f: f.set("b", "k", "v")],
    "new_section_cr": [lambda f: f.set("b", "k", "v")],
    "new_section_empty_file": [lambda f: f.set("b", "k", "v")],
    "new_section_no_final_eol": [lambda f: f.set("b", "k", "v")],
    "new_section_single_line": [lambda f: f.set("b", "k", "v")],
    "delete_key": [lambda f: f.delete("A", "Y")],
    "delete_last_key_keeps_header": [lambda f: f.delete("a", "x")],
    "delete_section_keeps_comments": [lambda f: f.delete_section("B")],
    "delete_absent_is_noop": [
        lambda f: f.delete("a", "nope"),
        lambda f: f.delete("nope", "x"),
        lambda f: f.delete_section("nope"),
    ],
    "utf16le_stays_utf16le": [
        lambda f: f.set("a", "x", "\u00e9\u20ac2"),
        lambda f: f.set("b", "k", "\u4e2d"),
    ],
    "cp1252_high_bytes": [lambda f: f.set("CAF\u00c9", "k", "5\u20ac")],
    "quote_when_needed": [
        lambda f: f.set("a", "k", " padded "),
        lambda f: f.set("a", "q", '"quoted"'),
        lambda f: f.set("a", "t", "'x'"),
    ],
}


def test_every_golden_case_has_edits() -> None:
    assert sorted(p.name for p in DATA.iterdir()) == sorted(EDITS)


@pytest.mark.parametrize("case", sorted(EDITS))
def test_golden_edit(case: str) -> None:
    before = (DATA / case / "before.ini").read_bytes()
    after = (DATA / case / "after.ini").read_bytes()
    ini = IniFile.from_bytes(before, case)
    assert ini.to_bytes() == before  # no change = byte-identical
    for edit in EDITS[case]:
        edit(ini)
    assert ini.to_bytes() == after
    for edit in EDITS[case]:  # applying the same edits again changes nothing
        edit(ini)
    assert ini.to_bytes() == after
    again = IniFile.from_bytes(after, case)
    for edit in EDITS[case]:
        edit(again)
    assert again.to_bytes() == after
    assert again.encoding == ini.encoding


def test_edits_are_visible_at_once_and_after_a_rescan() -> None:
    ini = IniFile.from_bytes(b"[a]\r\nx=1\r\n; c\r\n[b]\r\ny=2\r\n[A]\r\nz=3\r\n", "d.ini")
    ini.set("a", "n", "new")
    ini.set("c", "k", " v ")
    ini.delete("b", "y")
    assert ini.get("a", "n") == "new"
    assert ini.get("c", "k") == " v "
    assert ini.get("b", "y") is None
    assert ini.line_of("a", "n") == 3
    assert ini.line_of("c", "k") == 9
    assert ini.sections() == ["a", "b", "c"]
    ini.delete_section("a")  # the later [A] becomes the effective one
    assert ini.get("a", "z") == "3"
    assert ini.line_of("a") == 3
    assert ini.problems == ()
    rescanned = IniFile.from_bytes(ini.to_bytes())
    assert rescanned.sections() == ini.sections() == ["b", "A", "c"]
    for section in ini.sections():
        assert rescanned.items(section) == ini.items(section)
        assert rescanned.line_of(section) == ini.line_of(section)


def test_problems_follow_edits() -> None:
    ini = IniFile.from_bytes(b"[a]\r\nk=1\r\nk=2\r\n")
    assert [p.line for p in ini.problems] == [3]
    ini.set("a", "n", "x")
    assert [p.line for p in ini.problems] == [3]
    ini.delete("a", "k")
    assert ini.problems == ()
    assert ini.get("a", "k") == "2"  # the duplicate is now the effective key


def test_set_same_value_keeps_quotes_and_bytes() -> None:
    data = b'[a]\r\nk = "v" \r\n'
    ini = IniFile.from_bytes(data)
    ini.set("a", "k", "v")  # MDaemon already reads v: nothing to write
    assert ini.to_bytes() == data


def test_set_value_of_65535_characters_is_accepted() -> None:
    ini = IniFile.from_bytes(b"[a]\r\n")
    ini.set("a", "k", "x" * 65535)
    assert ini.get("a", "k") == "x" * 65535


REFUSED: list[tuple[str, str, str, str]] = [
    ("a", "k", "1\r\n2", "line break"),
    ("a", "k", "1\n2", "line break"),
    ("a", "k", "1\r2", "line break"),
    ("a", "k", "1\x002", "NUL"),
    ("a", "k", "\u4e2d", "code page 1252"),
    ("a", "k", "\ud800", "lone surrogate"),
    ("a", "k", "x" * 65536, "longer than 65535"),
    ("a", "", "v", "empty"),
    ("a", "k=x", "v", "'='"),
    ("a", ";k", "v", "comment or header"),
    ("a", "[k", "v", "comment or header"),
    ("a", "k\r", "v", "line break"),
    ("a", "k\n", "v", "line break"),
    ("a", "k\x00", "v", "NUL"),
    ("a", " k", "v", "blank"),
    ("a", "k\t", "v", "blank"),
    ("a", "\u4e2d", "v", "code page 1252"),
    ("a]b", "k", "v", "']'"),
    ("a\r", "k", "v", "line break"),
    ("a\nb", "k", "v", "line break"),
    ("a\x00", "k", "v", "NUL"),
    (" a", "k", "v", "blank"),
    ("\u4e2d", "k", "v", "code page 1252"),
]


@pytest.mark.parametrize(("section", "key", "value", "why"), REFUSED)
def test_refused_writes_change_nothing(section: str, key: str, value: str, why: str) -> None:
    data = b"[a]\r\nk=old\r\n"
    ini = IniFile.from_bytes(data, "Domains.dat")
    with pytest.raises(ValueRefused) as exc:
        ini.set(section, key, value)
    message = str(exc.value)
    assert why in message
    assert "Domains.dat" in message
    assert repr(section[:40])[1:-1] in message or repr(section)[1:-1] in message
    if key and "section" not in message:
        assert repr(key)[1:-1] in message
    assert ini.to_bytes() == data
    assert ini.get("a", "k") == "old"


def test_refused_value_message_shows_a_shortened_value() -> None:
    ini = IniFile.from_bytes(b"[dom]\r\n", "Domains.dat")
    with pytest.raises(ValueRefused) as exc:
        ini.set("dom", "IP", "10.0.0.1\n" + "x" * 100)
    message = str(exc.value)
    assert "[dom] 'IP' in Domains.dat = '10.0.0.1\\n" in message
    assert "x" * 40 not in message
    assert "…" in message


def test_utf16le_files_hold_any_character_but_lone_surrogates() -> None:
    ini = IniFile.from_bytes(b"\xff\xfe", "u.ini")
    ini.set("\u4e2d", "\U0001f600", "\u4e2d\U0001f600")
    assert IniFile.from_bytes(ini.to_bytes()).get("\u4e2d", "\U0001f600") == "\u4e2d\U0001f600"
    with pytest.raises(ValueRefused, match="lone surrogate"):
        ini.set("a", "k", "\udc00")
    with pytest.raises(ValueRefused, match="longer than 65535"):
        ini.set("a", "k", "\U0001f600" * 32768)  # 65536 UTF-16 code units


def test_undefined_cp1252_characters_are_written_back_as_their_bytes() -> None:
    ini = IniFile.from_bytes(b"[a]\r\n")
    ini.set("a", "k", "\x81\x8d\x8f\x90\x9d\u20ac\u00ff")
    assert ini.to_bytes() == b"[a]\r\nk=\x81\x8d\x8f\x90\x9d\x80\xff\r\n"


def test_removing_a_line_between_cr_and_lf_keeps_the_other_bytes() -> None:
    data = b"[a]\r\nb=1\rk=2\r\n\nc=3\r\n"
    ini = IniFile.from_bytes(data)
    ini.delete("a", "k")
    assert ini.to_bytes() == b"[a]\r\nb=1\r\nc=3\r\n"  # the LF-only line joins b's CR
    assert ini.line_of("a", "c") == 3
    assert IniFile.from_bytes(ini.to_bytes()).line_of("a", "c") == 3


def test_a_new_line_before_an_lf_only_line_in_a_cr_file_ends_with_crlf() -> None:
    data = b"[a]\rx=1\r\n\n\r\r\r"
    ini = IniFile.from_bytes(data)
    assert ini.eol == "\r"
    ini.set("a", "k", "v")
    assert ini.to_bytes() == b"[a]\rx=1\r\nk=v\r\n\n\r\r\r"
    assert ini.line_of("a", "k") == 3
    assert IniFile.from_bytes(ini.to_bytes()).line_of("a", "k") == 3
