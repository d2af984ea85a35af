"""`bindmgr check`: can MDaemon bind every IP x listener? (exit 3 on conflicts)"""

from __future__ import annotations

from ipaddress import IPv4Address
from pathlib import Path

from bindmgr.commands.inputs import (
    DesiredArgs,
    Where,
    current_addresses,
    desired_from,
    open_app,
    read_saved_plan,
    run_checks,
)
from bindmgr.commands.output import render_check
from bindmgr.console import Console
from bindmgr.errors import ExitCode, UsageError


def run(
    *,
    where: Where,
    desired: DesiredArgs,
    plan_file: Path | None,
    fmt: str,
    batch_size: int,
    console: Console,
) -> ExitCode:
    saved = read_saved_plan(plan_file) if plan_file is not None else None
    wanted = desired_from(desired, required=False)
    if saved is not None and wanted is not None:
        raise UsageError("--plan and --domain/--ip/--bindings both given", hint="use one")
    app = open_app(where, console, saved)
    if saved is not None:
        ips = saved.plan.desired.addresses()
    elif wanted is not None:
        ips = wanted.addresses()
    else:
        ips = current_addresses(app) or (IPv4Address("0.0.0.0"),)
        if ips[0].is_unspecified:
            console.note(
                "no domain is bound to an IP, so MDaemon listens on every address: checking "
                "0.0.0.0 (name IPs with --domain D --ip IP ... to check a plan instead)"
            )
        else:
            console.note("checking the addresses MDaemon binds now: " + ", ".join(map(str, ips)))
    results = run_checks(ips, app, batch_size=batch_size, console=console)
    console.print(render_check(results, fmt, color=console.color))
    return ExitCode.CONFLICT if any(r.status.is_conflict for r in results) else ExitCode.OK
