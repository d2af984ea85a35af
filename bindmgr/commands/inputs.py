"""What every command reads first: the App folder, the desired state, a saved plan; the bind check.

Composition helpers shared by the commands: each takes named values (never the parsed command
line), reads through `read/`, parses bindmgr's own files and returns values.
"""

from __future__ import annotations

import socket
from collections.abc import Collection, Coroutine, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bindmgr.apply.edit import apply_changes
from bindmgr.console import Console
from bindmgr.errors import UsageError
from bindmgr.ini.codepage import using
from bindmgr.ini.file import IniFile
from bindmgr.model import (
    DEFAULT_PATTERN,
    Config,
    Desired,
    DnsRecord,
    IPAddress,
    Plan,
    ProbeResult,
    sha256_bytes,
)
from bindmgr.plan.basedomain import check_domain
from bindmgr.plan.desired import parse_desired
from bindmgr.read.ansi import PlannedCodePage, choose_codepage, system_codepage
from bindmgr.read.appdir import (
    PLAN_CAP,
    App,
    load_app,
    read_layout,
    read_text,
    resolve_app_dir,
)
from bindmgr.read.config import read_config
from bindmgr.read.weblists import read_bind_list

if TYPE_CHECKING:
    from bindmgr.check.dnsanswer import Expected, Lookup
    from bindmgr.formats.plan import SavedPlan
    from bindmgr.plan.weblists import ProbeGroup

# bindings, formats.plan (JSON plans) and the check stage are imported where they are used:
# plain `inspect` and `plan` need none of them, and every module loaded at start-up adds to
# each run (bench/bench_cli.py, docs/performance.md).


@dataclass(frozen=True, slots=True)
class Where:
    """Where MDaemon's files are: --app-dir, --layout and --codepage as given (None = the
    defaults)."""

    app_dir: str | None = None
    layout: Path | None = None
    codepage: int | None = None


@dataclass(frozen=True, slots=True)
class DesiredArgs:
    """The desired state as given on the command line: inline or from a bindings file."""

    domain: str | None = None
    ips: tuple[str, ...] = ()
    bindings: Path | None = None
    pattern: str | None = None
    prune: bool = False
    new_domain: bool = False  # the base domain may be one MDaemon does not know yet


def check_base_domain(app: App, desired: Desired | None, args: DesiredArgs) -> None:
    """Refuse a base domain MDaemon's files do not know (a typo), unless --new-domain was given;
    saved plans were checked when they were made (docs/planning.md)."""
    if desired is not None and not args.new_domain:
        check_domain(app.view.config, desired)


def read_bindings(path: Path) -> Desired:
    """The desired state from a bindings file."""
    from bindmgr.plan.desired import parse_bindings  # noqa: PLC0415 (lazy, see the imports)

    text = read_text(path, "the bindings file", hint="pass an existing UTF-8 file with --bindings")
    return parse_bindings(text, str(path))


def read_saved_plan(path: Path) -> SavedPlan:
    """A plan saved by `bindmgr plan --out`."""
    from bindmgr.formats.plan import loads_plan  # noqa: PLC0415 (lazy, see the imports)

    hint = "pass the file written by 'bindmgr plan --out'"
    return loads_plan(read_text(path, "the plan", hint=hint, cap=PLAN_CAP), str(path))


def open_app(where: Where, console: Console, saved: SavedPlan | None = None) -> App:
    """The App folder named on the command line (or in a saved plan), read through the layout;
    with -v, what was read is said on stderr (`describe`)."""
    layout_path = where.layout
    if layout_path is None and saved is not None and saved.layout is not None:
        layout_path = Path(saved.layout)
    with console.timed("read"):
        layout = read_layout(layout_path)
        planned = None
        if saved is not None and saved.codepage is not None:
            planned = PlannedCodePage(saved.codepage, saved.source)
        codepage = choose_codepage(where.codepage, layout, system_codepage(), planned)
        chosen = where.app_dir or (saved.app_dir if saved is not None else None)
        app = load_app(resolve_app_dir(chosen, console.env), layout, codepage)
    describe(app, console)
    return app


