"""`bindmgr plan`: the multi-IP binding planned against the files (exit 2 when it changes any)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

from bindmgr.apply.safewrite import ANY, replace_file
from bindmgr.commands.inputs import (
    DesiredArgs,
    Where,
    check_base_domain,
    config_after,
    desired_from,
    open_app,
    plan_document,
    run_checks,
)
from bindmgr.commands.output import render_plan
from bindmgr.console import Console
from bindmgr.errors import ExitCode
from bindmgr.formats.jsondoc import dumps_json
from bindmgr.model import Plan, ProbeResult
from bindmgr.plan.planner import make_plan


def plan_exit(plan: Plan, checks: Sequence[ProbeResult] | None) -> ExitCode:
    if plan.conflicts or any(r.status.is_conflict for r in checks or ()):
        return ExitCode.CONFLICT
    return ExitCode.CHANGES if plan.has_changes else ExitCode.OK


def save_plan(path: Path, document: Mapping[str, object]) -> None:
    replace_file(path, dumps_json(document).encode("utf-8"), expected_sha256=ANY)


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
    plan = make_plan(app.view.config, wanted)
    checks = None
    if check:
        after = config_after(app, plan)  # the web servers' bind lists as the plan leaves them
        checks, notes = run_checks(
            wanted.addresses(), app, batch_size=batch_size, console=console, after=after
        )
        for note in notes:
            console.note(note)
    document = plan_document(plan, app, checks)
    if out is not None:
        save_plan(out, document)
        console.note(f"plan saved to {out}")
    console.print(
        render_plan(
            plan,
            fmt,
            document=document,
            checks=checks,
            color=console.color,
            saved_as=None if out is None else str(out),
        )
    )
    return plan_exit(plan, checks)
