"""Greetings read from real servers on this process's own loopback addresses, then classified."""

from __future__ import annotations

import asyncio
import errno
import socket
import sys
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from ipaddress import ip_address
from typing import Any

import pytest

from bindmgr.check import greeting
from bindmgr.check.answer import (
    Answer,
    Failure,
    Greeting,
    Phase,
    Status,
    Target,
    classify,
)
from bindmgr.check.greeting import read_greetings, run_greetings
from bindmgr.check.protocol import MAX_GREETING, Kind
from bindmgr.errors import ResourceError, UsageError
from tests.support.probe import has_ipv6_loopback
from tests.support.servers import (
    Servers,
    closed_port,
    greeter,
    hang_up,
    reset,
    responder,
    server_context,
    silent,
)

# Addresses of this module's own: nothing else in the suite binds 127.0.9.x.
A1, A2, A3, A4 = "127.0.9.1", "127.0.9.2", "127.0.9.3", "127.0.9.4"
SOON = {"timeout": 2.0, "total_timeout": 5.0}  # a test fails rather than hangs


def tgt(
    host: str,
    port: int,
    kind: Kind = Kind.SMTP,
    *,
    name: str | None = None,
    tls: bool = False,
    removed: bool = False,
    service: str = "smtp",
) -> Target:
    return Target(ip_address(host), port, service, service.upper(), kind, tls, name, removed)


def verdicts(targets: Sequence[Target], **kw: Any) -> list[Answer]:
    got = run_greetings(targets, **{**SOON, **kw})
    assert len(got) == len(targets)
    return [classify(t, g) for t, g in zip(targets, got, strict=True)]


def test_every_service_answers_on_its_own_address() -> None:
    multi = b"220-mail-1.example.com ESMTP MDaemon 25.0.1\r\n220-Welcome\r\n220 Go ahead\r\n"
    web = (
        b"HTTP/1.1 302 Found\r\nServer: WDaemon/25.0.1\r\n"
        b"Location: /WorldClient.dll?View=Main\r\nContent-Length: 0\r\n\r\n"
    )
    with Servers() as servers:
        smtp1 = servers.smtp(A1, "mail-1.example.com")
        smtp2 = servers.smtp(A2, "mail-2.example.com")
        smtp3 = servers.smtp(A3, "mail-9.example.com")  # answers as another domain
        pop = servers.serve(A1, greeter(b"+OK mail-1.example.com POP MDaemon 25.0.1 ready\r\n"))
        imap = servers.serve(A2, greeter(b"* OK mail-2.example.com IMAP4rev1 MDaemon ready\r\n"))
        http = servers.serve(A1, responder(servers, web))
        msa = servers.serve(A1, greeter(multi))
        targets = [
            tgt(A1, smtp1, name="mail-1.example.com"),
            tgt(A2, smtp2, name="mail-2.example.com"),
            tgt(A3, smtp3, name="mail-3.example.com"),
            tgt(A1, pop, Kind.POP3, name="mail-1.example.com", service="pop3"),
            tgt(A2, imap, Kind.IMAP, name="mail-2.example.com", service="imap"),
            tgt(A1, http, Kind.HTTP, name="mail-1.example.com", service="webmail"),
            tgt(A1, msa, name="mail-1.example.com", service="msa"),
        ]
        answers = verdicts(targets)
        requests = list(servers.requests)
    assert [(a.status, a.passed, a.warnings) for a in answers] == [
        (Status.ANSWERED, True, ()),
        (Status.ANSWERED, True, ()),
        (Status.WRONG_DOMAIN, False, ()),
        (Status.ANSWERED, True, ()),
        (Status.ANSWERED, True, ()),
        (Status.ANSWERED, True, ()),
        (Status.ANSWERED, True, ()),
    ]
    assert answers[0].greeting == "220 mail-1.example.com ESMTP MDaemon 25.0.1"
    assert answers[2].seen_name == "mail-9.example.com"
    assert answers[2].detail == "the greeting names mail-9.example.com, not mail-3.example.com"
    assert answers[5].detail == "WEBMAIL answers: HTTP 302, Server: WDaemon/25.0.1"
    assert requests == [
        f"HEAD / HTTP/1.0\r\nHost: mail-1.example.com:{http}\r\n"
        "User-Agent: bindmgr-verify\r\n\r\n".encode()
    ]


