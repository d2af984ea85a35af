"""The commands `apply` and `rollback`: stale check, bind check, safe write, reload, confirm.

Composes the planner, the bind check and the transaction; every file write goes through
`transaction` (lock, backup, atomic replace, verify). Semaphore files are MDaemon's reload API.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable, Sequence
from pathlib import Path

from bindmgr.apply import backup as backups
from bindmgr.apply import transaction
from bindmgr.apply.edit import apply_changes
from bindmgr.apply.proof import verify_edit
from bindmgr.apply.restart import drop_semaphore, wait_for_restart
from bindmgr.commands import (
    desired_from_args,
    open_app,
    read_saved_plan,
    run_checks,
)
from bindmgr.console import Console, hangups
from bindmgr.errors import (
    BindmgrError,
    ConflictError,
    ExitCode,
    InputError,
    RevertedError,
    StalePlanError,
    UsageError,
)
from bindmgr.model import Change, Plan, ProbeStatus, sha256_bytes
from bindmgr.plan.planner import make_plan
from bindmgr.read.appdir import App, resolve_app_dir
from bindmgr.report.text import render_check_text, render_plan_text


def stale_details(plan: Plan, app: App) -> list[str]:
    """For each input file whose bytes changed since the plan: the file and the keys that moved."""
    now = {name: sha256_bytes(raw) for name, raw in app.data.items()}
    lines = []
    for entry in plan.inputs:
        if now.get(entry.name, "") == entry.sha256:
            continue
        moved = []
        ini = app.files.get(entry.name)
        for change in plan.changes:
            if change.file != entry.name or change.key is None or ini is None:
                continue
            current = ini.get(change.section, change.key)
            if current != change.old:
                moved.append(
                    f"[{change.section}] {change.key} was {change.old!r} when planned, "
                    f"now {current!r}"
                )
        detail = "; ".join(moved) if moved else "the keys the plan changes are as planned"
        lines.append(f"{app.app_dir / entry.name} changed since the plan ({detail})")
    return lines


def _changes_for(plan: Plan, name: str) -> list[Change]:
    return [c for c in plan.changes if c.file == name]


def _plan_for_apply(args: argparse.Namespace, console: Console) -> tuple[Plan, App]:
    saved = read_saved_plan(args.plan_file) if args.plan_file is not None else None
    desired = desired_from_args(args, required=False)
    if saved is not None and desired is not None:
        raise UsageError("a plan file and --domain/--ip/--bindings both given", hint="use one")
    if saved is None and desired is None:
        raise UsageError(
            "nothing to apply",
            hint="pass a saved plan (bindmgr apply PLAN.json), or --domain D --ip IP ... "
            "or --bindings FILE to plan and apply in one go",
        )
    app = open_app(args, console, saved)
    if saved is not None:
        stale = stale_details(saved.plan, app)
        if stale:
            raise StalePlanError(
                "the plan is stale, nothing was written:\n  " + "\n  ".join(stale),
                hint=f"make a new plan (bindmgr plan ... --out {args.plan_file}) and review it",
            )
        return saved.plan, app
    assert desired is not None
    plan = make_plan(app.view.config, desired)
    console.print(render_plan_text(plan, color=console.color))
    if plan.has_changes and not plan.conflicts and not args.yes:
        if not console.interactive:
            raise UsageError(
                "not applying without confirmation: there is no terminal to ask on",
                hint="review the plan above, then rerun with --yes",
            )
        if not console.ask("Apply these changes?"):
            raise InputError("not applied: the plan was not confirmed", hint="nothing was written")
    return plan, app


def _check_first(plan: Plan, app: App, args: argparse.Namespace, console: Console) -> None:
    results = run_checks(plan.desired.addresses(), app, args, console)
    conflicts = [r for r in results if r.status.is_conflict]
    if any(r.status is ProbeStatus.HELD_BY_MDAEMON for r in results):
        console.note("some ports are held by MDaemon itself: it rebinds them when it restarts")
    if not conflicts:
        return
    console.print(render_check_text(conflicts, color=console.color))
    if not args.force:
        raise ConflictError(
            f"{len(conflicts)} listener(s) cannot bind on the planned addresses; nothing written",
            hint="free them (see above) and rerun, or pass --force to write the files anyway",
        )
    console.note(f"--force: writing despite {len(conflicts)} bind conflict(s)")


def cmd_apply(args: argparse.Namespace, console: Console) -> ExitCode:
    if args.confirm_within is not None and not console.interactive:
        raise UsageError(
            "--confirm-within needs a terminal to confirm on",
            hint="run it interactively, or drop --confirm-within",
        )
    plan, app = _plan_for_apply(args, console)
    if plan.conflicts:
        raise ConflictError(
            "the plan has conflicts, nothing written: "
            + "; ".join(f"{c.subject}: {c.message}" for c in plan.conflicts),
            hint="resolve them and make a new plan",
        )
    if not plan.has_changes:
        console.print("MDaemon's files already match the plan: nothing to do.")
        return ExitCode.OK
    _check_first(plan, app, args, console)
    if (app.app_dir / "LOCKSEMS.SEM").exists():
        console.note(
            "warning: LOCKSEMS.SEM is present, so MDaemon is not acting on semaphore files "
            "(RESTART.SEM waits until it is removed)"
        )
    originals = app.originals()
    new = apply_changes(originals, plan.changes)
    for name, data in new.items():  # prove the edit before anything touches the disk
        verify_edit(name, originals[name], data, _changes_for(plan, name))

    def verify(name: str, data: bytes) -> None:
        verify_edit(name, originals[name], data, _changes_for(plan, name))

    expected = dict.fromkeys(new, "") | {f.name: f.sha256 for f in plan.inputs}
    result = transaction.commit(
        app.app_dir,
        new,
        expected=expected,
        verify=verify,
        keep=args.keep,
        lock_timeout=args.lock_timeout,
        backup_root=args.backup_dir,
        meta={
            "changes": len(plan.changes),
            "addresses": [str(a) for a in plan.desired.addresses()],
        },
        on_message=console.note,
    )
    if not result.changed or result.backup is None:
        console.print("MDaemon's files already match the plan: nothing to do.")
        return ExitCode.OK
    console.print(
        f"Applied {len(plan.changes)} change(s) to {', '.join(result.written)}.\n"
        f"Backup: {result.backup.path} (undo with: bindmgr rollback --app-dir {app.app_dir})"
    )
    if args.confirm_within is None:
        _reload(args, app, console, plan)
    else:
        _confirm_or_revert(args, app, console, plan, result.backup)
    return ExitCode.OK


def _reload(args: argparse.Namespace, app: App, console: Console, plan: Plan) -> None:
    if not (args.restart or args.wait_restart):
        console.print(
            "MDaemon must restart before it listens on the new addresses: rerun with --restart "
            "(drops RESTART.SEM) or restart the MDaemon service."
        )
        return
    drop_semaphore(app.app_dir, "RESTART.SEM")
    console.print(f"Dropped RESTART.SEM in {app.app_dir}: MDaemon restarts when it sees it.")
    if args.wait_restart:
        listeners = app.view.config.listeners
        wait_for_restart(
            app.app_dir,
            plan.desired.addresses(),
            listeners,
            timeout=args.restart_timeout,
            on_message=console.note,
        )
        console.print("MDaemon is back and listening on the planned addresses.")


def _confirm_or_revert(
    args: argparse.Namespace, app: App, console: Console, plan: Plan, applied: backups.Backup
) -> None:
    """From the write to the answer, anything but "yes" in time reverts: no, silence, ^C, a hung-up
    terminal, SIGTERM, or MDaemon not coming back on the new bindings (--wait-restart)."""
    seconds = args.confirm_within
    reason = f"not confirmed within {seconds:g} s"
    keep = False
    try:
        with hangups("interrupt"):
            _reload(args, app, console, plan)
            keep = console.ask(
                f"Keep the new bindings? They are reverted in {seconds:g} s unless you answer yes.",
                timeout=seconds,
            )
    except KeyboardInterrupt:  # ^C, SIGHUP, SIGTERM: unconfirmed bindings must not stay
        console.print()
        reason = "interrupted before it was confirmed"
    except BindmgrError as exc:  # --wait-restart gave up: nothing to confirm
        console.error(exc.message, None)
        reason = "MDaemon did not come back on the new bindings"
    if keep:
        console.print("Confirmed: the new bindings stay.")
        return
    console.note(f"{reason}: restoring the previous files")
    with hangups("ignore"):
        _revert(args, app, console, applied, reason)
    raise RevertedError(
        f"{reason}: the previous files are back from {applied.path}",
        hint="MDaemon restarts on the old bindings"
        if args.restart or args.wait_restart
        else "restart MDaemon if it already picked up the new bindings",
    )


def _revert(
    args: argparse.Namespace, app: App, console: Console, applied: backups.Backup, reason: str
) -> None:
    try:
        transaction.restore(
            app.app_dir,
            applied,
            lock_timeout=args.lock_timeout,
            backup_root=args.backup_dir,
            on_message=console.note,
            command="bindmgr apply (revert)",
        )
    except StalePlanError as exc:  # a file changed since the apply (MDaemon may rewrite its INI)
        where = "" if args.backup_dir is None else f" --backup-dir {args.backup_dir}"
        raise BindmgrError(
            f"{reason}, but the previous files could not be restored: "
            f"{exc.message}; the new bindings stay",
            hint=f"look at that change, then run 'bindmgr rollback --app-dir {app.app_dir} "
            f"--to {applied.path.name}{where} --force' to restore the files anyway",
        ) from exc
    if args.restart or args.wait_restart:
        drop_semaphore(app.app_dir, "RESTART.SEM")


def _pick(found: Sequence[backups.Backup], name: str | None, root: Path) -> backups.Backup:
    if name is not None:
        for b in found:
            if name in (b.path.name, str(b.path)):
                return b
        raise InputError(
            f"no backup named {name} in {root}",
            hint="list them with 'bindmgr rollback --list'",
        )
    for b in found:
        if b.kind == "apply" and b.state == backups.WRITTEN:
            return b
    raise InputError(
        f"no completed apply to roll back in {root}",
        hint="name a backup with --to (see 'bindmgr rollback --list')",
    )


def _list(found: Sequence[backups.Backup], root: Path, show: Callable[[str], None]) -> None:
    if not found:
        show(f"No backups in {root}.")
        return
    show(f"Backups in {root} (newest first):")
    for b in found:
        files = ", ".join(f.name for f in b.files)
        show(f"  {b.path.name}  {b.kind:<7} {b.state:<9} {files}")


def cmd_rollback(args: argparse.Namespace, console: Console) -> ExitCode:
    app_dir = resolve_app_dir(args.app_dir, console.env)
    root = args.backup_dir or backups.default_root(app_dir)
    found = backups.list_backups(root)
    if args.list:
        _list(found, root, console.print)
        return ExitCode.OK
    chosen = _pick(found, args.to, root)
    result = transaction.restore(
        app_dir,
        chosen,
        force=args.force,
        lock_timeout=args.lock_timeout,
        backup_root=root,
        on_message=console.note,
    )
    if not result.changed:
        console.print(f"The files already match {chosen.path.name}: nothing to restore.")
        return ExitCode.OK
    undo = "" if result.backup is None else f" (undo with: --to {result.backup.path.name})"
    console.print(f"Restored {', '.join(result.written)} from {chosen.path.name}{undo}.")
    if args.restart:
        drop_semaphore(app_dir, "RESTART.SEM")
        console.print(f"Dropped RESTART.SEM in {app_dir}: MDaemon restarts when it sees it.")
    else:
        console.print("Restart MDaemon (or rerun with --restart) to listen as before.")
    return ExitCode.OK
