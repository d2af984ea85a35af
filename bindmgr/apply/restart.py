"""MDaemon's reload API: semaphore files in the App folder, and waiting for MDaemon to take them.

MDaemon scans \\App\\ for *.SEM files, acts on them and deletes them; it deletes WATCHDOG.SEM every
10-20 s while it runs. This module drops semaphores and watches them; it never edits INI files.
Whether MDaemon then answers as planned is `bindmgr verify`'s question (commands/verify.py).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

from bindmgr.errors import BindmgrError, InputError

KNOWN_SEMAPHORES = frozenset({"RESTART.SEM", "RELOADCACHE.SEM", "MINGER.SEM", "RESTARTWC.SEM"})
WATCHDOG_STALE = 20.0  # seconds: a WATCHDOG.SEM older than this means MDaemon is not running


def drop_semaphore(app_dir: Path, name: str) -> Path:
    """Create an empty semaphore file for MDaemon to act on (it deletes the file itself)."""
    if name not in KNOWN_SEMAPHORES:
        raise InputError(f"{name} is not a semaphore bindmgr drops")
    path = app_dir / name
    try:
        path.touch(exist_ok=True)
    except OSError as exc:
        raise BindmgrError(
            f"cannot create {path}: {exc.strerror}; the files are written but MDaemon was not "
            "told to restart",
            hint="restart the MDaemon service by hand",
        ) from exc
    return path


def wait_for_semaphore(
    app_dir: Path,
    name: str,
    *,
    timeout: float,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
    interval: float = 0.1,
) -> None:
    """Wait until MDaemon took (deleted) the semaphore `name`; BindmgrError after `timeout`
    seconds, saying why it may not have (LOCKSEMS.SEM, a stale WATCHDOG.SEM)."""
    semaphore = app_dir / name
    deadline = clock() + timeout
    while semaphore.exists():
        if clock() >= deadline:
            why = f"{name} is still there: MDaemon did not act on it"
            if (app_dir / "LOCKSEMS.SEM").exists():
                why += " (LOCKSEMS.SEM suspends semaphore processing)"
            elif _watchdog_stale(app_dir):
                why += " (WATCHDOG.SEM is stale: MDaemon does not seem to be running)"
            raise BindmgrError(
                f"MDaemon did not come back within {timeout:g} s: {why}; the new files are in "
                "place",
                hint="check MDaemon's log and the Windows event log (event 503), or undo with "
                "'bindmgr rollback'",
            )
        sleep(interval)


def _watchdog_stale(app_dir: Path) -> bool:
    try:
        age = time.time() - (app_dir / "WATCHDOG.SEM").stat().st_mtime
    except OSError:
        return False
    return age > WATCHDOG_STALE
