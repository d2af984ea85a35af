"""Command line: argument parsing, the error handler and exit statuses.

`main(argv) -> int` builds the parser, turns the parsed arguments into a call of one command's
`run(...)` with named arguments (no `argparse.Namespace` goes below this module) and maps
`BindmgrError` to its exit status. Nothing below this module calls sys.exit or prints errors.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import NoReturn, TextIO

from bindmgr import __version__
from bindmgr.commands.inputs import DesiredArgs, Where
from bindmgr.console import Console
from bindmgr.errors import BindmgrError, ExitCode, UsageError

FORMATS = ("text", "markdown", "json")

EPILOG = """\
exit status:
  0  nothing to change / everything bindable / applied or already up to date
  1  error (bad input, bad usage, or a failure that left the files as they were)
  2  plan: changes are planned
  3  conflicts: a listener cannot bind, or the plan conflicts with a domain bindmgr does not own
  4  apply: the plan is stale (an input file changed since it was made)
  5  apply --confirm-within: not confirmed in time; the previous files were restored
See docs/cli.md.
"""


def _check_counts(args: argparse.Namespace) -> None:
    """Counts that must be positive are refused before any file is read or port probed."""
    for option in ("keep", "batch_size"):
        value = getattr(args, option, None)
        if value is not None and value < 1:
            flag = "--" + option.replace("_", "-")
            raise UsageError(
                f"{flag} must be at least 1 (got {value})", hint=f"pass {flag} 1 or more"
            )


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        raise UsageError(f"{self.prog}: {message}", hint=f"see '{self.prog} --help'")


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--app-dir",
        metavar="DIR",
        help="MDaemon's App folder (default: $MDAEMON_APP, then C:\\MDaemon\\App on Windows)",
    )
    p.add_argument(
        "--layout", metavar="FILE", type=Path, help="layout file (default: the shipped one)"
    )


def _desired(p: argparse.ArgumentParser, *, plan_file: bool) -> None:
    group = p.add_argument_group("desired state")
    if plan_file:
        group.add_argument("--plan", metavar="PLAN.json", type=Path, help="a saved plan")
    group.add_argument("--domain", metavar="D", help="the base domain, e.g. example.com")
    group.add_argument(
        "--ip",
        metavar="IP",
        action="append",
        default=[],
        help="an address to listen on, in order; IPv4+IPv6 binds both to one name (repeat)",
    )
    group.add_argument("--bindings", metavar="FILE", type=Path, help="the desired state file")
    group.add_argument("--pattern", metavar="P", help="secondary domain names (mail-{n}.{domain})")
    group.add_argument(
        "--prune", action="store_true", help="delete dropped mail-N domains bindmgr fully owns"
    )


def _format(
    p: argparse.ArgumentParser,
    choices: tuple[str, ...] = FORMATS,
    *,
    default: str = "text",
    alias: bool = True,
) -> None:
    p.add_argument("--format", choices=choices, default=default, help="output format")
    if alias:
        p.add_argument(
            "--json",
            dest="format",
            action="store_const",
            const="json",
            help="same as --format json",
        )


def _check_options(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--batch-size",
        type=int,
        default=8,
        metavar="N",
        help="addresses bound per batch between progress updates (default 8)",
    )
    # the option's first name, kept working for scripts that use it
    p.add_argument("--concurrency", dest="batch_size", type=int, help=argparse.SUPPRESS)


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="bindmgr",
        description="Plan, check and apply MDaemon's multi-IP binding.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"bindmgr {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    def command(name: str, summary: str) -> argparse.ArgumentParser:
        p = sub.add_parser(
            name,
            help=summary,
            description=summary,
            epilog=EPILOG,
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )
        _common(p)
        return p

    p = command("inspect", "show what MDaemon's files say and where each value comes from")
    _format(p, ("text", "json"))

    p = command("plan", "plan the multi-IP binding (exit 2 when there are changes)")
    _desired(p, plan_file=False)
    _format(p)
    p.add_argument("--out", metavar="PLAN.json", type=Path, help="save the plan for apply")
    p.add_argument("--check", action="store_true", help="also check every planned IP and port")
    _check_options(p)

    p = command("check", "prove every IP x listener port can be bound (exit 3 on conflicts)")
    _desired(p, plan_file=True)
    _format(p)
    _check_options(p)

    p = command("apply", "write a plan to MDaemon's files safely (lock, backup, verify)")
    p.add_argument("plan_file", nargs="?", metavar="PLAN.json", type=Path, help="a saved plan")
    _desired(p, plan_file=False)
    p.add_argument("--yes", action="store_true", help="do not ask for confirmation")
    p.add_argument("--force", action="store_true", help="apply despite check conflicts")
    p.add_argument("--lock-timeout", type=float, default=30.0, metavar="S")
    p.add_argument("--keep", type=int, default=10, metavar="N", help="backups to keep")
    p.add_argument("--backup-dir", type=Path, metavar="DIR")
    p.add_argument("--restart", action="store_true", help="drop RESTART.SEM after writing")
    p.add_argument(
        "--wait-restart", action="store_true", help="wait until MDaemon runs and listens again"
    )
    p.add_argument("--restart-timeout", type=float, default=120.0, metavar="S")
    p.add_argument(
        "--confirm-within",
        type=float,
        metavar="SECONDS",
        help="revert unless confirmed in time",
    )
    _check_options(p)

    p = command("rollback", "restore MDaemon's files from a bindmgr backup")
    p.add_argument("--to", metavar="BACKUP", help="the backup to restore (default: the latest)")
    p.add_argument("--list", action="store_true", help="only list the backups")
    p.add_argument("--force", action="store_true", help="restore over later edits")
    p.add_argument("--lock-timeout", type=float, default=30.0, metavar="S")
    p.add_argument("--backup-dir", type=Path, metavar="DIR")
    p.add_argument("--restart", action="store_true", help="drop RESTART.SEM after restoring")

    p = command("dns", "the DNS records (A/AAAA and PTR) a binding relies on")
    _desired(p, plan_file=True)
    _format(p, ("zone", "json"), default="zone")
    p.add_argument("--ttl", type=int, default=3600, metavar="S", help="record TTL (default 3600)")

    p = command("firewall", "firewall rules that open MDaemon's listeners on the bound IPs only")
    _desired(p, plan_file=True)
    _format(p, ("powershell", "netsh", "nftables"), default="powershell", alias=False)

    p = sub.add_parser(
        "explain",
        help="what an MDaemon event-log code means and which command finds the cause",
        description="what an MDaemon event-log code means and which command finds the cause",
    )
    p.add_argument("code", nargs="?", type=int, metavar="CODE", help="e.g. 503 (default: list)")
    return parser


def _where(args: argparse.Namespace) -> Where:
    return Where(app_dir=args.app_dir, layout=args.layout)


def _desired_args(args: argparse.Namespace) -> DesiredArgs:
    return DesiredArgs(
        domain=args.domain,
        ips=tuple(args.ip),
        bindings=args.bindings,
        pattern=args.pattern,
        prune=args.prune,
    )


# Each command module is imported only when it runs: apply and rollback bring locking, backups
# and psutil, which would add tens of milliseconds to every inspect, plan and check start
# (measured with bench/bench_cli.py; docs/performance.md).
def _inspect(args: argparse.Namespace, console: Console) -> ExitCode:
    from bindmgr.commands import inspect  # noqa: PLC0415 (lazy on purpose, see above)

    return inspect.run(where=_where(args), fmt=args.format, console=console)


def _plan(args: argparse.Namespace, console: Console) -> ExitCode:
    from bindmgr.commands import plan  # noqa: PLC0415 (lazy on purpose, see above)

    return plan.run(
        where=_where(args),
        desired=_desired_args(args),
        fmt=args.format,
        out=args.out,
        check=args.check,
        batch_size=args.batch_size,
        console=console,
    )


def _check(args: argparse.Namespace, console: Console) -> ExitCode:
    from bindmgr.commands import check  # noqa: PLC0415 (lazy on purpose, see above)

    return check.run(
        where=_where(args),
        desired=_desired_args(args),
        plan_file=args.plan,
        fmt=args.format,
        batch_size=args.batch_size,
        console=console,
    )


def _apply(args: argparse.Namespace, console: Console) -> ExitCode:
    from bindmgr.commands import apply  # noqa: PLC0415 (lazy on purpose, see above)

    return apply.run(
        where=_where(args),
        plan_file=args.plan_file,
        desired=_desired_args(args),
        yes=args.yes,
        safety=apply.Safety(
            lock_timeout=args.lock_timeout,
            keep=args.keep,
            backup_dir=args.backup_dir,
            force=args.force,
            batch_size=args.batch_size,
        ),
        reload=apply.Reload(
            restart=args.restart,
            wait=args.wait_restart,
            timeout=args.restart_timeout,
            confirm_within=args.confirm_within,
        ),
        console=console,
    )


def _rollback(args: argparse.Namespace, console: Console) -> ExitCode:
    from bindmgr.commands import rollback  # noqa: PLC0415 (lazy on purpose, see above)

    return rollback.run(
        app_dir=args.app_dir,
        to=args.to,
        list_only=args.list,
        force=args.force,
        lock_timeout=args.lock_timeout,
        backup_dir=args.backup_dir,
        restart=args.restart,
        console=console,
    )


def _dns(args: argparse.Namespace, console: Console) -> ExitCode:
    from bindmgr.commands import network  # noqa: PLC0415 (lazy on purpose, see above)

    if args.ttl < 0:
        raise UsageError(f"--ttl must be 0 or more (got {args.ttl})", hint="e.g. --ttl 3600")
    return network.run_dns(
        where=_where(args),
        desired=_desired_args(args),
        plan_file=args.plan,
        fmt=args.format,
        ttl=args.ttl,
        console=console,
    )


def _firewall(args: argparse.Namespace, console: Console) -> ExitCode:
    from bindmgr.commands import network  # noqa: PLC0415 (lazy on purpose, see above)

    return network.run_firewall(
        where=_where(args),
        desired=_desired_args(args),
        plan_file=args.plan,
        fmt=args.format,
        console=console,
    )


def _explain(args: argparse.Namespace, console: Console) -> ExitCode:
    from bindmgr.commands import explain  # noqa: PLC0415 (lazy on purpose, see above)

    return explain.run(code=args.code, console=console)


COMMANDS: dict[str, Callable[[argparse.Namespace, Console], ExitCode]] = {
    "inspect": _inspect,
    "plan": _plan,
    "check": _check,
    "apply": _apply,
    "rollback": _rollback,
    "dns": _dns,
    "firewall": _firewall,
    "explain": _explain,
}


def main(
    argv: Sequence[str] | None = None,
    *,
    env: Mapping[str, str] | None = None,
    stdout: TextIO | None = None,
    stderr: TextIO | None = None,
    stdin: TextIO | None = None,
) -> int:
    console = Console(
        out=stdout or sys.stdout,
        err=stderr or sys.stderr,
        inp=stdin if stdin is not None else sys.stdin,
        env=os.environ if env is None else env,
    )
    try:
        args = build_parser().parse_args(sys.argv[1:] if argv is None else argv)
        _check_counts(args)
        return int(COMMANDS[args.command](args, console))
    except SystemExit as exc:  # --help and --version
        return int(exc.code or 0) if isinstance(exc.code, int | None) else int(ExitCode.ERROR)
    except BindmgrError as exc:
        console.error(exc.message, exc.hint)
        return int(exc.exit_code)
    except KeyboardInterrupt:
        console.error(
            "interrupted",
            "MDaemon's files are either as they were or fully written; docs/reliability.md",
        )
        return 130
