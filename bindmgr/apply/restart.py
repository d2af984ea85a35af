"""MDaemon's reload API: semaphore files in the App folder, and waiting for it to come back.

MDaemon scans \\App\\ for *.SEM files, acts on them and deletes them; it deletes WATCHDOG.SEM every
10-20 s while it runs. This module drops semaphores and watches them; it never edits INI files.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from pathlib import Path

from bindmgr.check import hostinfo
from bindmgr.errors import BindmgrError, InputError
from bindmgr.model import IPAddress, Listener, ListeningSocket, Proto

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


def wait_for_restart(
    app_dir: Path,
    addresses: Sequence[IPAddress],
    listeners: Sequence[Listener],
    *,
    timeout: float,
    on_message: Callable[[str], None],
    listener_table: Callable[[], Sequence[ListeningSocket]] = hostinfo.listening_sockets,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
    interval: float = 0.5,
) -> None:
    """Wait until MDaemon took RESTART.SEM and listens again on every planned address.

    "Listens again" = the first TCP listener's port is in LISTEN on each address (or on the
    wildcard). Raises BindmgrError after `timeout` seconds, saying which part did not happen.
    """
    semaphore = app_dir / "RESTART.SEM"
    tcp = next((lst for lst in listeners if lst.proto is Proto.TCP), None)
    deadline = clock() + timeout
    announced = False
    missing: list[str] = []
    while True:
        taken = not semaphore.exists()
        if taken and not announced:
            on_message("MDaemon took RESTART.SEM; waiting for its listeners")
            announced = True
        if taken:
            missing = _not_listening(addresses, tcp, listener_table())
            if not missing:
                return
        if clock() >= deadline:
            break
        sleep(interval)
    if not taken:
        why = "RESTART.SEM is still there: MDaemon did not act on it"
        if (app_dir / "LOCKSEMS.SEM").exists():
            why += " (LOCKSEMS.SEM suspends semaphore processing)"
        elif _watchdog_stale(app_dir):
            why += " (WATCHDOG.SEM is stale: MDaemon does not seem to be running)"
    else:
        why = "MDaemon restarted but does not listen on " + ", ".join(missing)
    raise BindmgrError(
        f"MDaemon did not come back within {timeout:g} s: {why}; the new files are in place",
        hint="check MDaemon's log and the Windows event log (event 503), or undo with "
        "'bindmgr rollback'",
    )


def _not_listening(
    addresses: Sequence[IPAddress],
    tcp: Listener | None,
    table: Sequence[ListeningSocket],
) -> list[str]:
    if tcp is None:
        return []
    live = {(row.ip, row.port) for row in table if row.proto is Proto.TCP}
    missing = []
    for ip in addresses:
        wildcard = hostinfo.parse_ip("::" if ip.version == 6 else "0.0.0.0")
        if (ip, tcp.port) not in live and (wildcard, tcp.port) not in live:
            missing.append(f"{ip}:{tcp.port}" if ip.version == 4 else f"[{ip}]:{tcp.port}")
    return missing


def _watchdog_stale(app_dir: Path) -> bool:
    try:
        age = time.time() - (app_dir / "WATCHDOG.SEM").stat().st_mtime
    except OSError:
        return False
    return age > WATCHDOG_STALE
