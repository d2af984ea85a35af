"""A fake MDaemon for the verify tests: real servers that greet as MDaemon does, on given ports.

`serve(servers, listeners, names)` answers on every TCP listener of every address in `names`
(address -> the host name SMTP greets with), speaking each listener's protocol: SMTP through
aiosmtpd, POP3 and IMAP greetings, HTTP with WorldClient's Server header, TLS where the port is
a TLS one. Run as a program (`python -m tests.support.fake_mdaemon APP LAYOUT IP=NAME ...`) it
waits for RESTART.SEM in APP, deletes it, serves, prints "listening" and runs until its standard
input closes: what MDaemon does after bindmgr asks it to restart.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Mapping, Sequence
from pathlib import Path

from bindmgr.check.protocol import Kind, protocol_of
from bindmgr.model import Listener, Proto
from bindmgr.read.appdir import load_app, read_layout
from tests.support.servers import Servers, greeter, server_context

# Said at once and kept open until the client hangs up, as every greeter here: the client
# closes first, so no TIME_WAIT is left on MDaemon's own ports for the next check to trip on.
HTTP_ANSWER = b"HTTP/1.0 200 OK\r\nServer: WDaemon/25.0\r\nContent-Length: 0\r\n\r\n"


def serve(servers: Servers, listeners: Sequence[Listener], names: Mapping[str, str]) -> None:
    for ip, name in names.items():
        context = server_context(name)
        for listener in listeners:
            proto = protocol_of(listener.service, listener.port)
            if listener.proto is not Proto.TCP or proto is None:
                continue
            tls = context if proto.tls else None
            if proto.kind is Kind.SMTP:
                servers.smtp(ip, name, port=listener.port, context=tls)
            elif proto.kind is Kind.POP3:
                servers.serve(
                    ip,
                    greeter(b"+OK " + name.encode() + b" POP MDaemon 25.0\r\n"),
                    tls,
                    listener.port,
                )
            elif proto.kind is Kind.IMAP:
                servers.serve(
                    ip,
                    greeter(b"* OK " + name.encode() + b" IMAP4rev1 MDaemon 25.0 ready\r\n"),
                    tls,
                    listener.port,
                )
            else:
                servers.serve(ip, greeter(HTTP_ANSWER), tls, listener.port)


def main(argv: Sequence[str]) -> int:
    app_dir, layout, *pairs = argv
    names = dict(pair.split("=", 1) for pair in pairs)
    semaphore = Path(app_dir) / "RESTART.SEM"
    print("waiting", flush=True)
    deadline = time.monotonic() + 60
    while not semaphore.exists():
        if time.monotonic() > deadline:
            print("no RESTART.SEM", flush=True)
            return 1
        time.sleep(0.02)
    semaphore.unlink()
    listeners = load_app(Path(app_dir), read_layout(Path(layout))).view.config.listeners
    with Servers() as servers:
        serve(servers, listeners, names)
        print("listening", flush=True)
        sys.stdin.read()
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
