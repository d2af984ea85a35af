"""What a bind outcome means: the errno table, the listener-table index, classify().

Pure functions of one bind's outcome, the host's addresses and the listener table; no sockets,
no I/O. `probe` binds and calls these; `hints` words the events and hints.
"""

from __future__ import annotations

import errno
import sys
from collections.abc import Mapping, Sequence
from pathlib import PurePosixPath, PureWindowsPath
from typing import Final, TypeVar

from bindmgr.check.hints import event_text, hint_text
from bindmgr.model import (
    Holder,
    IPAddress,
    Listener,
    ListeningSocket,
    ProbeResult,
    ProbeStatus,
    Proto,
)

__all__ = [
    "BOUND",
    "ERRNO_STATUS",
    "MDAEMON_PROCESSES",
    "RESOURCE_ERRNOS",
    "TABLE_ERRNOS",
    "WINDOWS",
    "ListenerIndex",
    "Outcome",
    "Results",
    "classify",
    "needs_table",
]

# Running out of descriptors (or buffers) is "cannot continue", never a per-address answer.
# 10024 WSAEMFILE and 10055 WSAENOBUFS are Windows' spellings (socket errors carry WSA codes).
RESOURCE_ERRNOS: frozenset[int] = frozenset(
    {errno.EMFILE, errno.ENFILE, errno.ENOBUFS, errno.ENOMEM, 10024, 10055}
)


# MDaemon's own processes rebind their ports when MDaemon restarts: holding one is no conflict.
# A name is no proof (any program can be called MDaemon.exe): the executable must be one of these
# and lie inside this MDaemon folder (the App folder's parent), see _is_mdaemon.
MDAEMON_PROCESSES: Final = frozenset(
    {"mdaemon.exe", "worldclient.exe", "webadmin.exe", "mdspamd.exe"}
)

WINDOWS: Final = sys.platform == "win32"

# The one errno table. Anything not listed becomes `error` with its errno, never `ok`.
# Python on Windows reports socket errors with their WSA codes, so those sit beside the POSIX
# numbers (on Windows errno.EADDRINUSE is itself 10048; errno.EACCES stays 13).
ERRNO_STATUS: Final[Mapping[int, ProbeStatus]] = {
    errno.EADDRINUSE: ProbeStatus.IN_USE,
    10048: ProbeStatus.IN_USE,  # WSAEADDRINUSE
    errno.EADDRNOTAVAIL: ProbeStatus.NOT_LOCAL,
    10049: ProbeStatus.NOT_LOCAL,  # WSAEADDRNOTAVAIL
    errno.EACCES: ProbeStatus.DENIED,  # POSIX: a port below ip_unprivileged_port_start
    errno.EPERM: ProbeStatus.DENIED,  # POSIX: an LSM (SELinux, AppArmor) or seccomp refused it
    # WSAEACCES: no privilege, OR another process holds the port with SO_EXCLUSIVEADDRUSE, OR
    # the port lies in a Hyper-V/WinNAT/Docker excluded range (netsh ... show excludedportrange).
    # classify() consults the listener table to tell "held" (in_use) from the rest (denied).
    10013: ProbeStatus.DENIED,
}

Outcome = int | None  # 0 = bound (and listening); an errno; None = an OSError without errno
BOUND: Final = 0

# The failures classify() looks up in the listener table (to name the holder, or to tell a
# held port from a denied one on Windows); every other outcome is decided without it.
TABLE_ERRNOS: Final = frozenset(
    code
    for code, status in ERRNO_STATUS.items()
    if status in (ProbeStatus.IN_USE, ProbeStatus.DENIED)
)


def needs_table(outcomes: Sequence[Sequence[Outcome]]) -> bool:
    """Whether any outcome is a failure whose meaning the listener table decides (for a
    probe where a successful bind proves that nothing conflicts: Linux, see probe)."""
    codes = TABLE_ERRNOS
    return any(not codes.isdisjoint(per_ip) for per_ip in outcomes)


_K = TypeVar("_K")


def _keep(table: dict[_K, ListeningSocket], key: _K, row: ListeningSocket) -> None:
    """The first row for a key wins, unless a later one names its owner."""
    old = table.get(key)
    if old is None or (old.pid is None and row.pid is not None):
        table[key] = row


class ListenerIndex:
    """The listener table, indexed for the lookups classify() makes."""

    def __init__(self, rows: Sequence[ListeningSocket]) -> None:
        self.exact: dict[tuple[IPAddress, int, Proto], ListeningSocket] = {}
        self.wild: dict[tuple[int, int, Proto], ListeningSocket] = {}
        self.port: dict[tuple[int, Proto], ListeningSocket] = {}
        for row in rows:
            _keep(self.exact, (row.ip, row.port, row.proto), row)
            _keep(self.port, (row.port, row.proto), row)
            if row.ip.is_unspecified:
                _keep(self.wild, (row.ip.version, row.port, row.proto), row)

    def holder_of(
        self, ip: IPAddress, port: int, proto: Proto, *, bound: bool
    ) -> tuple[ListeningSocket | None, bool]:
        """(row, via wildcard) that blocks ip:port, or (None, False).

        After a successful bind the kernel has ruled out any socket on the exact address (we set
        no SO_REUSEPORT; Windows' SO_EXCLUSIVEADDRUSE refuses to share), so an exact row then is
        the probe itself, caught by the table read that runs beside the binds (its pid may even
        be None: closed before psutil mapped it). Only a same-family wildcard row counts then:
        Windows lets a specific bind coexist with one. After a failed bind, a dual-stack [::]
        row may explain an IPv4 failure too, and an unspecified address is blocked by any row.
        """
        if not bound:
            row = self.exact.get((ip, port, proto))
            if row is not None:
                return row, False
            if ip.is_unspecified:
                return self.port.get((port, proto)), False
        elif ip.is_unspecified:
            return None, False
        row = self.wild.get((ip.version, port, proto))
        if row is None and not bound and ip.version == 4:
            row = self.wild.get((6, port, proto))
        return row, row is not None


