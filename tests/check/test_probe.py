"""Bind checks against real sockets on this process's own loopback addresses."""

from __future__ import annotations

import asyncio
import errno
import gc
import os
import socket
import sys
import threading
import time
from collections.abc import Callable
from ipaddress import IPv4Address, IPv4Network

import psutil
import pytest

from bindmgr.check import hostinfo
from bindmgr.check.hostinfo import HostAddresses
from bindmgr.check.probe import TABLE_ON_FAILURE, bind_batch, bind_specs, check, run_check
from bindmgr.errors import ResourceError, UsageError
from bindmgr.model import ListeningSocket, ProbeStatus, Proto
from tests.support.probe import (
    absent_testnet,
    check_real,
    has_ipv6_loopback,
    ip,
    listener_socket,
    port_of,
    tcp,
    udp,
)
from tests.support.wine import NO_SOCKET_OWNERS

LOOPBACK = HostAddresses(frozenset(), (IPv4Network("127.0.0.0/8"),))


def no_table() -> tuple[ListeningSocket, ...]:
    return ()


def test_tcp_listener_makes_in_use() -> None:
    with listener_socket("127.0.0.11") as busy:
        port = port_of(busy)
        (result,) = check_real([ip("127.0.0.11")], [tcp(port)])
    assert result.status is ProbeStatus.IN_USE
    assert result.errno == errno.EADDRINUSE
    assert result.holder is not None
    assert (
        result.event
        == f"MDaemon would log event 503: SMTP 127.0.0.11:{port} could not be initialized"
    )


@NO_SOCKET_OWNERS
def test_tcp_listener_names_this_process_as_holder() -> None:
    with listener_socket("127.0.0.11") as busy:
        port = port_of(busy)
        (result,) = check_real([ip("127.0.0.11")], [tcp(port)])
    assert result.holder is not None
    assert result.holder.pid == os.getpid()
    assert result.holder.name == psutil.Process().name()
    assert (
        result.hint
        == f"stop {result.holder.name} (pid {os.getpid()}) or move it off 127.0.0.11:{port}"
    )


def test_free_address_is_ok_and_released() -> None:
    with listener_socket("127.0.0.12") as other:
        port = port_of(other)  # busy on .12, free on .13
        results = check_real([ip("127.0.0.13")], [tcp(port), udp(port)])
    assert [r.status for r in results] == [ProbeStatus.OK, ProbeStatus.OK]
    assert all(r.event is None and r.hint is None and r.holder is None for r in results)
    with listener_socket("127.0.0.13", port):  # the probe released the port
        pass


@NO_SOCKET_OWNERS  # and a bound UDP socket shows as 0.0.0.0, so it would read in_use_wildcard
def test_udp_socket_makes_in_use_for_the_udp_listener_only() -> None:
    with listener_socket("127.0.0.14", proto=Proto.UDP) as busy:
        port = port_of(busy)
        tcp_result, udp_result = check_real([ip("127.0.0.14")], [tcp(port), udp(port)])
    assert tcp_result.status is ProbeStatus.OK
    assert udp_result.status is ProbeStatus.IN_USE
    assert udp_result.holder is not None
    assert udp_result.holder.pid == os.getpid()
    assert udp_result.event is not None
    assert "Minger 127.0.0.14" in udp_result.event


def test_ipv6_listener_in_use_and_event_brackets() -> None:
    if not has_ipv6_loopback():
        pytest.skip("this host has no ::1")
    with listener_socket("::1") as busy:
        port = port_of(busy)
        (result,) = check_real([ip("::1")], [tcp(port)])
    assert result.status is ProbeStatus.IN_USE
    assert result.event is not None
    assert f"SMTP [::1]:{port} could not" in result.event


