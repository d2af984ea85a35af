"""The linear edit proof gives the verdict of the first, per-key one (kept here as the oracle):
on real edits, and on edits tampered with anywhere, the same pass or the same message."""

from collections.abc import Sequence
from functools import partial

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bindmgr.apply.edit import apply_changes
from bindmgr.apply.proof import _fail, _header_lines, _same, verify_edit
from bindmgr.errors import WriteError
from bindmgr.ini.codec import decode, fold, split_lines
from bindmgr.ini.file import IniFile
from bindmgr.model import Action, Change


def oracle(name: str, old: bytes, new: bytes, changes: Sequence[Change]) -> None:
    """verify_edit as first written: one get() per key, one line at a time."""
    before, after = IniFile.from_bytes(old, name), IniFile.from_bytes(new, name)
    old_lines = split_lines(decode(old, name).text)
    new_lines = split_lines(decode(new, name).text)
    removed: set[int] = set()
    optional: set[int] = set()
    added: set[int] = set()
    gone: set[str] = set()
    touched: set[tuple[str, str]] = set()
    for change in changes:
        if change.action is Action.DELETE_SECTION:
            if after.has_section(change.section):
                raise _fail(name, f"section [{change.section}] is still there")
            gone.add(fold(change.section))
            start = before.line_of(change.section)
            if start is not None:
                heads = _header_lines(old_lines)
                end = next((h for h in heads if h > start - 1), len(old_lines))
                optional |= {
                    i
                    for i in range(start - 1, end)
                    if not old_lines[i].lstrip(" \t\v").startswith(";")
                }
            continue
        assert change.key is not None
        touched.add((fold(change.section), fold(change.key)))
        got = after.get(change.section, change.key)
        if got != change.new:
            raise _fail(
                name, f"[{change.section}] {change.key} reads {got!r}, planned {change.new!r}"
            )
        for ini, into in ((before, removed), (after, added)):
            line = ini.line_of(change.section, change.key)
            if line is not None:
                into.add(line - 1)
        header = after.line_of(change.section)
        if header is not None and before.line_of(change.section) is None:
            added.add(header - 1)
    for section in before.sections():
        if fold(section) in gone:
            continue
        for key, value in before.items(section):
            if (fold(section), fold(key)) not in touched and after.get(section, key) != value:
                raise _fail(name, f"[{section}] {key} changed, but the plan does not change it")
    i = j = 0
    while i < len(old_lines) or j < len(new_lines):
        if j < len(new_lines) and j in added:
            j += 1
        elif i < len(old_lines) and i in removed:
            i += 1
        elif (
            i < len(old_lines)
            and j < len(new_lines)
            and _same(old_lines[i], new_lines[j], last=i == len(old_lines) - 1)
        ):
            i, j = i + 1, j + 1
        elif i < len(old_lines) and i in optional:
            i += 1
        else:
            where = f"line {i + 1} of the original" if i < len(old_lines) else "the end of the file"
            raise _fail(name, f"an untouched line changed or appeared at {where}")


def verdict(check: object, old: bytes, new: bytes, changes: Sequence[Change]) -> str:
    try:
        check("D", old, new, changes)  # type: ignore[operator]
    except WriteError as exc:
        return exc.message
    return "ok"


NAMES = ["a.example", "mail-2.example", "b.example", "A.EXAMPLE", "c.example"]
section_text = st.builds(
    lambda name, lines, comment: (
        f"[{name}]\r\n" + ("; note\r\n" if comment else "") + "".join(lines)
    ),
    st.sampled_from(NAMES),
    st.lists(
        st.sampled_from(["IP=10.0.0.1\r\n", "Bind=No\r\n", "ip = 10.0.0.2\r\n", "\r\n", "X\r\n"]),
        max_size=4,
    ),
    st.booleans(),
)
files = st.builds(
    lambda head, sections, tail: (head + "".join(sections) + tail).encode("cp1252"),
    st.sampled_from(["", "; domains\r\n"]),
    st.lists(section_text, max_size=6),
    st.sampled_from(["", "[z.example]\r\nIP=10.0.0.9"]),
)
changes = st.lists(
    st.sampled_from([*NAMES, "mail-9.example"]).flatmap(
        lambda s: st.sampled_from(
            [
                Change("D", s, "IP", None, "10.0.0.7", "r"),
                Change("D", s, "FQDN", None, s.lower(), "r"),
                Change("D", s, "Bind", None, None, "r", Action.DELETE_KEY),
                Change("D", s, None, None, None, "r", Action.DELETE_SECTION),
            ]
        )
    ),
    max_size=3,
    unique_by=lambda c: (fold(c.section), c.key),
)
tampers = st.sampled_from(
    [
        (b"", b""),
        (b"10.0.0.1", b"10.0.0.5"),
        (b"10.0.0.7", b"10.0.0.6"),
        (b"; note\r\n", b""),
        (b"Bind=No", b"Bind=Yes"),
        (b"\r\n\r\n", b"\r\n"),
        (b"X\r\n", b"Y\r\n"),
        (b"]\r\n", b"]\r\nNew=1\r\n"),
        (b"10.0.0.9", b"10.0.0.9\r\n"),
    ]
)


@settings(max_examples=600, deadline=None)
@given(files, changes, tampers, st.integers(0, 3))
def test_same_verdict_as_the_per_key_proof(
    old: bytes, edit: list[Change], tamper: tuple[bytes, bytes], nth: int
) -> None:
    new = apply_changes({"D": old}, edit).get("D", old)
    parts = new.split(tamper[0]) if tamper[0] else [new]
    if tamper[0] and len(parts) > 1:  # replace the nth occurrence (or the last)
        k = min(nth, len(parts) - 2)
        new = tamper[0].join(parts[: k + 1]) + tamper[1] + tamper[0].join(parts[k + 1 :])
    expected = verdict(oracle, old, new, edit)
    assert verdict(verify_edit, old, new, edit) == expected
    scanned = IniFile.from_bytes(old, "D")  # the reader's scan, as apply passes it
    with_scan = partial(verify_edit, before=scanned)
    assert verdict(with_scan, old, new, edit) == expected


@pytest.mark.parametrize("at", [0, 1, 2_999, 5_997, 5_998, 5_999])
def test_a_line_changed_in_a_long_untouched_run_is_named(at: int) -> None:
    lines = [f"[d{i}.example]\r\nIP=10.0.{i // 256}.{i % 256}\r\n" for i in range(3_000)]
    old = "".join(lines).encode("cp1252")
    edit = [Change("D", "d1500.example", "IP", None, "10.9.9.9", "r")]
    new_lines = split_lines(decode(apply_changes({"D": old}, edit)["D"], "D").text)
    new_lines[at] = new_lines[at].replace("\r\n", ";x\r\n") if at % 2 else "; inserted\r\n"
    new = "".join(new_lines).encode("cp1252")
    assert verdict(verify_edit, old, new, edit) == verdict(oracle, old, new, edit) != "ok"
