"""Rendering: golden files for every format, Markdown escaping and size limit, colour discipline.

Regenerate the goldens with `BINDMGR_REGOLD=1 .venv/bin/pytest tests/report/test_renderers.py`,
then read every changed file in `git diff` before committing it.
"""

from __future__ import annotations

import dataclasses
import json
import os
import random
import re
from collections.abc import Callable, Sequence
from ipaddress import IPv4Address
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bindmgr.formats.check import dumps_check as render_check_json
from bindmgr.formats.plan import dumps_plan as render_plan_json
from bindmgr.formats.plan import loads_plan
from bindmgr.model import (
    Action,
    Assignment,
    Change,
    Conflict,
    Desired,
    DnsRecord,
    Holder,
    Plan,
    ProbeResult,
    ProbeStatus,
    Proto,
    Slot,
)
from bindmgr.report.markdown import (
    MARKDOWN_LIMIT,
    md_escape,
    render_check_markdown,
    render_plan_markdown,
)
from bindmgr.report.text import render_check_text, render_plan_text
from bindmgr.report.wording import holder_text
from tests.support import report_samples as samples

GOLDEN = Path(__file__).parent.parent / "golden" / "report"
SGR = re.compile(r"\x1b\[[0-9;]*m")
PLANS: dict[str, Callable[[], Plan]] = {
    "provisioning": samples.provisioning,
    "no-changes": samples.no_changes,
    "conflicts": samples.conflicts,
    "dual-stack": samples.dual_stack,
    "deletions": samples.deletions,
}
CHECKS: dict[str, Callable[[], tuple[ProbeResult, ...]]] = {
    "every-status": samples.every_status,
    "all-ok": samples.all_ok,
    "empty": tuple,
}


def assert_golden(name: str, text: str) -> None:
    path = GOLDEN / name
    if os.environ.get("BINDMGR_REGOLD") == "1":
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(text.encode("utf-8"))
        return
    assert path.exists(), f"{path} is missing; run with BINDMGR_REGOLD=1 and review it"
    expected = path.read_bytes().decode("utf-8")
    assert text == expected, f"{name} differs; run with BINDMGR_REGOLD=1 and review the diff"


def plan_json(plan: Plan, checks: Sequence[ProbeResult] | None = None) -> str:
    # The version changes with every release; the golden file keeps a placeholder.
    return render_plan_json(
        plan,
        app_dir="C:\\MDaemon\\App",
        layout="C:\\bindmgr\\layout.ini",
        checks=checks,
        created="2026-01-02T03:04:05Z",
        tool="bindmgr VERSION",
    )


@pytest.mark.parametrize("name", sorted(PLANS))
def test_plan_goldens(name: str) -> None:
    plan = PLANS[name]()
    assert_golden(f"plan-{name}.txt", render_plan_text(plan, color=False, saved_as="plan.json"))
    assert_golden(f"plan-{name}.md", render_plan_markdown(plan, tool="bindmgr VERSION"))
    assert_golden(f"plan-{name}.json", plan_json(plan))


def test_plan_with_checks_goldens() -> None:
    plan, checks = samples.provisioning(), samples.every_status()
    assert_golden("plan-checked.txt", render_plan_text(plan, checks=checks, color=False))
    assert_golden("plan-checked.color.txt", render_plan_text(plan, checks=checks, color=True))
    md = render_plan_markdown(plan, checks=checks, tool="bindmgr VERSION")
    assert_golden("plan-checked.md", md)
    assert_golden("plan-checked.json", plan_json(plan, checks))


@pytest.mark.parametrize("name", sorted(CHECKS))
def test_check_goldens(name: str) -> None:
    results = CHECKS[name]()
    assert_golden(f"check-{name}.txt", render_check_text(results, color=False))
    assert_golden(f"check-{name}.md", render_check_markdown(results))
    assert_golden(f"check-{name}.json", render_check_json(results))


def test_check_colour_golden() -> None:
    assert_golden(
        "check-every-status.color.txt", render_check_text(samples.every_status(), color=True)
    )