def test_absent_testnet_address_is_not_local() -> None:
    absent = absent_testnet()
    (result,) = check_real([absent], [tcp(2525)])
    assert result.status is ProbeStatus.NOT_LOCAL
    assert result.errno == errno.EADDRNOTAVAIL  # the kernel agrees here (ip_nonlocal_bind=0)
    assert result.hint == f"add {absent} to an interface of this host or drop it from the plan"


@pytest.mark.skipif(not hasattr(socket, "SO_REUSEPORT"), reason="SO_REUSEPORT is not Windows'")
def test_reuseport_holder_still_in_use_for_tcp_and_udp() -> None:
    with (
        listener_socket("127.0.0.16", reuseport=True) as busy,
        listener_socket("127.0.0.16", port_of(busy), Proto.UDP, reuseport=True),
    ):
        port = port_of(busy)
        results = check_real([ip("127.0.0.16")], [tcp(port), udp(port)])
    assert [r.status for r in results] == [ProbeStatus.IN_USE, ProbeStatus.IN_USE]


@pytest.mark.skipif(sys.platform != "win32", reason="SO_EXCLUSIVEADDRUSE is Windows'")
@pytest.mark.parametrize("option", ["SO_REUSEADDR", "SO_EXCLUSIVEADDRUSE"])
def test_windows_holders_sharing_or_excluding_are_in_use(option: str) -> None:
    """The Windows counterparts of SO_REUSEPORT: a holder that lets others share the port
    (SO_REUSEADDR) or forbids it (SO_EXCLUSIVEADDRUSE, then the probe gets WSAEACCES)."""
    with socket.socket() as busy:
        busy.setsockopt(socket.SOL_SOCKET, getattr(socket, option), 1)
        busy.bind(("127.0.0.16", 0))
        busy.listen(8)
        (result,) = check_real([ip("127.0.0.16")], [tcp(port_of(busy))])
    assert result.status is ProbeStatus.IN_USE, result


def _leave_time_wait(host: str, *, reuseaddr: bool) -> int:
    """Serve one connection on host:0 and close the server side first: TIME_WAIT on host:port."""
    with socket.socket() as server:
        if reuseaddr:
            server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        server.bind((host, 0))
        server.listen(1)
        port = port_of(server)
        with socket.create_connection((host, port), timeout=5) as client:
            accepted, _ = server.accept()
            accepted.close()
            assert client.recv(1) == b""
    if sys.platform != "win32":  # Windows (and Wine there) binds a server over TIME_WAIT
        with socket.socket() as plain, pytest.raises(OSError, match="in use"):
            plain.bind((host, port))  # proof: a bind without SO_REUSEADDR is refused now
    return port


@pytest.mark.skipif(
    sys.platform == "win32",
    reason="TIME_WAIT and SO_REUSEADDR are Linux's under Wine (docs/windows.md); on Windows "
    "MDaemon binds with SO_EXCLUSIVEADDRUSE",
)
def test_time_wait_of_a_reuseaddr_server_is_in_use_without_holder() -> None:
    """A server that sets no option cannot bind over it on Linux, so neither does the probe
    (SO_REUSEADDR would also pass a socket bound without listening): reported, with a retry
    hint, never passed. Windows binds a server over TIME_WAIT (docs/check.md)."""
    port = _leave_time_wait("127.0.0.17", reuseaddr=True)
    (result,) = check_real([ip("127.0.0.17")], [tcp(port)])
    assert result.status is ProbeStatus.IN_USE
    assert result.holder is None
    assert result.hint is not None
    assert "TIME_WAIT" in result.hint


@pytest.mark.skipif(sys.platform == "win32", reason="only Linux refuses a bind over TIME_WAIT")
def test_time_wait_of_a_plain_server_is_in_use_without_holder() -> None:
    """Linux refuses even SO_REUSEADDR then: reported, never passed, with a retry hint."""
    port = _leave_time_wait("127.0.0.23", reuseaddr=False)
    (result,) = check_real([ip("127.0.0.23")], [tcp(port)])
    assert result.status is ProbeStatus.IN_USE
    assert result.holder is None
    assert result.hint is not None
    assert "TIME_WAIT" in result.hint


