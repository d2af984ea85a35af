"""Bytes <-> text for Windows INI files, and the per-line rules of the profile API.

Decodes as Windows does (UTF-16LE with `FF FE`, else the ANSI code page with every byte kept:
`codepage`) so that encoding the text again gives back the exact bytes. Pure functions: no file
access, no state.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from bindmgr.errors import EncodingError, ValueRefused
from bindmgr.ini.codepage import CodePage, current, lookup

UTF16LE = "utf-16-le"
BLANKS = " \t\v"  # what the profile API trims from lines, names and values
CRLF = "\r\n"
_TRIM = BLANKS + CRLF  # a line's terminator can only be at its end
MAX_VALUE = 65535  # GetPrivateProfileString returns at most this many characters

_BOM_UTF16LE = b"\xff\xfe"
_BOM_UTF16BE = b"\xfe\xff"
_BOM_UTF8 = b"\xef\xbb\xbf"

# A whole line with its terminator; a last line without one is matched by the second branch.
_LINE = re.compile(r"[^\r\n]*(?:\r\n?|\n)|[^\r\n]+")
# What str.splitlines also breaks at, besides CR and LF (which it treats as _LINE does).
_OTHER_BREAKS = ("\v", "\f", "\x1c", "\x1d", "\x1e", "\x85", "\u2028", "\u2029")


@dataclass(frozen=True, slots=True)
class Decoded:
    """A file's text and what is needed to turn it back into the same bytes."""

    text: str
    encoding: str  # the ANSI code page's name ("cp1252", "cp932", ...) or UTF16LE
    bom: bytes  # b"\xff\xfe" for UTF-16LE, else b"" (a UTF-8 BOM stays part of the text)
    tail: bytes  # a stray last byte of an odd-length UTF-16LE file, else b""
    # The file starts with EF BB BF, which Windows does not recognise: how many characters of
    # the text those three bytes became (3 in 1252, 2 in 932); 0 without it.
    utf8_bom: int
    ansi: CodePage | None = None  # the code page of an ANSI file; None for UTF-16LE


def decode(data: bytes, name: str, codepage: int | None = None) -> Decoded:
    """Decode `data` the way the profile API does; refuse what Windows cannot read.

    `codepage`: the ANSI code page a file without a BOM is in; None: the one in effect
    (`codepage.using`), 1252 unless set."""
    if data.startswith(_BOM_UTF16LE):
        body = data[2:]
        tail = body[-1:] if len(body) % 2 else b""
        text = body[: len(body) - len(tail)].decode(UTF16LE, "surrogatepass")
        return Decoded(text, UTF16LE, _BOM_UTF16LE, tail, utf8_bom=0)
    if data.startswith(_BOM_UTF16BE):
        raise EncodingError(
            f"{name} is UTF-16BE (it starts with the bytes FE FF): Windows cannot read this "
            "encoding, so MDaemon sees no settings in it",
            hint="re-save it as ANSI or as UTF-16LE ('Unicode' in Notepad) and rerun",
        )
    page = lookup(current() if codepage is None else codepage)
    text = page.decode(data)
    bom = len(page.decode(_BOM_UTF8)) if data.startswith(_BOM_UTF8) else 0
    return Decoded(text, page.name, b"", b"", utf8_bom=bom, ansi=page)


def encode(text: str, decoded: Decoded) -> bytes:
    """Encode `text` back into the file's encoding, with its BOM and stray tail byte."""
    if decoded.ansi is None:
        body = text.encode(UTF16LE, "surrogatepass")
    else:
        body = decoded.ansi.encode(text)
    return decoded.bom + body + decoded.tail


def split_lines(text: str) -> list[str]:
    """Lines with their exact terminators (CRLF, LF, CR or none for the last one)."""
    if not any(c in text for c in _OTHER_BREAKS):  # then str.splitlines splits alike, faster
        return text.splitlines(keepends=True)
    return _LINE.findall(text)


def first_line(text: str, start: int = 0, end: int | None = None) -> str:
    """The first line of `text[start:end]` with its terminator ("" for an empty text)."""
    m = _LINE.match(text, start, len(text) if end is None else end)
    return "" if m is None else m.group()


