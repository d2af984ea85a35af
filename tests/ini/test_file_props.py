"""Properties over generated files: lossless round trip, reads equal a naive line-by-line oracle
written straight from the rules, and edits touch only the lines they must.
"""

from __future__ import annotations

import re

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from bindmgr.errors import EncodingError, ValueRefused
from bindmgr.ini.file import IniFile

BLANKS = " \t\v"
_UNDEFINED = {0x81, 0x8D, 0x8F, 0x90, 0x9D}


def _ansi(data: bytes) -> str:
    return "".join(chr(b) if b in _UNDEFINED else bytes([b]).decode("cp1252") for b in data)


def _fold(name: str) -> str:
    return "".join(c.upper() if len(c.upper()) == 1 else c for c in name)


def oracle_text(data: bytes) -> str:
    if data[:2] == b"\xff\xfe":
        body = data[2:]
        return body[: len(body) // 2 * 2].decode("utf-16-le", "surrogatepass")
    return _ansi(data)


def oracle(data: bytes) -> dict[str, dict[str, str]]:
    """Folded section -> folded key -> value, straight from the rules, one line at a time."""
    sections: dict[str, dict[str, str]] = {}
    current: dict[str, str] | None = None
    for line in re.split(r"\r\n|\r|\n", oracle_text(data)):
        s = line.strip(BLANKS)
        if s.startswith("["):
            name = _fold(s[1:].split("]", 1)[0].strip(BLANKS))
            current = None if name in sections else sections.setdefault(name, {})
        elif current is not None and "=" in s and not s.startswith(";"):
            key, value = (p.strip(BLANKS) for p in s.split("=", 1))
            if len(value) > 1 and value[0] == value[-1] and value[0] in "\"'":
                value = value[1:-1]
            current.setdefault(_fold(key), value)
    return sections


def view(ini: IniFile) -> dict[str, dict[str, str]]:
    return {_fold(s): {_fold(k): v for k, v in ini.items(s)} for s in ini.sections()}


def same_view(ini: IniFile, other: IniFile) -> None:
    assert ini.sections() == other.sections()
    for s in ini.sections():
        assert ini.items(s) == other.items(s)
        assert ini.line_of(s) == other.line_of(s)
        for k in ini.keys(s):
            assert ini.line_of(s, k) == other.line_of(s, k)
    assert ini.problems == other.problems


# Fragments chosen to collide: shared names, blanks, quotes, brackets, cp1252 high characters.
_CHARS = st.sampled_from([*"aAbB=;#[]\"' \t\v", "é", "É", "€", "\x81", "ÿ", "ß"])
_NAME = st.sampled_from(["a", "A", "b", "Key", "KEY", "é", "É", "[a", "", "ß"])
_TEXT = st.text(_CHARS, max_size=6)
_EOL = st.sampled_from(["\r\n", "\n", "\r"])
_BL = st.text(st.sampled_from(BLANKS), max_size=2)


@st.composite
def ini_line(draw: st.DrawFn) -> str:
    kind = draw(st.integers(0, 5))
    pad, pad2 = draw(_BL), draw(_BL)
    if kind == 0:
        close = draw(st.sampled_from(["]", "", "]]", "] x", "]k=v"]))
        return f"{pad}[{pad2}{draw(_NAME)}{draw(_BL)}{close}{draw(_BL)}"
    if kind in (1, 2):
        value = draw(st.one_of(_TEXT, _TEXT.map(lambda t: f'"{t}"'), _TEXT.map(lambda t: f"'{t}")))
        return f"{pad}{draw(_NAME)}{pad2}={draw(_BL)}{value}{draw(_BL)}"
    if kind == 3:
        return f"{pad};{draw(_TEXT)}"
    if kind == 4:
        return pad
    return draw(_TEXT)


@st.composite
def ini_file(draw: st.DrawFn, utf16: bool | None = None) -> bytes:
    lines = draw(st.lists(ini_line(), max_size=14))
    eols = [draw(_EOL) for _ in lines]
    no_final_eol: bool = draw(st.booleans())
    if lines and no_final_eol:
        eols[-1] = ""
    text = "".join(line + eol for line, eol in zip(lines, eols, strict=True))
    if utf16 is None:
        utf16 = draw(st.booleans())
    if not utf16:
        if draw(st.booleans()):
            text = "\xef\xbb\xbf" + text  # a UTF-8 BOM as Windows sees it: three cp1252 chars
        return _encode_ansi(text)
    extra = draw(st.sampled_from(["", "\ud800", "\udc00", "\udc00\ud800"]))
    body = (text + extra).encode("utf-16-le", "surrogatepass")
    return b"\xff\xfe" + body + draw(st.sampled_from([b"", b"A"]))


def _encode_ansi(text: str) -> bytes:
    return bytes(ord(c) if ord(c) in _UNDEFINED else c.encode("cp1252")[0] for c in text)


@given(st.binary(max_size=300))
@settings(max_examples=300)
def test_any_bytes_round_trip(data: bytes) -> None:
    try:
        ini = IniFile.from_bytes(data)
    except EncodingError:
        assert data.startswith(b"\xfe\xff")
        return
    assert ini.to_bytes() == data
    assert view(ini) == oracle(data)


@given(st.binary(max_size=300))
def test_any_utf16le_bytes_round_trip(data: bytes) -> None:
    data = b"\xff\xfe" + data
    ini = IniFile.from_bytes(data)
    assert ini.encoding == "utf-16-le"
    assert ini.to_bytes() == data
    assert view(ini) == oracle(data)


@given(ini_file())
@settings(max_examples=300)
def test_ini_like_files_round_trip_and_read_like_windows(data: bytes) -> None:
    ini = IniFile.from_bytes(data)
    assert ini.to_bytes() == data
    assert view(ini) == oracle(data)
    for section in ini.sections():
        assert ini.has_section(f" {section} ")
        for key, value in ini.items(section):
            assert ini.get(_fold(section), _fold(key)) == value


def _lines(data: bytes) -> list[bytes]:
    return re.findall(rb"[^\r\n]*(?:\r\n?|\n)|[^\r\n]+", data)


def _middles(old: list[bytes], new: list[bytes]) -> tuple[list[bytes], list[bytes]]:
    """The lines that differ, once the common first and last lines are taken away."""
    p = 0
    while p < min(len(old), len(new)) and old[p] == new[p]:
        p += 1
    q = 0
    while q < min(len(old), len(new)) - p and old[-1 - q] == new[-1 - q]:
        q += 1
    return old[p : len(old) - q], new[p : len(new) - q]


_VALUE = st.text(st.sampled_from([*"xY1 \t\"'=;[]é€", "\x81"]), max_size=6)


@given(ini_file(), _NAME, _NAME, _VALUE)
@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
def test_set_changes_one_value_and_nothing_else(
    data: bytes, section: str, key: str, value: str
) -> None:
    ini = IniFile.from_bytes(data)
    try:
        ini.set(section, key, value)
    except ValueRefused:
        assert ini.to_bytes() == data
        assume(False)
    new = ini.to_bytes()
    rescanned = IniFile.from_bytes(new)
    same_view(ini, rescanned)
    assert rescanned.get(section, key) == value
    expected = oracle(data)
    expected.setdefault(_fold(section), {})[_fold(key)] = value
    assert oracle(new) == expected
    if ini.encoding == "cp1252":
        old_mid, new_mid = _middles(_lines(data), _lines(new))
        assert len(old_mid) <= 1
        assert len(new_mid) <= len(old_mid) + 2
    ini.set(section, key, value)
    assert ini.to_bytes() == new  # the same edit again is a no-op


@given(ini_file(), st.data())
@settings(max_examples=150)
def test_delete_removes_only_the_effective_key_line(data: bytes, pick: st.DataObject) -> None:
    ini = IniFile.from_bytes(data)
    pairs = [(s, k) for s in ini.sections() for k in ini.keys(s)]
    assume(pairs)
    section, key = pick.draw(st.sampled_from(pairs))
    line = ini.line_of(section, key)
    assert line is not None
    ini.delete(section, key)
    new = ini.to_bytes()
    if ini.encoding == "cp1252":  # exactly the old bytes without that one line
        old_lines = _lines(data)
        assert new == b"".join(old_lines[: line - 1] + old_lines[line:])
    assert len(new) < len(data)
    same_view(ini, IniFile.from_bytes(new))


@given(ini_file(), st.data())
@settings(max_examples=150)
def test_delete_section_keeps_every_line_but_header_and_keys(
    data: bytes, pick: st.DataObject
) -> None:
    ini = IniFile.from_bytes(data)
    assume(ini.sections())
    section = pick.draw(st.sampled_from(ini.sections()))
    before = oracle(data)
    ini.delete_section(section)
    new = ini.to_bytes()
    same_view(ini, IniFile.from_bytes(new))
    after = oracle(new)
    for name, keys in before.items():
        if name != _fold(section):
            assert after[name] == keys
    kept = [
        ln.strip(b" \t\v\r\n")
        for ln in _lines(data)
        if b"=" not in ln or ln.lstrip(b" \t\v").startswith(b";")
    ]
    for line in kept:
        if not line.startswith(b"[") and ini.encoding == "cp1252":
            assert line in new


# Plain lines (no blank to trim, no quote to remove, LF or CRLF), the files that the INI layer
# reads with one regex pass per section instead of line by line, some with one odd line.
_PLAIN_CHARS = st.sampled_from([*"aAbB=;#[]x1.-", "é", "É", "€", "ß", "\x81"])
_PLAIN_TEXT = st.text(_PLAIN_CHARS, max_size=5)


@st.composite
def plain_ini_file(draw: st.DrawFn, odd: bool = False) -> bytes:
    lines = [f"[{draw(_NAME)}]"]
    for _ in range(draw(st.integers(0, 16))):
        kind = draw(st.integers(0, 5))
        if kind == 0:
            lines.append(f"[{draw(_NAME)}]")
        elif kind in (1, 2, 3):
            lines.append(f"{draw(_NAME)}={draw(_PLAIN_TEXT)}")
        elif kind == 4:
            lines.append(draw(st.sampled_from(["", ";c=1", ";"])))
        else:
            lines.append(draw(_PLAIN_TEXT))
    eol = draw(st.sampled_from(["\r\n", "\n"]))
    eols = [eol] * len(lines)
    if odd:  # one line with blanks or quotes, or ending in a lone CR, among plain ones
        at = draw(st.integers(1, len(lines)))
        lines.insert(at, draw(st.one_of(_ODD, _ODD, _ODD, ini_line())))
        eols.insert(at, draw(st.sampled_from([eol, eol, eol, "\r", "\r\r\n", ""])))
    return _encode_ansi("".join(line + e for line, e in zip(lines, eols, strict=True)))


_ODD_LINES = [" k=v", "k =v", "k= v", "k=v ", "k=v\t", 'k="v"', "k='v'", "\tk=v", "k=\vv", " ;c"]
_ODD_LINES += [" x", "k=v", "x"]  # the last two are odd only with a lone CR after them
_ODD = st.sampled_from(_ODD_LINES)


def oracle_line_problems(data: bytes) -> set[int]:
    """Lines of inert lines and of duplicate keys in the first section of a name."""
    found: set[int] = set()
    seen: set[str] = set()
    keys: set[str] | None = None
    in_section = False
    for number, line in enumerate(re.split(r"\r\n|\r|\n", oracle_text(data)), 1):
        s = line.strip(BLANKS)
        if s.startswith("["):
            name = _fold(s[1:].split("]", 1)[0].strip(BLANKS))
            keys = None if name in seen else set()
            seen.add(name)
            in_section = True
        elif not in_section or not s or s.startswith(";"):
            continue
        elif "=" not in s:
            found.add(number)
        elif keys is not None:
            key = _fold(s.split("=", 1)[0].strip(BLANKS))
            if key in keys:
                found.add(number)
            keys.add(key)
    return found


@given(st.one_of(plain_ini_file(), plain_ini_file(odd=True)))
@settings(max_examples=500)
def test_plain_files_read_like_windows(data: bytes) -> None:
    ini = IniFile.from_bytes(data)
    assert view(ini) == oracle(data)
    line_problems = {p.line for p in ini.problems if "has no '='" in p.message}
    line_problems |= {p.line for p in ini.problems if p.message.startswith("duplicate key")}
    assert line_problems == oracle_line_problems(data)
    for section in ini.sections():
        for key, value in ini.items(section):
            assert ini.get(section, key) == value
            assert ini.section_entries(section)[_fold(key)] == (key, value)
    rescanned = IniFile.from_bytes(data)
    for section in rescanned.sections():  # the line-by-line index first, then the reads
        for key in rescanned.keys(section):
            assert rescanned.line_of(section, key) is not None
    same_view(ini, rescanned)


@pytest.mark.parametrize("eol", ["\r\n", "\n"])
@pytest.mark.parametrize("odd_eol", ["\r\n", "\n", "\r", "\r\r\n", ""])
@pytest.mark.parametrize("odd", _ODD_LINES)
def test_one_odd_line_among_plain_ones_reads_like_windows(odd: str, odd_eol: str, eol: str) -> None:
    for at in range(1, 5):
        lines = ["[s]", "a=1", ";c", "b=2"]
        lines.insert(at, odd)
        eols = [eol] * len(lines)
        eols[at] = odd_eol
        data = _encode_ansi("".join(line + e for line, e in zip(lines, eols, strict=True)))
        ini = IniFile.from_bytes(data)
        assert view(ini) == oracle(data)
        line_problems = {p.line for p in ini.problems if "has no '='" in p.message}
        assert line_problems == oracle_line_problems(data)


@given(st.one_of(ini_file(), plain_ini_file(), plain_ini_file(odd=True)))
@settings(max_examples=400)
def test_read_sections_reads_what_section_entries_reads_and_keeps_nothing(data: bytes) -> None:
    ini, fresh = IniFile.from_bytes(data), IniFile.from_bytes(data)
    read = list(ini.read_sections())  # before anything else looks into the sections
    assert [name for name, _ in read] == fresh.sections()
    for name, entries in read:
        assert dict(entries) == dict(fresh.section_entries(name))
    assert ini.problems == fresh.problems  # the problems after a bulk read are the same
    assert ini.to_bytes() == data
    same_view(ini, fresh)
    if read:  # an edited section (its lines split) reads the same both ways too
        try:
            ini.set(read[0][0], "k", "v")
        except ValueRefused:
            return  # a section name that cannot be written back (a lone surrogate)
        for name, entries in ini.read_sections():
            assert dict(entries) == dict(ini.section_entries(name))


@given(st.one_of(ini_file(), plain_ini_file()), _NAME, _NAME, _VALUE, st.booleans())
@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
def test_a_copy_edits_like_a_fresh_scan_and_leaves_the_original(
    data: bytes, section: str, key: str, value: str, looked: bool
) -> None:
    ini = IniFile.from_bytes(data)
    if looked:  # the reader has been into every section: entries, lines, line numbers
        for name in ini.sections():
            ini.items(name)
            ini.line_of(name, next(iter(ini.keys(name)), "k"))
        ini.problems  # noqa: B018
    copy, fresh = ini.copy(), IniFile.from_bytes(data)
    same_view(copy, fresh)
    for target in (copy, fresh):
        try:
            target.set(section, key, value)
        except ValueRefused:
            return
        if ini.sections():
            target.delete(ini.sections()[0], key)
            target.delete_section(ini.sections()[-1])
    assert copy.to_bytes() == fresh.to_bytes()
    same_view(copy, fresh)
    assert ini.to_bytes() == data
    same_view(ini, IniFile.from_bytes(data))
