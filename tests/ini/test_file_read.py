"""What GetPrivateProfileString returns, rule by rule (docs: shared windows-ini.md).

Each golden file under tests/data/ini/read/ exercises one rule; the expected values are the
documented Windows results (Wine differs on BOMs, `[Sec` and `;key`, so it cannot be the oracle).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from bindmgr.errors import EncodingError
from bindmgr.ini.file import IniFile
from tests.support.sample import read_ini

DATA = Path(__file__).parent.parent / "data" / "ini" / "read"


def load(name: str) -> IniFile:
    ini = read_ini(DATA / f"{name}.ini")
    assert ini.to_bytes() == (DATA / f"{name}.ini").read_bytes()
    return ini


def messages(ini: IniFile) -> list[tuple[int | None, str]]:
    return [(p.line, p.message) for p in ini.problems]


def test_comments_even_indented_and_no_inline_comments() -> None:
    ini = load("comments")
    assert ini.get("s", ";k") is None
    assert ini.get("s", ";x") is None
    assert ini.get("s", "k") == "v ;c"
    assert ini.get("s", "h") == "v # c"
    assert ini.keys("s") == ["k", "h"]
    assert ini.problems == ()


def test_hash_means_nothing() -> None:
    ini = load("hashtag")
    assert ini.get("s", "#k") == "v"
    assert ini.keys("s") == ["#k"]
    [(line, message)] = messages(ini)
    assert line == 3
    assert "'# text'" in message
    assert "MDaemon ignores it" in message


def test_space_tab_vt_are_trimmed_but_lookup_trims_spaces_only() -> None:
    ini = load("blanks")
    assert ini.sections() == ["Sec"]
    assert ini.get("Sec", "key") == "value  x"
    assert ini.get("  sec ", " KEY  ") == "value  x"
    assert ini.get("\tSec", "key") is None
    assert ini.get("Sec", "key\t") is None
    assert ini.problems == ()  # a VT-only line is blank


def test_one_outer_pair_of_matching_quotes() -> None:
    ini = load("quotes")
    assert ini.items("q") == [
        ("a", "x"),
        ("b", "y"),
        ("c", "\"mis'"),
        ("d", " padded "),
        ("e", '"'),
        ("f", ""),
        ("g", '"x"'),
        ('"h"', "1"),  # names keep their quotes
        ("i", "in"),
    ]
    assert ini.get("q", "h") is None


def test_first_section_and_first_key_win() -> None:
    ini = load("duplicates")
    assert ini.sections() == ["d", "e"]
    assert ini.get("D", "k") == "1"
    assert ini.get("d", "new") is None  # a later duplicate section is invisible, not merged
    assert ini.keys("d") == ["k"]
    assert ini.line_of("d") == 1
    assert ini.line_of("d", "K") == 2
    assert messages(ini) == [
        (3, "duplicate key K in [d] (first at line 2): MDaemon uses the first value and "
            "ignores this line"),
        (4, "duplicate section [D] (first at line 1): MDaemon reads only the first one, so "
            "every key under this header is invisible to it; merge the two sections"),
    ]  # fmt: skip


def test_bracket_edge_cases() -> None:
    ini = load("brackets")
    assert ini.sections() == ["Sec", "[Sub", "x", "", "spaced name", "a"]
    assert ini.get("Sec", "a") == "1"
    assert ini.get("[Sub", "b") == "2"
    assert ini.has_section("x")
    assert ini.keys("x") == []  # `[x]k=v` holds no key
    assert ini.get("", "empty") == "yes"
    assert ini.get("spaced name", "c") == "3"
    assert ini.get("a", "d") == "4"
    assert messages(ini) == [
        (1, "header has no closing ']': MDaemon reads it as section [Sec]"),
        (3, "text after ']' (']') is ignored by MDaemon; put keys on lines of their own"),
        (5, "text after ']' ('k=v') is ignored by MDaemon; put keys on lines of their own"),
        (10, "text after ']' ('b]') is ignored by MDaemon; put keys on lines of their own"),
    ]


def test_lines_before_the_first_header_are_invisible() -> None:
    ini = load("presection")
    assert ini.get("", "k") is None
    assert ini.sections() == ["s"]
    assert ini.line_of("s", "x") == 5
    assert messages(ini) == [
        (1, "key line 'k=v' comes before the first section header: MDaemon cannot see it; "
            "move it under its section"),
    ]  # fmt: skip


def test_utf8_bom_hides_a_header_on_line_1() -> None:
    ini = load("utf8bom_header")
    assert ini.encoding == "cp1252"
    assert not ini.has_section("s")
    assert ini.sections() == ["t"]
    assert ini.get("t", "x") == "1"
    [(l1, m1), (l2, m2)] = messages(ini)
    assert (l1, l2) == (1, 2)
    assert "UTF-8 byte order mark" in m1
    assert "[s]" in m1
    assert "'k=v' comes before the first section header" in m2


def test_utf8_bom_before_a_blank_line_is_harmless() -> None:
    ini = load("utf8bom_blank")
    assert ini.get("s", "k") == "v"
    assert ini.problems == ()


def test_utf16le_with_bom() -> None:
    ini = load("utf16le")
    assert ini.encoding == "utf-16-le"
    assert ini.get("s", "k") == "\u00e9\u20ac\u4e2d"
    assert ini.get("t", "X") == "1"
    assert ini.line_of("T", "x") == 4


def test_utf16be_is_refused() -> None:
    with pytest.raises(EncodingError) as exc:
        read_ini(DATA / "utf16be.ini")
    message = str(exc.value)
    assert "utf16be.ini" in message
    assert "Windows cannot read" in message
    assert "ANSI or as UTF-16LE" in message


def test_cr_only_lines() -> None:
    ini = load("cr_only")
    assert ini.eol == "\r"
    assert ini.items("s") == [("k", "v"), ("j", "w")]
    assert ini.line_of("s", "j") == 3


def test_mixed_line_endings() -> None:
    ini = load("mixed_eol")
    assert ini.items("s") == [("k", "v"), ("j", "w"), ("l", "x")]
    assert ini.line_of("s", "l") == 4
    assert ini.eol == "\n"  # 2 LF, 1 CRLF, 1 CR


def test_missing_final_newline() -> None:
    ini = load("no_final_newline")
    assert ini.get("s", "last") == "end"
    assert ini.eol == "\r\n"


def test_cp1252_with_undefined_bytes() -> None:
    ini = load("cp1252")
    assert ini.sections() == ["caf\u00e9"]
    assert ini.get("CAF\u00c9", "k") == "\u20ac\x81\x8d\x8f\x90\x9d\u00e9\u00ff"


def test_lines_without_equals_are_inert() -> None:
    ini = load("inert")
    assert ini.items("s") == [("k", "1"), ("j", "2"), ("empty", "")]
    [(line, message)] = messages(ini)
    assert line == 3
    assert message == "line 'junk line' in [s] has no '=' and is not a comment: MDaemon ignores it"


def test_names_are_case_insensitive_and_keep_their_first_spelling() -> None:
    ini = load("casing")
    assert ini.sections() == ["Domain.COM", "other"]
    assert ini.get("domain.com", "IP") == "1.2.3.4"
    assert ini.keys("DOMAIN.com") == ["Ip"]
    assert ini.has_section("OTHER")
    assert not ini.has_section("missing")
    assert ini.get("missing", "x") is None
    assert ini.keys("missing") == []
    assert ini.line_of("missing") is None
    assert ini.line_of("other", "missing") is None


def test_windows_fold_is_per_character() -> None:
    ini = IniFile.from_bytes("[Stra\u00dfe]\r\nk=1\r\n[STRASSE]\r\nk=2\r\n".encode("cp1252"))
    assert ini.get("strasse", "k") == "2"  # not merged with [Straße] as casefold() would
    assert ini.get("STRA\u00dfE", "K") == "1"
    assert ini.problems == ()


def test_odd_length_utf16le_and_lone_surrogates_round_trip() -> None:
    data = b"\xff\xfe" + "[s]\r\nk=".encode("utf-16-le") + b"\x00\xd8" + b"\r\x00" + b"A"
    ini = IniFile.from_bytes(data, "odd.ini")
    assert ini.get("s", "k") == "\ud800"
    assert ini.to_bytes() == data
    [problem] = ini.problems
    assert problem.line is None
    assert "odd number of bytes" in problem.message
    ini.set("s", "n", "1")
    assert ini.to_bytes() == data[:-1] + "n=1\r\n".encode("utf-16-le") + b"A"


def test_read_names_the_file() -> None:
    assert IniFile.from_bytes(b"k=v\r\n", "MDaemon.ini").problems[0].file == "MDaemon.ini"
    assert IniFile.from_bytes(b"").name == "<bytes>"
    assert IniFile.from_bytes(b"").sections() == []
    assert IniFile.from_bytes(b"").eol == "\r\n"
