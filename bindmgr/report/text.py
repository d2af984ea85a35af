"""Terminal text for plans and check results: values in, one string out.

Colour is plain ANSI SGR and only when the caller asks (`color=True`); with `color=False` the
output holds no escape byte at all, data included. Changes are marked as Terraform marks them
(`+` add, `~` change, `-` remove); reasons and notes wrap at `width` columns (the caller's
terminal, 100 by default) with a hanging indent. Never writes to a terminal itself.
"""

from __future__ import annotations

import textwrap
from collections.abc import Callable, Iterable, Sequence

from bindmgr.model import Action, Change, Plan, ProbeResult, ProbeStatus, sort_results
from bindmgr.report.wording import (
    ABSENT,
    LEGEND,
    MARKS,
    already_binds,
    change_kind,
    check_counts,
    clip,
    conflict_count,
    group_changes,
    holder_text,
    next_step,
    paint,
    plan_counts,
    plural,
    safe,
    section_kind,
    service_text,
    show,
    slot_text,
)

_WIDTH_CAP = 40  # a column never grows past this to fit one long name
_CMDLINE_CAP = 160
WIDTH = 100  # columns when the caller does not know the terminal's (not a TTY)
_MIN_ROOM = 24  # a reason starts on the next line rather than in fewer columns than this
_MARK_STYLE = {"add": "green", "change": "yellow", "remove": "red"}


class _Style:
    def __init__(self, color: bool) -> None:
        self.color = color

    def __call__(self, text: str, *styles: str) -> str:
        return paint(text, *styles, color=self.color)

    def status(self, status: ProbeStatus, text: str) -> str:
        if status is ProbeStatus.OK:
            return self(text, "green")
        if status is ProbeStatus.HELD_BY_MDAEMON:
            return self(text, "cyan")
        return self(text, "red", "bold")


def _pad(text: str, width: int) -> str:
    return text + " " * max(0, width - len(text))


def _width(texts: Iterable[str]) -> int:
    return min(_WIDTH_CAP, max((len(t) for t in texts), default=0))


def _wrapped(
    head: str, plain: int, text: str, *, width: int, indent: int, paint: Callable[[str], str]
) -> list[str]:
    """`head` (`plain` columns wide once its colour is left out), then `text`, painted: on the
    same line when it fits, else wrapped at `width` with continuation lines `indent` columns in
    (the first words after the head when there is room for a few there)."""
    if plain + 3 + len(text) <= width:
        return [head + paint(f"   {text}")]
    wrap = textwrap.TextWrapper(
        width=max(width, indent + _MIN_ROOM), break_long_words=False, break_on_hyphens=False
    )
    pad = " " * indent
    if width - plain - 3 >= _MIN_ROOM:
        wrap.initial_indent = " " * (plain + 3)
        wrap.subsequent_indent = pad
        first, *rest = wrap.wrap(text)
        return [head + paint(first[plain:]), *(pad + paint(r[indent:]) for r in rest)]
    wrap.initial_indent = wrap.subsequent_indent = pad
    return [head, *(pad + paint(r[indent:]) for r in wrap.wrap(text))]


def _item(head: str, plain: int, text: str, width: int) -> list[str]:
    """A list item (`  - note`, `  ! subject: message`): one line when it fits, else wrapped
    with its continuation lines under the text's first word."""
    if plain + 1 + len(text) <= width:
        return [f"{head} {text}"]
    wrap = textwrap.TextWrapper(
        width=max(width, 4 + _MIN_ROOM),
        initial_indent=" " * (plain + 1),
        subsequent_indent="    ",
        break_long_words=False,
        break_on_hyphens=False,
    )
    first, *rest = wrap.wrap(text)
    return [head + first[plain:], *rest]


