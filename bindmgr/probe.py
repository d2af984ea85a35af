"""Bind checks for `bindmgr check`: can MDaemon bind each (IP, listener)? A real bind, then release.

asyncio orchestrates (bounded concurrency; the listener table is awaited in a thread beside the
binds); the binds run in synchronous batches. Never prints, never sets SO_REUSEPORT, and never
answers `ok` without a successful bind (and listen, for TCP) on an address of this host.
"""

from __future__ import annotations

import asyncio
import errno
import socket
import sys
from collections.abc import Callable, Collection, Mapping, Sequence
from typing import Final, TypeVar

from bindmgr.errors import ResourceError, UsageError
from bindmgr.hostinfo import RESOURCE_ERRNOS, HostAddresses, ListeningSocket
from bindmgr.model import Holder, IPAddress, Listener, ProbeResult, ProbeStatus, Proto
from bindmgr.probetext import event_text, hint_text

__all__ = ["MDAEMON_PROCESSES", "bind_batch", "check", "classify", "run_check"]

# MDaemon's own processes rebind their ports when MDaemon restarts: holding one is no conflict.
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

# Socket options, per platform (see docs/check.md, "No false ok"):
# - POSIX TCP: SO_REUSEADDR=1, as servers set it. On Linux it only lets the bind pass over
#   TIME_WAIT remnants and connections a closed listener left behind; a socket in LISTEN on the
#   address or on the wildcard still refuses the bind. MDaemon on Windows binds over TIME_WAIT
#   too, so without it Linux would report `in_use` where MDaemon would succeed.
# - POSIX UDP: nothing. Two UDP sockets that both set SO_REUSEADDR share a port on Linux, so
#   setting it could pass a bind that MDaemon's would not.
# - SO_REUSEPORT: never (it shares the port with any holder that also set it).
# - Windows: SO_EXCLUSIVEADDRUSE, never SO_REUSEADDR (there it lets a bind take over a port that
#   an active listener holds). Not testable on Linux, where the attribute does not exist.
# - An unspecified IPv6 address gets IPV6_V6ONLY=1, Windows' default, so [::] is judged alone.
_EXCLUSIVE: Final[int | None] = getattr(socket, "SO_EXCLUSIVEADDRUSE", None)
_Opts = tuple[tuple[int, int, int], ...]


def _options(tcp: bool, v6_unspecified: bool) -> _Opts:
    opts: list[tuple[int, int, int]] = []
    if _EXCLUSIVE is not None:
        opts.append((socket.SOL_SOCKET, _EXCLUSIVE, 1))
    elif tcp:
        opts.append((socket.SOL_SOCKET, socket.SO_REUSEADDR, 1))
    if v6_unspecified:
        opts.append((socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1))
    return tuple(opts)


# One IP's work: (family, host, ((socket type, port, options), ...)).
BindSpec = tuple[int, str, tuple[tuple[int, int, _Opts], ...]]
Outcome = int | None  # 0 = bound (and listening); an errno; None = an OSError without errno
BOUND: Final = 0


def bind_specs(ips: Sequence[IPAddress], listeners: Sequence[Listener]) -> list[BindSpec]:
    cache: dict[tuple[int, bool], tuple[tuple[int, int, _Opts], ...]] = {}
    specs: list[BindSpec] = []
    for ip in ips:
        key = (ip.version, ip.is_unspecified)
        if key not in cache:
            cache[key] = tuple(
                (
                    socket.SOCK_STREAM if lst.proto is Proto.TCP else socket.SOCK_DGRAM,
                    lst.port,
                    _options(lst.proto is Proto.TCP, ip.version == 6 and ip.is_unspecified),
                )
                for lst in listeners
            )
        family = socket.AF_INET if ip.version == 4 else socket.AF_INET6
        specs.append((family, str(ip), cache[key]))  # str keeps an IPv6 %scope for the bind
    return specs


def bind_batch(
    specs: Sequence[BindSpec], socket_factory: Callable[..., socket.socket] = socket.socket
) -> tuple[list[Outcome], int | None]:
    """Bind (and for TCP listen on) each pair in turn, one socket open at a time, closed at once.

    Returns the outcomes in order and, when the host ran out of descriptors or buffers, that
    errno: the outcomes then stop short and the caller must probe the rest again or give up.
    """
    out: list[Outcome] = []
    stream = socket.SOCK_STREAM
    for family, host, pairs in specs:
        for sock_type, port, opts in pairs:
            try:
                with socket_factory(family, sock_type) as sock:
                    for level, name, value in opts:
                        sock.setsockopt(level, name, value)
                    sock.bind((host, port))
                    if sock_type == stream:
                        sock.listen(1)  # a server listens; some conflicts only show here
            except OSError as exc:
                if exc.errno in RESOURCE_ERRNOS:
                    return out, exc.errno
                out.append(exc.errno)
            else:
                out.append(BOUND)
    return out, None


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


def _is_mdaemon(row: ListeningSocket | None) -> bool:
    return row is not None and (row.name or "").casefold() in MDAEMON_PROCESSES


def classify(
    ip: IPAddress,
    listener: Listener,
    outcome: Outcome,
    *,
    local: bool,
    table: ListenerIndex,
    windows: bool = WINDOWS,
) -> ProbeResult:
    """Turn one bind outcome, the host's addresses and the listener table into a ProbeResult."""
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
        elif _is_mdaemon(row):
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
        hint=hint_text(status, ip, listener, row, outcome, windows=windows),
        label=listener.label,
    )


