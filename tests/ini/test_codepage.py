"""ANSI files in the server's code page: 1251, 1250, 932 (whose trail bytes can be `]` or `[`)
and the others Windows uses, read as Windows reads them and written back byte for byte."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bindmgr.errors import EncodingError, ValueRefused
from bindmgr.ini import codepage
from bindmgr.ini.codec import decode, encode
from bindmgr.ini.file import IniFile

DATA = Path(__file__).parent.parent / "data" / "ini" / "codepage"
# The lead and trail bytes of each double-byte code page (Microsoft's tables).
LEADS = {
    932: [*range(0x81, 0xA0), *range(0xE0, 0xFD)],
    936: list(range(0x81, 0xFF)),
    949: list(range(0x81, 0xFF)),
    950: list(range(0x81, 0xFF)),
}
TRAILS = {
    932: {*range(0x40, 0x7F), *range(0x80, 0xFD)},
    936: {*range(0x40, 0x7F), *range(0x80, 0xFF)},
    949: {*range(0x41, 0x5B), *range(0x61, 0x7B), *range(0x81, 0xFF)},
    950: {*range(0x40, 0x7F), *range(0xA1, 0xFF)},
}
DOUBLE_BYTE = tuple(LEADS)

# ゾ is 83 5D in code page 932: its trail byte is `]`; ゼ is 83 5B, its trail byte `[`.
ZONE = "\u30be\u30fc\u30f3.example"  # ゾーン.example
assert ZONE.encode("cp932")[:2] == b"\x83\x5d"


@pytest.mark.parametrize("number", codepage.SUPPORTED)
def test_every_byte_and_pair_comes_back(number: int) -> None:
    page = codepage.lookup(number)
    every = bytes(range(256))
    pairs = b"".join(bytes([a, b, 0x0A]) for a in range(0x80, 0x100) for b in range(256))
    for data in (every, every[::-1], pairs, b"\x83", b"\x83\r\n", every + b"\x81"):
        assert page.encode(page.decode(data)) == data


@given(st.sampled_from(codepage.SUPPORTED), st.binary(max_size=200))
@settings(max_examples=300)
def test_decode_then_encode_is_the_identity(number: int, data: bytes) -> None:
    page = codepage.lookup(number)
    assert page.encode(page.decode(data)) == data


@pytest.mark.parametrize("number", DOUBLE_BYTE)
def test_a_lead_byte_takes_its_trail_byte_whatever_its_value(number: int) -> None:
    """A lead byte and a trail byte are one character, defined or not, so a `]` trail byte
    never ends a name; one call for a whole line and the character-by-character reading agree
    on every pair, and a lead byte before a line end stays alone."""
    page = codepage.lookup(number)
    name = page.name
    for lead in LEADS[number]:
        for trail in range(0x20, 0x100):
            pair = bytes([lead, trail])
            assert len(page.decode(pair)) == (1 if trail in TRAILS[number] else 2), pair
            data = pair + b"]\n"
            whole = page.decode(data)
            assert whole == codepage._decode_line(data, name)  # the slow path, forced
            assert page.encode(whole) == data
        assert page.decode(bytes([lead]) + b"\r\n").endswith("\r\n")


def test_trail_bytes_that_look_like_brackets_stay_in_the_name() -> None:
    data = f"[{ZONE}]\r\nIP=10.0.0.1\r\n[\u30bc]\r\nk=v\r\n".encode("cp932")
    ini = IniFile.from_bytes(data, "Domains.dat", codepage=932)
    assert ini.sections() == [ZONE, "\u30bc"]
    assert ini.get(ZONE, "IP") == "10.0.0.1"
    assert ini.problems == ()
    assert ini.encoding == "cp932"
    # read as 1252 the name ends at the trail byte, and the rest of the line is ignored
    western = IniFile.from_bytes(data, "Domains.dat")
    assert western.sections()[0] == "\u0192"  # the lead byte 0x83 alone: ƒ
    assert any("text after ']'" in p.message for p in western.problems)


def test_cyrillic_names_and_values() -> None:
    text = "[\u041f\u043e\u0447\u0442\u0430]\r\n\u041a\u043b\u044e\u0447=\u0414\u0430\r\n"
    ini = IniFile.from_bytes(text.encode("cp1251"), "x.ini", codepage=1251)
    assert ini.get("\u043f\u043e\u0447\u0442\u0430", "\u043a\u043b\u044e\u0447") == "\u0414\u0430"
    assert ini.sections() == ["\u041f\u043e\u0447\u0442\u0430"]  # matched without case


@pytest.mark.parametrize(("number", "case"), [(1251, "cp1251"), (932, "cp932")])
def test_edits_are_byte_exact(number: int, case: str) -> None:
    before = (DATA / case / "before.ini").read_bytes()
    after = (DATA / case / "after.ini").read_bytes()
    ini = IniFile.from_bytes(before, case, codepage=number)
    assert ini.to_bytes() == before
    native = {1251: "\u0414\u0430", 932: "\u306f\u3044"}[number]  # Да / はい
    ini.set(ZONE if number == 932 else "\u041f\u043e\u0447\u0442\u0430", "IP", "10.0.0.9")
    ini.set("Domain", "Note", native)
    ini.set("New", "k", "v")
    assert ini.to_bytes() == after
    again = IniFile.from_bytes(after, case, codepage=number)
    assert again.get("Domain", "Note") == native


@pytest.mark.parametrize(
    ("number", "char"), [(1251, "\u00e9"), (1252, "\u0416"), (932, "\u00e4"), (1250, "\u20bd")]
)
def test_a_character_the_code_page_lacks_is_refused(number: int, char: str) -> None:
    ini = IniFile.from_bytes(b"[a]\r\nk=1\r\n", "x.ini", codepage=number)
    with pytest.raises(ValueRefused, match=f"does not exist in code page {number}"):
        ini.set("a", "k", f"x{char}")
    assert ini.to_bytes() == b"[a]\r\nk=1\r\n"


def test_a_byte_without_a_character_cannot_be_written_by_name() -> None:
    page = codepage.lookup(932)
    kept = page.decode(b"\x85\x40")  # a pair code page 932 leaves undefined
    assert page.encode(kept) == b"\x85\x40"
    assert page.lacks(kept)  # but nobody can write it as a value


def test_utf8_as_the_ansi_code_page_keeps_invalid_bytes() -> None:
    page = codepage.lookup(65001)
    assert page.decode("\u00e9".encode()) == "\u00e9"
    assert page.encode(page.decode(b"\xe9\xff")) == b"\xe9\xff"


def test_a_utf8_bom_hides_line_1_in_every_code_page() -> None:
    for number in (1252, 1251, 932, 65001):
        ini = IniFile.from_bytes(b"\xef\xbb\xbf[a]\r\nk=1\r\n[b]\r\n", "x.ini", codepage=number)
        assert "[a]" in ini.problems[0].message
        assert ini.to_bytes() == b"\xef\xbb\xbf[a]\r\nk=1\r\n[b]\r\n"


def test_utf16le_ignores_the_code_page() -> None:
    data = b"\xff\xfe" + "[\u4f8b]\r\n".encode("utf-16-le")
    assert IniFile.from_bytes(data, codepage=932).sections() == ["\u4f8b"]


def test_an_unknown_code_page_is_refused_with_the_choices() -> None:
    with pytest.raises(EncodingError) as info:
        codepage.lookup(437, "--codepage")
    assert "--codepage: code page 437 is not one" in info.value.message
    assert "1251" in (info.value.hint or "")


def test_the_code_page_in_effect() -> None:
    data = "[\u0416]\r\n".encode("cp1251")
    assert codepage.current() == 1252
    with codepage.using(1251):
        assert codepage.current() == 1251
        assert decode(data, "x.ini").text == "[\u0416]\r\n"
        assert IniFile.from_bytes(data).sections() == ["\u0416"]
    assert codepage.current() == 1252
    decoded = decode(data, "x.ini")
    assert decoded.text != "[\u0416]\r\n"
    assert encode(decoded.text, decoded) == data