def test_an_old_address_where_mdaemon_still_answers_and_one_where_nothing_does() -> None:
    with Servers() as servers, closed_port(A2) as gone:
        old = servers.smtp(A1, "mail-2.example.com")
        answers = verdicts([tgt(A1, old, removed=True), tgt(A2, gone, removed=True)])
    assert [(a.status, a.passed) for a in answers] == [
        (Status.STILL_ON_OLD_IP, False),
        (Status.REFUSED, True),
    ]


def test_refused_silent_hung_up_reset_and_another_server() -> None:
    with (
        Servers() as servers,
        closed_port(A1) as refused,
        silent(A2) as mute,
    ):
        bye = servers.serve(A3, hang_up)
        rst = servers.serve(A3, reset)
        postfix = servers.serve(A4, greeter(b"220 mail-4.example.com ESMTP Postfix\r\n"))
        targets = [tgt(A1, refused), tgt(A2, mute), tgt(A3, bye), tgt(A3, rst), tgt(A4, postfix)]
        start = time.monotonic()
        got = run_greetings(targets, timeout=0.3, total_timeout=5)
        took = time.monotonic() - start
    assert [(g.failure, g.phase) for g in got] == [
        (Failure.REFUSED, Phase.CONNECT),
        (Failure.TIMEOUT, Phase.GREETING),
        (None, Phase.GREETING),
        (got[3].failure, got[3].phase),  # checked below
        (None, Phase.GREETING),
    ]
    assert got[0].detail == errno.errorcode[errno.ECONNREFUSED]  # WSAECONNREFUSED on Windows
    assert got[1].detail == "0.3 s per connection"
    assert got[2].data == b""
    # The reset can beat the connect's completion check, the first read, or come as an EOF.
    assert (got[3].failure, got[3].phase) in {
        (Failure.CLOSED, Phase.CONNECT),
        (Failure.CLOSED, Phase.GREETING),
        (None, Phase.GREETING),
    }
    assert [classify(t, g).status for t, g in zip(targets, got, strict=True)] == [
        Status.REFUSED,
        Status.TIMEOUT,
        Status.CLOSED,
        Status.CLOSED,
        Status.NOT_MDAEMON,
    ]
    assert took < 2.0  # the connections ran side by side, each bounded by its timeout


def test_tls_ports_report_certificate_problems_as_warnings() -> None:
    name = "mail-1.example.com"
    plain = b"220 mail-1.example.com ESMTP MDaemon 25.0.1\r\n"
    web = b"HTTP/1.1 200 OK\r\nServer: WDaemon/25.0.1\r\n\r\n"
    with Servers() as servers, silent(A2) as mute:
        good = servers.serve(A1, greeter(plain), server_context(name))
        other = servers.serve(A1, greeter(plain), server_context("other.example.net"))
        expired = servers.serve(A1, greeter(plain), server_context(name, expired=True))
        https = servers.serve(A1, responder(servers, web), server_context(name))
        not_tls = servers.serve(A2, greeter(plain))
        bye = servers.serve(A2, hang_up)
        targets = [
            tgt(A1, good, name=name, tls=True),
            tgt(A1, other, name=name, tls=True),
            tgt(A1, expired, name=name, tls=True),
            tgt(A1, https, Kind.HTTP, name=name, tls=True, service="webmail_https"),
            tgt(A2, not_tls, name=name, tls=True),
            tgt(A2, mute, name=name, tls=True),
            tgt(A2, bye, name=name, tls=True),
        ]
        got = run_greetings(targets, timeout=0.5, total_timeout=5)
    answers = [classify(t, g) for t, g in zip(targets, got, strict=True)]
    assert [(a.status, a.passed) for a in answers] == [
        (Status.ANSWERED, True),
        (Status.ANSWERED, True),
        (Status.ANSWERED, True),
        (Status.ANSWERED, True),
        (Status.TLS_ERROR, False),
        (Status.TIMEOUT, False),
        (Status.TLS_ERROR, False),
    ]
    assert answers[0].warnings == ()
    assert answers[1].warnings == ("the certificate is for other.example.net, not " + name,)
    assert len(answers[2].warnings) == 1
    assert answers[2].warnings[0].startswith("the certificate expired on ")
    assert answers[3].warnings == ()
    assert all(g.cert for g in got[:4])
    assert got[4].phase is Phase.HANDSHAKE
    assert got[4].detail in {"WRONG_VERSION_NUMBER", "RECORD_LAYER_FAILURE"}, got[4].detail
    assert (got[5].phase, got[5].detail) == (Phase.HANDSHAKE, "0.5 s per connection")
    # A server that hangs up at once: the handshake sees end of file or, when the hang-up (an
    # abort) arrives after the ClientHello, a reset; both say the server went away.
    assert answers[6].detail in {
        "TLS failed during the TLS handshake (the server closed the connection)",
        "TLS failed during the TLS handshake (ECONNRESET)",
    }


