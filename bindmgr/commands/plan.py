"""`bindmgr plan`: the multi-IP binding planned against the files (exit 2 when it changes any).

`planned` computes the plan, its bind check and its saved-plan document (the API's too); `run`
saves and renders it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from bindmgr.apply.safewrite import ANY, replace_file
from bindmgr.commands.inputs import (
    DesiredArgs,
    Where,
    check_base_domain,
    desired_from,
    lists_after,
    open_app,
    plan_document,
    run_checks,
)
from bindmgr.commands.output import render_plan
from bindmgr.console import Console
from bindmgr.errors import ExitCode
from bindmgr.formats.jsondoc import dumps_json
from bindmgr.model import Desired, Plan, ProbeResult
from bindmgr.plan.planner import make_plan
from bindmgr.read.appdir import App


def plan_exit(plan: Plan, checks: Sequence[ProbeResult] | None) -> ExitCode:
    if plan.conflicts or any(r.status.is_conflict for r in checks or ()):
        return ExitCode.CONFLICT
    return ExitCode.CHANGES if plan.has_changes else ExitCode.OK


def save_plan(path: Path, document: Mapping[str, object]) -> None:
    replace_file(path, dumps_json(document).encode("utf-8"), expected_sha256=ANY)


@dataclass(frozen=True, slots=True)
class Planned:
    """A plan, its bind check (None without --check) and its saved-plan document."""

    plan: Plan
    checks: tuple[ProbeResult, ...] | None
    document: dict[str, object]
    notes: tuple[str, ...] = ()  # which web listeners the check narrowed to their bind lists

    @property
    def digest(self) -> str:
        return str(self.document["digest"])


def planned(
    app: App, wanted: Desired, *, check: bool, batch_size: int, console: Console
) -> Planned:
    """Plan `wanted` against the App folder and, with `check`, bind-check its addresses."""
    with console.timed("plan"):
        plan = make_plan(app.view.config, wanted)
    checks: tuple[ProbeResult, ...] | None = None
    notes: tuple[str, ...] = ()
    if check:
        after = lists_after(app, plan)  # the web servers' bind lists as the plan leaves them
        checks, notes = run_checks(
            wanted.addresses(), app, batch_size=batch_size, console=console, after=after
        )
    return Planned(plan, checks, plan_document(plan, app, checks), notes)


def run(
    *,
    where: Where,
    desired: DesiredArgs,
    fmt: str,
    out: Path | None,
    check: bool,
    batch_size: int,
    console: Console,
) -> ExitCode:
    wanted = desired_from(desired)
    assert wanted is not None
    app = open_app(where, console)
    check_base_domain(app, wanted, desired)
    made = planned(app, wanted, check=check, batch_size=batch_size, console=console)
    for note in made.notes:
        console.note(note)
    if out is not None:
        with console.timed("write"):
            save_plan(out, made.document)
        console.note(f"plan saved to {out}")
    text = render_plan(
        made.plan,
        fmt,
        document=made.document,
        checks=made.checks,
        color=console.color,
        saved_as=None if out is None else str(out),
        width=console.width,
    )
    console.output(text, fmt)
    return plan_exit(made.plan, made.checks)