def test_plan_json_loads_back() -> None:
    plan = samples.dual_stack()
    saved = loads_plan(plan_json(plan, samples.all_ok()), "p.json")
    assert saved.plan == plan
    assert saved.created == "2026-01-02T03:04:05Z"
    assert saved.layout == "C:\\bindmgr\\layout.ini"


def test_no_changes_sentence() -> None:
    text = render_plan_text(samples.no_changes(), color=False)
    assert text.startswith(
        "No changes. MDaemon already binds 10.0.0.1 (example.com, Default Domain), "
        "10.0.0.2 (mail-2.example.com).\n"
    )
    assert "Next:" not in text
    assert render_plan_markdown(samples.no_changes()).startswith("**bindmgr plan**: No changes.")


def test_next_step_names_the_saved_plan() -> None:
    plan = samples.provisioning()
    assert render_plan_text(plan, color=False, saved_as="plan.json").endswith(
        "\nNext: bindmgr apply plan.json\n"
    )
    spaced = render_plan_text(plan, color=False, saved_as="C:\\My Plans\\p.json")
    assert spaced.endswith('\nNext: bindmgr apply "C:\\My Plans\\p.json"\n')
    assert "bindmgr plan --out PLAN.json" in render_plan_text(plan, color=False)


def test_the_login_note_is_the_planners_alone() -> None:
    """The renderers say what the planner noted, once, and add no reminder of their own."""
    with_note = render_plan_text(samples.provisioning(), color=False)
    assert with_note.count("full e-mail address") == 1
    bare = dataclasses.replace(samples.provisioning(), notes=())
    for text in (render_plan_text(bare, color=False), render_plan_markdown(bare)):
        assert "full e-mail address" not in text


def _probe(ip: str, port: int, status: ProbeStatus) -> ProbeResult:
    return ProbeResult(IPv4Address(ip), port, Proto.TCP, "smtp", status)


def test_check_summary_line() -> None:
    results = [_probe(f"10.0.{n // 200}.{n % 200 + 1}", 25, ProbeStatus.OK) for n in range(40)]
    results += [_probe("10.0.9.1", 25, ProbeStatus.IN_USE)]
    results += [_probe("10.0.9.2", 25, ProbeStatus.HELD_BY_MDAEMON)]
    text = render_check_text(results, color=False)
    assert text.endswith("\n42 pairs: 40 ok, 1 in_use, 1 held_by_mdaemon (not a conflict)\n")
    assert render_check_text([results[0]], color=False).endswith("\n1 pair: 1 ok\n")


def test_order_does_not_depend_on_probe_completion() -> None:
    results = list(samples.every_status())
    shuffled = random.Random(7).sample(results, len(results))
    assert shuffled != results
    for render in (
        lambda r: render_check_text(r, color=False),
        render_check_markdown,
        render_check_json,
        lambda r: render_plan_text(samples.provisioning(), checks=r, color=False),
        lambda r: render_plan_markdown(samples.provisioning(), checks=r),
    ):
        assert render(shuffled) == render(results)


# --- colour ------------------------------------------------------------------------------------

HOSTILE = (
    "a|b",
    "`rm -rf /`",
    "<script>alert(1)</script>",
    "line1\r\nline2",
    "  padded  ",
    "\x1b[31mred\x1b[0m",
    "@everyone #1 $x$ *bold* _u_ [l](http://x) ~s~ &amp; !",
    "evil\u202etxt.exe",
    "back\\slash",
    "",
)


def hostile_plan() -> Plan:
    changes = (
        *(Change(f"F{v}", f"S{v}", f"K{v}", v, v, f"R{v}") for v in HOSTILE),
        Change("G", "S", "K", "x", None, "gone\n", Action.DELETE_KEY),
        Change("H", "S|x", None, None, None, "<b>", Action.DELETE_SECTION),
    )
    slot = Slot(IPv4Address("10.0.0.1"))
    return Plan(
        desired=Desired("ex|ample\x1b.com", (slot, Slot(IPv4Address("10.0.0.2")))),
        assignments=tuple(Assignment(v, slot, False, v) for v in HOSTILE),
        changes=changes,
        conflicts=tuple(Conflict(v, v) for v in HOSTILE),
        notes=HOSTILE,
        dns=tuple(DnsRecord(v, "PTR", v) for v in HOSTILE),
    )


