"""Read every target's greeting at once: the asyncio edge of `bindmgr verify`.

One TCP connection per Target, at most `concurrency` open at a time, each bounded by `timeout`
(connect, TLS handshake and greeting together) and the whole run by `total_timeout`; what is
unfinished at the deadline is reported as a timeout. Reads at most MAX_GREETING bytes, sends
nothing but `HEAD /` to web listeners, and verifies no certificate: it hands the DER on. The
expected outcomes (refused, timeout, reset, unreachable, TLS failure) are data; only "cannot
continue" raises (ResourceError; an errno nobody expects propagates). Every socket is closed and
every task done before read_greetings returns; run_greetings is the one call of asyncio.run.
What a greeting means is answer.classify's business, not this module's.
"""

from __future__ import annotations

import asyncio
import errno
import socket
import ssl
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from ipaddress import IPv4Address
from typing import Any, Final

from bindmgr.check.answer import (
    Failure,
    Greeting,
    Phase,
    Target,
    http_request,
)
from bindmgr.check.protocol import MAX_GREETING, Kind, greeting_end
from bindmgr.check.verdict import RESOURCE_ERRNOS
from bindmgr.errors import ResourceError, UsageError
from bindmgr.model import IPAddress

# connect() errnos that mean "this address cannot be reached from here", beside their Windows
# (WSA) numbers. Refused, reset and timed out are told by their exception classes, which Python
# maps from both the POSIX and the WSA codes. Anything else propagates.
_UNREACHABLE: Final = frozenset(
    {
        errno.EHOSTUNREACH,
        10065,  # WSAEHOSTUNREACH
        errno.ENETUNREACH,
        10051,  # WSAENETUNREACH
        errno.ENETDOWN,
        10050,  # WSAENETDOWN
        errno.EHOSTDOWN,
        10064,  # WSAEHOSTDOWN
        errno.EADDRNOTAVAIL,  # e.g. an IPv6 address with no route or a wrong scope
        10049,  # WSAEADDRNOTAVAIL
        errno.EPERM,  # Linux: a local firewall rule rejected the connection
    }
)
_CLOSED: Final = (ConnectionResetError, ConnectionAbortedError, BrokenPipeError)
# Windows' event loop (ConnectEx on an I/O completion port) reports a failed connect with a
# system error code, not a WSA one, and Python gives those errno EINVAL: read them by meaning.
_WINDOWS_CONNECT_ERRORS: Final = {
    1225: errno.ECONNREFUSED,  # ERROR_CONNECTION_REFUSED (raised as ConnectionRefusedError)
    1231: errno.ENETUNREACH,  # ERROR_NETWORK_UNREACHABLE
    1232: errno.EHOSTUNREACH,  # ERROR_HOST_UNREACHABLE
    121: errno.ETIMEDOUT,  # ERROR_SEM_TIMEOUT: the connect itself timed out
}

SocketFactory = Callable[[int, int], socket.socket]


def unverified_context() -> ssl.SSLContext:
    """TLS for looking, not for trusting: no chain or host-name check, so that an expired or
    self-signed certificate still yields a greeting (classify reports it as a warning)."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE  # the certificate is reported, never trusted
    return context


def _utc_now() -> datetime:
    return datetime.now(UTC)


def _errno(exc: OSError) -> int | None:
    """The errno that says what happened, a Windows system error code read as one."""
    return _WINDOWS_CONNECT_ERRORS.get(getattr(exc, "winerror", None) or 0, exc.errno)


def sockaddr(ip: IPAddress, port: int) -> tuple[Any, ...]:
    """The address a connect takes. IPv6 gets all four fields (scope resolved, numerically):
    Windows' event loop reads a pair as IPv4 and fails on an IPv6 host with WSAEINVAL."""
    if isinstance(ip, IPv4Address):
        return (str(ip), port)
    found = socket.getaddrinfo(
        str(ip), port, socket.AF_INET6, socket.SOCK_STREAM, 0, socket.AI_NUMERICHOST
    )
    return tuple(found[0][4])


