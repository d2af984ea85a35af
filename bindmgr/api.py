"""bindmgr as a Python library: inspect, plan, check, apply, verify and rollback as functions.

Each function computes what the command of its name shows, with the same function the command
calls (`commands/*`), and returns that value (`Inspection`, `Plan`, `Checked`, `Outcome`,
`Verified`, `Restored`). Nothing here prints or exits: bad input raises a `BindmgrError`
subclass (`errors`) whose `message` and `hint` say what is wrong and what to do; outcomes such
as a port in use or a conflict in the plan are data in the value returned. See docs/api.md.
"""

from __future__ import annotations

import datetime as dt
import io
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from bindmgr.apply import backup as backups
from bindmgr.commands import apply as apply_command
from bindmgr.commands import check as check_command
from bindmgr.commands import confirm, inputs
from bindmgr.commands import inspect as inspect_command
from bindmgr.commands import plan as plan_command
from bindmgr.commands import rollback as rollback_command
from bindmgr.commands import verify as verify_command
from bindmgr.commands.apply import Outcome
from bindmgr.commands.check import Checked
from bindmgr.commands.verify import Verified
from bindmgr.console import Console
from bindmgr.errors import BindmgrError, UsageError
from bindmgr.model import Plan
from bindmgr.plan.desired import parse_slot
from bindmgr.read.appdir import App, read_layout, resolve_app_dir
from bindmgr.report.inspection import Inspection

__all__ = [
    "BindmgrError",
    "Checked",
    "Inspection",
    "Outcome",
    "Plan",
    "Restored",
    "Verified",
    "apply",
    "check",
    "inspect",
    "plan",
    "rollback",
    "verify",
]

PathLike = str | os.PathLike[str]


def _console() -> Console:
    """A console that writes nowhere: the commands' notes and words are the CLI's, not ours."""
    return Console(out=io.StringIO(), err=io.StringIO(), inp=None, env={}, quiet=True)


def _where(app_dir: PathLike, layout: PathLike | None, codepage: int | None) -> inputs.Where:
    return inputs.Where(
        app_dir=os.fspath(app_dir),
        layout=None if layout is None else Path(layout),
        codepage=codepage,
    )


def _open(app_dir: PathLike, layout: PathLike | None, codepage: int | None) -> App:
    return inputs.open_app(_where(app_dir, layout, codepage), _console())


def inspect(
    app_dir: PathLike, *, layout: PathLike | None = None, codepage: int | None = None
) -> Inspection:
    """What MDaemon's files in `app_dir` say (as `bindmgr inspect`): domains, listeners, where
    each layout key was found, the host's addresses. `layout`: a layout file (default: the
    shipped one); `codepage`: the ANSI code page of the files (default as for --codepage)."""
    return inspect_command.inspection(_open(app_dir, layout, codepage))


def plan(
    app_dir: PathLike,
    *,
    domain: str,
    ips: Sequence[str],
    pattern: str | None = None,
    prune: bool = False,
    new_domain: bool = False,
    layout: PathLike | None = None,
    codepage: int | None = None,
) -> Plan:
    """The plan `bindmgr plan --domain DOMAIN --ip IP ...` makes: `ips` in order, each an
    address, `IPv4+IPv6`, a range or a block. Conflicts are in `Plan.conflicts`, not raised."""
    desired = inputs.DesiredArgs(
        domain=domain, ips=tuple(ips), pattern=pattern, prune=prune, new_domain=new_domain
    )
    wanted = inputs.desired_from(desired)
    assert wanted is not None  # required: desired_from raises when it cannot make one
    app = _open(app_dir, layout, codepage)
    inputs.check_base_domain(app, wanted, desired)
    console = _console()
    return plan_command.planned(app, wanted, check=False, batch_size=8, console=console).plan