def hostile_results() -> list[ProbeResult]:
    return [
        ProbeResult(
            IPv4Address("10.0.0.1"),
            25 + i,
            Proto.TCP,
            v,
            ProbeStatus.IN_USE,
            98,
            Holder(1, v, v),
            v,
            v,
            v,
        )
        for i, v in enumerate(HOSTILE)
    ]


def test_no_escape_byte_without_colour() -> None:
    plan, results = hostile_plan(), hostile_results()
    for text in (
        render_plan_text(plan, checks=results, color=False, saved_as="\x1b]0;x\x07"),
        render_check_text(results, color=False),
        render_plan_markdown(plan, checks=results),
        render_check_markdown(results),
        render_plan_json(plan, app_dir="\x1b", layout=None, checks=results),
        render_check_json(results),
    ):
        assert "\x1b" not in text
        assert "\r" not in text
        assert "\u202e" not in text


def test_colour_is_only_sgr_around_the_plain_text() -> None:
    plan, results = hostile_plan(), hostile_results()
    for colored, plain in (
        (
            render_plan_text(plan, checks=results, color=True),
            render_plan_text(plan, checks=results, color=False),
        ),
        (render_check_text(results, color=True), render_check_text(results, color=False)),
        (
            render_check_text(samples.every_status(), color=True),
            render_check_text(samples.every_status(), color=False),
        ),
        (
            render_plan_text(samples.conflicts(), color=True),
            render_plan_text(samples.conflicts(), color=False),
        ),
    ):
        assert "\x1b[" in colored
        assert SGR.sub("", colored) == plain


def test_values_are_shown_unambiguously_in_text() -> None:
    text = render_plan_text(hostile_plan(), color=False)
    assert '    ~ K: "" -> ""   (R)' in text
    assert '    ~ K  padded  : "  padded  " -> "  padded  "' in text
    assert '"line1\\r\\nline2" -> "line1\\r\\nline2"' in text
    assert "back\\slash -> back\\slash" in text
    assert '"\\x1b[31mred\\x1b[0m"' in text
    assert "evil\\u202etxt.exe" in text


# --- Markdown ----------------------------------------------------------------------------------


def cells(row: str) -> list[str]:
    """Split a table row on the pipes that are not backslash-escaped."""
    assert row.startswith("| ")
    assert row.endswith(" |")
    out, current, escaped = [], "", False
    for ch in row[2:-2]:
        if escaped:
            current += ch
            escaped = False
        elif ch == "\\":
            current += ch
            escaped = True
        elif ch == "|":
            out.append(current.strip())
            current = ""
        else:
            current += ch
    return [*out, current.strip()]


def table_rows(markdown: str, header: str) -> list[list[str]]:
    lines = markdown.split("\n")
    start = lines.index(header)
    width = len(cells(header))
    rows = []
    for line in lines[start + 2 :]:
        if not line.startswith("|"):
            break
        rows.append(cells(line))
        assert len(rows[-1]) == width, line
    return rows


CHANGE_HEADER = "| File | Section | Key | Old | New | Reason |"
UNESCAPED = re.compile(r"(?<!\\)(?:\\\\)*[<>`|*_\[\]@#$~&!]")


def test_markdown_escapes_hostile_cells() -> None:
    plan = hostile_plan()
    md = render_plan_markdown(plan, checks=hostile_results())
    rows = table_rows(md, CHANGE_HEADER)
    assert len(rows) == len(plan.changes)
    for row in rows:
        for value in row:
            bare = value.removeprefix("*(").removesuffix(")*").replace("&#32;", " ")
            assert not UNESCAPED.search(bare), value
    assert "<script>" not in md
    by_file = {row[0]: row for row in rows}
    assert by_file["Fa\\|b"][3:5] == ["a\\|b", "a\\|b"]
    assert by_file["F\\<script\\>alert(1)\\</script\\>"][3] == "\\<script\\>alert(1)\\</script\\>"
    assert by_file["Fline1\\\\r\\\\nline2"][3] == '"line1\\\\r\\\\nline2"'
    assert by_file["F\\`rm -rf /\\`"][4] == "\\`rm -rf /\\`"
    padded = by_file["F  padded&#32;&#32;"]
    assert padded[1:4] == ["S  padded&#32;&#32;", "K  padded&#32;&#32;", '"  padded  "']
    assert by_file["F"][3] == '""'
    assert by_file["G"] == ["G", "S", "K", "x", "*(deleted)*", "gone\\\\n"]
    assert "| H | S\\|x | *(whole section)* |  | *(deleted)* | \\<b\\> |" in md
    table_rows(md, "| Domain | IPv4 | IPv6 | Note |")
    table_rows(md, "| Name | Type | Value |")
    table_rows(md, "| IP | Port | Service | Status | Holder | Event | Hint |")