def _change_lines(change: Change, style: _Style, width: int) -> list[str]:
    kind = change_kind(change)
    mark = style(MARKS[kind], _MARK_STYLE[kind])
    if change.action is Action.DELETE_SECTION:
        plain = "(whole section deleted)"
        styled = style(plain, "red")
    else:
        key = safe(change.key or "")
        new_text = "(deleted)" if change.action is Action.DELETE_KEY else show(change.new)
        new = style(new_text, "red" if change.action is Action.DELETE_KEY else "green")
        old_text = show(change.old)
        old = style(old_text, "dim" if old_text == ABSENT else "yellow")
        plain = f"{key}: {old_text} -> {new_text}"
        styled = f"{key}: {old} -> {new}"
    head = f"    {mark} {styled}"
    if not change.reason:
        return [head]
    reason = f"({safe(change.reason)})"
    return _wrapped(
        head, 6 + len(plain), reason, width=width, indent=8, paint=lambda t: style(t, "dim")
    )


def _changes(plan: Plan, style: _Style, width: int) -> list[str]:
    lines: list[str] = []
    for file, sections in group_changes(plan.changes):
        lines.append(style(safe(file), "bold"))
        for section, changes in sections:
            kind = section_kind(changes)
            lines.append(f"  {style(MARKS[kind], _MARK_STYLE[kind])} [{safe(section)}]")
            for c in changes:
                lines.extend(_change_lines(c, style, width))
    return lines


def _assignments(plan: Plan, style: _Style) -> list[str]:
    names = [
        safe(a.domain) + (" (Default Domain)" if a.is_default else "") for a in plan.assignments
    ]
    slots = [slot_text(a.slot) for a in plan.assignments]
    name_w, slot_w = _width(names), _width(slots)
    lines = [style("Assignments", "bold")]
    for name, slot, a in zip(names, slots, plan.assignments, strict=True):
        lines.append(f"  {_pad(name, name_w)}   {_pad(slot, slot_w)}   {safe(a.note)}".rstrip())
    return lines


def _dns(plan: Plan, style: _Style) -> list[str]:
    names = [safe(r.name) for r in plan.dns]
    name_w = _width(names)
    lines = [style("DNS records", "bold") + " (each name must resolve to its IP)"]
    for name, record in zip(names, plan.dns, strict=True):
        lines.append(
            f"  {_pad(name, name_w)}   {_pad(safe(record.rtype), 4)}   {safe(record.value)}"
        )
    return lines


_FOLDED = (ProbeStatus.OK, ProbeStatus.NOT_LOCAL)  # outcomes said once for a whole address
_FOLDED_TEXT = {
    ProbeStatus.OK: "every listener can bind",
    ProbeStatus.NOT_LOCAL: "not on this host: add {them} to a network adapter or drop {them}",
}


def _uniform(group: Sequence[ProbeResult]) -> ProbeStatus | None:
    """The one status of an address whose every listener (two or more) had it, if foldable."""
    statuses = {r.status for r in group}
    if len(group) < 2 or len(statuses) != 1 or group[0].status not in _FOLDED:
        return None
    return group[0].status


def _folded_line(ips: Sequence[str], status: ProbeStatus | None, pairs: int, style: _Style) -> str:
    assert status is not None
    them = "it" if len(ips) == 1 else "them"
    where = ips[0] if len(ips) == 1 else f"{ips[0]} .. {ips[-1]} ({len(ips)} addresses)"
    text = _FOLDED_TEXT[status].format(them=them)
    return f"{style(where, 'bold')}: {style.status(status, status.value)}, {text} ({pairs} pairs)"


def _check_rows(results: Sequence[ProbeResult], style: _Style, *, problems_only: bool) -> list[str]:
    """Results grouped by address. An address whose listeners all had one foldable outcome
    is one line, and a run of such addresses with the same outcome is one line too."""
    ordered = sort_results(results)
    if problems_only:
        ordered = tuple(r for r in ordered if r.status is not ProbeStatus.OK)
    groups: dict[str, list[ProbeResult]] = {}
    for result in ordered:
        groups.setdefault(str(result.ip), []).append(result)
    shown = [r for g in groups.values() if _uniform(g) is None for r in g]
    widths = _Widths(shown)
    lines: list[str] = []
    run: list[str] = []  # addresses folded into the line being built
    run_status: ProbeStatus | None = None
    pairs = 0
    for ip, group in groups.items():
        status = _uniform(group)
        if run and status is not run_status:
            lines.append(_folded_line(run, run_status, pairs, style))
            run, pairs = [], 0
        if status is None:
            lines.append(style(ip, "bold"))
            lines.extend(line for r in group for line in _result_rows(r, widths, style))
        else:
            run.append(ip)
            run_status, pairs = status, pairs + len(group)
    if run:
        lines.append(_folded_line(run, run_status, pairs, style))
    return lines


