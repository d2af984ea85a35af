"""The verify benchmark's plain baseline: connect to each target in turn and read its greeting.

`python bench/connect_loop.py TARGETS` reads lines "ip port kind tls" (bench/greeters.py writes
them), and for each: connect, TLS handshake where tls is 1 (no certificate check), for HTTP send
HEAD /, read until the greeting's first line (HTTP: the end of the headers) or the server
closes. One connection at a time, 5 s each at most. Exit 1 unless every target greeted.
"""

from __future__ import annotations

import socket
import ssl
import sys

TIMEOUT = 5.0


def greet(host: str, port: int, kind: str, tls: bool, context: ssl.SSLContext) -> bool:
    end = b"\r\n\r\n" if kind == "http" else b"\n"
    with socket.create_connection((host, port), timeout=TIMEOUT) as raw:
        sock = context.wrap_socket(raw, server_hostname=None) if tls else raw
        if kind == "http":
            sock.sendall(b"HEAD / HTTP/1.0\r\nHost: " + host.encode() + b"\r\n\r\n")
        data = b""
        while end not in data and len(data) < 4096:  # grows or returns: bounded
            chunk = sock.recv(4096)
            if not chunk:
                break
            data += chunk
        return bool(data)


def main(path: str) -> int:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    greeted = total = 0
    with open(path, encoding="ascii") as lines:
        for line in lines:
            host, port, kind, tls = line.split()
            total += 1
            greeted += greet(host, int(port), kind, tls == "1", context)
    return 0 if greeted == total else 1


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1]))
