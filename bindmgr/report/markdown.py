"""Markdown for pull-request comments: plans and check results, values in, one string out.

Every cell built from data is escaped (no markup, HTML, mention or math can come from a value) and
the result never exceeds `MARKDOWN_LIMIT` (GitHub's comment limit) less `WRAPPER_ROOM`, kept for
what a CI job adds around it: long reports are summarised, long tables folded in `<details>`.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from bindmgr import __version__
from bindmgr.model import Action, Plan, ProbeResult, ProbeStatus, sort_results, status_counts
from bindmgr.report.wording import (
    already_binds,
    change_counts,
    check_counts,
    clip,
    conflict_count,
    holder_text,
    plan_tally,
    plural,
    safe,
    service_text,
    show,
)

MARKDOWN_LIMIT = 65_536  # measured in UTF-8 bytes, which is never less than characters
WRAPPER_ROOM = 1_024  # bytes of the limit left for a CI job's marker, metadata and links
TOOL = f"bindmgr {__version__}"
FOLD_ROWS = 10  # a table or list of more rows than this is folded in <details>
CELL_LIMIT = 300  # characters of one value shown in a cell before "... (N more characters)"
_ROW_CAPS = (200, 100, 50, 20, 10, 5, 1, 0)  # rows per table tried, in turn, when summarising
_ESCAPED = frozenset("\\`*_[]<>|~&$@#!")  # markup, HTML, GitHub mentions/refs, math
# What GitHub turns into emoji or links in text taken from the files: ":tada:", "http://...",
# "www.example.com". A ":" before a word character or "/" and the dot after "www" are escaped.
_LINKISH = re.compile(r"(?i):(?=[\w/+-])|(?<=\bwww)\.")
_LISTED = 10  # a plan without changes names at most this many bindings in its first line
_PLAN_MORE = "see the JSON plan artifact"
_SHORTENED = (
    "> [!NOTE]",
    "> Shortened to fit a pull-request comment: each table shows its first rows only. The full "
    "plan is the JSON plan (`bindmgr plan --out`), kept as the job's artifact.",
)
_CHECK_MORE = "see `bindmgr check --format json`"


def md_escape(text: str) -> str:
    """Inline-safe Markdown: every character that could start markup gets a backslash.

    Call it on text that went through `safe`/`show` (controls already escaped, so CR/LF never
    reach the Markdown). Edge spaces become `&#32;` so a table cell keeps them.
    """
    body = "".join(f"\\{ch}" if ch in _ESCAPED else ch for ch in text)
    body = _LINKISH.sub(lambda m: "\\" + m[0], body)
    stripped = body.strip(" ")
    if stripped == body:
        return body
    lead = len(body) - len(body.lstrip(" "))
    trail = len(body) - len(body.rstrip(" "))
    return "&#32;" * lead + stripped + "&#32;" * trail


def cell(text: str) -> str:
    """Free text (names, reasons) for a table cell."""
    return md_escape(safe(clip(text, CELL_LIMIT)))


def value_cell(value: str | None) -> str:
    """A raw INI value for a table cell: quoted where it would mislead (see `show`)."""
    return md_escape(show(None if value is None else clip(value, CELL_LIMIT)))


def _row(cells: Sequence[str]) -> str:
    return "| " + " | ".join(cells) + " |"


def _header(*titles: str) -> list[str]:
    return [_row(titles), _row(["---"] * len(titles))]


@dataclass(frozen=True, slots=True)
class _Section:
    """A block of lines whose items can be cut to a number when the whole is too long."""

    title: tuple[str, ...]  # always shown
    items: tuple[str, ...]  # table rows or list items
    header: tuple[str, ...] = ()  # a table's header; shown only above at least one row
    more: str = ""  # what the items are ("changes"), for "... and K more changes; see ..."
    see: str = _PLAN_MORE
    gap: bool = True  # a blank line between title and items (not inside a block quote)

    def lines(self, cap: int | None) -> list[str]:
        shown = self.items if cap is None else self.items[:cap]
        hidden = len(self.items) - len(shown)
        out = list(self.title)
        if not self.gap:  # inside a block quote: never folded
            out += [*self.header, *shown] if shown else []
        elif len(shown) > FOLD_ROWS:
            count = f"{len(shown)} of {len(self.items)}" if hidden else str(len(shown))
            summary = f"<details><summary>{count} {self.more}</summary>"
            out += ["", summary, "", *self.header, *shown, "", "</details>"]
        elif shown:
            out += ["", *self.header, *shown]
        if hidden:
            out += ["", f"... and {hidden} more {self.more}; {self.see}."]
        return out


def _assemble(sections: Sequence[_Section], cap: int | None) -> str:
    return "\n\n".join("\n".join(s.lines(cap)) for s in sections if s.title or s.items) + "\n"


def _fits(text: str, limit: int) -> bool:
    return len(text.encode("utf-8", "surrogatepass")) <= limit


def _fit(full: Sequence[_Section], short: Sequence[_Section], limit: int, see: str) -> str:
    """The full rendering if it fits, else the summary with the most rows per table that fits."""
    text = _assemble(full, None)
    if _fits(text, limit):
        return text
    for cap in _ROW_CAPS:
        text = _assemble(short, cap)
        if _fits(text, limit):
            return text
    tail = f"\n\n... cut at {limit} characters; {see}.\n"
    budget = limit - len(tail.encode("utf-8"))
    cut = text.encode("utf-8", "surrogatepass")[:budget].decode("utf-8", "ignore")
    return cut[: cut.rfind("\n") + 1].rstrip("\n") + tail


def _change_rows(plan: Plan) -> tuple[str, ...]:
    rows = []
    for c in plan.changes:
        old = value_cell(c.old)
        if c.action is Action.DELETE_SECTION:
            key, old, new = "*(whole section)*", "", "*(deleted)*"
        else:
            key = cell(c.key or "")
            new = "*(deleted)*" if c.action is Action.DELETE_KEY else value_cell(c.new)
        rows.append(_row([cell(c.file), cell(c.section), key, old, new, cell(c.reason)]))
    return tuple(rows)


def _per_file(plan: Plan) -> _Section:
    rows = tuple(
        _row([cell(file), *(str(counts[a]) for a in Action), str(sum(counts.values()))])
        for file, counts in change_counts(plan.changes)
    )
    return _Section(
        title=("#### Changes per file",),
        header=tuple(_header("File", "Set", "Delete key", "Delete section", "Total")),
        items=rows,
        more="files",
    )


def _show_errno(result: ProbeResult) -> bool:
    return result.errno is not None and result.status.is_conflict


def _check_sections(results: Sequence[ProbeResult], title: str, see: str) -> list[_Section]:
    """A per-IP counts table under `title`, then the rows that are not `ok`, in detail."""
    ordered = sort_results(results)
    per_ip: dict[str, list[ProbeResult]] = {}
    for r in ordered:
        per_ip.setdefault(str(r.ip), []).append(r)
    ip_rows = tuple(
        _row(
            [
                md_escape(ip),
                str(len(rs)),
                str(sum(r.status is ProbeStatus.OK for r in rs)),
                str(conflict_count(rs)),
                str(sum(r.status is ProbeStatus.HELD_BY_MDAEMON for r in rs)),
            ]
        )
        for ip, rs in per_ip.items()
    )
    problems = tuple(
        _row(
            [
                md_escape(str(r.ip)),
                f"{r.port}/{r.proto.value}",
                cell(service_text(r)),
                f"`{r.status.value}`" + (f", errno {r.errno}" if _show_errno(r) else ""),
                cell(holder_text(r.holder)),
                cell(r.event or ""),
                cell(r.hint or ""),
            ]
        )
        for r in ordered
        if r.status is not ProbeStatus.OK
    )
    sections = [
        _Section(
            title=(title,),
            header=tuple(_header("IP", "Pairs", "OK", "Conflicts", "Held by MDaemon")),
            items=ip_rows,
            more="IPs",
            see=see,
        )
    ]
    if problems:
        sections.append(
            _Section(
                title=("#### Pairs that are not ok",),
                header=tuple(_header("IP", "Port", "Service", "Status", "Holder", "Event", "Hint")),
                items=problems,
                more="pairs that are not ok",
                see=see,
            )
        )
    return sections


def _caution(plan: Plan, checks: Sequence[ProbeResult] | None) -> _Section | None:
    """Everything that makes `apply` refuse the plan: its conflicts, then each IP's ports that
    cannot bind (with the hint when all of that IP's rows share one)."""
    bad = [r for r in sort_results(checks or ()) if r.status.is_conflict]
    if not plan.conflicts and not bad:
        return None
    what = [plural(len(plan.conflicts), "conflict")] if plan.conflicts else []
    if bad:
        what.append(f"{plural(len(bad), 'port')} that cannot bind")
    items = [f"> - **{cell(c.subject)}**: {cell(c.message)}" for c in plan.conflicts]
    per_ip: dict[str, list[ProbeResult]] = {}
    for r in bad:
        per_ip.setdefault(str(r.ip), []).append(r)
    for ip, rows in per_ip.items():
        statuses = ", ".join(f"{n} {s.value}" for s, n in status_counts(rows).items() if n)
        hints = {r.hint for r in rows}
        hint = hints.pop() if len(hints) == 1 else None
        step = cell(hint) if hint else "see the pairs that are not ok below"
        items.append(
            f"> - **{md_escape(ip)}**: {plural(len(rows), 'port')} cannot bind "
            f"({md_escape(statuses)}); {step}"
        )
    return _Section(
        title=(
            "> [!CAUTION]",
            f"> **{', '.join(what)}**: `bindmgr apply` refuses this plan until they are resolved.",
        ),
        items=tuple(items),
        header=(">",),
        more="conflicts",
        gap=False,
    )


def _plan_sections(
    plan: Plan,
    checks: Sequence[ProbeResult] | None,
    short: bool,
    digest: str | None,
    tool: str,
) -> list[_Section]:
    blocked = bool(plan.conflicts) or conflict_count(checks or ()) > 0
    if plan.changes or blocked:
        head = f"**bindmgr plan**: {md_escape(plan_tally(plan, checks))}"
    else:
        head = f"**bindmgr plan**: {md_escape(already_binds(plan, most=_LISTED))}"
    made = f"Plan digest: `{digest}`, made by" if digest is not None else "Made by"
    sections = [_Section(title=(head,), items=()), _Section((f"{made} {md_escape(tool)}",), ())]
    if short:
        sections.append(_Section(title=_SHORTENED, items=()))
    caution = _caution(plan, checks)
    if caution is not None:
        sections.append(caution)
    if plan.changes:
        if short:
            sections.append(_per_file(plan))
        sections.append(
            _Section(
                title=("### Changes",),
                header=tuple(_header("File", "Section", "Key", "Old", "New", "Reason")),
                items=_change_rows(plan),
                more="changes",
            )
        )
    if plan.assignments:
        rows = tuple(
            _row(
                [
                    cell(a.domain) + (" (Default Domain)" if a.is_default else ""),
                    md_escape(str(a.slot.v4 or "")),
                    md_escape(str(a.slot.v6 or "")),
                    cell(a.note),
                ]
            )
            for a in plan.assignments
        )
        sections.append(
            _Section(
                title=("### Assignments",),
                header=tuple(_header("Domain", "IPv4", "IPv6", "Note")),
                items=rows,
                more="assignments",
            )
        )
    if plan.dns:
        rows = tuple(_row([cell(r.name), cell(r.rtype), cell(r.value)]) for r in plan.dns)
        sections.append(
            _Section(
                title=("### DNS records",),
                header=tuple(_header("Name", "Type", "Value")),
                items=rows,
                more="DNS records",
            )
        )
    if plan.notes:
        items = tuple(f"- {cell(n)}" for n in plan.notes)
        sections.append(_Section(title=("### Notes",), items=items, more="notes"))
    if checks is not None:
        title = f"### Check: {md_escape(check_counts(checks))}"
        sections.extend(_check_sections(checks, title, _PLAN_MORE))
    return sections


def render_plan_markdown(
    plan: Plan,
    *,
    checks: Sequence[ProbeResult] | None = None,
    limit: int = MARKDOWN_LIMIT - WRAPPER_ROOM,
    digest: str | None = None,
    tool: str = TOOL,
) -> str:
    """What changes and what blocks first (the digest and the bindmgr that made it under it),
    everything `apply` refuses next (prominent), then the tables; at most `limit` bytes."""
    return _fit(
        _plan_sections(plan, checks, short=False, digest=digest, tool=tool),
        _plan_sections(plan, checks, short=True, digest=digest, tool=tool),
        limit,
        _PLAN_MORE,
    )


def render_check_markdown(
    results: Sequence[ProbeResult], *, limit: int = MARKDOWN_LIMIT - WRAPPER_ROOM
) -> str:
    """Counts first, a per-IP table, then only the rows that are not `ok` in detail."""
    head = f"**bindmgr check**: {md_escape(check_counts(results))}"
    sections = [_Section(title=(head,), items=())]
    if results:
        sections += _check_sections(results, "### Per IP", _CHECK_MORE)
    if results and not conflict_count(results):
        sections.append(_Section(title=("No conflicts: MDaemon can bind every pair.",), items=()))
    return _fit(sections, sections, limit, _CHECK_MORE)


def notes_markdown(notes: Sequence[str]) -> str:
    """Notes after a check's or a verify's results ("" without any)."""
    if not notes:
        return ""
    return "\n### Notes\n\n" + "".join(f"- {cell(n)}\n" for n in notes)
