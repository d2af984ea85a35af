"""Bind checks for `bindmgr check`: can MDaemon bind each (IP, listener)? A real bind, then release.

asyncio orchestrates (bounded batches; the listener table is awaited in a thread beside the
binds, or on Linux after them and only when a bind failed); the binds run in synchronous
batches. Never prints, never sets SO_REUSEPORT, and never answers `ok` without a successful
bind (and listen, for TCP) on an address of this host.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import functools
import socket
import sys
import threading
import time
from collections.abc import Callable, Collection, Sequence
from itertools import chain
from typing import Any, Final

from bindmgr.check.hostinfo import HostAddresses
from bindmgr.check.verdict import (
    BOUND,
    RESOURCE_ERRNOS,
    ListenerIndex,
    Outcome,
    Results,
    needs_table,
)
from bindmgr.errors import ResourceError, UsageError
from bindmgr.model import IPAddress, Listener, ListeningSocket, ProbeResult, Proto

# Socket options, per platform (see docs/check.md, "No false ok"):
# - POSIX TCP and UDP: nothing. With SO_REUSEADDR the probe would pass over a socket that is
#   bound (with SO_REUSEADDR) but does not listen: invisible in the listener table, yet a server
#   that sets no option fails there. Two UDP sockets that both set it share a port on Linux.
#   The price: TIME_WAIT remnants on the address make `in_use` (no holder, a retry hint) on Linux,
#   even where MDaemon on Windows would bind over them; a false `ok` would be silent.
# - SO_REUSEPORT: never (it shares the port with any holder that also set it).
# - Windows: SO_EXCLUSIVEADDRUSE, never SO_REUSEADDR (there it lets a bind take over a port that
#   an active listener holds). Not testable on Linux, where the attribute does not exist.
# - An unspecified IPv6 address gets IPV6_V6ONLY=1, Windows' default, so [::] is judged alone.
_EXCLUSIVE: Final[int | None] = getattr(socket, "SO_EXCLUSIVEADDRUSE", None)

# When the listener table is read. On Linux a bind that succeeds proves that no listener
# conflicts with it: a specific bind beside a LISTEN socket on the same address or on the
# wildcard (0.0.0.0 or a dual-stack [::]) of the port fails with EADDRINUSE, SO_REUSEADDR or
# not, and so does a UDP bind beside a bound one (we set no SO_REUSEADDR for UDP, never
# SO_REUSEPORT). So the table is read only when a bind failed with an errno whose meaning it
# decides (in use, denied: verdict.TABLE_ERRNOS), to name the holder: a check where every
# bind succeeds never reads it (no psutil import, no /proc scan, no thread). Windows lets a
# specific bind succeed beside a wildcard listener, and BSD and macOS do with SO_REUSEADDR:
# there the table is always read, in a thread beside the binds.
TABLE_ON_FAILURE: Final = sys.platform == "linux"
_Opts = tuple[tuple[int, int, int], ...]


def _options(tcp: bool, v6_unspecified: bool) -> _Opts:
    opts: list[tuple[int, int, int]] = []
    if _EXCLUSIVE is not None:
        opts.append((socket.SOL_SOCKET, _EXCLUSIVE, 1))
    if v6_unspecified:
        opts.append((socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1))
    return tuple(opts)


# One IP's work: (family, host, ((socket type, port, options), ...)).
BindSpec = tuple[int, str, tuple[tuple[int, int, _Opts], ...]]


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


def _resource_error(code: int, done: int, total: int) -> ResourceError:
    return ResourceError(
        f"ran out of file descriptors or socket buffers ({errno.errorcode.get(code, code)}) "
        f"after {done} of {total} bind checks; no answer is given for the rest",
        hint="raise the open-files limit (ulimit -n) or lower --batch-size, then rerun",
    )


# Between bind batches, check() yields to the event loop at most this often (seconds). A yield
# costs a loop iteration (~10-20 µs); nothing here needs the loop sooner: progress is reported
# synchronously and the table thread's rows wait in their future until check() awaits them.
# The loop still gets a turn (other tasks, cancellation) every few milliseconds of binding.
YIELD_INTERVAL: Final = 0.005


async def check(
    ips: Sequence[IPAddress],
    listeners: Sequence[Listener],
    *,
    host_addresses: Collection[IPAddress] | HostAddresses,
    listener_table: Callable[[], Sequence[ListeningSocket]],
    socket_factory: Callable[..., socket.socket] = socket.socket,
    batch_size: int = 8,
    progress: Callable[[int, int], None] | None = None,
    mdaemon_dir: str | None = None,
    table_on_failure: bool = TABLE_ON_FAILURE,
) -> tuple[ProbeResult, ...]:
    """Probe every (ip, listener); results ordered by the given ips, then the given listeners.

    `mdaemon_dir`: the MDaemon folder (the App folder's parent, resolved); a holder counts as
    MDaemon itself only when its executable is one of MDaemon's inside it (None: never).

    The listener table is read in a thread while the binds run; awaiting its rows is the one
    place where check() can wait. The binds run in synchronous batches of `batch_size`
    addresses on the loop's thread, one socket open at a time, with a progress report after
    each batch and a yield to the loop every YIELD_INTERVAL. Batches never run in parallel: a
    bind never waits, and parallel bind threads measured 1.5-4x slower per bind (GIL hand-offs,
    the kernel's bind-hash lock; see docs/check.md). Addresses whose batch ran out of
    descriptors are probed again once the table is read (its descriptors closed); if that fails
    too, ResourceError. Unspecified addresses (0.0.0.0, ::) are probed last, after the table
    was read, so that no probe of theirs is mistaken for a wildcard listener.

    `table_on_failure` (Linux, see TABLE_ON_FAILURE): the table is read after every probe,
    and only when a bind failed in a way it explains; no probe is open while it is read.
    """
    if batch_size < 1:
        raise UsageError(f"batch size {batch_size} is not allowed; give 1 or more")
    hosts = (
        host_addresses
        if isinstance(host_addresses, HostAddresses)
        else HostAddresses.of(host_addresses)
    )
    unique = list(dict.fromkeys(ips))
    pairs = tuple(listeners)
    width = len(pairs)
    total = len(unique) * width
    specs = bind_specs(unique, pairs)
    # Addresses are handled by their index in `unique` from here on: hashing an ipaddress
    # object runs Python code (hash(hex(int(ip)))), too dear to repeat for every batch.
    outcomes: list[list[Outcome]] = [[] for _ in unique]
    retry: list[int] = []
    done = 0

    def probe(chunk: Sequence[int]) -> int | None:
        nonlocal done
        got, stopped = bind_batch([specs[i] for i in chunk], socket_factory)
        full = len(got) // width if width else len(chunk)
        for k, i in enumerate(chunk[:full]):
            outcomes[i] = got[k * width : (k + 1) * width]
        retry.extend(chunk[full:])
        done += full * width
        if progress is not None:
            progress(done, total)
        return stopped

    if progress is not None:
        progress(0, total)
    unspecified = [ip.is_unspecified for ip in unique]
    specific = [i for i, wild in enumerate(unspecified) if not wild]
    rows = None if table_on_failure else _TableRead(listener_table)
    try:
        clock = time.perf_counter
        next_yield = clock() + YIELD_INTERVAL
        for start in range(0, len(specific), batch_size):
            probe(specific[start : start + batch_size])
            if clock() >= next_yield:
                await asyncio.sleep(0)  # let the loop breathe: other tasks, cancellation
                next_yield = clock() + YIELD_INTERVAL
        table = None if rows is None else ListenerIndex(await rows.result())
    finally:
        if rows is not None:
            rows.close()

    late = [*retry, *(i for i, wild in enumerate(unspecified) if wild)]
    retry.clear()
    for i in late:
        stopped = probe([i])
        if stopped is not None:
            raise _resource_error(stopped, done, total)
    if table is None:
        table = ListenerIndex(await _read_table(listener_table) if needs_table(outcomes) else ())

    results = Results(pairs, table, mdaemon_dir=mdaemon_dir)
    per_ip = [
        results.of(ip, outcomes[i], unspecified[i] or ip in hosts) for i, ip in enumerate(unique)
    ]
    if len(unique) == len(ips):  # no duplicates: `unique` is `ips`, in order
        return tuple(chain.from_iterable(per_ip))
    by_ip = dict(zip(unique, per_ip, strict=True))
    return tuple(chain.from_iterable(by_ip[ip] for ip in ips))


async def _read_table(read: Callable[[], Sequence[ListeningSocket]]) -> Sequence[ListeningSocket]:
    """The listener table, read in its thread while the loop runs on."""
    rows = _TableRead(read)
    try:
        return await rows.result()
    finally:
        rows.close()


class _TableRead:
    """The listener table, read in a thread of its own and handed to the loop through a future.

    A plain thread rather than asyncio.to_thread: the loop's default executor would cost a
    thread pool here and one more thread in asyncio.run's shutdown (~0.2-0.4 ms per check on
    the 2-CPU test host, more under load), for a single call. The thread only reads.
    """

    def __init__(self, read: Callable[[], Sequence[ListeningSocket]]) -> None:
        self._loop = asyncio.get_running_loop()
        self._future: asyncio.Future[Sequence[ListeningSocket]] = self._loop.create_future()
        self._thread = threading.Thread(
            target=self._run, args=(read,), name="bindmgr-listener-table", daemon=True
        )
        self._thread.start()

    def _run(self, read: Callable[[], Sequence[ListeningSocket]]) -> None:
        try:
            rows, failure = read(), None
        except BaseException as exc:  # handed to check(), which raises it
            rows, failure = (), exc
        with contextlib.suppress(RuntimeError):  # the loop closed: check() was abandoned
            self._loop.call_soon_threadsafe(self._settle, rows, failure)

    def _settle(self, rows: Sequence[ListeningSocket], failure: BaseException | None) -> None:
        if self._future.done():  # cancelled: check() failed or was cancelled meanwhile
            return
        if failure is not None:
            self._future.set_exception(failure)
        else:
            self._future.set_result(rows)

    async def result(self) -> Sequence[ListeningSocket]:
        return await self._future

    def close(self) -> None:
        """Join the thread, so that nothing of check() outlives it. After the rows arrived it
        is ending; if check() stopped early (an error, a cancellation), this waits for the read
        to finish and drops its rows, or its failure: check() already raises its own."""
        self._future.cancel()  # also marks a failure that arrived as seen (else asyncio logs it)
        self._thread.join()


async def check_groups(
    groups: Sequence[tuple[Sequence[IPAddress], Sequence[Listener]]],
    *,
    progress: Callable[[int, int], None] | None = None,
    **options: Any,
) -> tuple[ProbeResult, ...]:
    """check() of each (ips, listeners) group in turn (never two at once: one probe socket open
    at a time), one progress count over all; the results in group order. Options as check()'s."""
    sizes = [len(dict.fromkeys(ips)) * len(listeners) for ips, listeners in groups]  # as check()
    total = sum(sizes)
    found: list[ProbeResult] = []
    offset = 0
    for (ips, listeners), size in zip(groups, sizes, strict=True):
        report = None
        if progress is not None:
            report = functools.partial(_progress_from, progress, offset, total)
        found.extend(await check(ips, listeners, progress=report, **options))
        offset += size
    return tuple(found)


def _progress_from(
    progress: Callable[[int, int], None], offset: int, total: int, done: int, _: int
) -> None:
    progress(offset + done, total)


def run_check(
    ips: Sequence[IPAddress],
    listeners: Sequence[Listener],
    *,
    host_addresses: Collection[IPAddress] | HostAddresses,
    listener_table: Callable[[], Sequence[ListeningSocket]],
    socket_factory: Callable[..., socket.socket] = socket.socket,
    batch_size: int = 8,
    progress: Callable[[int, int], None] | None = None,
    mdaemon_dir: str | None = None,
    table_on_failure: bool = TABLE_ON_FAILURE,
    groups: Sequence[tuple[Sequence[IPAddress], Sequence[Listener]]] = (),
) -> tuple[ProbeResult, ...]:
    """check() from synchronous code: the one place `asyncio.run` is called. `groups`: further
    (ips, listeners) pairs probed after ips x listeners (check_groups)."""
    work = check_groups(
        ((ips, listeners), *groups),
        host_addresses=host_addresses,
        listener_table=listener_table,
        socket_factory=socket_factory,
        batch_size=batch_size,
        progress=progress,
        mdaemon_dir=mdaemon_dir,
        table_on_failure=table_on_failure,
    )
    total = len(ips) * len(listeners) + sum(len(i) * len(ls) for i, ls in groups)
    found: list[tuple[ProbeResult, ...]] = []

    async def main() -> None:
        # The main task returns None, not the results: asyncio.run (3.11) formats the task's
        # repr, result included, when it puts the SIGINT handler back (signal.getsignal's
        # enum lookup fails with a message that shows the handler) - 70 µs per check.
        found.append(await work)

    outer = main()
    try:
        asyncio.run(outer)
    except OSError as exc:  # the event loop itself needs descriptors (epoll, self-pipe)
        outer.close()  # never started: close both quietly
        work.close()
        if exc.errno in RESOURCE_ERRNOS:
            raise _resource_error(exc.errno, 0, total) from exc
        raise
    return found[0]
