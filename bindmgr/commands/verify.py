"""`bindmgr verify`: does MDaemon answer on every bound address as the plan says? (exit 3 if not)

Reads the greeting of every bound IP x TCP listener at once, checks that SMTP greets with the
name of the domain that owns the address, and that nothing of MDaemon's answers on an address
the plan removed. With a plan (saved or made from a desired state) the expected state is the
files as that plan writes them; without one, the files as they are. `verified` computes it (the
API's too); `run` renders it.
"""

from __future__ import annotations

from collections.abc import Coroutine, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bindmgr.check.answer import Answer, Target, classify, not_local, targets_for
from bindmgr.commands.inputs import (
    DesiredArgs,
    DnsArgs,
    Where,
    check_base_domain,
    config_after,
    desired_from,
    dns_lookups,
    open_app,
    read_saved_plan,
    records_now,
)
from bindmgr.console import Console
from bindmgr.errors import ExitCode, UsageError
from bindmgr.model import Config, Desired, IPAddress, Plan
from bindmgr.plan.expect import greeting_names, removed_addresses
from bindmgr.plan.planner import make_plan
from bindmgr.plan.weblists import narrowed_services, narrowings
from bindmgr.read.appdir import App

if TYPE_CHECKING:
    from bindmgr.check.dnsanswer import DnsFinding, Expected, Lookup


@dataclass(frozen=True, slots=True)
class Patience:
    """How long to wait: per connection, for the whole run, and how many connections at once."""

    timeout: float = 5.0
    total_timeout: float = 60.0
    concurrency: int = 64


@dataclass(frozen=True, slots=True)
class Expectation:
    """What verify expects: bound address -> the name MDaemon must greet with, the addresses it
    must not answer on, every connection to make, and how the web bind lists narrowed them."""

    bound: dict[IPAddress, str]
    removed: tuple[IPAddress, ...]
    targets: tuple[Target, ...]
    notes: tuple[str, ...] = ()


def expectations(app: App, plan: Plan | None) -> Expectation:
    """The expectation of the files as they are (no plan) or as `plan` writes them."""
    before = app.view.config
    if plan is None:
        return _expect(before, before, greeting_names(before), ())
    after = config_after(app, plan)
    bound = greeting_names(after)
    keys = (app.layout.default_keys, app.layout.domain_keys)
    return _expect(before, after, bound, removed_addresses(plan.changes, keys, bound))


def _expect(
    before: Config, after: Config, bound: dict[IPAddress, str], removed: Sequence[IPAddress]
) -> Expectation:
    """Every listener on the bound and removed addresses, but a web listener whose bind list
    narrows it only where the list lets it listen, and on a removed address only when the list
    named it before the plan."""
    found = narrowings(after)
    narrowed = narrowed_services(found)
    plain = [lst for lst in after.listeners if lst.service not in narrowed]
    targets = list(targets_for(dict(bound), plain, removed=removed))
    gone = set(removed) - set(bound)
    earlier = {item.bind_list.name: item for item in narrowings(before)}
    for item in found:
        for ip, lst in item.pairs:
            targets += targets_for({ip: bound.get(ip)}, [lst])
        now = {(ip, lst.service, lst.port) for ip, lst in item.pairs}
        then = earlier.get(item.bind_list.name)
        for ip, lst in then.pairs if then is not None else ():
            if ip in gone and (ip, lst.service, lst.port) not in now:
                targets += targets_for({}, [lst], removed=[ip])
    return Expectation(bound, tuple(removed), tuple(targets), tuple(n.note() for n in found))


def answers(app: App, expected: Expectation, patience: Patience) -> tuple[Answer, ...]:
    """What MDaemon answers (run_with_dns, without DNS)."""
    return run_with_dns(app, expected, patience, None)[0]


