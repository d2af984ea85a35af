"""`bindmgr check`: can MDaemon bind every IP x listener? (exit 3 on conflicts)

With `--dns`, the names and PTRs the binding relies on are resolved in the same event loop run
as the binds (check/together).
"""

from __future__ import annotations

from dataclasses import replace
from ipaddress import IPv4Address
from pathlib import Path

from bindmgr.commands.inputs import (
    DesiredArgs,
    DnsArgs,
    Where,
    check_base_domain,
    check_work,
    config_after,
    current_addresses,
    desired_from,
    dns_lookups,
    open_app,
    probe_groups,
    read_saved_plan,
    records_now,
    run_checks,
)
from bindmgr.commands.output import render_check
from bindmgr.console import Console
from bindmgr.errors import ExitCode, UsageError
from bindmgr.model import IPAddress
from bindmgr.plan.desired import parse_slot
from bindmgr.plan.planner import make_plan


def run(
    *,
    where: Where,
    desired: DesiredArgs,
    plan_file: Path | None,
    fmt: str,
    batch_size: int,
    console: Console,
    dns: DnsArgs | None = None,
) -> ExitCode:
    saved = read_saved_plan(plan_file) if plan_file is not None else None
    bare: tuple[IPAddress, ...] = ()
    if desired.ips and desired.domain is None and desired.bindings is None:
        # Checking addresses needs no domain: `bindmgr check --ip 203.0.113.10`.
        bare = tuple(a for text in desired.ips for a in parse_slot(text).addresses())
        desired = replace(desired, ips=())
    wanted = desired_from(desired, required=False)
    if saved is not None and (wanted is not None or bare):
        raise UsageError("--plan and --domain/--ip/--bindings both given", hint="use one")
    app = open_app(where, console, saved)
    check_base_domain(app, wanted, desired)
    plan = saved.plan if saved is not None else None
    if wanted is not None:
        plan = make_plan(app.view.config, wanted)
    after = None if plan is None else config_after(app, plan)  # the bind lists it leaves
    if plan is not None:
        ips = plan.desired.addresses()
    elif bare:
        ips = bare
    else:
        ips = current_addresses(app) or (IPv4Address("0.0.0.0"),)
        if ips[0].is_unspecified:
            console.note(
                "no domain is bound to an IP, so MDaemon listens on every address: checking "
                "0.0.0.0 (name IPs with --domain D --ip IP ... to check a plan instead)"
            )
        else:
            console.note("checking the addresses MDaemon binds now: " + ", ".join(map(str, ips)))
    within = bare or None  # `--ip` alone: the web listeners on those addresses only
    if dns is None:
        results, notes = run_checks(
            ips, app, batch_size=batch_size, console=console, after=after, within=within
        )
        console.print(render_check(results, fmt, color=console.color, notes=notes))
        return ExitCode.CONFLICT if any(r.status.is_conflict for r in results) else ExitCode.OK
    from bindmgr.check.dnsanswer import classify_dns  # noqa: PLC0415 (only with --dns)
    from bindmgr.check.together import run_together  # noqa: PLC0415

    records = plan.dns if plan is not None else records_now(app)
    expected, lookups = dns_lookups(records, dns)
    groups, notes = probe_groups(ips, app, after=after, within=within)
    results, answers = run_together(
        check_work(groups, app, batch_size=batch_size, console=console), lookups
    )
    findings = classify_dns(expected, answers)
    console.print(render_check(results, fmt, color=console.color, dns=findings, notes=notes))
    bad = any(r.status.is_conflict for r in results) or any(f.is_failure for f in findings)
    return ExitCode.CONFLICT if bad else ExitCode.OK