def test_listener_table_wildcard_row_blocks_a_successful_bind() -> None:
    """Windows lets a specific bind coexist with a wildcard listener: the table decides."""
    row = ListeningSocket(ip("0.0.0.0"), 40123, Proto.TCP, 777, "nginx.exe", "nginx.exe -g x")
    (result,) = run_check(
        [ip("127.0.0.18")],
        [tcp(40123)],
        host_addresses=LOOPBACK,
        table_on_failure=False,  # the table beside the binds (Windows, BSD)
        listener_table=lambda: (row,),
    )
    assert result.status is ProbeStatus.IN_USE_WILDCARD
    assert result.errno is None
    assert result.holder is not None
    assert (result.holder.pid, result.holder.name) == (777, "nginx.exe")
    assert result.hint is not None
    assert "listens on all addresses (0.0.0.0:40123)" in result.hint


def test_own_probe_in_the_table_is_not_a_holder() -> None:
    """The table is read while probes run; a probe socket seen there must not make in_use."""
    me = ListeningSocket(ip("127.0.0.19"), 40124, Proto.TCP, os.getpid(), "python", None)
    gone = ListeningSocket(ip("127.0.0.19"), 40124, Proto.UDP, None, None, None)  # pid unmapped
    results = run_check(
        [ip("127.0.0.19")],
        [tcp(40124), udp(40124)],
        host_addresses=LOOPBACK,
        table_on_failure=False,  # the table beside the binds (Windows, BSD)
        listener_table=lambda: (me, gone),
    )
    assert [r.status for r in results] == [ProbeStatus.OK, ProbeStatus.OK]


@pytest.mark.parametrize(
    ("exe", "status"),
    [
        pytest.param(
            "/srv/MDaemon/App/MDaemon.exe",
            ProbeStatus.HELD_BY_MDAEMON,
            marks=pytest.mark.skipif(
                sys.platform == "win32", reason="a POSIX path; Windows paths: test_verdict.py"
            ),
        ),
        ("/usr/bin/MDaemon.exe", ProbeStatus.IN_USE),
        (None, ProbeStatus.IN_USE),
    ],
)
def test_held_by_mdaemon_through_the_table_seam(exe: str | None, status: ProbeStatus) -> None:
    with listener_socket("127.0.0.20") as busy:
        port = port_of(busy)
        row = ListeningSocket(ip("127.0.0.20"), port, Proto.TCP, 4242, "MDAEMON.exe", None, exe)
        (result,) = run_check(
            [ip("127.0.0.20")],
            [tcp(port)],
            host_addresses=LOOPBACK,
            listener_table=lambda: (row,),
            mdaemon_dir="/srv/MDaemon",
        )
    assert result.status is status
    assert result.hint is not None
    if status is ProbeStatus.HELD_BY_MDAEMON:
        assert not result.status.is_conflict
        assert result.event is None
        assert "rebinds it on restart" in result.hint
    else:
        assert result.status.is_conflict
        assert result.event is not None


class _Refusing(socket.socket):
    """A real socket whose bind fails with an errno that the table does not know."""

    def bind(self, address: object) -> None:
        raise OSError(errno.ENETDOWN, os.strerror(errno.ENETDOWN))


def test_unknown_errno_is_error_never_ok() -> None:
    (result,) = run_check(
        [ip("127.0.0.21")],
        [tcp(40125)],
        host_addresses=LOOPBACK,
        listener_table=no_table,
        socket_factory=_Refusing,
    )
    assert result.status is ProbeStatus.ERROR
    assert result.errno == errno.ENETDOWN
    assert result.event is not None
    assert result.hint is not None
    assert f"errno {errno.ENETDOWN}" in result.hint