def _reason(exc: OSError) -> str:
    if isinstance(exc, ssl.SSLError):  # its errno is OpenSSL's, not the system's
        return str(exc.reason or type(exc).__name__)
    code = _errno(exc)
    if code is not None:
        return errno.errorcode.get(code, str(code))
    if isinstance(exc, _CLOSED):  # asyncio's own "connection lost", without an errno
        return "the server closed the connection"
    return str(exc) or type(exc).__name__


class _Attempt:
    """How far one connection got: filled in as it goes, read when it ends or is cut off."""

    __slots__ = ("at", "cert", "data", "phase")

    def __init__(self) -> None:
        self.phase = Phase.QUEUED
        self.data = bytearray()
        self.cert: bytes | None = None
        self.at: datetime | None = None

    def outcome(self, failure: Failure | None = None, detail: str = "") -> Greeting:
        return Greeting(bytes(self.data), failure, self.phase, detail, self.cert, self.at)


async def _read(reader: asyncio.StreamReader, kind: Kind, data: bytearray) -> None:
    """Read until the greeting ends, the server closes, or MAX_GREETING bytes came."""
    while len(data) < MAX_GREETING:  # every pass adds a byte or returns: bounded
        chunk = await reader.read(MAX_GREETING - len(data))
        if not chunk:
            return
        data += chunk
        if greeting_end(kind, bytes(data)) is not None:
            return


async def _exchange(
    target: Target,
    attempt: _Attempt,
    context: ssl.SSLContext,
    socket_factory: SocketFactory,
    clock: Callable[[], datetime],
) -> None:
    """Connect, shake hands, send the HTTP request if any, read the greeting; close in any case.

    The connect is done on a bare socket before TLS starts, so that the phase that failed is
    known, and so that a plain-text server's first bytes reach the TLS layer (a clear
    tls_error) rather than a stream buffer.
    """
    loop = asyncio.get_running_loop()
    family = socket.AF_INET6 if target.ip.version == 6 else socket.AF_INET
    attempt.phase = Phase.CONNECT
    sock = socket_factory(family, socket.SOCK_STREAM)
    writer: asyncio.StreamWriter | None = None
    try:
        sock.setblocking(False)
        await loop.sock_connect(sock, sockaddr(target.ip, target.port))
        attempt.at = clock()
        if target.tls:
            attempt.phase = Phase.HANDSHAKE
            reader, writer = await asyncio.open_connection(
                sock=sock, ssl=context, server_hostname=target.expected_name or ""
            )
            tls = writer.get_extra_info("ssl_object")
            attempt.cert = tls.getpeercert(binary_form=True) if tls is not None else None
        else:
            reader, writer = await asyncio.open_connection(sock=sock)
        attempt.phase = Phase.GREETING
        if target.kind is Kind.HTTP:
            writer.write(http_request(target))
        await _read(reader, target.kind, attempt.data)
    finally:
        if writer is not None:
            writer.transport.abort()  # no TLS close_notify, no lingering: the socket goes now
        sock.close()  # idempotent; the transport, if any, has let go of it


