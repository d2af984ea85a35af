"""`bindmgr rollback`: restore MDaemon's files from a bindmgr backup, or list the backups."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

from bindmgr.apply import backup as backups
from bindmgr.apply import transaction
from bindmgr.apply.restart import drop_semaphore
from bindmgr.console import Console
from bindmgr.errors import ExitCode, InputError
from bindmgr.read.appdir import resolve_app_dir


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


def run(
    *,
    app_dir: str | None,
    to: str | None,
    list_only: bool,
    force: bool,
    lock_timeout: float,
    backup_dir: Path | None,
    restart: bool,
    console: Console,
) -> ExitCode:
    folder = resolve_app_dir(app_dir, console.env)
    root = backup_dir or backups.default_root(folder)
    found = backups.list_backups(root)
    if list_only:
        _list(found, root, console.print)
        return ExitCode.OK
    chosen = _pick(found, to, root)
    result = transaction.restore(
        folder,
        chosen,
        force=force,
        lock_timeout=lock_timeout,
        backup_root=root,
        on_message=console.note,
    )
    if not result.changed:
        console.print(f"The files already match {chosen.path.name}: nothing to restore.")
        return ExitCode.OK
    undo = "" if result.backup is None else f" (undo with: --to {result.backup.path.name})"
    console.print(f"Restored {', '.join(result.written)} from {chosen.path.name}{undo}.")
    if restart:
        drop_semaphore(folder, "RESTART.SEM")
        console.print(f"Dropped RESTART.SEM in {folder}: MDaemon restarts when it sees it.")
    else:
        console.print("Restart MDaemon (or rerun with --restart) to listen as before.")
    return ExitCode.OK
