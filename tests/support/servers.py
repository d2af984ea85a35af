"""Real servers on the test's own loopback addresses, for the greeting tests.

Every server listens on port 0 of a 127.0.0.x (or ::1) address the test names, in one thread
with its own event loop, so that the code under test can run asyncio.run of its own. Leaving the
`with Servers()` block closes every listening socket and accepted connection, ends every task
of that loop and joins the thread, within bounded time. Nothing here connects anywhere.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import ssl
import struct
import threading
from collections.abc import Awaitable, Callable, Iterator
from concurrent.futures import Future
from datetime import UTC, datetime, timedelta
from types import TracebackType
from typing import Any, TypeVar

import trustme
from aiosmtpd.handlers import Sink
from aiosmtpd.smtp import SMTP

Handler = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]
T = TypeVar("T")
WAIT = 5.0  # seconds any start or stop may take before the test fails

CA = trustme.CA()


def server_context(*names: str, expired: bool = False) -> ssl.SSLContext:
    """A server-side TLS context with a trustme certificate for `names`."""
    now = datetime.now(UTC)
    dates = {"not_before": now - timedelta(days=30), "not_after": now - timedelta(days=1)}
    leaf = CA.issue_cert(*names, **(dates if expired else {}))
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    leaf.configure_cert(context)
    return context


class _TrackedSMTP(SMTP):
    """aiosmtpd's SMTP server, with its connections known to the Servers that run it."""

    def __init__(self, live: set[asyncio.BaseTransport], **kwargs: Any) -> None:
        super().__init__(Sink(), **kwargs)
        self._live = live

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self._live.add(transport)
        super().connection_made(transport)

    def connection_lost(self, error: Exception | None) -> None:
        if self.transport is not None:
            self._live.discard(self.transport)
        super().connection_lost(error)


class Servers:
    """An event loop in a thread that runs small servers until the `with` block ends."""

    def __init__(self) -> None:
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="test-servers")
        self._servers: list[asyncio.Server] = []
        self._live: set[asyncio.BaseTransport] = set()
        self.requests: list[bytes] = []  # what the HTTP responders were sent

    def __enter__(self) -> Servers:
        self._thread.start()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        try:
            self._call(self._shutdown())
        finally:
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(WAIT)
            assert not self._thread.is_alive(), "the test servers' thread did not stop"
            self._loop.close()

    def _call(self, work: Awaitable[T]) -> T:
        async def run() -> T:
            return await work

        future: Future[T] = asyncio.run_coroutine_threadsafe(run(), self._loop)
        return future.result(WAIT)

    async def _shutdown(self) -> None:
        for server in self._servers:
            server.close()
        for transport in list(self._live):
            transport.abort()
        me = asyncio.current_task()
        tasks = [t for t in asyncio.all_tasks() if t is not me]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        for server in self._servers:
            await server.wait_closed()
        await asyncio.sleep(0)  # the aborted transports close their sockets on this turn

    def _port(self, server: asyncio.Server) -> int:
        self._servers.append(server)
        return int(server.sockets[0].getsockname()[1])

    def serve(
        self,
        host: str,
        handler: Handler,
        context: ssl.SSLContext | None = None,
        port: int = 0,
    ) -> int:
        """Run `handler` for each connection to host:port (0: a new port); returns the port."""

        async def connected(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            self._live.add(writer.transport)
            try:
                with contextlib.suppress(OSError):  # the client went away: its business
                    await handler(reader, writer)
            finally:
                writer.transport.abort()
                self._live.discard(writer.transport)

        async def start() -> int:
            tls = {} if context is None else {"ssl": context, "ssl_handshake_timeout": WAIT}
            server = await asyncio.start_server(connected, host, port, **tls)
            return self._port(server)

        return self._call(start())

    def smtp(
        self,
        host: str,
        name: str,
        ident: str = "ESMTP MDaemon 25.0.1",
        port: int = 0,
        context: ssl.SSLContext | None = None,
    ) -> int:
        """aiosmtpd on host:port (0: a new port), greeting `220 <name> <ident>` (over TLS from the
        first byte with `context`); returns the port."""

        async def start() -> int:
            server = await self._loop.create_server(
                lambda: _TrackedSMTP(self._live, hostname=name, ident=ident),
                host,
                port,
                ssl=context,
            )
            return self._port(server)

        return self._call(start())


async def _until_eof(reader: asyncio.StreamReader) -> None:
    for _ in range(64):  # a greeting test's client sends little: bounded all the same
        if not await reader.read(4096):
            return


def greeter(text: bytes) -> Handler:
    """Say `text`, then wait for the client to hang up (a POP3/IMAP/SMTP greeting)."""

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(text)
        await writer.drain()
        await _until_eof(reader)

    return handle


def responder(servers: Servers, response: bytes) -> Handler:
    """Read one HTTP request head (recorded in servers.requests), answer, hang up."""

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        servers.requests.append(await reader.readuntil(b"\r\n\r\n"))
        writer.write(response)
        await writer.drain()
        # Hang up gracefully: the abort that follows every handler would drop a TLS answer
        # still in flight (drain returns once TLS has it; Windows writes it later, overlapped).
        writer.close()
        with contextlib.suppress(OSError, asyncio.TimeoutError):
            await asyncio.wait_for(writer.wait_closed(), WAIT)

    return handle


async def hang_up(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """Accept, say nothing, close."""


async def reset(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """Accept and answer with a TCP reset (SO_LINGER 0, then close)."""
    sock = writer.get_extra_info("socket")
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))


@contextlib.contextmanager
def silent(host: str) -> Iterator[int]:
    """A listener that never accepts: the kernel completes the handshake, nobody speaks."""
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as sock:
        sock.bind((host, 0))
        sock.listen(16)
        yield int(sock.getsockname()[1])


@contextlib.contextmanager
def closed_port(host: str) -> Iterator[int]:
    """A port held bound but not listening: connections to it are refused, and no other
    program can take it while the test runs."""
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as sock:
        sock.bind((host, 0))
        yield int(sock.getsockname()[1])
