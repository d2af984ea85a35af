"""The text plan's marks (`+` add, `~` change, `-` remove) and its wrapping at the width given."""

from __future__ import annotations

import dataclasses
import re

import pytest

from bindmgr.model import Action, Change
from bindmgr.report.text import render_plan_text
from bindmgr.report.wording import LEGEND, change_kind, plan_tally, section_kind
from tests.support import report_samples as samples

SGR = re.compile(r"\x1b\[[0-9;]*m")
LONG = "a reason long enough to need more than one line at a narrow width, " * 3


def _change(action: Action = Action.SET, old: str | None = "1", reason: str = "r") -> Change:
    new = None if action is not Action.SET else "2"
    key = None if action is Action.DELETE_SECTION else "K"
    return Change("F.ini", "S", key, old, new, reason, action)


@pytest.mark.parametrize(
    ("change", "kind"),
    [
        (_change(old=None), "add"),
        (_change(old=""), "change"),
        (_change(), "change"),
        (_change(Action.DELETE_KEY), "remove"),
        (_change(Action.DELETE_SECTION, old=None), "remove"),
    ],
)
def test_each_change_has_the_kind_the_tally_counts(change: Change, kind: str) -> None:
    assert change_kind(change) == kind
    plan = dataclasses.replace(samples.provisioning(), changes=(change,))
    counts = dict.fromkeys(("add", "change", "remove"), 0) | {kind: 1}
    assert plan_tally(plan).startswith(
        f"{counts['add']} to add, {counts['change']} to change, {counts['remove']} to remove"
    )


def test_a_section_is_marked_by_what_happens_to_it() -> None:
    assert section_kind([_change(old=None), _change(old=None)]) == "add"  # a new domain
    assert section_kind([_change(old=None), _change()]) == "change"
    assert section_kind([_change(Action.DELETE_KEY)]) == "change"  # the section stays
    assert section_kind([_change(Action.DELETE_SECTION, old=None)]) == "remove"


def test_the_legend_follows_the_headline_and_every_line_is_marked() -> None:
    text = render_plan_text(samples.deletions(), color=False)
    assert text.splitlines()[1] == f"  {LEGEND}"
    assert "  - [mail-2.example.com]" in text
    assert "    - DomainIP6: 2001:db8::1 -> (deleted)" in text
    assert "  ~ [Domain]" in text
    assert '    ~ IP: 10.0.0.3 -> ""' in text
    assert "  + [" not in text


def test_no_changes_no_legend() -> None:
    assert LEGEND not in render_plan_text(samples.no_changes(), color=False)


@pytest.mark.parametrize("width", [40, 60, 100, 200])
def test_long_reasons_and_notes_wrap_at_the_width_with_a_hanging_indent(width: int) -> None:
    base = samples.provisioning()
    changes = (dataclasses.replace(base.changes[0], reason=LONG.strip()), *base.changes[1:])
    plan = dataclasses.replace(base, changes=changes, notes=(LONG.strip(),))
    plain = render_plan_text(plan, color=False, width=width)
    colored = render_plan_text(plan, color=True, width=width)
    assert SGR.sub("", colored) == plain  # colour never changes where a line breaks
    lines = plain.splitlines()
    longest_word = max(len(w) for w in plain.split())
    wrapped = [line for line in lines if "narrow" in line or "reason long" in line]
    assert len(wrapped) >= (2 if width >= 200 else 4)
    for line in wrapped:  # tables and the next step are never wrapped, reasons and notes are
        assert len(line) <= max(width, 8 + longest_word), line
    words = " ".join(line.strip() for line in lines)
    assert f"({LONG.strip()})" in words  # nothing lost: the reason joins up again
    start = next(i for i, line in enumerate(lines) if "DomainIP:" in line)
    if width < 200:
        assert lines[start + 1].startswith(" " * 8)
        assert not lines[start + 1].startswith(" " * 9)
    note = next(i for i, line in enumerate(lines) if line.startswith("  - a reason"))
    if width < 200:
        assert lines[note + 1].startswith("    ")
        assert not lines[note + 1].startswith("     ")


def test_a_short_reason_stays_on_its_line() -> None:
    text = render_plan_text(samples.provisioning(), color=False, width=100)
    assert "    ~ DomainIP: 10.0.0.9 -> 10.0.0.1   (first IP binds the Default Domain)\n" in text