def test_unknown_errno_when_creating_the_socket() -> None:
    def factory(*args: object) -> socket.socket:
        raise OSError(errno.EAFNOSUPPORT, "no")

    (result,) = run_check(
        [ip("127.0.0.21")],
        [udp(40125)],
        host_addresses=LOOPBACK,
        listener_table=no_table,
        socket_factory=factory,
    )
    assert (result.status, result.errno) == (ProbeStatus.ERROR, errno.EAFNOSUPPORT)


def test_out_of_descriptors_everywhere_is_a_resource_error() -> None:
    def factory(*args: object) -> socket.socket:
        raise OSError(errno.EMFILE, "Too many open files")

    with pytest.raises(ResourceError) as raised:
        run_check(
            [ip("127.0.0.22")],
            [tcp(40126)],
            host_addresses=LOOPBACK,
            listener_table=no_table,
            socket_factory=factory,
        )
    assert "ulimit -n" in str(raised.value)


def _exhausted_first(failures: int) -> Callable[..., socket.socket]:
    """A factory that fails with EMFILE for its first `failures` sockets, then recovers (as
    when the listener table's thread held the last descriptors for a moment)."""
    lock = threading.Lock()
    calls = [0]

    def factory(family: int, kind: int) -> socket.socket:
        with lock:
            calls[0] += 1
            if calls[0] <= failures:
                raise OSError(errno.EMFILE, "Too many open files")
        return socket.socket(family, kind)

    return factory


def test_scarce_descriptors_are_retried_and_give_the_same_answers() -> None:
    ips = [IPv4Address(f"127.0.1.{n}") for n in range(1, 65)]
    with listener_socket("127.0.1.7") as busy:
        listeners = [tcp(port_of(busy)), udp(port_of(busy))]
        table = hostinfo.listening_sockets
        plenty = run_check(ips, listeners, host_addresses=LOOPBACK, listener_table=table)
        scarce = run_check(
            ips,
            listeners,
            host_addresses=LOOPBACK,
            listener_table=table,
            batch_size=16,
            socket_factory=_exhausted_first(3),
        )
    assert scarce == plenty
    assert [r.status for r in scarce].count(ProbeStatus.IN_USE) == 1


def test_order_duplicates_and_progress() -> None:
    seen: list[tuple[int, int]] = []
    ips = [ip("127.0.2.3"), ip("127.0.2.1"), ip("127.0.2.3"), ip("127.0.2.2")]
    results = run_check(
        ips,
        [tcp(40127), udp(40127), tcp(40128)],
        host_addresses=LOOPBACK,
        listener_table=no_table,
        batch_size=2,
        progress=lambda d, t: seen.append((d, t)),
    )
    assert [(str(r.ip), r.port, r.proto.value) for r in results[:3]] == [
        ("127.0.2.3", 40127, "tcp"),
        ("127.0.2.3", 40127, "udp"),
        ("127.0.2.3", 40128, "tcp"),
    ]
    assert [str(r.ip) for r in results[::3]] == [str(a) for a in ips]
    assert seen[0] == (0, 9)
    assert seen[-1] == (9, 9)
    assert [d for d, _ in seen] == sorted(d for d, _ in seen)


def test_collection_of_addresses_is_exact() -> None:
    results = run_check(
        [ip("127.0.3.1"), ip("127.0.3.2")],
        [tcp(40129)],
        host_addresses=[ip("127.0.3.1")],
        listener_table=no_table,
    )
    assert [r.status for r in results] == [ProbeStatus.OK, ProbeStatus.NOT_LOCAL]
    assert results[1].errno is None  # the kernel bound it; the address list said no


def test_nothing_to_check_and_bad_concurrency() -> None:
    assert run_check([], [tcp(1)], host_addresses=LOOPBACK, listener_table=no_table) == ()
    assert run_check([ip("127.0.3.3")], [], host_addresses=LOOPBACK, listener_table=no_table) == ()
    with pytest.raises(UsageError):
        run_check(
            [ip("127.0.3.3")],
            [tcp(1)],
            host_addresses=LOOPBACK,
            listener_table=no_table,
            batch_size=0,
        )


