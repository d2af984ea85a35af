"""What `bindmgr verify` found, for people: terminal text and pull-request Markdown.

Values in, one string out; answers are shown in the order they were checked, grouped by
address. Colour only when the caller asks for it.
"""

from __future__ import annotations

from collections.abc import Sequence

from bindmgr.check.answer import Answer, Status
from bindmgr.report.markdown import cell, notes_markdown
from bindmgr.report.wording import notes_text, paint, plural, safe


def summary_line(answers: Sequence[Answer]) -> str:
    """ "Verify: 26 connections: 24 answered, 2 refused; 1 warning" (the first line of both)."""
    counts: dict[Status, int] = {}
    for answer in answers:
        counts[answer.status] = counts.get(answer.status, 0) + 1
    parts = ", ".join(f"{n} {status.value}" for status, n in counts.items())
    warned = sum(len(a.warnings) for a in answers)
    tail = f"; {plural(warned, 'warning')}" if warned else ""
    what = plural(len(answers), "connection")
    return f"Verify: {what}: {parts or 'nothing to check'}{tail}"


def _groups(answers: Sequence[Answer]) -> list[tuple[str, list[Answer]]]:
    groups: dict[str, list[Answer]] = {}
    for answer in answers:
        target = answer.target
        if target.removed:
            head = f"{target.ip}  (removed by the plan: MDaemon must not answer here)"
        else:
            head = f"{target.ip}  (greets as {safe(target.expected_name or '?')})"
        groups.setdefault(head, []).append(answer)
    return list(groups.items())


def next_step(answers: Sequence[Answer]) -> str:
    failed = [a for a in answers if not a.passed]
    if not answers:
        return "Nothing to verify: no domain is bound to an address."
    if not failed:
        return "MDaemon answers on every planned address as planned."
    if any(a.status is Status.STILL_ON_OLD_IP for a in failed):
        return (
            "Next: MDaemon still answers on an address the plan removed: it has not taken the "
            "new binding (restart it; if it persists, the layout's keys may not be the ones this "
            "MDaemon reads: bindmgr layout detect)."
        )
    return "Next: see each failure's hint above, fix it and run bindmgr verify again." + _events(
        failed
    )


def _events(failed: Sequence[Answer]) -> str:
    codes = sorted({a.event_code for a in failed if a.event_code is not None})
    if not codes:
        return ""
    listed = ", ".join(map(str, codes))
    explain = "; ".join(f"`bindmgr explain {code}`" for code in codes)
    return (
        f" MDaemon's log (and the Windows event log) likely shows event {listed} for these: "
        f"{explain} lists the causes."
    )


def render_verify_text(
    answers: Sequence[Answer], *, color: bool = False, notes: Sequence[str] = ()
) -> str:
    lines = [paint(summary_line(answers), "bold", color=color)]
    width = max((len(a.target.label) for a in answers), default=0)
    for head, group in _groups(answers):
        lines.append("")
        lines.append(head)
        for a in group:
            where = f"{a.target.port}/tcp"
            status = paint(
                f"{a.status.value:<15}",
                "green" if a.passed else "red",
                *(("bold",) if not a.passed else ()),
                color=color,
            )
            lines.append(f"  {where:<9} {safe(a.target.label):<{width}}  {status} {safe(a.detail)}")
            if a.event and not a.passed:
                lines.append(f"      {safe(a.event)}")
            if a.hint and not a.passed:
                lines.append(paint(f"      hint: {safe(a.hint)}", "dim", color=color))
            lines.extend(
                paint(f"      warning: {safe(w)}", "yellow", color=color) for w in a.warnings
            )
    lines.append("")
    lines.append(next_step(answers))
    return "\n".join(lines) + "\n" + notes_text(notes)


def render_verify_markdown(answers: Sequence[Answer], notes: Sequence[str] = ()) -> str:
    failed = sum(not a.passed for a in answers)
    lines = [f"### {cell(summary_line(answers))}", ""]
    if failed:
        lines += [
            "> [!CAUTION]",
            f"> {cell(plural(failed, 'connection'))} did not answer as planned.",
            "",
        ]
    lines += ["| address | port | service | status | detail |", "|---|---|---|---|---|"]
    for a in answers:
        target = a.target
        status = f"`{a.status.value}`" + ("" if a.passed else " ❌")
        detail = a.detail + "".join(f"; warning: {w}" for w in a.warnings)
        if a.event and not a.passed:
            detail = f"{detail}; {a.event}"
        lines.append(
            f"| {cell(str(target.ip))} | {target.port}/tcp | {cell(target.label)} | {status} "
            f"| {cell(detail)} |"
        )
    lines += ["", cell(next_step(answers))]
    return "\n".join(lines) + "\n" + notes_markdown(notes)