def describe(app: App, console: Console) -> None:
    """-v: each file read (size, sha256 prefix, encoding), the layout, the code page and the
    layout keys that are missing; -vv also every key found, with file, section, key and line."""
    if console.verbosity < 1:
        return
    console.verbose(f"layout: {app.layout.source}")
    console.verbose(f"ANSI code page: {app.codepage.number} ({app.codepage.source})")
    for name, raw in app.data.items():
        encoding = app.files[name].encoding
        console.verbose(
            f"read {app.app_dir / name}: {len(raw)} bytes, sha256 {sha256_bytes(raw)[:12]}, "
            f"{encoding}"
        )
    for name in app.missing:
        console.verbose(f"not there: {app.app_dir / name} (optional: the layout's defaults)")
    for key in app.view.presence:
        if key.found == 0 and key.total > 0:
            console.verbose(f"layout key missing: {key.what}: {key.location}")
        elif key.total > 0:
            count = "" if key.total == 1 else f" ({key.found}/{key.total})"
            console.verbose(f"layout key found: {key.what}: {key.location}{count}", level=2)


def desired_from(args: DesiredArgs, *, required: bool = True) -> Desired | None:
    """The desired state from --bindings or --domain/--ip (None when neither and not required)."""
    if args.pattern is not None and not args.pattern:
        raise UsageError(
            "--pattern is empty",
            hint=f"give a pattern with {{n}}, e.g. --pattern {DEFAULT_PATTERN}, or leave "
            "--pattern out for that default",
        )
    inline = args.domain is not None or bool(args.ips)
    if args.bindings is not None and inline:
        raise UsageError(
            "--bindings and --domain/--ip both given", hint="use one way to name the IPs"
        )
    if args.bindings is not None:
        desired = read_bindings(args.bindings)
        if args.pattern is not None or args.prune:
            desired = replace(
                desired,
                pattern=desired.pattern if args.pattern is None else args.pattern,
                prune=args.prune or desired.prune,
            )
        return desired
    if not inline:
        if required:
            raise UsageError(
                "no desired state given",
                hint="pass --domain D --ip IP [--ip IP ...] or --bindings FILE",
            )
        return None
    if args.domain is None or not args.ips:
        raise UsageError(
            "--domain and --ip go together", hint="e.g. --domain example.com --ip 203.0.113.10"
        )
    pattern = DEFAULT_PATTERN if args.pattern is None else args.pattern
    return parse_desired(args.domain, args.ips, pattern=pattern, prune=args.prune)


def layout_sha256(app: App) -> str:
    """sha256 of the layout's text: the layout is an input of the plan like MDaemon's files."""
    text = read_text(Path(app.layout.source), "the layout", hint="pass it with --layout")
    return sha256_bytes(text.encode("utf-8"))


def plan_document(plan: Plan, app: App, checks: Sequence[ProbeResult] | None) -> dict[str, object]:
    """The saved-plan document of `plan` made here, with its digest (what `--out` writes)."""
    from bindmgr.formats.plan import plan_to_dict  # noqa: PLC0415 (lazy, see the imports)

    return plan_to_dict(
        plan,
        app_dir=str(app.app_dir.resolve()),
        layout=app.layout.source,
        checks=checks,
        host=socket.gethostname(),
        layout_sha256=layout_sha256(app),
        codepage=app.codepage.number,
    )


def _files_after(app: App, plan: Plan, names: Collection[str]) -> dict[str, IniFile]:
    """The scans of the files as `plan` leaves them: the files in `names` it changes written
    by the real writer in memory and scanned again; every other file's scan as it was read."""
    changes = [c for c in plan.changes if c.file in names]
    touched = {c.file for c in changes}
    originals = {name: data for name, data in app.originals().items() if name in touched}
    with using(app.codepage.number):  # the writer reads the files in the code page in effect
        data = apply_changes(originals, changes)
    number = app.codepage.number
    return dict(app.files) | {
        name: IniFile.from_bytes(raw, name, number) for name, raw in data.items()
    }


def config_after(app: App, plan: Plan) -> Config:
    """The configuration the files will read as once `plan` is written; the files as they are
    when the plan changes nothing."""
    if not plan.changes:
        return app.view.config
    files = _files_after(app, plan, {c.file for c in plan.changes})
    return read_config(files, app.layout, app.view.config.inputs).config


def lists_after(app: App, plan: Plan) -> Config:
    """The configuration with the web servers' bind lists as `plan` leaves them, all that a bind
    check needs of the plan's result (probe_groups): only the files holding a list that the
    plan changes are written in memory and read again, not the domain file."""
    config = app.view.config
    specs = app.layout.bind_lists
    names = {spec.file for spec in specs} & {c.file for c in plan.changes}
    if not names:
        return config
    files = _files_after(app, plan, names)
    return replace(config, bind_lists=tuple(read_bind_list(files, spec) for spec in specs))


