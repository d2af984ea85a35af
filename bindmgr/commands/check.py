"""`bindmgr check`: can MDaemon bind every IP x listener? (exit 3 on conflicts)

With `--dns`, the names and PTRs the binding relies on are resolved in the same event loop run
as the binds (check/together). `checked` computes it (the API's too); `run` renders it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from ipaddress import IPv4Address
from pathlib import Path
from typing import TYPE_CHECKING

from bindmgr.commands.inputs import (
    DesiredArgs,
    DnsArgs,
    Where,
    check_base_domain,
    check_work,
    current_addresses,
    desired_from,
    dns_lookups,
    lists_after,
    open_app,
    probe_groups,
    read_saved_plan,
    records_now,
    run_checks,
)
from bindmgr.commands.output import check_document, render_check
from bindmgr.console import Console
from bindmgr.errors import ExitCode, UsageError
from bindmgr.formats.jsondoc import write_json
from bindmgr.model import Desired, IPAddress, Plan, ProbeResult
from bindmgr.plan.desired import parse_slot
from bindmgr.plan.planner import make_plan
from bindmgr.read.appdir import App

if TYPE_CHECKING:
    from bindmgr.check.dnsanswer import DnsFinding


@dataclass(frozen=True, slots=True)
class Checked:
    """What a check found: every IP x listener's outcome and, with --dns, the DNS findings."""

    results: tuple[ProbeResult, ...]
    dns: tuple[DnsFinding, ...] | None = None
    notes: tuple[str, ...] = ()  # which web listeners their bind lists narrowed, and how

    @property
    def conflicts(self) -> bool:
        bad = any(r.status.is_conflict for r in self.results)
        return bad or any(f.is_failure for f in self.dns or ())


def checked(
    app: App,
    *,
    plan: Plan | None = None,
    ips: Sequence[IPAddress] = (),
    wanted: Desired | None = None,
    batch_size: int = 8,
    console: Console,
    dns: DnsArgs | None = None,
) -> Checked:
    """Bind-check the addresses of `plan` (a saved one), else `ips`, else those `wanted` names,
    else the ones MDaemon binds now (0.0.0.0 when none is bound), the web listeners where the
    bind lists the plan leaves let them listen (with `ips` alone: on those addresses only);
    with `dns`, resolve the records the binding relies on in the same event loop run."""
    if plan is None and wanted is not None:
        with console.timed("plan"):
            plan = make_plan(app.view.config, wanted)
    after = None if plan is None else lists_after(app, plan)  # the bind lists it leaves
    within = tuple(ips) if plan is None and ips else None
    if plan is not None:
        addresses = plan.desired.addresses()
    elif ips:
        addresses = tuple(ips)
    else:
        addresses = current_addresses(app) or (IPv4Address("0.0.0.0"),)
        if addresses[0].is_unspecified:
            console.note(
                "no domain is bound to an IP, so MDaemon listens on every address: checking "
                "0.0.0.0 (name IPs with --domain D --ip IP ... to check a plan instead)"
            )
        else:
            shown = ", ".join(map(str, addresses))
            console.note("checking the addresses MDaemon binds now: " + shown)
    if dns is None:
        results, notes = run_checks(
            addresses, app, batch_size=batch_size, console=console, after=after, within=within
        )
        return Checked(results, notes=notes)
    from bindmgr.check.dnsanswer import classify_dns  # noqa: PLC0415 (only with --dns)
    from bindmgr.check.together import run_together  # noqa: PLC0415

    records = plan.dns if plan is not None else records_now(app)
    expected, lookups = dns_lookups(records, dns)
    groups, notes = probe_groups(addresses, app, after=after, within=within)
    with console.timed("check"):
        results, answers = run_together(
            check_work(groups, app, batch_size=batch_size, console=console), lookups
        )
    return Checked(results, classify_dns(expected, answers), notes)


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
    found = checked(
        app,
        plan=None if saved is None else saved.plan,
        ips=bare,
        wanted=wanted,
        batch_size=batch_size,
        console=console,
        dns=dns,
    )
    if fmt == "json":  # written as it is made: 53,248 results never exist as one text
        document = check_document(found.results, dns=found.dns, notes=found.notes)
        write_json(document, console.stream)
    else:
        shown = render_check(
            found.results, fmt, color=console.color, dns=found.dns, notes=found.notes
        )
        console.output(shown, fmt)
    return ExitCode.CONFLICT if found.conflicts else ExitCode.OK
