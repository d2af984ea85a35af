"""Independent proof that an edit did what the plan says and nothing else.

Given a file's old and new bytes and the plan's changes for it: every changed value reads back
as planned, every other value reads back as before, and every untouched line is byte-identical
and in order. Pure; raises WriteError when the proof fails (the caller restores the backup).
Linear in the file: a section whose text is unchanged is not read key by key (it reads alike),
and runs of lines no edit accounts for are compared as whole slices.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Sequence

from bindmgr.errors import WriteError
from bindmgr.ini.codec import content, decode, fold, split_lines
from bindmgr.ini.file import IniFile
from bindmgr.model import Action, Change


def _fail(name: str, what: str) -> WriteError:
    return WriteError(
        f"verification of {name} failed: {what}",
        hint="nothing was kept: the file is restored from the backup; report this as a bug",
    )


def _header_lines(lines: Sequence[str]) -> list[int]:
    return [i for i, line in enumerate(lines) if line.lstrip(" \t\v").startswith("[")]


def _section_span(
    ini: IniFile, lines: Sequence[str], headers: Sequence[int], section: str
) -> set[int]:
    """0-based indexes of the lines deleting a section may remove: its header and the lines up
    to the next header (`headers`: every header's index, ascending), except `;` comments,
    which Windows keeps."""
    start = ini.line_of(section)
    if start is None:
        return set()
    following = bisect_right(headers, start - 1)
    end = headers[following] if following < len(headers) else len(lines)
    return {i for i in range(start - 1, end) if not lines[i].lstrip(" \t\v").startswith(";")}


def verify_edit(
    name: str,
    old: bytes,
    new: bytes,
    changes: Sequence[Change],
    *,
    before: IniFile | None = None,
) -> None:
    """`before`: the scan of `old`, when the caller has it (the reader's, which the plan was
    made from); the new bytes are always scanned here."""
    old_text, new_text = decode(old, name), decode(new, name)
    before = IniFile(old_text, name) if before is None else before
    after = IniFile(new_text, name)
    old_lines, new_lines = split_lines(old_text.text), split_lines(new_text.text)
    headers: list[int] | None = None  # found on the first deleted section
    removed: set[int] = set()  # old lines an edit replaced (a changed key's line)
    optional: set[int] = set()  # old lines a deleted section may take with it
    added: set[int] = set()  # new lines an edit may have written
    gone_sections: set[str] = set()
    touched: set[tuple[str, str]] = set()

    for change in changes:
        if change.action is Action.DELETE_SECTION:
            if after.has_section(change.section):
                raise _fail(name, f"section [{change.section}] is still there")
            gone_sections.add(fold(change.section))
            if headers is None:
                headers = _header_lines(old_lines)
            optional |= _section_span(before, old_lines, headers, change.section)
            continue
        assert change.key is not None
        touched.add((fold(change.section), fold(change.key)))
        got = after.get(change.section, change.key)
        if got != change.new:
            raise _fail(
                name, f"[{change.section}] {change.key} reads {got!r}, planned {change.new!r}"
            )
        line = before.line_of(change.section, change.key)
        if line is not None:
            removed.add(line - 1)
        line = after.line_of(change.section, change.key)
        if line is not None:
            added.add(line - 1)
        header = after.line_of(change.section)
        if header is not None and before.line_of(change.section) is None:
            added.add(header - 1)  # a section the edit created

    _untouched_read_alike(name, before, after, gone_sections, touched)
    _match_lines(name, old_lines, new_lines, removed=removed, optional=optional, added=added)


def _untouched_read_alike(
    name: str,
    before: IniFile,
    after: IniFile,
    gone_sections: set[str],
    touched: set[tuple[str, str]],
) -> None:
    """Every value the changes do not touch reads back as before."""
    now_texts = after.section_texts()
    changed = [
        folded
        for folded, text in before.section_texts().items()
        if now_texts.get(folded) != text  # the same text reads the same keys and values
    ]
    if not changed:
        return
    names = {fold(section): section for section in before.sections()}  # the keys above
    for folded in changed:
        if folded in gone_sections:
            continue
        section = names[folded]
        now = after.section_entries(section)
        for fkey, (key, value) in before.section_entries(section).items():
            if (folded, fold(key)) in touched:
                continue
            got = now.get(fkey)
            if got is None or got[1] != value:
                raise _fail(name, f"[{section}] {key} changed, but the plan does not change it")


def _match_lines(
    name: str,
    old: Sequence[str],
    new: Sequence[str],
    *,
    removed: set[int],
    optional: set[int],
    added: set[int],
) -> None:
    """Walk both files: every old line is kept byte for byte unless an edit accounts for it.

    Between two lines an edit accounts for, the walk below could only step both files on
    equal lines, so such a run is compared as one slice; the last old line always takes the
    walk (`_same`), and so does a run that differs, to name the line."""
    stops_old = sorted(removed | optional | ({len(old) - 1} if old else set()))
    stops_new = sorted(added)
    i = j = 0
    while i < len(old) or j < len(new):  # every pass advances i or j, or fails: bounded
        run = min(_next(stops_old, i, len(old)) - i, _next(stops_new, j, len(new)) - j)
        if run > 1 and old[i : i + run] == new[j : j + run]:
            i, j = i + run, j + run
            continue
        if j < len(new) and j in added:
            j += 1
        elif i < len(old) and i in removed:
            i += 1
        elif i < len(old) and j < len(new) and _same(old[i], new[j], last=i == len(old) - 1):
            i, j = i + 1, j + 1
        elif i < len(old) and i in optional:
            i += 1
        else:
            where = f"line {i + 1} of the original" if i < len(old) else "the end of the file"
            raise _fail(name, f"an untouched line changed or appeared at {where}")


def _next(stops: Sequence[int], at: int, end: int) -> int:
    """The first stop at or after `at`, else `end`."""
    k = bisect_left(stops, at)
    return stops[k] if k < len(stops) else end


def _same(old: str, new: str, *, last: bool) -> bool:
    # Windows adds a missing final line ending before it appends a new key or section.
    return old == new or (last and old == content(old) and content(new) == old)
