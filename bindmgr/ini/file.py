"""Lossless Windows-INI scan, index and patch: what GetPrivateProfileString sees, and the bytes
WritePrivateProfileString would produce. Bytes in, bytes out; no I/O.
Never regenerates a file: every line that is not edited keeps its exact bytes.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from types import MappingProxyType

from bindmgr.ini.block import Block
from bindmgr.ini.codec import (
    BLANKS,
    Decoded,
    check_write,
    content,
    decode,
    dominant_eol,
    encode,
    fold,
    folded,
    header_name,
    key_parts,
    line_ends,
    quote,
    replace_value,
    shorten,
)
from bindmgr.model import Problem

# Start of a header line: a line whose first non-blank character is `[`; group 1 is the raw name.
# A line ending (LF only: the file has no lone CR), blanks, `[`; the first line separately.
_HEADER = re.compile(r"[\r\n][ \t\v]*\[([^\]\r\n]*)")
_HEADER_AFTER_LF = re.compile(r"\n[ \t\v]*\[([^\]\r\n]*)")
_FIRST_HEADER = re.compile(r"[ \t\v]*\[([^\]\r\n]*)")


class IniFile:
    """One INI file as the Windows profile API reads and writes it."""

    def __init__(self, decoded: Decoded, name: str) -> None:
        self.name = name
        self._decoded = decoded
        text = decoded.text
        counts = line_ends(text)
        self._eol = dominant_eol(text, counts)
        self._lone_cr = counts[2] > 0  # else lines start only after LF: faster scans
        header = _HEADER if self._lone_cr else _HEADER_AFTER_LF
        # Every block is a span of `text` (no copies): a block ends where the next one starts.
        blocks = self._blocks = [Block(None, text, 0, 0)]
        add = blocks.append
        if m := _FIRST_HEADER.match(text):
            add(Block(m.group(1).strip(BLANKS), text, 0, len(text)))
        for m in header.finditer(text):
            start = m.start() + 1
            blocks[-1].end = start
            add(Block(m.group(1).strip(BLANKS), text, start, len(text)))
        if len(blocks) == 1:
            blocks[0].end = len(text)
        self._index: dict[str, Block] = {}
        self._reindex()
        self._starts: dict[int, int] | None = None
        self._problems: tuple[Problem, ...] | None = None

    def copy(self) -> IniFile:
        """A scan of the same bytes, to edit without touching this one: fresh blocks over the
        same text (no decoding, no scan), each edited block's lines copied."""
        other = object.__new__(IniFile)
        other.name, other._decoded = self.name, self._decoded
        other._eol, other._lone_cr = self._eol, self._lone_cr
        twins = {id(b): b.copy() for b in self._blocks}
        other._blocks = [twins[id(b)] for b in self._blocks]
        other._index = {key: twins[id(b)] for key, b in self._index.items()}
        other._starts = None
        other._problems = None
        return other

    @classmethod
    def from_bytes(cls, data: bytes, name: str = "<bytes>", codepage: int | None = None) -> IniFile:
        """Scan `data`; raises EncodingError for UTF-16BE, which Windows cannot read.

        `codepage`: the ANSI code page of a file without a BOM (Windows' GetACP on the server
        MDaemon runs on); None: the one in effect (`codepage.using`), 1252 unless set."""
        return cls(decode(data, name, codepage), name)

    @property
    def encoding(self) -> str:
        """The ANSI code page ("cp1252", "cp1251", "cp932", ...) or "utf-16-le" (the file
        starts with FF FE)."""
        return self._decoded.encoding

    @property
    def eol(self) -> str:
        """The dominant line ending ("\\r\\n", "\\n" or "\\r"), used for new lines; CRLF if none."""
        return self._eol

    def __repr__(self) -> str:
        return f"<IniFile {self.name!r} {self.encoding} {len(self._blocks) - 1} headers>"

    # reading

    def _section(self, section: str) -> Block | None:
        return self._index.get(folded(section))

    def _key(self, section: str, key: str) -> tuple[Block, int, str] | None:
        block = self._section(section)
        if block is None:
            return None
        entry = block.keys().get(folded(key))
        return None if entry is None else (block, entry[0], entry[2])

    def get(self, section: str, key: str) -> str | None:
        """The value GetPrivateProfileString returns, or None when the key is absent."""
        block = self._section(section)
        if block is None:
            return None
        entry = block.entries(self._lone_cr).get(folded(key))
        return None if entry is None else entry[1]

    def section_entries(self, section: str) -> Mapping[str, tuple[str, str]]:
        """Every effective key of the section, in file order, by folded name (`folded(key)`):
        (key as first spelled, value as get() returns it); empty when the section is absent.

        One lookup per section instead of one get() per key: for reading many keys.
        """
        block = self._section(section)
        return MappingProxyType({} if block is None else block.entries(self._lone_cr))

    def read_sections(self) -> Iterator[tuple[str, Mapping[str, tuple[str, str]]]]:
        """(name, entries) of every section MDaemon reads, in file order, the entries as
        `section_entries` gives them but made as they are iterated and not kept: a read of
        every section of a large file (the domains) holds no key of the sections it has passed.
        """
        for block in self._index.values():
            assert block.name is not None
            yield block.name, block.read_entries(self._lone_cr)

    def has_section(self, section: str) -> bool:
        return self._section(section) is not None

    def section_texts(self) -> dict[str, str]:
        """The text of every section MDaemon reads, by folded name (`folded(section)`), in file
        order: section_text for all of them in one pass."""
        return {name: block.text() for name, block in self._index.items()}

    def section_text(self, section: str) -> str | None:
        """The exact text of the section MDaemon reads under this name, from its header to the
        next header, or None when it is absent. Two sections of the same text read alike."""
        block = self._section(section)
        return None if block is None else block.text()

    def sections(self) -> list[str]:
        """Section names MDaemon sees, first spelling, in file order, each once."""
        return [b.name for b in self._index.values() if b.name is not None]

    def keys(self, section: str) -> list[str]:
        """Effective key names of the first such section, first spelling, in file order."""
        return [k for k, _ in self.items(section)]

    def items(self, section: str) -> list[tuple[str, str]]:
        """(key, value) for each effective key of the section, values as get() returns them."""
        block = self._section(section)
        if block is None:
            return []
        return list(block.entries(self._lone_cr).values())

    def line_of(self, section: str, key: str | None = None) -> int | None:
        """1-based line of the effective key, or of the section header when key is None."""
        if key is None:
            block = self._section(section)
            return None if block is None else self._start(block)
        found = self._key(section, key)
        return None if found is None else self._start(found[0]) + found[1]

    def _start(self, block: Block) -> int:
        if self._starts is None:
            self._starts, line = {}, 1
            for b in self._blocks:
                self._starts[id(b)] = line
                line += b.count(self._lone_cr)
        return self._starts[id(block)]

    # writing

    def set(self, section: str, key: str, value: str) -> None:
        """Set a value as WritePrivateProfileString does; a no-op when get() already returns it.

        Raises ValueRefused, before changing anything, when the value would not read back as
        given or would corrupt the file. A value with outer blanks or quotes is written quoted.
        """
        check_write(self.name, self.encoding, section, key, value)
        found = self._key(section, key)  # the line index, which the edit needs anyway
        if found is not None and found[2] == value:
            return
        text = quote(value)
        block = self._section(section)
        if block is None:
            last = self._blocks[-1]
            if last.lines and last.lines[-1][-1] not in "\r\n":
                last.lines[-1] += self._eol
            lines = [f"[{section}]{self._eol}", f"{key}={text}{self._eol}"]
            self._blocks.append(Block.of_lines(section, lines))
            self._index[fold(section)] = self._blocks[-1]
        else:
            lines = block.lines
            entry = block.keys().get(fold(key))
            if entry is not None:
                lines[entry[0]] = replace_value(lines[entry[0]], text)
                block.changed()
            else:
                at = block.last_key + 1
                if lines[at - 1][-1] not in "\r\n":
                    lines[at - 1] += self._eol
                eol = self._eol
                if eol == "\r" and lines[at:] and lines[at][0] == "\n":
                    eol = "\r\n"  # a lone CR would swallow the LF-only line that follows
                lines.insert(at, f"{key}={text}{eol}")
                block.changed()
        self._edited()

    def delete(self, section: str, key: str) -> None:
        """Remove the line of the effective key; a later duplicate then becomes effective."""
        found = self._key(section, key)
        if found is not None:
            block, i, _ = found
            del block.lines[i]
            block.rejoin()
            self._edited()

    def delete_section(self, section: str) -> None:
        """Remove the first such section's header and key lines; other lines stay in place.

        Comment, blank and inert lines then belong to the section above; a later duplicate
        section becomes effective.
        """
        block = self._section(section)
        if block is None:
            return
        at = self._blocks.index(block)
        kept = [line for line in block.lines[1:] if key_parts(line) is None]
        above = self._blocks[at - 1]
        above.lines.extend(kept)
        above.rejoin()
        del self._blocks[at]
        self._reindex()
        self._edited()

    def to_bytes(self) -> bytes:
        """The file's bytes: identical to the input except for the edited lines."""
        return encode("".join(self._texts()), self._decoded)

    def _texts(self) -> Iterator[str]:
        """The blocks' texts in order, each run of blocks that are still adjacent spans of the
        text as read in one slice (an edit of a large file touches a few blocks of thousands)."""
        run: tuple[str, int, int] | None = None
        for block in self._blocks:
            span = block.span()
            if run is not None and span is not None and span[0] is run[0] and span[1] == run[2]:
                run = (run[0], run[1], span[2])
                continue
            if run is not None:
                yield run[0][run[1] : run[2]]
            if span is None:
                yield block.text()
            run = span
        if run is not None:
            yield run[0][run[1] : run[2]]

    def _reindex(self) -> None:
        self._index.clear()
        for b in self._blocks[1:]:
            assert b.name is not None
            self._index.setdefault(fold(b.name), b)

    def _edited(self) -> None:
        self._starts = None
        self._problems = None

    # problems

    @property
    def problems(self) -> tuple[Problem, ...]:
        """What MDaemon will not see the way the file suggests, in line order."""
        if self._problems is None:
            self._problems = tuple(self._find_problems())
        return self._problems

    def _find_problems(self) -> list[Problem]:
        out: list[Problem] = []

        def add(line: int | None, message: str) -> None:
            out.append(Problem(self.name, line, message))

        pre = self._blocks[0]
        for i, line in enumerate(pre.lines):
            bom = self._decoded.utf8_bom
            if i == 0 and bom and line[bom:].lstrip(BLANKS).startswith("["):
                add(
                    1,
                    f"line 1 starts with a UTF-8 byte order mark, which Windows does not "
                    f"recognise: MDaemon cannot see the section [{header_name(line[bom:])[0]}] on "
                    "it, nor the keys below it up to the next header; re-save the file as ANSI",
                )
            elif key_parts(line) is not None:
                add(
                    i + 1,
                    f"key line {shorten(content(line).strip(BLANKS))} comes before the "
                    "first section header: MDaemon cannot see it; move it under its section",
                )
        once = len(self._index) == len(self._blocks) - 1  # no section name is used twice
        for block in self._blocks[1:]:
            assert block.name is not None
            name = block.name
            after = header_name(block.first_line())[1]
            first = block if once else self._index[fold(name)]
            inert, dups = block.irregular(self._lone_cr)
            if first is block and after == "" and not inert and not dups:
                continue  # nothing to report: no line number needed (counting lines costs)
            start = self._start(block)
            if first is not block:
                add(
                    start,
                    f"duplicate section [{name}] (first at line {self._start(first)}): "
                    "MDaemon reads only the first one, so every key under this header is "
                    "invisible to it; merge the two sections",
                )
            if after is None:
                add(start, f"header has no closing ']': MDaemon reads it as section [{name}]")
            elif after:
                add(
                    start,
                    f"text after ']' ({shorten(after)}) is ignored by MDaemon; "
                    "put keys on lines of their own",
                )
            for i in inert:
                add(
                    start + i,
                    f"line {shorten(content(block.lines[i]).strip(BLANKS))} in "
                    f"[{name}] has no '=' and is not a comment: MDaemon ignores it",
                )
            for i, j in dups:
                if first is block:
                    key = key_parts(block.lines[i])
                    assert key is not None
                    add(
                        start + i,
                        f"duplicate key {key[0]} in [{name}] (first at line "
                        f"{start + j}): MDaemon uses the first value and ignores this line",
                    )
        if self._decoded.tail:
            add(
                None,
                "the file has an odd number of bytes, so its last byte is not part of any "
                "UTF-16 character: MDaemon ignores it; bindmgr leaves it in place",
            )
        out.sort(key=lambda p: -1 if p.line is None else p.line)
        return out
