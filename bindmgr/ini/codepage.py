"""The ANSI code pages an INI file without a BOM is read in, as lossless codecs.

Windows reads such a file in the system's ANSI code page (GetACP: 1252 on a Western server,
1251 Cyrillic, 1250 Central European, 932 Japanese, ...): it turns the whole file into text with
MultiByteToWideChar and parses the text. In a double-byte code page (932, 936, 949, 950) a lead
byte and the trail byte after it are one character, so a trail byte 0x5D or 0x5B is part of a
name, never `]` or `[` (`=` 0x3D and `;` 0x3B are below every trail range). Decoding here keeps
every byte: a byte or pair Windows has no character for becomes a private character
(U+100000 + its value) that encodes back to it, so decode then encode is the identity for every
input. Pure; no I/O, no state but the code page in effect (`using`).
"""

from __future__ import annotations

import codecs
import importlib
import re
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING

from bindmgr.errors import EncodingError

if TYPE_CHECKING:
    from _codecs import _EncodingMap

DEFAULT = 1252
SINGLE_BYTE = (874, 1250, 1251, 1252, 1253, 1254, 1255, 1256, 1257, 1258)
UTF8 = 65001  # "Beta: Use Unicode UTF-8 for worldwide language support"
# Lead bytes and trail bytes of the double-byte code pages (Microsoft's code page tables).
_DOUBLE_BYTE: dict[int, tuple[str, str]] = {
    932: ("\x81-\x9f\xe0-\xfc", "\x40-\x7e\x80-\xfc"),  # Shift JIS, Japanese
    936: ("\x81-\xfe", "\x40-\x7e\x80-\xfe"),  # GBK, simplified Chinese
    949: ("\x81-\xfe", "\x41-\x5a\x61-\x7a\x81-\xfe"),  # Unified Hangul, Korean
    950: ("\x81-\xfe", "\x40-\x7e\xa1-\xfe"),  # Big5, traditional Chinese
}
SUPPORTED = tuple(sorted((*SINGLE_BYTE, *_DOUBLE_BYTE, UTF8)))

_ESCAPE = 0x100000  # private characters U+100000 + byte or pair: bytes without a character
_ESCAPED = re.compile("[\U00100000-\U0010ffff]")

# The code page in effect where a caller passes none: 1252, or what `using` set.
_CURRENT: ContextVar[int] = ContextVar("ansi_codepage", default=DEFAULT)


def supported_text() -> str:
    """The supported code pages, for messages."""
    return ", ".join(str(n) for n in SUPPORTED)


@dataclass(frozen=True, slots=True)
class CodePage:
    """One ANSI code page: `decode` and `encode` are each other's inverse on all bytes."""

    number: int

    @property
    def name(self) -> str:
        """ "cp1252", "cp932", ...: the encoding name an ANSI IniFile reports."""
        return f"cp{self.number}"

    def decode(self, data: bytes) -> str:
        if self.number in SINGLE_BYTE:
            return codecs.charmap_decode(data, "strict", _table(self.number))[0]
        if self.number == UTF8:
            return data.decode("utf-8", "surrogateescape")
        return _decode_double(data, self.name)

    def encode(self, text: str) -> bytes:
        if self.number in SINGLE_BYTE:
            return codecs.charmap_encode(text, "strict", _map(self.number))[0]
        if self.number == UTF8:
            return text.encode("utf-8", "surrogateescape")
        if not _ESCAPED.search(text):
            return text.encode(self.name)
        out = bytearray()
        at = 0
        for m in _ESCAPED.finditer(text):
            out += text[at : m.start()].encode(self.name)
            value = ord(m.group()) - _ESCAPE
            out += bytes([value]) if value < 0x100 else value.to_bytes(2, "big")
            at = m.end()
        return bytes(out + text[at:].encode(self.name))

    def lacks(self, char: str) -> bool:
        """Whether `char` is not a character of this code page (Windows would write '?')."""
        if self.number in SINGLE_BYTE:
            return char not in _table(self.number)
        if self.number == UTF8:
            return False  # lone surrogates are refused before this is asked
        if ord(char) >= _ESCAPE:
            return True
        try:
            return char.encode(self.name).decode(self.name) != char
        except UnicodeError:
            return True


def lookup(number: int, source: str = "the code page") -> CodePage:
    """The code page `number`; EncodingError naming `source` when bindmgr cannot read it."""
    if number not in SUPPORTED:
        raise EncodingError(
            f"{source}: code page {number} is not one bindmgr can read MDaemon's files in",
            hint=f"use one of the Windows ANSI code pages {supported_text()}",
        )
    return CodePage(number)


def current() -> int:
    """The code page in effect: 1252 unless `using` set another."""
    return _CURRENT.get()


@contextmanager
def using(number: int) -> Iterator[None]:
    """Inside: `current()` is `number`, for readers that are not passed a code page."""
    token = _CURRENT.set(lookup(number).number)
    try:
        yield
    finally:
        _CURRENT.reset(token)


@cache
def _table(number: int) -> str:
    """The code page's 256 characters; a byte it leaves undefined stands for U+00XX, as Windows
    maps 1252's 0x81 0x8D 0x8F 0x90 0x9D. A bijection on all 256 bytes."""
    decoding = importlib.import_module(f"encodings.cp{number}").decoding_table
    table = "".join(chr(i) if c == "\ufffe" else c for i, c in enumerate(decoding))
    assert len(set(table)) == 256, number
    return table


@cache
def _map(number: int) -> dict[int, int] | _EncodingMap:
    return codecs.charmap_build(_table(number))


@cache
def _pattern(name: str) -> re.Pattern[bytes]:
    """One character of a double-byte code page: a lead byte with its trail byte, or one byte."""
    lead, trail = _DOUBLE_BYTE[int(name[2:])]
    return re.compile(f"[{lead}][{trail}]|[\\x00-\\xff]".encode("latin-1"), re.DOTALL)


def _exact(data: bytes, name: str) -> str | None:
    """The text of `data` when Python's codec decodes it and encodes it back exactly, else None."""
    try:
        text = data.decode(name)
        return text if text.encode(name) == data else None
    except UnicodeError:
        return None


def _decode_double(data: bytes, name: str) -> str:
    """The text of a double-byte file, line by line: LF is never a trail byte, so lines can be
    decoded on their own. A file or line whose bytes Python's codec decodes and encodes back
    exactly is done in one call; any other line is read character by character."""
    text = _exact(data, name)
    if text is not None:
        return text
    return "".join(_decode_line(line, name) for line in data.splitlines(keepends=True))


def _decode_line(line: bytes, name: str) -> str:
    text = _exact(line, name)
    if text is not None:
        return text
    out: list[str] = []
    for m in _pattern(name).finditer(line):
        raw = m.group()
        try:
            char = raw.decode(name)
            if char.encode(name) == raw and len(char) == 1:
                out.append(char)
                continue
        except UnicodeError:
            pass
        out.append(chr(_ESCAPE + int.from_bytes(raw, "big")))
    return "".join(out)
