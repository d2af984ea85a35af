"""The commands `inspect`, `plan` and `check`: each reads, composes the pure core, prints.

A command takes the parsed arguments and a Console and returns an ExitCode; it raises
BindmgrError for "cannot continue". `apply` and `rollback` live in `applying`.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from ipaddress import IPv4Address
from pathlib import Path
from typing import TYPE_CHECKING

from bindmgr.apply.safewrite import replace_file
from bindmgr.console import Console
from bindmgr.errors import ExitCode, UsageError
from bindmgr.formats.check import dumps_check
from bindmgr.model import DEFAULT_PATTERN, Desired, IPAddress, Plan, ProbeResult
from bindmgr.plan.desired import parse_desired
from bindmgr.plan.planner import make_plan
from bindmgr.read.appdir import App, load_app, read_layout, read_text, resolve_app_dir
from bindmgr.report.inspection import inspect, render_json, render_text
from bindmgr.report.text import render_check_text, render_plan_text

if TYPE_CHECKING:
    from bindmgr.formats.plan import SavedPlan

# bindings, planfile (JSON plans) and report_markdown are imported in the branches that use
# them: plain `inspect` and `plan` need none of them, and every module loaded at start-up
# adds to each run (bench/bench_cli.py, docs/performance.md).


def read_bindings(path: Path) -> Desired:
    """The desired state from a bindings file."""
    from bindmgr.plan.bindings import parse_bindings  # noqa: PLC0415 (lazy, see the imports)

    text = read_text(path, "the bindings file", hint="pass an existing UTF-8 file with --bindings")
    return parse_bindings(text, str(path))


def read_saved_plan(path: Path) -> SavedPlan:
    """A plan saved by `bindmgr plan --out`."""
    from bindmgr.formats.plan import loads_plan  # noqa: PLC0415 (lazy, see the imports)

    hint = "pass the file written by 'bindmgr plan --out'"
    return loads_plan(read_text(path, "the plan", hint=hint), str(path))


def open_app(args: argparse.Namespace, console: Console, saved: SavedPlan | None = None) -> App:
    """The App folder named on the command line (or in a saved plan), read through the layout."""
    layout_path = args.layout
    if layout_path is None and saved is not None and saved.layout is not None:
        layout_path = Path(saved.layout)
    layout = read_layout(layout_path)
    chosen = args.app_dir or (saved.app_dir if saved is not None else None)
    return load_app(resolve_app_dir(chosen, console.env), layout)


def desired_from_args(args: argparse.Namespace, *, required: bool = True) -> Desired | None:
    """The desired state from --bindings or --domain/--ip (None when neither and not required)."""
    inline = args.domain is not None or bool(args.ip)
    if args.bindings is not None and inline:
        raise UsageError(
            "--bindings and --domain/--ip both given", hint="use one way to name the IPs"
        )
    if args.bindings is not None:
        desired = read_bindings(args.bindings)
        if args.pattern is not None or args.prune:
            desired = Desired(
                desired.domain,
                desired.slots,
                args.pattern or desired.pattern,
                args.prune or desired.prune,
            )
        return desired
    if not inline:
        if required:
            raise UsageError(
                "no desired state given",
                hint="pass --domain D --ip IP [--ip IP ...] or --bindings FILE",
            )
        return None
    if args.domain is None or not args.ip:
        raise UsageError(
            "--domain and --ip go together", hint="e.g. --domain example.com --ip 203.0.113.10"
        )
    return parse_desired(
        args.domain, args.ip, pattern=args.pattern or DEFAULT_PATTERN, prune=args.prune
    )


def cmd_inspect(args: argparse.Namespace, console: Console) -> ExitCode:
    # hostinfo (netifaces, psutil) and probe (asyncio) are imported where they are used:
    # `plan` without --check needs neither, and loading them at start-up costs it tens of
    # milliseconds (bench/bench_cli.py, docs/performance.md).
    from bindmgr.check import hostinfo  # noqa: PLC0415 (lazy on purpose)

    app = open_app(args, console)
    host = hostinfo.host_addresses()
    ordered = sorted(host.addresses, key=lambda a: (a.version, a.packed))
    report = inspect(
        app.view.config,
        app.view.presence,
        app_dir=str(app.app_dir),
        layout=app.layout.source,
        host_addresses=ordered,
        is_local=host.__contains__,
    )
    console.print(render_json(report) if args.json else render_text(report))
    return ExitCode.OK


def run_checks(
    ips: Sequence[IPAddress], app: App, args: argparse.Namespace, console: Console
) -> tuple[ProbeResult, ...]:
    from bindmgr.check import hostinfo, probe  # noqa: PLC0415 (lazy, see cmd_inspect)

    listeners = app.view.config.listeners
    return probe.run_check(
        ips,
        listeners,
        host_addresses=hostinfo.host_addresses(),
        listener_table=hostinfo.listening_sockets,
        concurrency=args.concurrency,
        progress=console.progress("checking"),
    )


def plan_exit(plan: Plan, checks: Sequence[ProbeResult] | None) -> ExitCode:
    if plan.conflicts or any(r.status.is_conflict for r in checks or ()):
        return ExitCode.CONFLICT
    return ExitCode.CHANGES if plan.has_changes else ExitCode.OK


def render_plan(
    plan: Plan,
    fmt: str,
    *,
    app: App,
    checks: Sequence[ProbeResult] | None,
    color: bool,
    saved_as: str | None,
) -> str:
    if fmt == "json":
        from bindmgr.formats.plan import dumps_plan  # noqa: PLC0415 (lazy, see the imports)

        return dumps_plan(plan, app_dir=str(app.app_dir), layout=app.layout.source, checks=checks)
    if fmt == "markdown":
        from bindmgr.report.markdown import render_plan_markdown  # noqa: PLC0415 (lazy)

        return render_plan_markdown(plan, checks=checks)
    return render_plan_text(plan, checks=checks, color=color, saved_as=saved_as)


def cmd_plan(args: argparse.Namespace, console: Console) -> ExitCode:
    desired = desired_from_args(args)
    assert desired is not None
    app = open_app(args, console)
    plan = make_plan(app.view.config, desired)
    checks = run_checks(desired.addresses(), app, args, console) if args.check else None
    if args.out is not None:
        save_plan(args.out, plan, app, checks)
        console.note(f"plan saved to {args.out}")
    saved_as = None if args.out is None else str(args.out)
    console.print(
        render_plan(
            plan, args.format, app=app, checks=checks, color=console.color, saved_as=saved_as
        )
    )
    return plan_exit(plan, checks)


def save_plan(path: Path, plan: Plan, app: App, checks: Sequence[ProbeResult] | None) -> None:
    from bindmgr.formats.plan import dumps_plan  # noqa: PLC0415 (lazy, see the imports)

    text = dumps_plan(
        plan, app_dir=str(app.app_dir.resolve()), layout=app.layout.source, checks=checks
    )
    replace_file(path, text.encode("utf-8"), expected_sha256=None)


def current_addresses(app: App) -> tuple[IPAddress, ...]:
    """What MDaemon binds now: the addresses of every domain with its bind flag on."""
    return tuple(a for d in app.view.config.all_domains() if d.bind for a in d.addresses())


def cmd_check(args: argparse.Namespace, console: Console) -> ExitCode:
    saved = read_saved_plan(args.plan) if args.plan is not None else None
    desired = desired_from_args(args, required=False)
    if saved is not None and desired is not None:
        raise UsageError("--plan and --domain/--ip/--bindings both given", hint="use one")
    app = open_app(args, console, saved)
    if saved is not None:
        ips = saved.plan.desired.addresses()
    elif desired is not None:
        ips = desired.addresses()
    else:
        ips = current_addresses(app) or (IPv4Address("0.0.0.0"),)
        if ips[0].is_unspecified:
            console.note(
                "no domain is bound to an IP, so MDaemon listens on every address: checking "
                "0.0.0.0 (name IPs with --domain D --ip IP ... to check a plan instead)"
            )
        else:
            console.note("checking the addresses MDaemon binds now: " + ", ".join(map(str, ips)))
    results = run_checks(ips, app, args, console)
    if args.format == "json":
        console.print(dumps_check(results))
    elif args.format == "markdown":
        from bindmgr.report.markdown import render_check_markdown  # noqa: PLC0415 (lazy)

        console.print(render_check_markdown(results))
    else:
        console.print(render_check_text(results, color=console.color))
    return ExitCode.CONFLICT if any(r.status.is_conflict for r in results) else ExitCode.OK
