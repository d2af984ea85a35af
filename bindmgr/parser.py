"""The command line's grammar: every subcommand, option and help text, as one argparse parser.

Builds the parser and parses with it (`parse_args`: `--ip` values in one pass, see there); `cli`
turns the result into named arguments. Usage errors raise UsageError (exit 1), never argparse's
exit 2, which means "changes planned".
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from pathlib import Path
from typing import NoReturn

from bindmgr import __version__
from bindmgr.errors import UsageError

FORMATS = ("text", "markdown", "json")

STATUS = {
    0: "nothing to change / everything bindable / applied or already up to date",
    1: "error (bad input, bad usage, or a failure that left the files as they were)",
    2: "plan: changes are planned; apply --detailed-exitcode: files were changed",
    3: "conflicts: a listener cannot bind, the plan conflicts with a domain bindmgr does not "
    "own, or MDaemon / DNS does not answer as planned",
    4: "apply: the plan is stale (an input file or the layout changed since it was made)",
    5: "apply --confirm-within: not confirmed in time; the previous files were restored",
    70: "an unexpected failure (a bug in bindmgr; files are never left half-written)",
}
# The statuses each command can return (`bindmgr CMD --help` lists only those).
COMMAND_STATUS = {
    "inspect": (0, 1),
    "plan": (0, 1, 2, 3),
    "check": (0, 1, 3),
    "apply": (0, 1, 2, 3, 4, 5),
    "rollback": (0, 1, 4),
    "verify": (0, 1, 3),
    "dns": (0, 1),
    "firewall": (0, 1),
}


def docs_dir() -> Path:
    """The documentation: shipped inside the installed package, or beside it in a checkout."""
    package = Path(__file__).resolve().parent
    shipped = package / "docs"
    return shipped if shipped.is_dir() else package.parent / "docs"


def epilog(statuses: tuple[int, ...] = tuple(STATUS)) -> str:
    lines = ["exit status:", *(f"  {n}  {STATUS[n]}" for n in statuses)]
    lines.append(f"Documentation: {docs_dir() / 'cli.md'}")
    return "\n".join(lines) + "\n"


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


# The commands that take --ip (each calls _desired); tests compare it with the parser.
IP_COMMANDS = frozenset({"plan", "check", "apply", "verify", "dns", "firewall"})


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
        help="an address to listen on, in order; IPv4+IPv6 binds both to one name; a range "
        "(203.0.113.10-20) or block (203.0.113.8/29) gives one slot per address (repeat)",
    )
    group.add_argument("--bindings", metavar="FILE", type=Path, help="the desired state file")
    group.add_argument("--pattern", metavar="P", help="secondary domain names (mail-{n}.{domain})")
    group.add_argument(
        "--prune", action="store_true", help="delete dropped mail-N domains bindmgr fully owns"
    )
    group.add_argument(
        "--new-domain", action="store_true", help="the base domain is new to MDaemon: create it"
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


def _dns_options(p: argparse.ArgumentParser) -> None:
    group = p.add_argument_group("DNS")
    group.add_argument(
        "--dns",
        action="store_true",
        help="also resolve every bound name and every address's PTR and compare",
    )
    group.add_argument(
        "--nameserver",
        metavar="IP[:PORT]",
        action="append",
        default=[],
        help="ask this server (repeat; default: the system's resolver configuration)",
    )
    group.add_argument(
        "--dns-timeout", type=float, default=3.0, metavar="S", help="per lookup (default 3)"
    )


def _verify_options(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--timeout", type=float, default=5.0, metavar="S", help="per connection (default 5)"
    )
    p.add_argument(
        "--total-timeout",
        type=float,
        default=60.0,
        metavar="S",
        help="for the whole run (default 60)",
    )
    p.add_argument("--connections", type=int, default=64, metavar="N", help="at once (default 64)")


def _apply_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("plan_file", nargs="?", metavar="PLAN.json", type=Path, help="a saved plan")
    _desired(p, plan_file=False)
    p.add_argument("--yes", action="store_true", help="do not ask for confirmation")
    _format(p, ("text", "json"))
    p.add_argument(
        "--detailed-exitcode",
        action="store_true",
        help="exit 2 when files were changed (0: nothing to do), as terraform apply",
    )
    p.add_argument(
        "--digest", metavar="SHA", help="apply only if the plan file has this (reviewed) digest"
    )
    p.add_argument(
        "--allow-elsewhere",
        action="store_true",
        help="apply a plan made on another host or for another App folder",
    )
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


def _layout_parser(sub: argparse._SubParsersAction[_Parser]) -> None:
    summary = "propose where each setting lives, with evidence (exit 3: ambiguous or missing)"
    p = sub.add_parser("layout", help="find where this install keeps each layout setting")
    actions = p.add_subparsers(dest="action", metavar="ACTION", required=True)
    p = actions.add_parser("detect", help=summary, description=summary)
    p.add_argument("--app-dir", metavar="DIR", help="MDaemon's App folder (as for inspect)")
    p.add_argument("--write", metavar="FILE", type=Path, help="write the proposals as a layout")
    p.add_argument("--force", action="store_true", help="let --write replace an existing file")
    _format(p, ("text", "json"))
    _global_options(p, default=argparse.SUPPRESS)


def _global_options(p: argparse.ArgumentParser, *, default: str | None) -> None:
    """--color, --codepage, -q and -v, before the command or after it (a subcommand's copy
    leaves the value given before the command alone; its -v count is added by `cli`)."""
    p.add_argument(
        "-q",
        "--quiet",
        action="store_true",
        default=False if default is None else default,
        help="print only documents asked for (--format json, ...) and errors; the exit "
        "status says the rest",
    )
    p.add_argument(
        "-v",
        "--verbose",
        action="count",
        dest="verbose" if default is None else "verbose_after",
        default=0 if default is None else default,
        help="say on stderr what was read and how long each stage took (-vv: every layout key)",
    )
    p.add_argument(
        "--color",
        choices=("auto", "always", "never"),
        default="auto" if default is None else default,
        help="colour text reports: auto (on a terminal, unless NO_COLOR is set), always, never",
    )
    p.add_argument(
        "--codepage",
        type=int,
        metavar="N",
        default=default,
        help="the ANSI code page of MDaemon's files, e.g. 1251 (default: the system's on "
        "Windows, else the layout's codepage, else 1252)",
    )


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="bindmgr",
        description="Plan, check and apply MDaemon's multi-IP binding.",
        epilog=epilog(),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("-V", "--version", action="version", version=f"bindmgr {__version__}")
    _global_options(parser, default=None)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    def command(name: str, summary: str) -> argparse.ArgumentParser:
        p = sub.add_parser(
            name,
            help=summary,
            description=summary,
            epilog=epilog(COMMAND_STATUS[name]),
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )
        _common(p)
        _global_options(p, default=argparse.SUPPRESS)
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
    p.add_argument(
        "plan_file", nargs="?", metavar="PLAN.json", type=Path, help="a saved plan (or --plan)"
    )
    _desired(p, plan_file=True)
    _format(p)
    _check_options(p)
    _dns_options(p)

    _apply_options(
        command("apply", "write a plan to MDaemon's files safely (lock, backup, verify)")
    )

    p = command("rollback", "restore MDaemon's files from a bindmgr backup")
    p.add_argument("--to", metavar="BACKUP", help="the backup to restore (default: the latest)")
    p.add_argument("--list", action="store_true", help="only list the backups")
    p.add_argument("--force", action="store_true", help="restore over later edits")
    p.add_argument("--lock-timeout", type=float, default=30.0, metavar="S")
    p.add_argument("--backup-dir", type=Path, metavar="DIR")
    p.add_argument("--restart", action="store_true", help="drop RESTART.SEM after restoring")
    _format(p, ("text", "json"))

    p = command("verify", "connect to every bound IP x listener: does MDaemon answer as planned?")
    _desired(p, plan_file=True)
    _format(p)
    _verify_options(p)
    _dns_options(p)

    p = command("dns", "the DNS records (A/AAAA and PTR) a binding relies on")
    _desired(p, plan_file=True)
    _format(p, ("zone", "json"), default="zone")
    p.add_argument("--ttl", type=int, default=3600, metavar="S", help="record TTL (default 3600)")

    p = command("firewall", "firewall rules that open MDaemon's listeners on the bound IPs only")
    _desired(p, plan_file=True)
    _format(p, ("powershell", "netsh", "nftables"), default="powershell", alias=False)

    _layout_parser(sub)

    p = sub.add_parser(
        "explain",
        help="what an MDaemon event-log code means and which command finds the cause",
        description="what an MDaemon event-log code means and which command finds the cause",
    )
    p.add_argument("code", nargs="?", type=int, metavar="CODE", help="e.g. 503 (default: list)")

    summary = "print a shell completion script (docs/cli.md says how to install it)"
    p = sub.add_parser("completion", help=summary, description=summary)
    p.add_argument("shell", choices=("bash", "zsh", "powershell"), help="the shell")
    return parser


def _take_ips(argv: Sequence[str]) -> tuple[list[str], list[str]] | None:
    """(argv without its `--ip X` / `--ip=X`, the Xs in order), or None to leave it all to
    argparse: no command taking --ip, an abbreviation (`--i X`), or an --ip without a value
    (argparse words that error)."""
    command = next((i for i, arg in enumerate(argv) if not arg.startswith("-")), None)
    if command is None or argv[command] not in IP_COMMANDS:
        return None
    rest, ips = list(argv[: command + 1]), []
    i = command + 1
    while i < len(argv):  # every pass moves i forward: bounded by len(argv)
        arg = argv[i]
        if arg == "--":
            rest += argv[i:]
            break
        if arg == "--ip":
            if i + 1 == len(argv) or argv[i + 1].startswith("-"):
                return None
            ips.append(argv[i + 1])
            i += 2
            continue
        if arg.startswith("--ip="):
            ips.append(arg[5:])
        elif arg == "--i" or arg.startswith("--i="):
            return None
        else:
            rest.append(arg)
        i += 1
    return rest, ips


def parse_args(argv: Sequence[str]) -> argparse.Namespace:
    """Parse a command line as `build_parser().parse_args` does.

    The `--ip` values are taken out in one pass first and argparse parses the rest: for each
    option argparse finds the next one by scanning the positions of all of them, so N repeats
    of --ip cost O(N^2) (4.9, 34 and 399 ms at 256, 1,024 and 4,096 --ip); one pass is O(N).
    """
    parser = build_parser()
    taken = _take_ips(argv)
    if taken is None:
        return parser.parse_args(argv)
    rest, ips = taken
    args = parser.parse_args(rest)
    args.ip = ips
    return args