def test_table_failure_propagates_as_itself() -> None:
    def broken() -> tuple[ListeningSocket, ...]:
        raise ResourceError("ran out", hint="raise ulimit -n")

    with pytest.raises(ResourceError):
        run_check(
            [ip("127.0.3.4")],
            [tcp(40130)],
            host_addresses=LOOPBACK,
            table_on_failure=False,  # the table beside the binds (Windows, BSD)
            listener_table=broken,
        )


@pytest.mark.asyncio
async def test_check_inside_a_running_loop() -> None:
    with listener_socket("127.0.3.5") as busy:
        results = await check(
            [ip("127.0.3.5"), ip("127.0.3.6")],
            [tcp(port_of(busy))],
            host_addresses=LOOPBACK,
            listener_table=hostinfo.listening_sockets,
        )
    assert [r.status for r in results] == [ProbeStatus.IN_USE, ProbeStatus.OK]


def test_bind_batch_outcomes_and_closing() -> None:
    with listener_socket("127.0.3.7") as busy:
        port = port_of(busy)
        specs = bind_specs([ip("127.0.3.7"), ip("127.0.3.8")], [tcp(port)])
        outcomes, stopped = bind_batch(specs)
    assert outcomes == [errno.EADDRINUSE, 0]
    assert stopped is None


def _table_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == "bindmgr-listener-table"]


