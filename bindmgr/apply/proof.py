"""Independent proof that an edit did what the plan says and nothing else.

Given a file's old and new bytes and the plan's changes for it: every changed value reads back
as planned, every other value reads back as before, and every untouched line is byte-identical
and in order. Pure; raises WriteError when the proof fails (the caller restores the backup).
"""

from __future__ import annotations

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


def _section_span(ini: IniFile, lines: Sequence[str], section: str) -> set[int]:
    """0-based indexes of the lines deleting a section may remove: its header and the lines up
    to the next header, except `;` comments, which Windows keeps."""
    start = ini.line_of(section)
    if start is None:
        return set()
    end = next((h for h in _header_lines(lines) if h > start - 1), len(lines))
    return {i for i in range(start - 1, end) if not lines[i].lstrip(" \t\v").startswith(";")}


def verify_edit(name: str, old: bytes, new: bytes, changes: Sequence[Change]) -> None:
    before = IniFile.from_bytes(old, name)
    after = IniFile.from_bytes(new, name)
    old_lines = split_lines(decode(old, name).text)
    new_lines = split_lines(decode(new, name).text)
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
            optional |= _section_span(before, old_lines, change.section)
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

    for section in before.sections():
        if fold(section) in gone_sections:
            continue
        for key, value in before.items(section):
            if (fold(section), fold(key)) in touched:
                continue
            if after.get(section, key) != value:
                raise _fail(name, f"[{section}] {key} changed, but the plan does not change it")

    _match_lines(name, old_lines, new_lines, removed=removed, optional=optional, added=added)


def _match_lines(
    name: str,
    old: Sequence[str],
    new: Sequence[str],
    *,
    removed: set[int],
    optional: set[int],
    added: set[int],
) -> None:
    """Walk both files: every old line is kept byte for byte unless an edit accounts for it."""
    i = j = 0
    while i < len(old) or j < len(new):
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


def _same(old: str, new: str, *, last: bool) -> bool:
    # Windows adds a missing final line ending before it appends a new key or section.
    return old == new or (last and old == content(old) and content(new) == old)