def line_ends(text: str) -> tuple[int, int, int]:
    """How many lines end in CRLF, in LF alone and in CR alone."""
    crlf = text.count(CRLF)
    return crlf, text.count("\n") - crlf, text.count("\r") - crlf


def dominant_eol(text: str, ends: tuple[int, int, int] | None = None) -> str:
    """The most frequent line ending; CRLF on a tie or when there is none (as Windows writes).

    `ends` is `line_ends(text)` when the caller has it already."""
    crlf, lf, cr = line_ends(text) if ends is None else ends
    if crlf >= lf and crlf >= cr:
        return CRLF
    return "\n" if lf >= cr else "\r"


def content(line: str) -> str:
    """A line without its terminator."""
    return line.rstrip("\r\n")


def fold(name: str) -> str:
    """Case-insensitive key for a section or key name, character by character like Windows.

    Not str.casefold(): Windows upper-cases one character at a time, so "ß" never equals "ss".
    """
    if name.isascii():
        return name.upper()
    return "".join(u if len(u := c.upper()) == 1 else c for c in name)


# In a plain block (see `_plain`), a key line after the header (group 1: key, group 2: value)
# or an inert line (group 3: its first character): `\n` then a non-comment, non-header line.
_PLAIN_LINE = re.compile(r"\n(?:([^;\[\r\n=][^=\r\n]*|)=([^\r\n]*)|([^;\[\r\n]))")


def _plain(text: str, lone_cr: bool) -> bool:
    """True when no line of `text` has a blank to trim or a value to unquote, and every line
    ends in LF or CRLF: then `_PLAIN_LINE` reads it exactly as the line-by-line rules do.

    Conservative: a blank or quote anywhere next to `=` or a line end (even in a comment), any
    TAB or VT, or a lone CR sends the block to the line-by-line reading instead. `lone_cr`
    False: the caller knows that no line of `text` ends in CR alone.
    """
    if lone_cr and "\r" in text and text.count("\r") != text.count("\r\n"):
        return False
    if " " not in text and "'" not in text and '"' not in text:  # one fast scan each
        return "\t" not in text and "\v" not in text
    return not (
        "\t" in text
        or "\v" in text
        or " \n" in text
        or " \r" in text
        or "\n " in text
        or text.endswith(" ")
        or " =" in text
        or "= " in text
        or '="' in text
        or "='" in text
    )


def plain_entries(text: str, *, lone_cr: bool = True) -> dict[str, tuple[str, str]] | None:
    """Folded key -> (key, value) of a section's text (header line first) read in one regex
    pass, or None unless every line is plain (see `_plain`) and no key repeats and no line is
    inert: then the caller reads it line by line, which finds the same values and the problems.
    """
    if not _plain(text, lone_cr):
        return None
    entries: dict[str, tuple[str, str]] = {}
    ascii_only = text.isascii()
    for key, value, inert in _PLAIN_LINE.findall(text):
        if inert:
            return None
        f = key.upper() if ascii_only or key.isascii() else fold(key)
        if f in entries:
            return None
        entries[f] = (key, value)
    return entries


def folded(name: str) -> str:
    """A section or key name given to a lookup (spaces trimmed, not tabs), folded: the key
    under which `IniFile.section_entries` files that key."""
    return fold(name.strip(" "))


def unquote(value: str) -> str:
    """Remove one outer pair of matching quotes from an already trimmed value."""
    if len(value) > 1 and value[0] == value[-1] and value[0] in "\"'":
        return value[1:-1]
    return value


def quote(value: str) -> str:
    """The text to write so that reading it back gives exactly `value`."""
    if value != value.strip(BLANKS) or unquote(value) != value:
        return f'"{value}"'
    return value


def key_parts(line: str) -> tuple[str, str] | None:
    """(key name, trimmed value with its quotes) of a key line, or None for any other line."""
    s = line.strip(_TRIM)
    if not s or s[0] in ";[":
        return None
    key, sep, value = s.partition("=")
    if not sep:
        return None
    return key.rstrip(BLANKS), value.lstrip(BLANKS)


