"""Command line: argument parsing, the error handler and exit statuses.

`main(argv) -> int` builds the parser, turns the parsed arguments into a call of one command's
`run(...)` with named arguments (no `argparse.Namespace` goes below this module) and maps
`BindmgrError` to its exit status; any other exception is a last-resort message and exit 70.
Nothing below this module calls sys.exit or prints errors.
"""

from __future__ import annotations

import argparse
import dataclasses
import gc
import math
import os
import sys
from collections.abc import Callable, Mapping, Sequence
from typing import TextIO

from bindmgr.commands.inputs import DesiredArgs, DnsArgs, Where
from bindmgr.console import Console
from bindmgr.errors import BindmgrError, ExitCode, UsageError
from bindmgr.parser import build_parser, parse_args


def _check_counts(args: argparse.Namespace) -> None:
    """Counts and times that must be positive are refused before any file is read or port
    probed."""
    wait = getattr(args, "lock_timeout", None)
    if wait is not None and not (math.isfinite(wait) and wait >= 0):
        raise UsageError(
            f"--lock-timeout must be a finite number of seconds, 0 or more (got {wait:g})",
            hint="pass --lock-timeout 0 to not wait, or e.g. --lock-timeout 30",
        )
    for option in ("timeout", "total_timeout", "dns_timeout"):
        value = getattr(args, option, None)
        if value is not None and not value > 0:
            flag = "--" + option.replace("_", "-")
            raise UsageError(
                f"{flag} must be above 0 seconds (got {value:g})", hint=f"e.g. {flag} 5"
            )
    for option in ("keep", "batch_size", "connections"):
        value = getattr(args, option, None)
        if value is not None and value < 1:
            flag = "--" + option.replace("_", "-")
            raise UsageError(
                f"{flag} must be at least 1 (got {value})", hint=f"pass {flag} 1 or more"
            )


def _where(args: argparse.Namespace) -> Where:
    return Where(app_dir=args.app_dir, layout=args.layout, codepage=args.codepage)


def _desired_args(args: argparse.Namespace) -> DesiredArgs:
    return DesiredArgs(
        domain=args.domain,
        ips=tuple(args.ip),
        bindings=args.bindings,
        pattern=args.pattern,
        prune=args.prune,
        new_domain=args.new_domain,
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


def _dns_args(args: argparse.Namespace) -> DnsArgs | None:
    if not args.dns:
        if args.nameserver:
            raise UsageError("--nameserver goes with --dns", hint="add --dns")
        return None
    return DnsArgs(nameservers=tuple(args.nameserver), timeout=args.dns_timeout)


def _check(args: argparse.Namespace, console: Console) -> ExitCode:
    from bindmgr.commands import check  # noqa: PLC0415 (lazy on purpose, see above)

    if args.plan is not None and args.plan_file is not None:
        raise UsageError("a plan file given twice", hint="use PLAN.json or --plan PLAN.json")
    return check.run(
        where=_where(args),
        desired=_desired_args(args),
        plan_file=args.plan or args.plan_file,
        fmt=args.format,
        batch_size=args.batch_size,
        console=console,
        dns=_dns_args(args),
    )


def _apply(args: argparse.Namespace, console: Console) -> ExitCode:
    from bindmgr.commands import apply, confirm  # noqa: PLC0415 (lazy on purpose, see above)

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
        pin=apply.Pin(digest=args.digest, elsewhere=args.allow_elsewhere),
        fmt=args.format,
        detailed=args.detailed_exitcode,
        reload=confirm.Reload(
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
        where=_where(args),
        to=args.to,
        list_only=args.list,
        force=args.force,
        lock_timeout=args.lock_timeout,
        backup_dir=args.backup_dir,
        restart=args.restart,
        console=console,
        fmt=args.format,
    )


def _verify(args: argparse.Namespace, console: Console) -> ExitCode:
    from bindmgr.commands import verify  # noqa: PLC0415 (lazy on purpose, see above)

    return verify.run(
        where=_where(args),
        desired=_desired_args(args),
        plan_file=args.plan,
        fmt=args.format,
        patience=verify.Patience(
            timeout=args.timeout, total_timeout=args.total_timeout, concurrency=args.connections
        ),
        console=console,
        dns=_dns_args(args),
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


def _layout(args: argparse.Namespace, console: Console) -> ExitCode:
    from bindmgr.commands import layout  # noqa: PLC0415 (lazy on purpose, see above)

    return layout.run_detect(
        app_dir=args.app_dir,
        write=args.write,
        fmt=args.format,
        force=args.force,
        console=console,
        codepage=args.codepage,
    )


def _explain(args: argparse.Namespace, console: Console) -> ExitCode:
    from bindmgr.commands import explain  # noqa: PLC0415 (lazy on purpose, see above)

    return explain.run(code=args.code, console=console)


def _completion(args: argparse.Namespace, console: Console) -> ExitCode:
    from bindmgr.commands import completion  # noqa: PLC0415 (lazy on purpose, see above)

    return completion.run(shell=args.shell, parser=build_parser(), console=console)


COMMANDS: dict[str, Callable[[argparse.Namespace, Console], ExitCode]] = {
    "inspect": _inspect,
    "plan": _plan,
    "check": _check,
    "apply": _apply,
    "rollback": _rollback,
    "verify": _verify,
    "dns": _dns,
    "firewall": _firewall,
    "layout": _layout,
    "explain": _explain,
    "completion": _completion,
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
    words = sys.argv[1:] if argv is None else list(argv)
    # bindmgr makes many objects and almost no reference cycles: with the default thresholds
    # (700, 10, 10) the collector walks every live object again and again while 100,000
    # domains are read (docs/performance.md). A run's garbage is freed by reference counting;
    # the collector runs now and then all the same. Put back on the way out (tests call main).
    thresholds = gc.get_threshold()
    gc.set_threshold(GC_THRESHOLD, *thresholds[1:])
    try:
        return _run(words, console)
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
    except MemoryError:
        console.error(
            "bindmgr ran out of memory", _LAST_RESORT_HINT.format("free memory and rerun")
        )
        return int(ExitCode.ERROR)
    except Exception as exc:  # the last resort: a bug, never a traceback
        console.error(
            f"unexpected failure: {type(exc).__name__}: {exc}",
            _LAST_RESORT_HINT.format("this is a bug in bindmgr, please report it with the command"),
        )
        return int(ExitCode.INTERNAL)
    finally:
        gc.set_threshold(*thresholds)


GC_THRESHOLD = 100_000  # allocations between collections of the youngest generation


def _run(words: list[str], console: Console) -> int:
    if not words:  # bare `bindmgr`: the usage, as `bindmgr --help` gives it
        console.print(build_parser().format_help())
        return int(ExitCode.OK)
    args = parse_args(words)
    verbosity = args.verbose + getattr(args, "verbose_after", 0)
    if args.quiet and verbosity:
        raise UsageError("-q and -v both given", hint="use -q for less output, -v for more")
    console = dataclasses.replace(
        console, color_choice=args.color, quiet=args.quiet, verbosity=verbosity
    )
    _check_counts(args)
    return int(COMMANDS[args.command](args, console))


_LAST_RESORT_HINT = (
    "{}; MDaemon's files are never left half-written (a failure while writing restores them), "
    "but an apply that already printed 'Applied' did change them (bindmgr rollback undoes it); "
    "see docs/reliability.md"
)
