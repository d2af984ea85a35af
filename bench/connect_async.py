"""The verify benchmark's floor: the same greetings read by a bare asyncio client.

`python bench/connect_async.py TARGETS [AT_ONCE]` reads the lines "ip port kind tls" that
bench/greeters.py writes and, AT_ONCE (64, verify's default `--connections`) at a time: connect,
TLS handshake where tls is 1 (no certificate check), for HTTP send HEAD /, read the greeting's
first line (HTTP: the end of the headers). What Python's asyncio and ssl cost for this work with
nothing of bindmgr around them: verify cannot be faster than this in Python. 5 s per connection
at most; exit 1 unless every target greeted.
"""

from __future__ import annotations

import asyncio
import ssl
import sys

TIMEOUT = 5.0


async def greet(target: list[str], context: ssl.SSLContext, gate: asyncio.Semaphore) -> bool:
    host, port, kind, tls = target[0], int(target[1]), target[2], target[3] == "1"
    async with gate:
        try:
            async with asyncio.timeout(TIMEOUT):
                reader, writer = await asyncio.open_connection(
                    host, port, ssl=context if tls else None, server_hostname="" if tls else None
                )
                try:
                    if kind == "http":
                        writer.write(b"HEAD / HTTP/1.0\r\nHost: " + host.encode() + b"\r\n\r\n")
                        data = await reader.readuntil(b"\r\n\r\n")
                    else:
                        data = await reader.readline()
                finally:
                    writer.close()
                return bool(data)
        except (OSError, TimeoutError, asyncio.IncompleteReadError):
            return False


async def run(path: str, at_once: int) -> int:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    gate = asyncio.Semaphore(at_once)
    with open(path, encoding="ascii") as lines:
        targets = [line.split() for line in lines]
    greeted = await asyncio.gather(*(greet(target, context, gate) for target in targets))
    return 0 if all(greeted) else 1


if __name__ == "__main__":
    raise SystemExit(asyncio.run(run(sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 else 64)))