def current_addresses(app: App) -> tuple[IPAddress, ...]:
    """What MDaemon binds now: the addresses of every domain with its bind flag on."""
    return tuple(a for d in app.view.config.all_domains() if d.bind for a in d.addresses())


def records_now(app: App) -> tuple[DnsRecord, ...]:
    """The records MDaemon's current bindings rely on: each bound domain's name (its FQDN when
    it has one) to its addresses, and the PTR of each address back to that name."""
    records: list[DnsRecord] = []
    for domain in app.view.config.all_domains():
        if not domain.bind:
            continue
        name = domain.fqdn or domain.name
        for ip in domain.addresses():
            records.append(DnsRecord(name, "A" if ip.version == 4 else "AAAA", str(ip)))
        records.extend(DnsRecord(ip.reverse_pointer, "PTR", name) for ip in domain.addresses())
    return tuple(records)


@dataclass(frozen=True, slots=True)
class DnsArgs:
    """`--dns`: which nameservers to ask (none: the system's configuration), how long to wait."""

    nameservers: tuple[str, ...] = ()
    timeout: float = 3.0
    total_timeout: float = 30.0


def dns_lookups(
    records: Sequence[DnsRecord], dns: DnsArgs
) -> tuple[Expected, Coroutine[Any, Any, tuple[Lookup, ...]]]:
    """What the records make DNS expected to say, and the coroutine that asks it."""
    from bindmgr.check import resolve  # noqa: PLC0415 (dnspython: only with --dns)
    from bindmgr.check.dnsanswer import Expected  # noqa: PLC0415

    expected = Expected.from_records(records)
    servers = [resolve.parse_nameserver(text) for text in dns.nameservers] or None
    work = resolve.resolve_all(
        expected, nameservers=servers, timeout=dns.timeout, total_timeout=dns.total_timeout
    )
    return expected, work


def probe_groups(
    ips: Sequence[IPAddress],
    app: App,
    *,
    after: Config | None = None,
    within: Sequence[IPAddress] | None = None,
) -> tuple[tuple[ProbeGroup, ...], tuple[str, ...]]:
    """What a bind check probes: `ips` x every listener, but the web listeners only where their
    bind lists in `after` (default: the files as they are) let them listen, on `within` alone
    when given; and a note for each list that narrows."""
    from bindmgr.plan.weblists import probe_groups as groups_of  # noqa: PLC0415 (lazy)

    config = app.view.config if after is None else after
    return groups_of(ips, config, within=within)


def check_work(
    groups: Sequence[ProbeGroup], app: App, *, batch_size: int, console: Console
) -> Coroutine[Any, Any, tuple[ProbeResult, ...]]:
    """The bind check of `groups` (probe_groups) as a coroutine, to run beside other network
    work in one event loop."""
    from bindmgr.check import hostinfo, probe  # noqa: PLC0415 (lazy, see the imports)

    return probe.check_groups(
        groups,
        host_addresses=hostinfo.host_addresses(),
        listener_table=hostinfo.listening_sockets,
        batch_size=batch_size,
        progress=console.progress("checking"),
    )


def run_checks(
    ips: Sequence[IPAddress],
    app: App,
    *,
    batch_size: int,
    console: Console,
    after: Config | None = None,
    within: Sequence[IPAddress] | None = None,
) -> tuple[tuple[ProbeResult, ...], tuple[str, ...]]:
    """Bind-check every IP x listener of the App folder's layout, the web listeners narrowed
    by their bind lists (probe_groups); the results and the notes on the narrowing."""
    from bindmgr.check import hostinfo, probe  # noqa: PLC0415 (lazy, see the imports)

    groups, notes = probe_groups(ips, app, after=after, within=within)
    first, *rest = groups or (((), ()),)
    with console.timed("check"):
        results = probe.run_check(
            *first,
            host_addresses=hostinfo.host_addresses(),
            listener_table=hostinfo.listening_sockets,
            batch_size=batch_size,
            progress=console.progress("checking"),
            mdaemon_dir=str(app.app_dir.resolve().parent),
            groups=rest,
        )
    return results, notes
