"""`bindmgr verify`: does MDaemon answer on every bound address as the plan says? (exit 3 if not)

Reads the greeting of every bound IP x TCP listener at once, checks that SMTP greets with the
name of the domain that owns the address, and that nothing of MDaemon's answers on an address
the plan removed. With a plan (saved or made from a desired state) the expected state is the
files as that plan writes them; without one, the files as they are.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from bindmgr.check.answer import Answer, classify, not_local, targets_for
from bindmgr.commands.inputs import (
    DesiredArgs,
    Where,
    config_after,
    desired_from,
    open_app,
    read_saved_plan,
)
from bindmgr.console import Console
from bindmgr.errors import ExitCode, UsageError
from bindmgr.model import IPAddress, Plan
from bindmgr.plan.expect import greeting_names, removed_addresses
from bindmgr.plan.planner import make_plan
from bindmgr.read.appdir import App


@dataclass(frozen=True, slots=True)
class Patience:
    """How long to wait: per connection, for the whole run, and how many connections at once."""

    timeout: float = 5.0
    total_timeout: float = 60.0
    concurrency: int = 64


def expectations(app: App, plan: Plan | None) -> tuple[dict[IPAddress, str], tuple[IPAddress, ...]]:
    """(bound address -> the name MDaemon must greet with, addresses it must not answer on)."""
    if plan is None:
        return greeting_names(app.view.config), ()
    bound = greeting_names(config_after(app, plan))
    keys = (app.layout.default_keys, app.layout.domain_keys)
    return bound, removed_addresses(plan.changes, keys, bound)


def answers(
    app: App,
    bound: dict[IPAddress, str],
    removed: Sequence[IPAddress],
    patience: Patience,
) -> tuple[Answer, ...]:
    """What MDaemon answers: only addresses of this host are connected to; a bound one that is
    not local is `not_local`, a removed one that is not local cannot answer and is left out."""
    from bindmgr.check import hostinfo  # noqa: PLC0415 (netifaces: only where it is used)
    from bindmgr.check.greeting import run_greetings  # noqa: PLC0415 (asyncio, ssl: only here)

    host = hostinfo.host_addresses()
    local_removed = [ip for ip in removed if ip in host]
    targets = targets_for(dict(bound), app.view.config.listeners, removed=local_removed)
    reachable = [t for t in targets if t.ip in host]
    greetings = iter(
        run_greetings(
            reachable,
            concurrency=patience.concurrency,
            timeout=patience.timeout,
            total_timeout=patience.total_timeout,
        )
    )
    return tuple(classify(t, next(greetings)) if t.ip in host else not_local(t) for t in targets)


def render(found: Sequence[Answer], fmt: str, *, color: bool) -> str:
    if fmt == "json":
        from bindmgr.formats.verify import dumps_verify  # noqa: PLC0415 (lazy)

        return dumps_verify(found)
    from bindmgr.report import verification  # noqa: PLC0415 (lazy)

    if fmt == "markdown":
        return verification.render_verify_markdown(found)
    return verification.render_verify_text(found, color=color)


def run(
    *,
    where: Where,
    desired: DesiredArgs,
    plan_file: Path | None,
    fmt: str,
    patience: Patience,
    console: Console,
) -> ExitCode:
    saved = read_saved_plan(plan_file) if plan_file is not None else None
    wanted = desired_from(desired, required=False)
    if saved is not None and wanted is not None:
        raise UsageError("--plan and --domain/--ip/--bindings both given", hint="use one")
    app = open_app(where, console, saved)
    plan = saved.plan if saved is not None else None
    if wanted is not None:
        plan = make_plan(app.view.config, wanted)
    bound, removed = expectations(app, plan)
    found = answers(app, bound, removed, patience)
    console.print(render(found, fmt, color=console.color))
    return ExitCode.OK if found and all(a.passed for a in found) else ExitCode.CONFLICT