def check(
    app_dir: PathLike,
    *,
    plan: Plan | None = None,
    ips: Sequence[str] = (),
    batch_size: int = 8,
    layout: PathLike | None = None,
    codepage: int | None = None,
) -> Checked:
    """Bind-check every listener on the addresses of `plan`, else of `ips`, else the ones
    MDaemon binds now (as `bindmgr check`). `Checked.conflicts` is what exit 3 means."""
    if plan is not None and ips:
        raise UsageError("both a plan and ips given", hint="pass one of plan= and ips=")
    if batch_size < 1:
        raise UsageError(f"batch_size must be at least 1 (got {batch_size})", hint="e.g. 8")
    addresses = tuple(a for text in ips for a in parse_slot(text).addresses())
    app = _open(app_dir, layout, codepage)
    return check_command.checked(
        app, plan=plan, ips=addresses, batch_size=batch_size, console=_console()
    )


def apply(
    plan: Plan,
    *,
    app_dir: PathLike,
    force: bool = False,
    keep: int = 10,
    backup_dir: PathLike | None = None,
    lock_timeout: float = 30.0,
    restart: bool = False,
    layout: PathLike | None = None,
    codepage: int | None = None,
) -> Outcome:
    """Write `plan` (from `plan()` on the same `app_dir`) as `bindmgr apply --yes` does: refuse a
    plan with conflicts (ConflictError), bind-check first (ConflictError unless `force`), lock,
    back up, write atomically, prove the edit; a file changed since planning is a
    StalePlanError/FileChangedError and nothing is written. `restart`: drop RESTART.SEM."""
    if keep < 1:
        raise UsageError(f"keep must be at least 1 (got {keep})", hint="e.g. keep=10")
    app = _open(app_dir, layout, codepage)
    console = _console()
    digest = str(inputs.plan_document(plan, app, None)["digest"])
    safety = apply_command.Safety(
        lock_timeout=lock_timeout,
        keep=keep,
        backup_dir=None if backup_dir is None else Path(backup_dir),
        force=force,
    )
    reload = confirm.Reload(restart=restart)
    return apply_command.write_plan(
        plan, app, digest, safety=safety, reload=reload, console=console
    )


def verify(
    app_dir: PathLike,
    *,
    plan: Plan | None = None,
    timeout: float = 5.0,
    total_timeout: float = 60.0,
    connections: int = 64,
    layout: PathLike | None = None,
    codepage: int | None = None,
) -> Verified:
    """Connect to every bound IP x TCP listener (as `bindmgr verify`): as `plan` writes the
    files, or as they are without one. `Verified.passed` is what exit 0 means."""
    if not (timeout > 0 and total_timeout > 0) or connections < 1:
        raise UsageError(
            "timeout and total_timeout must be above 0 and connections at least 1",
            hint="e.g. timeout=5, total_timeout=60, connections=64",
        )
    patience = verify_command.Patience(timeout, total_timeout, connections)
    app = _open(app_dir, layout, codepage)
    return verify_command.verified(app, plan=plan, patience=patience, console=_console())


@dataclass(frozen=True, slots=True)
class Restored:
    """What a rollback did: the backup restored, the files written (none when they already
    matched it), and the backup of the files it replaced (None when nothing was written)."""

    backup: Path
    written: tuple[str, ...]
    undo: Path | None
    restarted: bool

    @property
    def changed(self) -> bool:
        return bool(self.written)


def rollback(
    app_dir: PathLike,
    *,
    to: str | None = None,
    force: bool = False,
    backup_dir: PathLike | None = None,
    lock_timeout: float = 30.0,
    restart: bool = False,
    layout: PathLike | None = None,
) -> Restored:
    """Restore the newest completed apply's backup, or the one `to` names (as `bindmgr
    rollback`); a file changed since that apply is a FileChangedError unless `force`."""
    from bindmgr.apply.restart import drop_semaphore  # noqa: PLC0415 (only a restart needs it)

    folder = resolve_app_dir(os.fspath(app_dir), {})
    allowed = read_layout(None if layout is None else Path(layout)).file_paths()
    root = Path(backup_dir) if backup_dir is not None else backups.default_root(folder)
    now = dt.datetime.now(dt.UTC)
    chosen, result = rollback_command.restore(
        folder,
        backups.scan(root, now=now),
        to,
        root,
        allowed=allowed,
        now=now,
        force=force,
        lock_timeout=lock_timeout,
        console=_console(),
    )
    if restart and result.changed:
        drop_semaphore(folder, "RESTART.SEM")
    undo = None if result.backup is None else result.backup.path
    return Restored(chosen.path, result.written, undo, restart and result.changed)
