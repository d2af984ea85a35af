"""A saved plan is a commitment: the changes it carries must be the ones bindmgr makes again.

`apply` re-plans from the saved plan's own desired state against the current files (same inputs,
same plan) and refuses when the changes or conflicts differ from the saved ones, naming each
difference: a hand-edited plan cannot smuggle in a key, a deletion or a value. Pure.
"""

from __future__ import annotations

from collections.abc import Sequence

from bindmgr.model import Change, Plan

_SHOWN = 5  # differences named in the message; the rest are counted


def _show(change: Change) -> str:
    if change.key is None:
        return f"{change.file} [{change.section}] {change.action.value}"
    value = "" if change.new is None else f"={change.new!r}"
    return f"{change.file} [{change.section}] {change.key}{value} ({change.action.value})"


def _key(change: Change) -> tuple[object, ...]:
    return (change.file, change.section, change.key, change.old, change.new, change.action)


def differences(saved: Plan, fresh: Plan) -> list[str]:
    """What the saved plan holds that bindmgr would not plan now, and the reverse; [] = equal."""
    found: list[str] = []
    fresh_keys = {_key(c) for c in fresh.changes}
    saved_keys = {_key(c) for c in saved.changes}
    found += [
        f"not planned by bindmgr: {_show(c)}" for c in saved.changes if _key(c) not in fresh_keys
    ]
    found += [
        f"missing from the file: {_show(c)}" for c in fresh.changes if _key(c) not in saved_keys
    ]
    if not found and [_key(c) for c in saved.changes] != [_key(c) for c in fresh.changes]:
        found.append("the changes are in another order than bindmgr writes them")
    saved_conflicts = {(c.subject, c.message) for c in saved.conflicts}
    fresh_conflicts = {(c.subject, c.message) for c in fresh.conflicts}
    if saved_conflicts != fresh_conflicts:
        found.append("the conflicts differ from the ones bindmgr finds")
    return found


def summarize(found: Sequence[str]) -> str:
    shown = "; ".join(found[:_SHOWN])
    more = f" (and {len(found) - _SHOWN} more)" if len(found) > _SHOWN else ""
    return shown + more