@settings(max_examples=100, deadline=None)
@given(st.lists(st.text(st.characters(exclude_categories=()), max_size=30), min_size=1, max_size=8))
def test_markdown_tables_hold_any_text(values: list[str]) -> None:
    plan = Plan(
        Desired("example.com", (Slot(IPv4Address("10.0.0.1")),)),
        (),
        tuple(Change(v, v, v, v, v, v) for v in values),
    )
    md = render_plan_markdown(plan)
    assert len(table_rows(md, CHANGE_HEADER)) == len(values)
    assert "\r" not in md
    assert "\x1b" not in render_plan_text(plan, color=False)


def big_plan(domains: int) -> Plan:
    changes: list[Change] = []
    assignments: list[Assignment] = []
    dns: list[DnsRecord] = []
    for n in range(2, domains + 2):
        name, ip = f"mail-{n}.example.com", str(IPv4Address("10.0.0.0") + n)
        slot = Slot(IPv4Address(ip))
        changes += [
            Change("Domains.dat", name, "IP", None, ip, f"new domain for IP {n}"),
            Change("Domains.dat", name, "Bind", None, "Yes", "restrict connections to this IP"),
            Change("Domains.dat", name, "FQDN", None, name, "greeting name on this IP"),
            Change("WorldClient.ini", "WebServer", f"Bind{n}", None, ip, "webmail on this IP"),
        ]
        assignments.append(Assignment(name, slot, False, "new domain"))
        dns.append(DnsRecord(name, "A", ip))
    slots = tuple(a.slot for a in assignments)
    return Plan(Desired("example.com", slots), tuple(assignments), tuple(changes), dns=tuple(dns))


def test_markdown_of_5000_changes_is_summarised_under_the_limit() -> None:
    plan = big_plan(1250)
    assert len(plan.changes) == 5000
    md = render_plan_markdown(plan)
    assert len(md.encode("utf-8")) <= MARKDOWN_LIMIT
    assert md.startswith("**bindmgr plan**: 5000 to add, 0 to change, 0 to remove\n")
    assert "> Shortened to fit a pull-request comment" in md
    per_file = table_rows(md, "| File | Set | Delete key | Delete section | Total |")
    assert per_file == [
        ["Domains.dat", "3750", "0", "0", "3750"],
        ["WorldClient.ini", "1250", "0", "0", "1250"],
    ]
    shown = table_rows(md, CHANGE_HEADER)
    assert shown[0] == [
        "Domains.dat", "mail-2.example.com", "IP", "(absent)", "10.0.0.2", "new domain for IP 2"
    ]  # fmt: skip
    assert 0 < len(shown) < 5000
    assert f"... and {5000 - len(shown)} more changes; see the JSON plan artifact." in md
    assert "more assignments; see the JSON plan artifact." in md
    assert "more DNS records; see the JSON plan artifact." in md


def test_markdown_that_fits_is_not_summarised() -> None:
    md = render_plan_markdown(big_plan(50))
    assert "more changes" not in md
    assert "Changes per file" not in md
    assert len(table_rows(md, CHANGE_HEADER)) == 200


def test_markdown_cut_as_a_last_resort() -> None:
    """A limit too small even for the summary still yields bounded text that says so."""
    md = render_plan_markdown(samples.provisioning(), limit=300)
    assert len(md.encode("utf-8")) <= 300
    assert md.startswith("**bindmgr plan**: 6 to add, 2 to change, 0 to remove\n")
    assert md.endswith("\n\n... cut at 300 characters; see the JSON plan artifact.\n")


