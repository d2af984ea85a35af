"""Wording and grouping shared by the text and Markdown renderers: values in, strings out.

Nothing here prints, reads the clock or knows about terminals. Every fixed string is ASCII, so a
report survives any console code page; data is made visible (control characters escaped).
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable, Sequence

from bindmgr.model import (
    Action,
    Change,
    Holder,
    Plan,
    ProbeResult,
    ProbeStatus,
    Slot,
    sort_results,
    status_counts,
)

ABSENT = "(absent)"
# Unicode categories that must never reach a terminal or a Markdown cell raw: controls (ESC, CR,
# LF, DEL, C1), format characters (bidi overrides, zero-width), separators and lone surrogates.
_HIDDEN = frozenset({"Cc", "Cf", "Cs", "Zl", "Zp"})
_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def _escape_char(ch: str) -> str:
    if ch in _NAMED:
        return _NAMED[ch]
    code = ord(ch)
    if code <= 0xFF:
        return f"\\x{code:02x}"
    return f"\\u{code:04x}" if code <= 0xFFFF else f"\\U{code:08x}"


def _hidden(ch: str) -> bool:
    return unicodedata.category(ch) in _HIDDEN


def safe(text: str) -> str:
    """Free text (names, reasons, messages) with every invisible or control character escaped."""
    # isprintable() is False for every _HIDDEN category (and for a few more, which then take
    # the look character by character): the common, all-printable text costs one C call.
    if text.isprintable() or not any(_hidden(ch) for ch in text):
        return text
    return "".join(_escape_char(ch) if _hidden(ch) else ch for ch in text)


def show(value: str | None) -> str:
    """A raw INI value as a reader should see it: quoted when it would otherwise mislead.

    `None` is "(absent)"; an empty value, edge whitespace, a control character or a leading
    quote or parenthesis gets double quotes with backslash escapes, so "(absent)" stays unique.
    """
    if value is None:
        return ABSENT
    plain = value and value == value.strip() and value[0] not in '"(' and safe(value) == value
    if plain:
        return value
    body = "".join(
        "\\\\" if ch == "\\" else '\\"' if ch == '"' else _escape_char(ch) if _hidden(ch) else ch
        for ch in value
    )
    return f'"{body}"'


_SGR = {"bold": "1", "red": "31", "green": "32", "yellow": "33", "cyan": "36", "dim": "2"}


def paint(text: str, *styles: str, color: bool) -> str:
    """`text` in ANSI SGR `styles` (bold, red, green, yellow, cyan, dim) when `color`; else, or
    for empty text, `text` unchanged: without colour no escape byte is ever written."""
    if not color or not styles or not text:
        return text
    return f"\x1b[{';'.join(_SGR[s] for s in styles)}m{text}\x1b[0m"


def plural(n: int, word: str, many: str | None = None) -> str:
    return f"{n} {word if n == 1 else (many or word + 's')}"


def clip(text: str, limit: int) -> str:
    """At most about `limit` characters, saying how many were left out."""
    if len(text) <= limit:
        return text
    return f"{text[:limit]}... ({len(text) - limit} more characters)"


def plan_counts(plan: Plan) -> str:
    """The headline counts, like `5 changes in 2 files, 3 IPs, 0 conflicts`."""
    files = len({c.file for c in plan.changes})
    ips = len(plan.desired.addresses())
    return (
        f"{plural(len(plan.changes), 'change')} in {plural(files, 'file')}, "
        f"{plural(ips, 'IP')}, {plural(len(plan.conflicts), 'conflict')}"
    )


MARKS = {"add": "+", "change": "~", "remove": "-"}
LEGEND = "+ add   ~ change   - remove"


def change_kind(change: Change) -> str:
    """ "add" (a set of an absent key), "change" (of a present one) or "remove" (a delete):
    how `plan_tally` counts it and which of `MARKS` the text plan shows."""
    if change.action is not Action.SET:
        return "remove"
    return "add" if change.old is None else "change"


def section_kind(changes: Sequence[Change]) -> str:
    """A section's mark: "add" when every change adds a key (a new domain), "remove" when it is
    deleted whole, else "change" (a key deleted from a section that stays changes it)."""
    if any(c.action is Action.DELETE_SECTION for c in changes):
        return "remove"
    return "add" if all(change_kind(c) == "add" for c in changes) else "change"


def plan_tally(plan: Plan, checks: Sequence[ProbeResult] | None = None) -> str:
    """What changes, then what blocks, like Terraform's plan line:
    `2 to add, 3 to change, 0 to remove; 39 ports cannot bind on 203.0.113.11`.

    A set of an absent key adds, of a present one changes; deletes remove. Conflicts and ports
    that cannot bind are named only when there are some; over 3 IPs these are only counted.
    """
    add = sum(change_kind(c) == "add" for c in plan.changes)
    remove = sum(change_kind(c) == "remove" for c in plan.changes)
    parts = [f"{add} to add, {len(plan.changes) - add - remove} to change, {remove} to remove"]
    if plan.conflicts:
        parts.append(plural(len(plan.conflicts), "conflict"))
    bad = [r for r in sort_results(checks or ()) if r.status.is_conflict]
    if bad:
        ips = list(dict.fromkeys(str(r.ip) for r in bad))
        ips = ips if len(ips) <= 3 else [f"{len(ips)} IPs"]
        where = ", ".join(ips[:-1]) + " and " + ips[-1] if len(ips) > 1 else ips[0]
        parts.append(f"{plural(len(bad), 'port')} cannot bind on " + where)
    return "; ".join(parts)


def slot_text(slot: Slot) -> str:
    return " + ".join(str(a) for a in slot.addresses())


def already_binds(plan: Plan, *, most: int | None = None) -> str:
    """The sentence for a plan without changes; over `most` assignments it only counts them."""
    if not plan.assignments:
        return "No changes. MDaemon already matches the desired state."
    if most is not None and len(plan.assignments) > most:
        ips = len({a for x in plan.assignments for a in x.slot.addresses()})
        domains = plural(len(plan.assignments), "domain")
        return f"No changes. MDaemon already binds the {plural(ips, 'IP')} of the {domains} below."
    bound = ", ".join(
        f"{slot_text(a.slot)} ({safe(a.domain)}{', Default Domain' if a.is_default else ''})"
        for a in plan.assignments
    )
    return f"No changes. MDaemon already binds {bound}."


def group_changes(
    changes: Iterable[Change],
) -> list[tuple[str, list[tuple[str, list[Change]]]]]:
    """Changes by file, then by section, each in order of first appearance (the planner's)."""
    files: dict[str, dict[str, list[Change]]] = {}
    for change in changes:
        files.setdefault(change.file, {}).setdefault(change.section, []).append(change)
    return [(name, list(sections.items())) for name, sections in files.items()]


def change_counts(changes: Iterable[Change]) -> list[tuple[str, dict[Action, int]]]:
    """Per file (first-appearance order): how many changes of each action."""
    files: dict[str, dict[Action, int]] = {}
    for change in changes:
        files.setdefault(change.file, dict.fromkeys(Action, 0))[change.action] += 1
    return list(files.items())


def next_step(
    plan: Plan, saved_as: str | None, digest: str | None = None, bind_conflicts: int = 0
) -> str | None:
    """The one next step; never one the exit status contradicts (no "apply" after a conflict)."""
    if plan.conflicts:
        return (
            "Next: resolve the conflicts above and run bindmgr plan again; "
            "bindmgr apply refuses a plan with conflicts."
        )
    if not plan.changes:
        return None
    if bind_conflicts:
        return (
            "Next: free the ports above (or remove their addresses from the plan), then run "
            "bindmgr plan --check again; bindmgr apply refuses while they cannot bind."
        )
    if saved_as is None:
        return (
            "Next: save the plan with bindmgr plan --out PLAN.json, review it, "
            "then run bindmgr apply PLAN.json"
        )
    target = safe(saved_as)
    if not target or any(ch.isspace() for ch in target):
        target = f'"{target}"'
    pin = "" if digest is None else f" --digest {digest}"
    return f"Next: bindmgr apply {target}{pin}"


def holder_text(holder: Holder | None) -> str:
    if holder is None:
        return ""
    if holder.pid is None:
        return safe(holder.name) if holder.name else "unknown process"
    if holder.pid == 0 and not holder.name:  # Windows: a socket without a living owner
        return "no owner (pid 0)"
    return f"pid {holder.pid}" if not holder.name else f"{safe(holder.name)} (pid {holder.pid})"


def service_text(result: ProbeResult) -> str:
    return safe(result.label or result.service)


def check_counts(results: Sequence[ProbeResult]) -> str:
    """The closing line, like `42 pairs: 40 ok, 1 in_use, 1 held_by_mdaemon (not a conflict)`."""
    if not results:
        return "0 pairs: nothing was checked"
    parts = [
        f"{n} {status.value}"
        + (" (not a conflict)" if n and status is ProbeStatus.HELD_BY_MDAEMON else "")
        for status, n in status_counts(results).items()
        if n
    ]
    return f"{plural(len(results), 'pair')}: {', '.join(parts)}"


def conflict_count(results: Iterable[ProbeResult]) -> int:
    return sum(1 for r in results if r.status.is_conflict)


def notes_text(notes: Sequence[str]) -> str:
    """Notes after a check's or a verify's results, for a terminal ("" without any)."""
    if not notes:
        return ""
    return "\nNotes\n" + "".join(f"  - {safe(n)}\n" for n in notes)