def _inside(exe: str, folder: str, windows: bool) -> bool:
    """Does the absolute path `exe` lie inside `folder`? Compared by parts (C:\\MDaemon-old is not
    inside C:\\MDaemon), without regard to case on Windows; a `..` part never counts as inside."""
    kind = PureWindowsPath if windows else PurePosixPath
    path, parent = kind(exe), kind(folder)
    if not (path.is_absolute() and parent.is_absolute()) or ".." in path.parts:
        return False
    return path.is_relative_to(parent)


def _is_mdaemon(row: ListeningSocket | None, mdaemon_dir: str | None, windows: bool) -> bool:
    """MDaemon's own: one of its executables, run from inside this MDaemon folder. Without the
    executable's path (hidden by the OS) or the folder, nothing is MDaemon's."""
    if row is None or row.exe is None or mdaemon_dir is None:
        return False
    kind = PureWindowsPath if windows else PurePosixPath
    own_name = kind(row.exe).name.casefold() in MDAEMON_PROCESSES
    return own_name and _inside(row.exe, mdaemon_dir, windows)


def _named_like_mdaemon(row: ListeningSocket | None) -> bool:
    return row is not None and (row.name or "").casefold() in MDAEMON_PROCESSES


def classify(
    ip: IPAddress,
    listener: Listener,
    outcome: Outcome,
    *,
    local: bool,
    table: ListenerIndex,
    windows: bool = WINDOWS,
    mdaemon_dir: str | None = None,
) -> ProbeResult:
    """Turn one bind outcome, the host's addresses and the listener table into a ProbeResult.

    `mdaemon_dir`: the MDaemon folder (the App folder's parent); only processes run from inside
    it count as MDaemon's own (None: none do)."""
    port, proto = listener.port, listener.proto
    kind = ERRNO_STATUS.get(outcome) if outcome else None
    row: ListeningSocket | None = None
    if not local or kind is ProbeStatus.NOT_LOCAL:
        # Checked first and against the interface list: with ip_nonlocal_bind=1 or IP_FREEBIND
        # the kernel binds foreign addresses, and MDaemon on Windows cannot.
        status = ProbeStatus.NOT_LOCAL
    elif outcome == BOUND or kind in (ProbeStatus.IN_USE, ProbeStatus.DENIED):
        row, wildcard = table.holder_of(ip, port, proto, bound=outcome == BOUND)
        if row is None:
            status = ProbeStatus.OK if outcome == BOUND else kind or ProbeStatus.ERROR
        elif _is_mdaemon(row, mdaemon_dir, windows):
            status = ProbeStatus.HELD_BY_MDAEMON
        else:
            status = ProbeStatus.IN_USE_WILDCARD if wildcard else ProbeStatus.IN_USE
    else:
        status = ProbeStatus.ERROR
    holder = None if row is None else Holder(row.pid, row.name, row.cmdline)
    if status is ProbeStatus.OK:
        return ProbeResult(ip, port, proto, listener.service, status, label=listener.label)
    return ProbeResult(
        ip,
        port,
        proto,
        listener.service,
        status,
        errno=outcome or None,
        holder=holder,
        event=event_text(status, ip, listener),
        hint=hint_text(
            status,
            ip,
            listener,
            row,
            outcome,
            windows=windows,
            impostor=_named_like_mdaemon(row) and status is not ProbeStatus.HELD_BY_MDAEMON,
            mdaemon_dir=mdaemon_dir,
        ),
        label=listener.label,
    )


class Results:
    """classify() for every pair, with a fast path for the common answer (bound, local, no
    wildcard listener of the address's family on the port): that result is built from
    per-listener constants, without classify()'s lookups per pair. Same results (tested)."""

    def __init__(
        self,
        pairs: Sequence[Listener],
        table: ListenerIndex,
        *,
        mdaemon_dir: str | None = None,
        windows: bool = WINDOWS,
    ) -> None:
        self.pairs, self.table = pairs, table
        self.mdaemon_dir, self.windows = mdaemon_dir, windows
        ok = ProbeStatus.OK
        # Per IP version: per listener, the fields of an `ok` result after the ip, or None
        # where a same-family wildcard row makes even a successful bind a conflict.
        self.ok_fields = {
            version: [
                None
                if (version, lst.port, lst.proto) in table.wild
                else (lst.port, lst.proto, lst.service, ok, None, None, None, None, lst.label)
                for lst in pairs
            ]
            for version in (4, 6)
        }
        self.all_fast = {v: None not in fields for v, fields in self.ok_fields.items()}

    def of(self, ip: IPAddress, outcomes: Sequence[Outcome], local: bool) -> list[ProbeResult]:
        """The results for one address, in the order of the listeners."""
        # tuple.__new__ is what ProbeResult(...) ends in, minus a Python-level call per result.
        fields, new = self.ok_fields[ip.version], tuple.__new__
        if local and self.all_fast[ip.version] and outcomes.count(BOUND) == len(outcomes):
            return [new(ProbeResult, (ip, *tail)) for tail in fields if tail is not None]
        return [
            new(ProbeResult, (ip, *tail))
            if tail is not None and res == BOUND and local
            else classify(
                ip,
                lst,
                res,
                local=local,
                table=self.table,
                windows=self.windows,
                mdaemon_dir=self.mdaemon_dir,
            )
            for lst, res, tail in zip(self.pairs, outcomes, fields, strict=True)
        ]