def test_markdown_no_changes_with_many_domains_stays_short() -> None:
    plan = big_plan(3000)
    plan = Plan(plan.desired, plan.assignments, ())
    md = render_plan_markdown(plan)
    assert md.startswith(
        "**bindmgr plan**: No changes. MDaemon already binds the 3000 IPs of the 3000 domains "
        "below.\n"
    )
    assert "... and 2800 more assignments; see the JSON plan artifact." in md
    assert "cut at" not in md


def test_long_values_are_clipped_in_cells() -> None:
    plan = Plan(
        Desired("example.com", (Slot(IPv4Address("10.0.0.1")),)),
        (),
        (Change("MDaemon.ini", "Domain", "K", "x" * 1000, "y", "r"),),
    )
    row = table_rows(render_plan_markdown(plan), CHANGE_HEADER)[0]
    assert row[3] == "x" * 300 + "... (700 more characters)"


def test_check_markdown_of_many_problems_is_summarised() -> None:
    results = [
        ProbeResult(
            IPv4Address("10.0.0.0") + n,
            port,
            Proto.TCP,
            "smtp",
            ProbeStatus.IN_USE,
            98,
            Holder(n, "other"),
            "MDaemon would log event 503: SMTP could not be initialized",
            "stop the other server or move it off this address, then rerun bindmgr check",
        )
        for n in range(1, 301)
        for port in (25, 110, 143, 587, 993)
    ]
    md = render_check_markdown(results)
    assert len(md.encode("utf-8")) <= MARKDOWN_LIMIT
    assert md.startswith("**bindmgr check**: 1500 pairs: 1500 in\\_use\n")
    shown = table_rows(md, "| IP | Port | Service | Status | Holder | Event | Hint |")
    hidden = 1500 - len(shown)
    assert hidden > 0
    assert f"... and {hidden} more pairs that are not ok; see `bindmgr check --format json`." in md


def test_a_check_at_scale_says_each_outcome_once() -> None:
    """200 addresses x 13 listeners: one line per run of alike addresses, JSON stays complete."""
    listeners = [("smtp", 25), ("pop3", 110), ("imap", 143)] + [
        (f"s{i}", 1000 + i) for i in range(10)
    ]
    far = [IPv4Address("203.0.113.0") + i for i in range(1, 101)]
    near = [IPv4Address("127.0.9.0") + i for i in range(1, 101)]
    results = [
        ProbeResult(ip, port, Proto.TCP, name, ProbeStatus.NOT_LOCAL, hint=f"{ip} is not here")
        for ip in far
        for name, port in listeners
    ] + [
        ProbeResult(ip, port, Proto.TCP, name, ProbeStatus.OK)
        for ip in near
        for name, port in listeners
    ]
    text = render_check_text(results, color=False)
    assert text.splitlines() == [
        "127.0.9.1 .. 127.0.9.100 (100 addresses): ok, every listener can bind (1300 pairs)",
        "203.0.113.1 .. 203.0.113.100 (100 addresses): not_local, not on this host: add them to a "
        "network adapter or drop them (1300 pairs)",
        "",
        "2600 pairs: 1300 ok, 1300 not_local",
    ]
    assert len(json.loads(render_check_json(results))["results"]) == 2600


def test_text_from_the_files_never_becomes_a_link_or_an_emoji() -> None:
    """A value like "http://evil.example", "www.evil.example" or ":tada:" stays text on GitHub."""
    shown = md_escape("see http://evil.example/x :tada: www.evil.example, pairs: 3")
    assert shown == "see http\\://evil.example/x \\:tada: www\\.evil.example, pairs: 3"


def test_holder_words() -> None:
    assert holder_text(None) == ""
    assert holder_text(Holder(None, None, None)) == "unknown process"
    assert holder_text(Holder(1234, "smtpd.exe", None)) == "smtpd.exe (pid 1234)"
    assert holder_text(Holder(1234, None, None)) == "pid 1234"
    assert holder_text(Holder(0, None, None)) == "no owner (pid 0)"  # Windows: closing, orphaned