class _Widths:
    """Column widths of the rows shown one by one."""

    def __init__(self, shown: Sequence[ProbeResult]) -> None:
        self.service = _width(service_text(r) for r in shown)
        self.port = _width(f"{r.port}/{r.proto.value}" for r in shown)
        self.status = _width(r.status.value for r in shown)


def _result_rows(result: ProbeResult, widths: _Widths, style: _Style) -> list[str]:
    value = result.status.value
    status = style.status(result.status, value) + " " * (widths.status - len(value))
    tail = holder_text(result.holder)
    if result.errno is not None and result.status.is_conflict:
        tail = ", ".join(t for t in (tail, f"errno {result.errno}") if t)
    port = f"{result.port}/{result.proto.value}".rjust(widths.port)
    row = f"  {_pad(service_text(result), widths.service)}   {port}   {status}   {tail}"
    lines = [row.rstrip()]
    if result.status is ProbeStatus.OK:
        return lines
    if result.holder is not None and result.holder.cmdline:
        lines.append(f"      command: {safe(clip(result.holder.cmdline, _CMDLINE_CAP))}")
    if result.event:
        lines.append(f"      {safe(result.event)}")
    if result.hint:
        lines.append(f"      hint: {safe(result.hint)}")
    return lines


def render_check_text(results: Sequence[ProbeResult], *, color: bool) -> str:
    """Results grouped by IP (IPv4 first, numeric order), then the counts line."""
    style = _Style(color)
    lines = _check_rows(results, style, problems_only=False)
    if lines:
        lines.append("")
    lines.append(style(check_counts(results), "bold"))
    return "\n".join(lines) + "\n"


def render_plan_text(
    plan: Plan,
    *,
    checks: Sequence[ProbeResult] | None = None,
    color: bool,
    saved_as: str | None = None,
    digest: str | None = None,
    width: int = WIDTH,
) -> str:
    """The plan for a terminal; `saved_as` (the plan file's name) makes the next step concrete,
    `digest` (the saved plan's) names exactly what was reviewed; `width`: the terminal's columns,
    where reasons and notes wrap."""
    style = _Style(color)
    blocks: list[list[str]] = []
    if plan.changes:
        blocks.append([style(f"bindmgr plan: {plan_counts(plan)}", "bold"), f"  {LEGEND}"])
        blocks.append(_changes(plan, style, width))
        if plan.assignments:
            blocks.append(_assignments(plan, style))
    else:
        blocks.append([style(already_binds(plan), "bold")])
    if plan.conflicts:
        title = f"Conflicts ({len(plan.conflicts)}): bindmgr apply refuses this plan"
        blocks.append(
            [style(title, "red", "bold")]
            + [
                line
                for c in plan.conflicts
                for line in _item(
                    f"  ! {style(safe(c.subject), 'red')}:",
                    5 + len(safe(c.subject)),
                    safe(c.message),
                    width,
                )
            ]
        )
    if plan.notes:
        notes = [line for n in plan.notes for line in _item("  -", 3, safe(n), width)]
        blocks.append([style("Notes", "bold"), *notes])
    if plan.dns:
        blocks.append(_dns(plan, style))
    if checks is not None:
        rows = _check_rows(checks, style, problems_only=True)
        block = [style("Check", "bold"), *(f"  {r}" for r in rows), f"  {check_counts(checks)}"]
        bad = conflict_count(checks)
        if bad:
            warning = f"MDaemon cannot bind {plural(bad, 'pair')}; free them before applying."
            block.append("  " + style(warning, "red", "bold"))
        blocks.append(block)
    if digest is not None:
        blocks.append([f"Plan digest: {digest}"])
    bad = 0 if checks is None else conflict_count(checks)
    step = next_step(plan, saved_as, digest, bad)
    if step:
        blocks.append([step])
    return "\n\n".join("\n".join(block) for block in blocks) + "\n"
