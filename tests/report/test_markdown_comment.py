"""The plan as a pull-request comment: the counts line, the version, what blocks, folding, size.

The whole renderings are golden files (test_renderers.py); these pin the rules behind them.
"""

from __future__ import annotations

from ipaddress import IPv4Address

from bindmgr import __version__
from bindmgr.model import Change, Conflict, Desired, Plan, ProbeResult, ProbeStatus, Proto, Slot
from bindmgr.report.markdown import (
    MARKDOWN_LIMIT,
    WRAPPER_ROOM,
    render_check_markdown,
    render_plan_markdown,
)
from bindmgr.report.wording import plan_tally
from tests.report.test_renderers import big_plan
from tests.support import report_samples as samples

HINT = "add {ip} to an interface of this host or drop it from the plan"


def not_local(ip: str, ports: range) -> list[ProbeResult]:
    return [
        ProbeResult(
            IPv4Address(ip),
            port,
            Proto.TCP,
            "smtp",
            ProbeStatus.NOT_LOCAL,
            99,
            None,
            f"MDaemon would log event 503: SMTP {ip}:{port} could not be initialized",
            HINT.format(ip=ip),
        )
        for port in ports
    ]


def ok(ip: str) -> ProbeResult:
    return ProbeResult(IPv4Address(ip), 25, Proto.TCP, "smtp", ProbeStatus.OK)


def test_the_counts_line_says_what_is_added_changed_removed_and_what_blocks() -> None:
    assert plan_tally(samples.provisioning()) == "6 to add, 2 to change, 0 to remove"
    assert plan_tally(samples.deletions()) == "0 to add, 1 to change, 2 to remove"
    assert plan_tally(samples.conflicts()) == "0 to add, 1 to change, 0 to remove; 2 conflicts"
    checks = [ok("10.0.0.1"), *not_local("203.0.113.11", range(1, 40))]
    assert plan_tally(samples.provisioning(), checks) == (
        "6 to add, 2 to change, 0 to remove; 39 ports cannot bind on 203.0.113.11"
    )
    two = [*not_local("203.0.113.11", range(1, 3)), *not_local("203.0.113.10", range(1, 2))]
    assert plan_tally(samples.provisioning(), two).endswith(
        "; 3 ports cannot bind on 203.0.113.10 and 203.0.113.11"
    )
    many = [r for n in range(1, 6) for r in not_local(f"203.0.113.{n}", range(1, 2))]
    assert plan_tally(samples.provisioning(), many).endswith("; 5 ports cannot bind on 5 IPs")


def test_a_plan_without_changes_that_cannot_bind_does_not_say_no_changes() -> None:
    checks = not_local("203.0.113.11", range(1, 40))
    md = render_plan_markdown(samples.no_changes(), checks=checks, digest="sha256:" + "ab" * 32)
    first, _, second, *_ = md.split("\n")
    assert first == (
        "**bindmgr plan**: 0 to add, 0 to change, 0 to remove; 39 ports cannot bind on 203.0.113.11"
    )
    assert second == f"Plan digest: `sha256:{'ab' * 32}`, made by bindmgr {__version__}"
    assert "No changes" not in md
    quote = [line for line in md.split("\n") if line.startswith(">")]
    assert quote[:2] == [
        "> [!CAUTION]",
        "> **39 ports that cannot bind**: `bindmgr apply` refuses this plan until they are "
        "resolved.",
    ]
    assert quote[-1] == (
        "> - **203.0.113.11**: 39 ports cannot bind (39 not\\_local); "
        + HINT.format(ip="203.0.113.11")
    )


