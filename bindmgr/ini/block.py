"""One section of an INI file as text: its lines, split on demand, and its key index.

`Block` is `ini.file`'s building block: reads come from `entries()` (one regex pass for a plain
section), line numbers and edits from `keys()` (line by line). No I/O; no knowledge of files.
"""

from __future__ import annotations

from bindmgr.ini.codec import BLANKS, first_line, fold, plain_entries, split_lines

_TRIM = BLANKS + "\r\n"


class Block:
    """A header line and the lines up to the next header (or the lines before the first one).

    Lines are split, and keys indexed, only when the block is first looked into. Reads use
    `entries()`, which for a plain block comes from one regex pass without splitting lines;
    line numbers and edits use `keys()`, the line-by-line index.
    """

    __slots__ = (
        "_entries",
        "_keys",
        "_lines",
        "_plain",
        "_text",
        "dups",
        "inert",
        "last_key",
        "name",
    )

    def __init__(self, name: str | None, text: str = "", lines: list[str] | None = None) -> None:
        self.name = name  # as spelled in the header; None for the lines before the first header
        self._text = text
        self._lines = lines
        self._keys: dict[str, tuple[int, str, str]] | None = None
        self._entries: dict[str, tuple[str, str]] | None = None
        self._plain = False  # entries() came from the plain scan: no duplicates, no inert lines
        self.last_key = 0  # index of the last key line (0 = the header: no keys)
        self.dups: list[tuple[int, int]] = []  # (duplicate key line, its first line), indexes
        self.inert: list[int] = []  # indexes of non-blank lines without `=` that are no comment

    @property
    def lines(self) -> list[str]:
        if self._lines is None:
            self._lines = split_lines(self._text)
            self._text = ""
        return self._lines

    def text(self) -> str:
        return self._text if self._lines is None else "".join(self._lines)

    def first_line(self) -> str:
        return first_line(self._text) if self._lines is None else self._lines[0]

    def count(self) -> int:
        if self._lines is not None:
            return len(self._lines)
        t = self._text
        n = t.count("\n") + t.count("\r") - t.count("\r\n")
        return n + 1 if t and t[-1] not in "\r\n" else n

    def keys(self) -> dict[str, tuple[int, str, str]]:
        """Folded key name -> (index of its first line, key, value as Windows reads it)."""
        if self._keys is None:
            keys: dict[str, tuple[int, str, str]] = {}
            self.last_key, self.dups, self.inert = 0, [], []
            lines = self.lines
            for i in range(0 if self.name is None else 1, len(lines)):
                s = lines[i].strip(_TRIM)
                if not s or s[0] == ";":
                    continue
                key, sep, value = s.partition("=")
                if not sep:
                    self.inert.append(i)
                    continue
                key = key.rstrip(BLANKS)
                self.last_key = i
                f = key.upper() if key.isascii() else fold(key)
                if f in keys:
                    self.dups.append((i, keys[f][0]))
                else:
                    value = value.lstrip(BLANKS)
                    if len(value) > 1 and value[0] == value[-1] and value[0] in "\"'":
                        value = value[1:-1]  # one outer pair of matching quotes
                    keys[f] = (i, key, value)
            self._keys = keys
        return self._keys

    def entries(self, lone_cr: bool = True) -> dict[str, tuple[str, str]]:
        """Folded key name -> (key, value as Windows reads it), first key wins, in file order.

        `lone_cr` False: the file as read has no line ending in CR alone (true of this block
        until its lines are split for an edit).
        """
        if self._entries is None:
            lone_cr = lone_cr or self._lines is not None
            plain = None if self.name is None else plain_entries(self.text(), lone_cr=lone_cr)
            self._plain = plain is not None
            self._entries = plain or {f: (k, v) for f, (_, k, v) in self.keys().items()}
        return self._entries

    def irregular(self, lone_cr: bool = True) -> tuple[list[int], list[tuple[int, int]]]:
        """(inert line indexes, (duplicate, first) key line indexes), for problems."""
        self.entries(lone_cr)
        if self._plain:
            return [], []
        self.keys()
        return self.inert, self.dups

    def changed(self) -> None:
        self._keys = None
        self._entries = None

    def rejoin(self) -> None:
        """Split the lines again after removing some: a CR-ended line followed by an LF-only
        line now reads as one CRLF line (the bytes are unchanged; only the count is)."""
        self._lines = split_lines("".join(self.lines))
        self.changed()