def test_a_failing_bind_stops_the_check_and_its_table_thread(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A failure outside the errno table (here from the socket seam) propagates as itself; the
    table thread is joined and its late answer, even a failure, is dropped without a word."""
    started = threading.Event()

    def table() -> tuple[ListeningSocket, ...]:
        started.wait(10)
        raise ResourceError("the table failed too", hint="none")

    def factory(*args: object) -> socket.socket:
        started.set()
        raise LookupError("not an OSError")

    with pytest.raises(LookupError):
        run_check(
            [ip("127.0.3.9")],
            [tcp(40131)],
            host_addresses=LOOPBACK,
            table_on_failure=False,  # the table beside the binds (Windows, BSD)
            listener_table=table,
            socket_factory=factory,
        )
    assert _table_threads() == []
    gc.collect()  # an unretrieved future failure would be logged when the future is collected
    assert not [r for r in caplog.records if r.name == "asyncio"]


def test_a_table_failure_seen_before_a_bind_failure_is_not_left_unretrieved(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """The table fails at once and its failure reaches the loop while binds still run; then a
    bind fails. The bind's failure propagates; the table's is dropped, not logged at exit."""
    calls = [0]

    def table() -> tuple[ListeningSocket, ...]:
        raise ResourceError("the table failed", hint="none")

    def factory(family: int, kind: int) -> socket.socket:
        calls[0] += 1
        if calls[0] > 40:
            raise LookupError("not an OSError")
        time.sleep(0.001)  # 40 ms of binds: the loop gets several turns (YIELD_INTERVAL)
        return socket.socket(family, kind)

    with pytest.raises(LookupError):
        run_check(
            [IPv4Address(f"127.0.5.{n}") for n in range(1, 61)],
            [tcp(40133)],
            host_addresses=LOOPBACK,
            table_on_failure=False,  # the table beside the binds (Windows, BSD)
            listener_table=table,
            socket_factory=factory,
            batch_size=1,
        )
    gc.collect()
    assert not [r for r in caplog.records if r.name == "asyncio"]


@pytest.mark.asyncio
async def test_a_long_check_yields_to_the_loop_and_can_be_cancelled() -> None:
    """Binds run in batches on the loop's thread; the loop still gets turns, so a check can be
    cancelled part way. Every socket is closed and the table thread joined."""
    seen: list[int] = []
    ticks: list[int] = []

    def slow_factory(family: int, kind: int) -> socket.socket:
        time.sleep(0.001)  # a slow host: 2,000 binds would take seconds
        return socket.socket(family, kind)

    async def ticker() -> None:
        for n in range(1000):
            ticks.append(n)
            await asyncio.sleep(0)

    ips = [IPv4Address(f"127.0.{4 + n // 250}.{n % 250 + 1}") for n in range(2000)]
    task = asyncio.create_task(
        check(
            ips,
            [tcp(40132)],
            host_addresses=LOOPBACK,
            table_on_failure=False,  # the table beside the binds (Windows, BSD)
            listener_table=no_table,
            socket_factory=slow_factory,
            batch_size=1,
            progress=lambda done, total: seen.append(done),
        )
    )
    other = asyncio.create_task(ticker())
    for _ in range(2000):
        if seen and seen[-1] >= 20:
            break
        await asyncio.sleep(0.005)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    other.cancel()
    with pytest.raises(asyncio.CancelledError):
        await other
    assert 20 <= seen[-1] < len(ips)
    assert len(ticks) > 1  # the other task ran while the check was binding
    assert _table_threads() == []


linux_only = pytest.mark.skipif(
    not TABLE_ON_FAILURE, reason="the table is read only after a failed bind on Linux"
)


def _never() -> tuple[ListeningSocket, ...]:
    raise AssertionError("the listener table was read")


@linux_only
def test_linux_reads_no_table_when_every_bind_succeeds() -> None:
    results = run_check(
        [ip("127.0.6.1"), ip("127.0.6.2")],
        [tcp(40140), udp(40140)],
        host_addresses=LOOPBACK,
        listener_table=_never,
    )
    assert [r.status for r in results] == [ProbeStatus.OK] * 4
    assert _table_threads() == []


@linux_only
def test_linux_reads_no_table_for_an_address_not_on_this_host() -> None:
    (result,) = run_check(
        [absent_testnet()], [tcp(40141)], host_addresses=hostinfo.host_addresses(),
        listener_table=_never,
    )  # fmt: skip
    assert result.status is ProbeStatus.NOT_LOCAL


@linux_only
@pytest.mark.parametrize("proto", [Proto.TCP, Proto.UDP])
def test_linux_reads_the_table_once_a_bind_fails_and_names_the_holder(proto: Proto) -> None:
    reads = [0]
    with listener_socket("127.0.6.3", proto=proto) as busy:
        port = port_of(busy)
        row = ListeningSocket(ip("127.0.6.3"), port, proto, 4321, "nginx", None)

        def table() -> tuple[ListeningSocket, ...]:
            reads[0] += 1
            return (row,)

        listeners = [tcp(port) if proto is Proto.TCP else udp(port), tcp(40142)]
        busy_result, free = run_check(
            [ip("127.0.6.3")], listeners, host_addresses=LOOPBACK, listener_table=table
        )
    assert reads == [1]
    assert busy_result.status is ProbeStatus.IN_USE
    assert busy_result.holder is not None
    assert (busy_result.holder.pid, busy_result.holder.name) == (4321, "nginx")
    assert free.status is ProbeStatus.OK
    assert _table_threads() == []


@linux_only
def test_linux_table_read_after_a_failure_can_fail_as_itself() -> None:
    def broken() -> tuple[ListeningSocket, ...]:
        raise ResourceError("ran out", hint="raise ulimit -n")

    with listener_socket("127.0.6.4") as busy, pytest.raises(ResourceError):
        run_check(
            [ip("127.0.6.4")], [tcp(port_of(busy))], host_addresses=LOOPBACK,
            listener_table=broken,
        )  # fmt: skip
    assert _table_threads() == []


@linux_only
def test_linux_real_table_names_this_process_as_the_holder() -> None:
    with listener_socket("127.0.6.5") as busy:
        (result,) = check_real([ip("127.0.6.5")], [tcp(port_of(busy))])
    assert result.status is ProbeStatus.IN_USE
    assert result.holder is not None
    assert result.holder.pid == os.getpid()
