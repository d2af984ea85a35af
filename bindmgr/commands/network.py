"""`bindmgr dns` and `bindmgr firewall`: what the network around MDaemon needs for a binding.

Both take the binding the way `check` does: a saved plan, a desired state (planned against the
files), or, with neither, what MDaemon binds now.
"""

from __future__ import annotations

from ipaddress import IPv4Address
from pathlib import Path

from bindmgr.commands.inputs import (
    DesiredArgs,
    Where,
    check_base_domain,
    current_addresses,
    desired_from,
    open_app,
    read_saved_plan,
    records_now,
)
from bindmgr.console import Console
from bindmgr.errors import ExitCode, UsageError
from bindmgr.model import Plan
from bindmgr.plan.planner import make_plan
from bindmgr.read.appdir import App


def _plan(
    where: Where, desired: DesiredArgs, plan_file: Path | None, console: Console
) -> tuple[App, Plan | None]:
    saved = read_saved_plan(plan_file) if plan_file is not None else None
    wanted = desired_from(desired, required=False)
    if saved is not None and wanted is not None:
        raise UsageError("--plan and --domain/--ip/--bindings both given", hint="use one")
    app = open_app(where, console, saved)
    check_base_domain(app, wanted, desired)
    if saved is not None:
        return app, saved.plan
    if wanted is not None:
        return app, make_plan(app.view.config, wanted)
    return app, None


def run_dns(
    *,
    where: Where,
    desired: DesiredArgs,
    plan_file: Path | None,
    fmt: str,
    ttl: int,
    console: Console,
) -> ExitCode:
    from bindmgr.report.zone import DnsFormat, render_dns  # noqa: PLC0415 (only this command)

    app, plan = _plan(where, desired, plan_file, console)
    records = plan.dns if plan is not None else records_now(app)
    if plan is None:
        console.note("no plan or desired state given: the records MDaemon's bindings need now")
    console.document(render_dns(records, DnsFormat(fmt), ttl=ttl))
    return ExitCode.OK


def run_firewall(
    *,
    where: Where,
    desired: DesiredArgs,
    plan_file: Path | None,
    fmt: str,
    console: Console,
) -> ExitCode:
    from bindmgr.report.firewall import FirewallFormat, render_firewall  # noqa: PLC0415

    app, plan = _plan(where, desired, plan_file, console)
    now = current_addresses(app)
    if plan is not None:
        bound = plan.desired.addresses()
    else:
        bound = now or (IPv4Address("0.0.0.0"),)
        console.note(
            "no plan or desired state given: rules for what MDaemon binds now"
            + ("" if now else " (no domain is bound: every address)")
        )
    removed = tuple(a for a in now if a not in bound)
    listeners = app.view.config.listeners
    console.document(render_firewall(listeners, bound, FirewallFormat(fmt), removed=removed))
    return ExitCode.OK
