"""After `apply` wrote the files: reload MDaemon, wait until it answers as planned, confirm.

`reload_after` drops RESTART.SEM, and with --wait-restart or --confirm-within waits until
`bindmgr verify` passes; `confirm_or_revert` asks on the terminal and restores the backup on
anything but "yes" in time.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

from bindmgr.apply import backup as backups
from bindmgr.apply import transaction
from bindmgr.apply.restart import drop_semaphore, wait_for_semaphore
from bindmgr.check.answer import Answer
from bindmgr.commands import verify
from bindmgr.console import Console, Reply, hangups
from bindmgr.errors import BindmgrError, FileChangedError, RevertedError
from bindmgr.model import Plan
from bindmgr.read.appdir import App
from bindmgr.report.verification import render_verify_text


@dataclass(frozen=True, slots=True)
class Reload:
    """What happens after the write: RESTART.SEM, waiting for MDaemon, a timed confirmation."""

    restart: bool = False
    wait: bool = False
    timeout: float = 120.0
    confirm_within: float | None = None

    @property
    def restarts(self) -> bool:
        return self.restart or self.wait


def reload_after(reload: Reload, app: App, console: Console, plan: Plan) -> None:
    if not reload.restarts:
        console.print(
            "MDaemon must restart before it listens on the new addresses: rerun with --restart "
            "(drops RESTART.SEM) or restart the MDaemon service."
        )
        return
    drop_semaphore(app.app_dir, "RESTART.SEM")
    console.print(f"Dropped RESTART.SEM in {app.app_dir}: MDaemon restarts when it sees it.")
    if reload.wait or reload.confirm_within is not None:
        found = _wait_until_verified(reload, app, console, plan)
        console.print(render_verify_text(found, color=console.color).rstrip("\n"))


def _wait_until_verified(
    reload: Reload, app: App, console: Console, plan: Plan
) -> tuple[Answer, ...]:
    """After RESTART.SEM: wait until MDaemon took it, then until `bindmgr verify` passes (every
    bound address answers as planned, no removed one does), or `reload.timeout` runs out."""
    clock = time.monotonic
    deadline = clock() + reload.timeout
    wait_for_semaphore(app.app_dir, "RESTART.SEM", timeout=reload.timeout)
    console.note("MDaemon took RESTART.SEM; waiting until it answers as planned (bindmgr verify)")
    expected = verify.expectations(app, plan)
    while True:
        left = max(deadline - clock(), 0.1)
        patience = verify.Patience(timeout=min(5.0, left), total_timeout=left)
        found = verify.answers(app, expected, patience)
        failed = [a for a in found if not a.passed]
        if not failed:
            return found
        if clock() + 1.0 >= deadline:
            break
        time.sleep(1.0)
    shown = "; ".join(f"{a.target.address} {a.target.label}: {a.status.value}" for a in failed[:5])
    more = f" (and {len(failed) - 5} more)" if len(failed) > 5 else ""
    raise BindmgrError(
        f"MDaemon did not come back within {reload.timeout:g} s as planned: {shown}{more}; the "
        "new files are in place",
        hint="run 'bindmgr verify' to see every answer; check MDaemon's log and the Windows "
        "event log (event 503), or undo with 'bindmgr rollback'",
    )


def confirm_or_revert(
    reload: Reload,
    lock_timeout: float,
    backup_dir: Path | None,
    *,
    app: App,
    console: Console,
    plan: Plan,
    applied: backups.Backup,
) -> None:
    """From the write to the answer, anything but "yes" in time reverts: no, silence, ^C, a hung-up
    terminal, SIGTERM, or MDaemon not coming back on the new bindings (--wait-restart)."""
    seconds = reload.confirm_within
    assert seconds is not None
    reason = f"not confirmed within {seconds:g} s"
    keep = False
    try:
        with hangups("interrupt"):
            reload_after(reload, app, console, plan)
            until = time.strftime("%H:%M:%S", time.localtime(time.time() + seconds))
            answer = console.reply(
                f"Keep the new bindings? They are reverted in {seconds:g} s (at {until}) unless "
                "you answer yes.",
                timeout=seconds,
            )
            keep = answer is Reply.YES
            if answer is Reply.NO:
                reason = "declined"
    except KeyboardInterrupt:  # ^C, SIGHUP, SIGTERM: unconfirmed bindings must not stay
        console.print()
        reason = "interrupted before it was confirmed"
    except BindmgrError as exc:  # MDaemon did not answer as planned: nothing to confirm
        console.error(exc.message, None)
        reason = "MDaemon did not come back on the new bindings"
    if keep:
        console.print("Confirmed: the new bindings stay.")
        return
    console.note(f"{reason}: restoring the previous files")
    with hangups("ignore"):
        _revert(
            reload,
            lock_timeout=lock_timeout,
            backup_dir=backup_dir,
            app=app,
            console=console,
            applied=applied,
            reason=reason,
        )
    raise RevertedError(
        f"{reason}: the previous files are back from {applied.path}",
        hint="MDaemon restarts on the old bindings"
        if reload.restarts
        else "restart MDaemon if it already picked up the new bindings",
    )


def _revert(
    reload: Reload,
    lock_timeout: float,
    backup_dir: Path | None,
    *,
    app: App,
    console: Console,
    applied: backups.Backup,
    reason: str,
) -> None:
    try:
        transaction.restore(
            app.app_dir,
            applied,
            allowed=app.layout.file_paths(),
            lock_timeout=lock_timeout,
            backup_root=backup_dir,
            on_message=console.note,
            command="bindmgr apply (revert)",
        )
    except FileChangedError as exc:  # a file changed since the apply (MDaemon may rewrite it)
        where = "" if backup_dir is None else f" --backup-dir {backup_dir}"
        raise BindmgrError(
            f"{reason}, but the previous files could not be restored: "
            f"{exc.message}; the new bindings stay",
            hint=f"look at that change, then run 'bindmgr rollback --app-dir {app.app_dir} "
            f"--to {applied.path.name}{where} --force' to restore the files anyway",
        ) from exc
    try:  # `rollback --list` shows this apply as reverted, and plain `rollback` skips it
        backups.mark(applied, backups.REVERTED)
    except OSError as exc:
        console.note(f"could not mark {applied.path} as reverted: {exc}")
    if reload.restarts:
        drop_semaphore(app.app_dir, "RESTART.SEM")