def test_a_greeting_is_read_up_to_its_limit_only() -> None:
    with Servers() as servers:
        chatty = servers.serve(A1, greeter(b"220-" + b"x" * (3 * MAX_GREETING)))
        (got,) = run_greetings([tgt(A1, chatty)], **SOON)
    assert len(got.data) == MAX_GREETING
    assert got.failure is None
    assert classify(tgt(A1, chatty), got).warnings[0].startswith("the greeting is longer than")


def test_the_whole_run_deadline_turns_the_unfinished_into_timeouts() -> None:
    with silent(A1) as mute:
        targets = [tgt(A1, mute) for _ in range(5)]
        start = time.monotonic()
        got = run_greetings(targets, concurrency=2, timeout=30, total_timeout=0.3)
        took = time.monotonic() - start
    assert [(g.failure, g.phase, g.detail) for g in got] == [
        (Failure.TIMEOUT, Phase.GREETING, "the whole run's 0.3 s"),
        (Failure.TIMEOUT, Phase.GREETING, "the whole run's 0.3 s"),
        (Failure.TIMEOUT, Phase.QUEUED, "the whole run's 0.3 s"),
        (Failure.TIMEOUT, Phase.QUEUED, "the whole run's 0.3 s"),
        (Failure.TIMEOUT, Phase.QUEUED, "the whole run's 0.3 s"),
    ]
    assert took < 2.0


class CountingFactory:
    """A socket factory (the seam) that counts how many of its sockets are open at once."""

    def __init__(self) -> None:
        self.open = 0
        self.most = 0
        self.made = 0

    def __call__(self, family: int, kind: int) -> socket.socket:
        factory = self

        class Counted(socket.socket):
            counted = True

            def close(self) -> None:
                if self.counted:
                    self.counted = False
                    factory.open -= 1
                super().close()

        sock = Counted(family, kind)
        self.made += 1
        self.open += 1
        self.most = max(self.most, self.open)
        return sock


def test_no_more_than_concurrency_connections_are_open_at_once() -> None:
    factory = CountingFactory()
    with silent(A1) as mute:
        got = run_greetings(
            [tgt(A1, mute) for _ in range(6)],
            concurrency=2,
            timeout=0.1,
            total_timeout=5,
            socket_factory=factory,
        )
    assert {g.failure for g in got} == {Failure.TIMEOUT}
    assert (factory.made, factory.most, factory.open) == (6, 2, 0)


def test_the_clock_seam_dates_the_connection() -> None:
    when = datetime(2030, 1, 2, 3, 4, 5, tzinfo=UTC)
    with Servers() as servers:
        port = servers.serve(A1, greeter(b"220 a.example MDaemon\r\n"))
        (got,) = run_greetings([tgt(A1, port)], clock=lambda: when, **SOON)
    assert got == Greeting(b"220 a.example MDaemon\r\n", None, Phase.GREETING, "", None, when)


@pytest.mark.skipif(not has_ipv6_loopback(), reason="no IPv6 loopback on this host")
def test_ipv6_loopback() -> None:
    with Servers() as servers:
        port = servers.smtp("::1", "mail-6.example.com")
        (answer,) = verdicts([tgt("::1", port, name="mail-6.example.com")])
    assert (answer.status, answer.target.address) == (Status.ANSWERED, f"[::1]:{port}")


def failing(code: int) -> Any:
    def factory(family: int, kind: int) -> socket.socket:
        raise OSError(code, "made up by the test")

    return factory