def test_the_caution_box_holds_plan_conflicts_and_bind_conflicts() -> None:
    plan = samples.conflicts()
    checks = [*not_local("10.0.0.2", range(1, 3)), ok("10.0.0.1")]
    md = render_plan_markdown(plan, checks=checks)
    box = [line for line in md.split("\n") if line.startswith(">")]
    assert box[1] == (
        "> **2 conflicts, 2 ports that cannot bind**: `bindmgr apply` refuses this plan until "
        "they are resolved."
    )
    assert [line.split("**")[1] for line in box[3:]] == [
        "10.0.0.2",
        "mail-2.example.com",
        "10.0.0.2",
    ]
    assert "10.0.0.1**" not in md.split("### Changes")[0]  # an IP that binds is not named
    assert "MDaemon cannot bind" not in md  # the box replaces the old closing warning


def test_an_ip_whose_rows_have_different_hints_points_to_the_table() -> None:
    rows = [*not_local("10.0.0.2", range(1, 2)), *not_local("10.0.0.2", range(2, 3))]
    rows[1] = ProbeResult(
        rows[1].ip, 2, Proto.TCP, "pop3", ProbeStatus.IN_USE, 98, None, None, "stop it"
    )
    md = render_plan_markdown(samples.provisioning(), checks=rows)
    assert (
        "> - **10.0.0.2**: 2 ports cannot bind (1 in\\_use, 1 not\\_local); see the pairs that "
        "are not ok below"
    ) in md


def test_long_tables_are_folded_and_short_ones_are_not() -> None:
    plan = big_plan(3)  # 12 changes, 3 assignments
    md = render_plan_markdown(plan)
    lines = md.split("\n")
    start = lines.index("### Changes")
    assert lines[start : start + 4] == [
        "### Changes",
        "",
        "<details><summary>12 changes</summary>",
        "",
    ]
    end = lines.index("</details>", start)
    assert lines[end - 1] == ""
    assert sum(line.startswith("| Domains.dat") for line in lines[start:end]) == 9
    after = lines.index("### Assignments")
    assert lines[after + 2].startswith("| Domain |")  # 3 rows: shown as they are
    assert md.count("<details>") == 1


def test_a_folded_table_that_is_cut_says_how_many_it_shows() -> None:
    md = render_plan_markdown(big_plan(1250))
    assert "<details><summary>200 of 5000 changes</summary>" in md
    notice = "... and 4800 more changes; see the JSON plan artifact."
    assert md.index(notice) > md.index("</details>")  # the notice is never folded away


def test_a_shortened_comment_says_so_first_and_where_the_full_plan_is() -> None:
    md = render_plan_markdown(big_plan(1250))
    head = md.split("\n\n")[:3]
    assert head[2] == (
        "> [!NOTE]\n> Shortened to fit a pull-request comment: each table shows its first rows "
        "only. The full plan is the JSON plan (`bindmgr plan --out`), kept as the job's artifact."
    )
    assert "[!NOTE]" not in render_plan_markdown(big_plan(50))


def test_room_is_left_for_what_a_ci_job_adds() -> None:
    plan = big_plan(138)  # the full rendering: between the default budget and GitHub's limit
    full = render_plan_markdown(plan, limit=MARKDOWN_LIMIT)
    assert MARKDOWN_LIMIT - WRAPPER_ROOM < len(full.encode("utf-8")) <= MARKDOWN_LIMIT
    assert "[!NOTE]" not in full
    shortened = render_plan_markdown(plan)
    assert len(shortened.encode("utf-8")) <= MARKDOWN_LIMIT - WRAPPER_ROOM
    assert "[!NOTE]" in shortened
    check = render_check_markdown(not_local("203.0.113.9", range(1, 3000)))
    assert len(check.encode("utf-8")) <= MARKDOWN_LIMIT - WRAPPER_ROOM


def test_a_conflict_subject_cannot_inject_markup_into_the_box() -> None:
    desired = Desired("example.com", (Slot(IPv4Address("10.0.0.1")),))
    plan = Plan(
        desired,
        (),
        (Change("MDaemon.ini", "Domain", "K", None, "v", "r"),),
        (Conflict("<img src=x> @team", "**bold** [x](y)"),),
    )
    md = render_plan_markdown(plan)
    assert "> - **\\<img src=x\\> \\@team**: \\*\\*bold\\*\\* \\[x\\](y)" in md
