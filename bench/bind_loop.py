"""The check benchmark's floor: the same binds in a plain Python loop, with the check's imports.

`python bench/bind_loop.py IPS_FILE PORTS` imports what `bindmgr check` must (bindmgr.cli and
the check's modules), then for each address in IPS_FILE and each TCP port in PORTS (and UDP
4069, Minger) makes a socket, sets SO_REUSEADDR for TCP, binds, listens and closes it, one after
the other, keeping one small tuple per pair as a result: what a check costs in Python with
nothing of bindmgr's around the binds. Exit 0 whatever the binds say.
"""

from __future__ import annotations

import socket
import sys

import bindmgr.check.hostinfo
import bindmgr.check.probe
import bindmgr.cli
import bindmgr.commands.check  # noqa: F401 (imported for their cost, as the check imports them)


def main(path: str, ports_text: str) -> int:
    ports = [(int(p), socket.SOCK_STREAM) for p in ports_text.split(",")]
    ports.append((4069, socket.SOCK_DGRAM))
    results: list[tuple[str, int, int]] = []
    with open(path, encoding="ascii") as lines:
        for line in lines:
            ip = line.strip()
            for port, kind in ports:
                sock = socket.socket(socket.AF_INET, kind)
                try:
                    if kind == socket.SOCK_STREAM:
                        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                    sock.bind((ip, port))
                    if kind == socket.SOCK_STREAM:
                        sock.listen(1)
                    results.append((ip, port, 0))
                except OSError as exc:
                    results.append((ip, port, exc.errno or 0))
                finally:
                    sock.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1], sys.argv[2]))