def header_name(line: str) -> tuple[str, str | None]:
    """(section name, ignored text after the first `]` or None without `]`) of a header line."""
    name, sep, rest = line.strip(_TRIM)[1:].partition("]")
    return name.strip(BLANKS), rest.strip(BLANKS) if sep else None


def replace_value(line: str, value_text: str) -> str:
    """A key line with only its value text replaced: indent, key, spacing and EOL are kept."""
    body = content(line)
    eol = line[len(body) :]
    head, _, rest = body.partition("=")
    raw = rest.strip(BLANKS)
    if not raw:
        return f"{head}={rest}{value_text}{eol}"
    lead = len(rest) - len(rest.lstrip(BLANKS))
    return f"{head}={rest[:lead]}{value_text}{rest[lead + len(raw) :]}{eol}"


def shorten(text: str, limit: int = 40) -> str:
    """A printable, bounded rendering of a name or value for messages."""
    return repr(text if len(text) <= limit else text[:limit] + "…")


def _unencodable(text: str, encoding: str) -> str | None:
    """Why `text` cannot be stored in the file's encoding, or None when it can."""
    if text.isascii():
        return None
    page = None if encoding == UTF16LE else lookup(int(encoding.removeprefix("cp")))
    for i, ch in enumerate(text):
        if 0xD800 <= ord(ch) <= 0xDFFF:
            return f"character {i + 1} is a lone surrogate (U+{ord(ch):04X})"
        if page is not None and page.lacks(ch):
            return (
                f"character {i + 1} ({ch!r}, U+{ord(ch):04X}) does not exist in code page "
                f"{page.number}, which this file uses; Windows would write it as '?'"
            )
    return None


def _units(text: str) -> int:
    """Length in UTF-16 code units, as Windows counts it."""
    return len(text) if text.isascii() else len(text.encode(UTF16LE, "surrogatepass")) // 2


def check_write(file: str, encoding: str, section: str, key: str, value: str) -> None:
    """Raise ValueRefused when writing `value` to [section] key would not read back as given."""
    check_section(file, encoding, section)
    where = f"[{section}] {shorten(key)} in {file}"
    why = None
    if not key:
        why = "the key name is empty"
    elif any(c in key for c in "\r\n\0"):
        why = "the key name contains a line break or NUL, which would split or cut the line"
    elif "=" in key:
        why = "the key name contains '=', so Windows would read a different key"
    elif key[0] in ";[":
        why = f"a key name starting with {key[0]!r} would turn the line into a comment or header"
    elif key != key.strip(BLANKS):
        why = "the key name starts or ends with a blank, which Windows trims away"
    else:
        why = _unencodable(key, encoding)
    if why is not None:
        raise ValueRefused(f"refusing to write {where}: {why}", hint="use a plain key name")
    why = None
    if any(c in value for c in "\r\n\0"):
        why = "the value contains a line break or NUL, which would split or cut the line"
    elif _units(value) > MAX_VALUE:
        why = f"the value is longer than {MAX_VALUE} characters, which Windows cannot read back"
    else:
        why = _unencodable(value, encoding)
    if why is not None:
        raise ValueRefused(
            f"refusing to write {where} = {shorten(value)}: {why}",
            hint="correct the value and rerun",
        )


def check_section(file: str, encoding: str, section: str) -> None:
    """Raise ValueRefused when `section` cannot be written as a header that reads back as given."""
    why = None
    if "]" in section:
        why = "the section name contains ']', where Windows would end the name"
    elif any(c in section for c in "\r\n\0"):
        why = "the section name contains a line break or NUL, which would split or cut the line"
    elif section != section.strip(BLANKS):
        why = "the section name starts or ends with a blank, which Windows trims away"
    else:
        why = _unencodable(section, encoding)
    if why is not None:
        raise ValueRefused(
            f"refusing to write section [{shorten(section)}] in {file}: {why}",
            hint="use a plain section name",
        )