class Unreachable(socket.socket):
    """A real socket whose connect fails the way a host without a route makes it fail."""

    def connect(self, address: Any) -> None:
        raise OSError(errno.ENETUNREACH, "Network is unreachable")


@pytest.mark.skipif(
    sys.platform == "win32",
    reason="Windows' event loop connects with ConnectEx, never socket.connect, so a socket "
    "subclass cannot fake the failure there; its error codes are read by _errno (below)",
)
def test_an_unreachable_address_is_data() -> None:
    (got,) = run_greetings([tgt(A1, 9)], socket_factory=Unreachable, **SOON)
    assert (got.failure, got.phase, got.detail) == (
        Failure.UNREACHABLE,
        Phase.CONNECT,
        "ENETUNREACH",
    )


def _windows_error(winerror: int) -> OSError:
    exc = OSError(errno.EINVAL, "from GetOverlappedResult")  # Python's errno for these codes
    exc.winerror = winerror  # type: ignore[attr-defined]  # only Windows has the attribute
    return exc


def test_windows_connect_error_codes_are_read_by_meaning() -> None:
    """ConnectEx fails with system error codes that Python gives errno EINVAL."""
    assert greeting._errno(_windows_error(1225)) == errno.ECONNREFUSED
    assert greeting._errno(_windows_error(1231)) == errno.ENETUNREACH
    assert greeting._errno(_windows_error(1232)) == errno.EHOSTUNREACH
    assert greeting._errno(_windows_error(5)) == errno.EINVAL  # anything else: as Python says
    assert greeting._reason(_windows_error(1225)) == errno.errorcode[errno.ECONNREFUSED]
    assert greeting._errno(OSError(errno.ENETUNREACH, "x")) == errno.ENETUNREACH


def test_connect_addresses_give_ipv6_all_four_fields() -> None:
    """Windows' ConnectEx reads a pair as IPv4: an IPv6 host would be WSAEINVAL."""
    assert greeting.sockaddr(ip_address("127.0.0.1"), 25) == ("127.0.0.1", 25)
    assert greeting.sockaddr(ip_address("::1"), 25) == ("::1", 25, 0, 0)
    assert greeting.sockaddr(ip_address("2001:db8::1"), 587)[:2] == ("2001:db8::1", 587)


def test_errnos_a_resource_shortage_and_an_unknown_one() -> None:
    with pytest.raises(ResourceError, match=r"\(EMFILE\) while connecting to 127\.0\.9\.1:9"):
        run_greetings([tgt(A1, 9)] * 3, socket_factory=failing(errno.EMFILE), **SOON)
    with pytest.raises(OSError, match="made up by the test") as raised:
        run_greetings([tgt(A1, 9)], socket_factory=failing(errno.EPROTO), **SOON)
    assert raised.value.errno == errno.EPROTO


@pytest.mark.parametrize(
    ("kw", "message"),
    [
        ({"concurrency": 0}, "concurrency 0 is not allowed"),
        ({"timeout": 0}, "timeouts must be above 0 s"),
        ({"total_timeout": -1}, "timeouts must be above 0 s"),
    ],
)
def test_bad_bounds_are_usage_errors(kw: dict[str, float], message: str) -> None:
    with pytest.raises(UsageError, match=message):
        run_greetings([], **kw)


def test_no_targets_no_connections() -> None:
    assert run_greetings([]) == ()


@pytest.mark.asyncio
async def test_cancelling_the_run_closes_every_socket_and_task() -> None:
    """The leak guard (tests/conftest.py) checks what this test leaves behind."""
    with silent(A1) as mute:
        run = asyncio.create_task(read_greetings([tgt(A1, mute)] * 4, timeout=30, total_timeout=30))
        await asyncio.sleep(0.1)
        run.cancel()
        with pytest.raises(asyncio.CancelledError):
            await run


@pytest.mark.asyncio
async def test_read_greetings_runs_inside_a_callers_loop() -> None:
    async def say(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(b"* OK MDaemon\r\n")
        await writer.drain()
        writer.close()
        await writer.wait_closed()

    server = await asyncio.start_server(say, A1, 0)
    try:
        port = server.sockets[0].getsockname()[1]
        (got,) = await read_greetings([tgt(A1, port, Kind.IMAP)], **SOON)
    finally:
        server.close()
        await server.wait_closed()
    assert got.data == b"* OK MDaemon\r\n"