def _resource_error(code: int, done: int, total: int) -> ResourceError:
    return ResourceError(
        f"ran out of file descriptors or socket buffers ({errno.errorcode.get(code, code)}) "
        f"after {done} of {total} bind checks; no answer is given for the rest",
        hint="raise the open-files limit (ulimit -n) or lower --concurrency, then rerun",
    )


async def check(
    ips: Sequence[IPAddress],
    listeners: Sequence[Listener],
    *,
    host_addresses: Collection[IPAddress] | HostAddresses,
    listener_table: Callable[[], Sequence[ListeningSocket]],
    socket_factory: Callable[..., socket.socket] = socket.socket,
    concurrency: int = 8,
    progress: Callable[[int, int], None] | None = None,
) -> tuple[ProbeResult, ...]:
    """Probe every (ip, listener); results ordered by the given ips, then the given listeners.

    The listener table is read in a thread while the binds run. The binds run in synchronous
    batches of `concurrency` addresses on the loop's thread, one socket open at a time, with a
    yield to the loop (and a progress report) between batches. Batches never run in parallel:
    a bind never waits, and parallel bind threads measured 1.5-4x slower per bind (GIL
    hand-offs, the kernel's bind-hash lock; see docs/check.md). Addresses whose batch ran out of
    descriptors are probed again once the table is read (its descriptors closed); if that fails
    too, ResourceError. Unspecified addresses (0.0.0.0, ::) are probed last, after the table
    was read, so that no probe of theirs is mistaken for a wildcard listener.
    """
    if concurrency < 1:
        raise UsageError(f"concurrency {concurrency} is not allowed; give 1 or more")
    hosts = (
        host_addresses
        if isinstance(host_addresses, HostAddresses)
        else HostAddresses.of(host_addresses)
    )
    unique = list(dict.fromkeys(ips))
    pairs = tuple(listeners)
    total = len(unique) * len(pairs)
    outcomes: dict[IPAddress, list[Outcome]] = {}
    retry: list[IPAddress] = []
    done = 0

    def probe(chunk: Sequence[IPAddress]) -> int | None:
        nonlocal done
        got, stopped = bind_batch(bind_specs(chunk, pairs), socket_factory)
        full = len(got) // len(pairs) if pairs else len(chunk)
        for i, ip in enumerate(chunk[:full]):
            outcomes[ip] = got[i * len(pairs) : (i + 1) * len(pairs)]
        retry.extend(chunk[full:])
        done += full * len(pairs)
        if progress is not None:
            progress(done, total)
        return stopped

    if progress is not None:
        progress(0, total)
    specific = [ip for ip in unique if not ip.is_unspecified]
    try:
        async with asyncio.TaskGroup() as group:
            table_task = group.create_task(asyncio.to_thread(listener_table))
            for start in range(0, len(specific), concurrency):
                probe(specific[start : start + concurrency])
                await asyncio.sleep(0)  # let the loop breathe: table, progress, cancellation
    except BaseExceptionGroup as failed:  # one failure: re-raise it as itself
        if len(failed.exceptions) == 1 and isinstance(failed.exceptions[0], Exception):
            raise failed.exceptions[0] from None
        raise
    table = ListenerIndex(table_task.result())

    late = [*retry, *(ip for ip in unique if ip.is_unspecified)]
    retry.clear()
    for ip in late:
        stopped = probe([ip])
        if stopped is not None:
            raise _resource_error(stopped, done, total)

    by_ip = {
        ip: _results(ip, pairs, outcomes[ip], ip.is_unspecified or ip in hosts, table)
        for ip in unique
    }
    return tuple(result for ip in ips for result in by_ip[ip])


def _results(
    ip: IPAddress,
    pairs: Sequence[Listener],
    outcomes: Sequence[Outcome],
    local: bool,
    table: ListenerIndex,
) -> tuple[ProbeResult, ...]:
    """classify() for one address, with a fast path for the common answer (bound, no wildcard
    listener on the port): the same result, without the lookups and the keyword arguments."""
    ok, wild, version = ProbeStatus.OK, table.wild, ip.version
    return tuple(
        ProbeResult(ip, lst.port, lst.proto, lst.service, ok, None, None, None, None, lst.label)
        if res == BOUND and local and (version, lst.port, lst.proto) not in wild
        else classify(ip, lst, res, local=local, table=table)
        for lst, res in zip(pairs, outcomes, strict=True)
    )


def run_check(
    ips: Sequence[IPAddress],
    listeners: Sequence[Listener],
    *,
    host_addresses: Collection[IPAddress] | HostAddresses,
    listener_table: Callable[[], Sequence[ListeningSocket]],
    socket_factory: Callable[..., socket.socket] = socket.socket,
    concurrency: int = 8,
    progress: Callable[[int, int], None] | None = None,
) -> tuple[ProbeResult, ...]:
    """check() from synchronous code: the one place `asyncio.run` is called."""
    work = check(
        ips,
        listeners,
        host_addresses=host_addresses,
        listener_table=listener_table,
        socket_factory=socket_factory,
        concurrency=concurrency,
        progress=progress,
    )
    try:
        return asyncio.run(work)
    except OSError as exc:  # the event loop itself needs descriptors (epoll, self-pipe)
        work.close()  # never started: close it quietly
        if exc.errno in RESOURCE_ERRNOS:
            raise _resource_error(exc.errno, 0, len(ips) * len(listeners)) from exc
        raise
