"""`bindmgr rollback`: restore MDaemon's files from a bindmgr backup, or list the backups.

Reads the layout as apply does (`--layout`): a rollback writes only files the layout names. It
does not read the App folder's INI files (they may be what is broken). With `--format json` the
listing or the result is one document on stdout (formats/rollback) and the words go to stderr.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Collection, Sequence
from dataclasses import replace
from pathlib import Path

from bindmgr.apply import backup as backups
from bindmgr.apply import transaction, trust
from bindmgr.apply.restart import drop_semaphore
from bindmgr.commands.inputs import Where
from bindmgr.console import Console
from bindmgr.errors import ExitCode, InputError
from bindmgr.formats.jsondoc import dumps_json
from bindmgr.read.appdir import read_layout, resolve_app_dir

Listing = Sequence[tuple[backups.Backup | None, str | None]]


def _doubts(b: backups.Backup, allowed: Collection[str], now: dt.datetime) -> list[str]:
    """Why a plain rollback would not pick `b` although it is complete (empty: it would)."""
    doubts = []
    if b.in_future(now):
        doubts.append(
            f"dated in the future ({b.created:%Y-%m-%d %H:%M:%S} UTC): listed last, a plain "
            "rollback does not pick it (name it with --to)"
        )
    problem = trust.folder_problem(b.path)
    if problem is not None:
        doubts.append(f"refused: {problem}")
    strays = [f.name for f in b.files if f.name not in allowed]
    if strays:
        doubts.append(f"refused: names {', '.join(strays)}, not files of the layout")
    return doubts


def _plain(
    complete: Sequence[backups.Backup], allowed: Collection[str], now: dt.datetime
) -> tuple[backups.Backup | None, list[tuple[backups.Backup, list[str]]]]:
    """The backup a plain rollback restores (None: none), and the completed applies it passes
    over, each with why."""
    picked = None
    skipped = []
    for b in complete:  # future-dated ones come last, but by date they would be the newest
        if b.kind != "apply" or b.state != backups.WRITTEN:
            continue
        doubts = _doubts(b, allowed, now)
        if doubts and (picked is None or b.in_future(now)):
            skipped.append((b, doubts))
        elif not doubts and picked is None:
            picked = b
    return picked, skipped


def _pick(
    found: Listing,
    name: str | None,
    root: Path,
    *,
    allowed: Collection[str],
    now: dt.datetime,
    note: Callable[[str], None],
) -> backups.Backup:
    complete = [b for b, _why in found if b is not None]
    if name is not None:
        for b in complete:
            if name in (b.path.name, str(b.path)):
                return b
        damaged = [why for b, why in found if b is None and why and name in why]
        raise InputError(
            f"no backup named {name} in {root}" + (f" ({damaged[0]})" if damaged else ""),
            hint="list them with 'bindmgr rollback --list'",
        )
    picked, skipped = _plain(complete, allowed, now)
    for b, doubts in skipped:
        note(f"skipped backup {b.path.name}: {'; '.join(doubts)}")
    if picked is not None:
        return picked
    raise InputError(
        f"no completed apply to roll back in {root}",
        hint="name a backup with --to (see 'bindmgr rollback --list')",
    )


def _list(
    found: Listing,
    root: Path,
    allowed: Collection[str],
    now: dt.datetime,
    show: Callable[[str], None],
) -> None:
    if not found:
        show(f"No backups in {root}.")
        return
    show(f"Backups in {root} (newest first):")
    problem = trust.folder_problem(root)
    if problem is not None:
        show(f"  warning: {problem}: rollback refuses every backup here")
    for b, why in found:
        if b is None:
            show(f"  damaged: {why}")
            continue
        files = ", ".join(f.name for f in b.files)
        show(f"  {b.path.name}  {b.kind:<7} {b.state:<9} {files}")
        for doubt in _doubts(b, allowed, now):
            show(f"      {doubt}")


def restore(
    folder: Path,
    found: Listing,
    to: str | None,
    root: Path,
    *,
    allowed: Collection[str],
    now: dt.datetime,
    force: bool,
    lock_timeout: float,
    console: Console,
) -> tuple[backups.Backup, transaction.CommitResult]:
    """Restore the backup `to` names (default: the newest completed apply) from `found`, the
    backups in `root` (the API's rollback too): (the backup restored, what was written)."""
    trust.check_folder(root)
    chosen = _pick(found, to, root, allowed=allowed, now=now, note=console.note)
    with console.timed("write"):
        result = transaction.restore(
            folder,
            chosen,
            allowed=allowed,
            force=force,
            lock_timeout=lock_timeout,
            backup_root=root,
            on_message=console.note,
        )
    return chosen, result


def _restores(b: backups.Backup) -> str | None:
    """A restore's backup: the name of the backup that rollback restored (its manifest's meta)."""
    restored = b.meta.get("restores") if b.kind == "restore" else None
    return None if restored is None else str(restored)


def _list_document(
    found: Listing, root: Path, allowed: Collection[str], now: dt.datetime
) -> dict[str, object]:
    from bindmgr.formats.rollback import Listed, backups_document  # noqa: PLC0415 (json only)

    complete = [b for b, _why in found if b is not None]
    picked, _skipped = _plain(complete, allowed, now)
    listed = [
        Listed(
            id=b.path.name,
            path=str(b.path),
            created=b.created,
            kind=b.kind,
            state=b.state,
            files=tuple(f.name for f in b.files),
            restores=_restores(b),
            latest=b is picked,
            notes=tuple(_doubts(b, allowed, now)),
        )
        for b in complete
    ]
    problem = trust.folder_problem(root)
    return backups_document(
        str(root),
        listed,
        damaged=[why for b, why in found if b is None and why],
        problem=None if problem is None else f"{problem}: rollback refuses every backup here",
    )


def run(
    *,
    where: Where,
    to: str | None,
    list_only: bool,
    force: bool,
    lock_timeout: float,
    backup_dir: Path | None,
    restart: bool,
    console: Console,
    fmt: str = "text",
) -> ExitCode:
    """List the backups or restore one, and say so: in text, or (`fmt="json"`) as one document
    on stdout with the words going to stderr."""
    folder = resolve_app_dir(where.app_dir, console.env)
    allowed = read_layout(where.layout).file_paths()
    root = backup_dir or backups.default_root(folder)
    now = dt.datetime.now(dt.UTC)
    found = backups.scan(root, now=now)
    if list_only:
        if fmt == "json":
            console.document(dumps_json(_list_document(found, root, allowed, now)))
        else:
            _list(found, root, allowed, now, console.print)
        return ExitCode.OK
    talk = console if fmt != "json" else replace(console, out=console.err)
    chosen, result = restore(
        folder,
        found,
        to,
        root,
        allowed=allowed,
        now=now,
        force=force,
        lock_timeout=lock_timeout,
        console=talk,
    )
    restarted = _said(result, chosen, folder, restart=restart, console=talk)
    if fmt == "json":
        from bindmgr.formats.rollback import rollback_document  # noqa: PLC0415 (json only)

        made = result.backup
        document = rollback_document(
            restored_from=chosen.path.name,
            restored_from_path=str(chosen.path),
            written=result.written,
            unchanged=result.unchanged,
            backup=None if made is None else made.path.name,
            backup_path=None if made is None else str(made.path),
            restarted=restarted,
        )
        console.document(dumps_json(document))
    return ExitCode.OK


def _said(
    result: transaction.CommitResult,
    chosen: backups.Backup,
    folder: Path,
    *,
    restart: bool,
    console: Console,
) -> bool:
    """Say what the restore did and drop RESTART.SEM when asked; True when it was dropped."""
    if not result.changed:
        console.print(f"The files already match {chosen.path.name}: nothing to restore.")
        return False
    undo = "" if result.backup is None else f" (undo with: --to {result.backup.path.name})"
    console.print(f"Restored {', '.join(result.written)} from {chosen.path.name}{undo}.")
    if restart:
        drop_semaphore(folder, "RESTART.SEM")
        console.print(f"Dropped RESTART.SEM in {folder}: MDaemon restarts when it sees it.")
        return True
    console.print("Restart MDaemon (or rerun with --restart) to listen as before.")
    return False