async def _connect(
    target: Target,
    attempt: _Attempt,
    *,
    timeout: float,
    context: ssl.SSLContext,
    socket_factory: SocketFactory,
    clock: Callable[[], datetime],
) -> Greeting:
    """One target's Greeting; the expected failures become data."""
    try:
        async with asyncio.timeout(timeout):
            await _exchange(target, attempt, context, socket_factory, clock)
    except TimeoutError as exc:  # ours, or the kernel's ETIMEDOUT
        detail = _reason(exc) if exc.errno is not None else f"{timeout:g} s per connection"
        return attempt.outcome(Failure.TIMEOUT, detail)
    except ssl.SSLError as exc:
        return attempt.outcome(Failure.TLS, _reason(exc))
    except ConnectionRefusedError as exc:
        return attempt.outcome(Failure.REFUSED, _reason(exc))
    except _CLOSED as exc:  # a close during the handshake is the handshake's failure
        failure = Failure.TLS if attempt.phase is Phase.HANDSHAKE else Failure.CLOSED
        return attempt.outcome(failure, _reason(exc))
    except OSError as exc:
        code = _errno(exc)
        if code in RESOURCE_ERRNOS:
            raise ResourceError(
                f"ran out of file descriptors or socket buffers ({_reason(exc)}) while "
                f"connecting to {target.address}",
                hint="raise the open-files limit (ulimit -n) or lower --concurrency, then rerun",
            ) from exc
        if code == errno.ETIMEDOUT:  # Windows: the connect's own timeout, as a system code
            failure = Failure.TIMEOUT
        elif code in _UNREACHABLE:
            failure = Failure.UNREACHABLE
        else:
            raise
        return attempt.outcome(failure, _reason(exc))
    return attempt.outcome()


async def read_greetings(
    targets: Sequence[Target],
    *,
    concurrency: int = 32,
    timeout: float = 5.0,
    total_timeout: float = 60.0,
    ssl_context: ssl.SSLContext | None = None,
    socket_factory: SocketFactory = socket.socket,
    clock: Callable[[], datetime] = _utc_now,
) -> tuple[Greeting, ...]:
    """Each target's Greeting, in the targets' order.

    `timeout` bounds one connection (connect, handshake and greeting), `total_timeout` the run:
    at that deadline every unfinished connection is closed and reported as a timeout in the
    phase it had reached (`queued` if it never started). `ssl_context` defaults to
    unverified_context(); `socket_factory` and `clock` are seams for tests and callers.
    Raises UsageError for a bad bound, ResourceError when descriptors run out.
    """
    if concurrency < 1:
        raise UsageError(f"concurrency {concurrency} is not allowed; give 1 or more")
    if not (timeout > 0 and total_timeout > 0):
        raise UsageError(f"timeouts must be above 0 s (got {timeout:g} and {total_timeout:g})")
    context = ssl_context if ssl_context is not None else unverified_context()
    attempts = [_Attempt() for _ in targets]
    done: list[Greeting | None] = [None] * len(targets)
    gate = asyncio.Semaphore(concurrency)

    async def one(i: int) -> None:
        async with gate:
            done[i] = await _connect(
                targets[i],
                attempts[i],
                timeout=timeout,
                context=context,
                socket_factory=socket_factory,
                clock=clock,
            )

    try:
        async with asyncio.timeout(total_timeout), asyncio.TaskGroup() as group:
            for i in range(len(targets)):
                group.create_task(one(i))
    except TimeoutError:
        pass  # the whole run's deadline: the unfinished ones are reported below
    except ExceptionGroup as failures:  # a child could not continue: say why, not "a group"
        raise failures.exceptions[0] from None
    deadline = f"the whole run's {total_timeout:g} s"
    return tuple(
        greeting if greeting is not None else attempt.outcome(Failure.TIMEOUT, deadline)
        for greeting, attempt in zip(done, attempts, strict=True)
    )


def run_greetings(
    targets: Sequence[Target],
    *,
    concurrency: int = 32,
    timeout: float = 5.0,
    total_timeout: float = 60.0,
    ssl_context: ssl.SSLContext | None = None,
    socket_factory: SocketFactory = socket.socket,
    clock: Callable[[], datetime] = _utc_now,
) -> tuple[Greeting, ...]:
    """read_greetings() from synchronous code: the one place `asyncio.run` is called."""
    return asyncio.run(
        read_greetings(
            targets,
            concurrency=concurrency,
            timeout=timeout,
            total_timeout=total_timeout,
            ssl_context=ssl_context,
            socket_factory=socket_factory,
            clock=clock,
        )
    )
