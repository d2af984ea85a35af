"""The `bindmgr rollback --format json` documents: the backups (`--list`) and what a rollback did.

Values in, dicts out; no file I/O (the command reads the backups and passes what they say). The
words are apply's: `written`/`unchanged` name files as its document does, `backup` is the backup
that undoes this run, a backup's `id` is what `--to` takes.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

ROLLBACK_FORMAT_VERSION = 1
BACKUPS_FORMAT_VERSION = 1
# A manifest's states, as the document spells them (underscores, like every other status).
STATES = {"backed-up": "backed_up", "written": "written", "reverted": "reverted"}


@dataclass(frozen=True, slots=True)
class Listed:
    """One complete backup as `rollback --list` shows it."""

    id: str  # the folder's name: what `--to` takes
    path: str
    created: dt.datetime  # UTC
    kind: str  # "apply" or "restore"
    state: str  # the manifest's: "backed-up", "written" or "reverted"
    files: tuple[str, ...]  # names relative to the App folder
    restores: str | None = None  # a restore's backup: the id of the backup it restored
    latest: bool = False  # the one a plain `bindmgr rollback` restores
    notes: tuple[str, ...] = ()  # why a plain rollback would not pick it, what it refuses


def timestamp(moment: dt.datetime) -> str:
    """ISO 8601 UTC to the second, as a plan's `created`: 2026-01-02T03:04:05Z."""
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _listed(b: Listed) -> dict[str, object]:
    return {
        "id": b.id,
        "path": b.path,
        "created": timestamp(b.created),
        "kind": b.kind,
        "state": STATES.get(b.state, b.state),
        "files": list(b.files),
        "restores": b.restores,
        "latest": b.latest,
        "notes": list(b.notes),
    }


def backups_document(
    backup_dir: str,
    backups: Sequence[Listed],
    *,
    damaged: Sequence[str] = (),
    problem: str | None = None,
) -> dict[str, object]:
    """`rollback --list`: newest first (future-dated ones last), then the folders that cannot be
    read; `problem`: why rollback refuses every backup in `backup_dir` (null: it does not)."""
    return {
        "format_version": BACKUPS_FORMAT_VERSION,
        "backup_dir": backup_dir,
        "problem": problem,
        "backups": [_listed(b) for b in backups],
        "damaged": [{"message": why} for why in damaged],
    }


def rollback_document(
    *,
    restored_from: str,
    restored_from_path: str,
    written: Sequence[str],
    unchanged: Sequence[str],
    backup: str | None,
    backup_path: str | None,
    restarted: bool,
) -> dict[str, object]:
    """What a rollback did: `written` files were put back from `restored_from`; `backup` (null
    when nothing was written) holds the files as they were before, to undo it with `--to`."""
    return {
        "format_version": ROLLBACK_FORMAT_VERSION,
        "changed": bool(written),
        "restored_from": restored_from,
        "restored_from_path": restored_from_path,
        "written": list(written),
        "unchanged": list(unchanged),
        "backup": backup,
        "backup_path": backup_path,
        "restarted": restarted,
    }
