"""One section of an INI file as text: its span of the file's text, its lines split on demand,
and its key index.

`Block` is `ini.file`'s building block: reads come from `entries()` (one regex pass for a plain
section) or `read_entries()` (the same, not kept), line numbers and edits from `keys()` (line by
line). No I/O; no knowledge of files.
"""

from __future__ import annotations

from bindmgr.ini.codec import BLANKS, first_line, fold, plain_entries, split_lines

_TRIM = BLANKS + "\r\n"

Keys = dict[str, tuple[int, str, str]]  # folded key -> (line index, key, value as read)


def index_keys(
    lines: list[str], start: int
) -> tuple[Keys, int, tuple[tuple[int, int], ...], tuple[int, ...]]:
    """(keys, index of the last key line or 0, (duplicate, first) key line indexes, inert line
    indexes) of `lines` from index `start` on, as the profile API reads them."""
    keys: Keys = {}
    last = 0
    dups: list[tuple[int, int]] = []
    inert: list[int] = []
    for i in range(start, len(lines)):
        s = lines[i].strip(_TRIM)
        if not s or s[0] == ";":
            continue
        key, sep, value = s.partition("=")
        if not sep:
            inert.append(i)
            continue
        key = key.rstrip(BLANKS)
        last = i
        f = key.upper() if key.isascii() else fold(key)
        if f in keys:
            dups.append((i, keys[f][0]))
        else:
            value = value.lstrip(BLANKS)
            if len(value) > 1 and value[0] == value[-1] and value[0] in "\"'":
                value = value[1:-1]  # one outer pair of matching quotes
            keys[f] = (i, key, value)
    return keys, last, tuple(dups), tuple(inert)


class Block:
    """A header line and the lines up to the next header (or the lines before the first one).

    Until it is edited a block is a span (`start`, `end`) of the file's text, which every block
    shares: no copy of its text, no lines. Lines are split, and keys indexed, only when the block
    is first looked into for a line number or an edit. Reads use `entries()`, which for a plain
    block comes from one regex pass without splitting lines; `read_entries()` gives the same
    without keeping them (a bulk read of thousands of sections keeps no per-key objects).
    """

    __slots__ = (
        "_entries",
        "_keys",
        "_lines",
        "_regular",
        "_src",
        "dups",
        "end",
        "inert",
        "last_key",
        "name",
        "start",
    )

    def __init__(self, name: str | None, src: str, start: int, end: int) -> None:
        """The span `src[start:end]`; `Block.of_lines` for a block made of lines."""
        self.name = name  # as spelled in the header; None for the lines before the first header
        self._src = src  # the block is src[start:end] while _lines is None (a span)
        self.start = start
        self.end = end  # ini.file moves it while it scans
        self._lines: list[str] | None = None
        self._keys: Keys | None = None
        self._entries: dict[str, tuple[str, str]] | None = None
        self._regular: bool | None = None  # no inert line, no duplicate key; None: not known yet
        # Set by keys(), read only after it: last_key, the index of the last key line (0 = the
        # header: no keys); dups, (duplicate key line, its first line) indexes; inert, indexes of
        # non-blank lines without `=` that are no comment. Unset until then (thousands of blocks
        # are never indexed).
        self.last_key: int
        self.dups: tuple[tuple[int, int], ...]
        self.inert: tuple[int, ...]

    @classmethod
    def of_lines(cls, name: str, lines: list[str]) -> Block:
        block = cls(name, "", 0, 0)
        block._lines = lines
        return block

    def copy(self) -> Block:
        """The same block, nothing looked into yet (its lines copied if it has them)."""
        if self._lines is None:
            return Block(self.name, self._src, self.start, self.end)
        twin = Block(self.name, "", 0, 0)
        twin._lines = list(self._lines)
        return twin

    @property
    def lines(self) -> list[str]:
        if self._lines is None:
            self._lines = split_lines(self._src[self.start : self.end])
            self._src, self.start, self.end = "", 0, 0
        return self._lines

    def text(self) -> str:
        return self._src[self.start : self.end] if self._lines is None else "".join(self._lines)

    def first_line(self) -> str:
        if self._lines is None:
            return first_line(self._src, self.start, self.end)
        return self._lines[0]

    def count(self, lone_cr: bool = True) -> int:
        """How many lines; `lone_cr` False: the file as read has no line ending in CR alone."""
        if self._lines is not None:
            return len(self._lines)
        t, a, b = self._src, self.start, self.end
        n = t.count("\n", a, b)
        if lone_cr:
            n += t.count("\r", a, b) - t.count("\r\n", a, b)
        return n + 1 if b > a and t[b - 1] not in "\r\n" else n

    def span(self) -> tuple[str, int, int] | None:
        """(the shared text, start, end) while the block is a span of it, else None."""
        return None if self._lines is not None else (self._src, self.start, self.end)

    def keys(self) -> Keys:
        """Folded key name -> (index of its first line, key, value as Windows reads it)."""
        if self._keys is None:
            start = 0 if self.name is None else 1
            self._keys, self.last_key, self.dups, self.inert = index_keys(self.lines, start)
            self._regular = not self.dups and not self.inert
        return self._keys

    def entries(self, lone_cr: bool = True) -> dict[str, tuple[str, str]]:
        """Folded key name -> (key, value as Windows reads it), first key wins, in file order.

        `lone_cr` False: the file as read has no line ending in CR alone (true of this block
        until its lines are split for an edit).
        """
        if self._entries is None:
            plain = self._plain_entries(lone_cr)
            if plain is not None:
                self._regular = True  # the plain scan finds no duplicate and no inert line
            self._entries = plain or {f: (k, v) for f, (_, k, v) in self.keys().items()}
        return self._entries

    def read_entries(self, lone_cr: bool = True) -> dict[str, tuple[str, str]]:
        """What `entries()` returns, made afresh and not kept (only whether the block is
        regular is): for reading each of many sections once."""
        if self._entries is not None:
            return dict(self._entries)  # a copy: the caller may keep or change it
        if self._keys is None:
            plain = self._plain_entries(lone_cr)
            if plain is not None:
                self._regular = True
                return plain
            if self._lines is None:  # index a copy of the lines: the block stays a span
                start = 0 if self.name is None else 1
                keys, _, dups, inert = index_keys(split_lines(self.text()), start)
                self._regular = not dups and not inert
                return {f: (k, v) for f, (_, k, v) in keys.items()}
        return {f: (k, v) for f, (_, k, v) in self.keys().items()}

    def _plain_entries(self, lone_cr: bool) -> dict[str, tuple[str, str]] | None:
        if self.name is None:
            return None
        lone_cr = lone_cr or self._lines is not None
        return plain_entries(self.text(), lone_cr=lone_cr)

    def irregular(
        self, lone_cr: bool = True
    ) -> tuple[tuple[int, ...], tuple[tuple[int, int], ...]]:
        """(inert line indexes, (duplicate, first) key line indexes), for problems."""
        if self._regular is None:
            self.read_entries(lone_cr)
        if self._regular:
            return (), ()
        self.keys()
        return self.inert, self.dups

    def changed(self) -> None:
        self._keys = None
        self._entries = None
        self._regular = None

    def rejoin(self) -> None:
        """Split the lines again after removing some: a CR-ended line followed by an LF-only
        line now reads as one CRLF line (the bytes are unchanged; only the count is)."""
        self._lines = split_lines("".join(self.lines))
        self.changed()
