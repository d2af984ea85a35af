"""bindmgr's own INI files (the layout, the bindings file) checked line by line, in linear time,
before ConfigObj parses them.

ConfigObj's line regexes backtrack: one line of 100,000 `[` took minutes, 8,000 blanks before a
word four, a long run of blanks inside a value grows with its square. Each line is classified
here with plain string operations and handed on in a normal form ConfigObj reads in linear time
(`key = value`, `[[name]]`, comments and blanks as they are), one output line per input line, so
line numbers stay right. Pure: text in, lines out, `InputError` (or the caller's subclass) out.
"""

from __future__ import annotations

import re

from bindmgr.errors import InputError

BOM = "\ufeff"
MAX_BLANKS = 16  # the longest run of blanks a line may hold (alignment needs a few)
_KEY = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
_BLANK_RUN = re.compile(rf"[ \t\v\f]{{{MAX_BLANKS + 1}}}")
_SHOWN = 40


MAX_LISTED = 20  # problems listed in one message; the rest are counted


def listed(problems: list[str]) -> str:
    """Problems one per line, indented; after MAX_LISTED only how many more there are."""
    shown = problems[:MAX_LISTED]
    if len(problems) > MAX_LISTED:
        shown.append(f"... and {len(problems) - MAX_LISTED} more")
    return "\n  ".join(shown)


def _clip(text: str) -> str:
    return repr(text if len(text) <= _SHOWN else text[:_SHOWN] + "...")


def tame_lines(
    text: str,
    source: str,
    *,
    what: str,
    depth: int,
    hint: str,
    error: type[InputError] = InputError,
) -> list[str]:
    """The lines of `text` (a leading BOM dropped) in ConfigObj's plainest syntax.

    `what` names the file in messages ("the layout"); `depth` is how deep sections may nest
    (0: none at all). Refused, naming the line: a section header that is malformed, nests too
    deep or holds blanks; a line that is neither a comment, a header nor `key = value` with a
    plain key (letters, digits, `_`); a multi-line (triple-quoted) value; a run of more than
    MAX_BLANKS blanks.
    """
    problems: list[str] = []
    out: list[str] = []
    for number, line in enumerate(text.removeprefix(BOM).splitlines(), 1):
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            out.append(stripped)
            continue
        try:
            if _BLANK_RUN.search(stripped):
                raise ValueError(f"it holds a run of more than {MAX_BLANKS} blanks")
            if stripped.startswith("["):
                out.append(_header(stripped, depth))
            else:
                out.append(_key_line(stripped))
        except ValueError as exc:
            problems.append(f"{source}:{number}: {exc} ({_clip(stripped)})")
            out.append("")
            if len(problems) == 10:
                problems.append("... (stopped after 10 lines)")
                break
    if problems:
        raise error(f"{what} is invalid:\n  " + "\n  ".join(problems), hint=hint)
    return out


def _header(line: str, depth: int) -> str:
    if depth == 0:
        raise ValueError("a section header, but this file has no sections")
    opened = len(line) - len(line.lstrip("["))
    close = line.find("]", opened)
    if close < 0:
        raise ValueError("a section header without its closing ']'")
    name = line[opened:close].strip()
    after = line[close:]
    closed = len(after) - len(after.lstrip("]"))
    rest = after[closed:].strip()
    if rest and not rest.startswith("#"):
        raise ValueError("text after the section header's closing ']'")
    if opened != closed:
        raise ValueError(f"a section header with {opened} '[' but {closed} ']'")
    if opened > depth:
        raise ValueError(f"a section nested {opened} deep; sections nest {depth} deep at most")
    if not name or any(c.isspace() or c in "[]'\"#" for c in name):
        raise ValueError("a section name must be non-empty, without blanks, brackets, quotes or #")
    return "[" * opened + name + "]" * closed


def _key_line(line: str) -> str:
    key, sep, value = line.partition("=")
    if not sep:
        raise ValueError("neither a comment, a section header nor `key = value`")
    key, value = key.strip(), value.strip()
    if not _KEY.match(key):
        raise ValueError(f"{_clip(key)} is not a key name (letters, digits and _)")
    if value.startswith(("'''", '"""')):
        raise ValueError("a multi-line (triple-quoted) value; write the value on one line")
    return f"{key} = {value}"