def run_with_dns(
    app: App,
    expected: Expectation,
    patience: Patience,
    dns: tuple[Expected, Coroutine[Any, Any, tuple[Lookup, ...]]] | None,
) -> tuple[tuple[Answer, ...], tuple[DnsFinding, ...] | None]:
    """What MDaemon answers, and with `dns` (inputs.dns_lookups' pair) what DNS says, from one
    event loop run. Only addresses of this host are connected to: a bound one that is not local
    is `not_local`, a removed one that is not local cannot answer and is left out."""
    from bindmgr.check import hostinfo  # noqa: PLC0415 (netifaces: only where it is used)
    from bindmgr.check.greeting import read_greetings  # noqa: PLC0415 (asyncio, ssl: only here)
    from bindmgr.check.together import run_together  # noqa: PLC0415

    host = hostinfo.host_addresses()
    targets = [t for t in expected.targets if not t.removed or t.ip in host]
    reachable = [t for t in targets if t.ip in host]
    work = read_greetings(
        reachable,
        concurrency=patience.concurrency,
        timeout=patience.timeout,
        total_timeout=patience.total_timeout,
    )
    findings: tuple[DnsFinding, ...] | None = None
    if dns is None:
        (greeted,) = run_together(work)
    else:
        from bindmgr.check.dnsanswer import classify_dns  # noqa: PLC0415 (only with --dns)

        greeted, lookups = run_together(work, dns[1])
        findings = classify_dns(dns[0], lookups)
    greetings = iter(greeted)
    found = tuple(classify(t, next(greetings)) if t.ip in host else not_local(t) for t in targets)
    return found, findings


def render(
    found: Sequence[Answer],
    fmt: str,
    *,
    color: bool,
    dns: Sequence[DnsFinding] | None = None,
    notes: Sequence[str] = (),
) -> str:
    if fmt == "json":
        from bindmgr.formats.verify import dumps_verify  # noqa: PLC0415 (lazy)

        return dumps_verify(found, dns, notes)
    from bindmgr.report import dnscheck, verification  # noqa: PLC0415 (lazy)

    if fmt == "markdown":
        text = verification.render_verify_markdown(found, notes)
        return text if dns is None else text + "\n" + dnscheck.render_dns_markdown(dns)
    text = verification.render_verify_text(found, color=color, notes=notes)
    return text if dns is None else text + "\n" + dnscheck.render_dns_text(dns)


@dataclass(frozen=True, slots=True)
class Verified:
    """What MDaemon answered on every target and, with --dns, what DNS said."""

    answers: tuple[Answer, ...]
    dns: tuple[DnsFinding, ...] | None = None
    notes: tuple[str, ...] = ()  # how the web bind lists narrowed the targets

    @property
    def passed(self) -> bool:
        dns_ok = self.dns is None or not any(f.is_failure for f in self.dns)
        return bool(self.answers) and all(a.passed for a in self.answers) and dns_ok


def verified(
    app: App,
    *,
    plan: Plan | None = None,
    wanted: Desired | None = None,
    patience: Patience = Patience(),
    console: Console,
    dns: DnsArgs | None = None,
) -> Verified:
    """Connect to every bound IP x TCP listener as `plan` (or the plan made for `wanted`)
    writes the files, or as they are without either."""
    if wanted is not None:
        with console.timed("plan"):
            plan = make_plan(app.view.config, wanted)
    expected = expectations(app, plan)
    lookups = None
    if dns is not None:
        lookups = dns_lookups(plan.dns if plan is not None else records_now(app), dns)
    with console.timed("verify"):
        found, findings = run_with_dns(app, expected, patience, lookups)
    return Verified(found, findings, expected.notes)


def run(
    *,
    where: Where,
    desired: DesiredArgs,
    plan_file: Path | None,
    fmt: str,
    patience: Patience,
    console: Console,
    dns: DnsArgs | None = None,
) -> ExitCode:
    saved = read_saved_plan(plan_file) if plan_file is not None else None
    wanted = desired_from(desired, required=False)
    if saved is not None and wanted is not None:
        raise UsageError("--plan and --domain/--ip/--bindings both given", hint="use one")
    app = open_app(where, console, saved)
    check_base_domain(app, wanted, desired)
    plan = saved.plan if saved is not None else None
    found = verified(app, plan=plan, wanted=wanted, patience=patience, console=console, dns=dns)
    text = render(found.answers, fmt, color=console.color, dns=found.dns, notes=found.notes)
    console.output(text, fmt)
    return ExitCode.OK if found.passed else ExitCode.CONFLICT
