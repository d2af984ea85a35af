"""Helpers for the bind-check tests: real sockets on the test's own loopback addresses."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from collections.abc import Sequence
from ipaddress import IPv4Address, IPv6Address, ip_address

import psutil

from bindmgr.check import hostinfo
from bindmgr.check.probe import run_check
from bindmgr.model import IPAddress, Listener, ProbeResult, Proto

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def ip(text: str) -> IPAddress:
    return ip_address(text)


def tcp(port: int, label: str = "SMTP") -> Listener:
    return Listener(label.casefold(), label, port, Proto.TCP)


def udp(port: int, label: str = "Minger") -> Listener:
    return Listener(label.casefold(), label, port, Proto.UDP)


def listener_socket(
    host: str, port: int = 0, proto: Proto = Proto.TCP, *, reuseport: bool = False
) -> socket.socket:
    """A real listener (TCP in LISTEN, or a bound UDP socket) owned by this test process."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    kind = socket.SOCK_STREAM if proto is Proto.TCP else socket.SOCK_DGRAM
    sock = socket.socket(family, kind)
    try:
        if reuseport:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        sock.bind((host, port))
        if proto is Proto.TCP:
            sock.listen(8)
    except BaseException:
        sock.close()
        raise
    return sock


def port_of(sock: socket.socket) -> int:
    return int(sock.getsockname()[1])


def check_real(ips: Sequence[IPAddress], listeners: Sequence[Listener]) -> tuple[ProbeResult, ...]:
    """run_check with the real edges: this host's addresses and its listener table."""
    return run_check(
        ips,
        listeners,
        host_addresses=hostinfo.host_addresses(),
        listener_table=hostinfo.listening_sockets,
    )


def absent_testnet() -> IPv4Address:
    """A TEST-NET-3 address verified to be on no interface of this host (netifaces)."""
    host = hostinfo.host_addresses()
    for last in range(77, 120):
        cand = IPv4Address(f"203.0.113.{last}")
        if cand not in host:
            return cand
    raise AssertionError("every 203.0.113.77-119 address is on this host")


def has_ipv6_loopback() -> bool:
    return IPv6Address("::1") in hostinfo.host_addresses()


def free_below(start: int) -> int | None:
    """A TCP port below `start` that nothing on this host listens on, or None."""
    used = {c.laddr.port for c in psutil.net_connections(kind="inet") if c.laddr}
    return next((p for p in range(start - 1, 0, -1) if p not in used), None)


def child_env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = ROOT + os.pathsep + env.get("PYTHONPATH", "")
    return env


def run_child(
    script: str, *args: str, prefix: Sequence[str] = (), timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    """Run `script` in a fresh interpreter (optionally under `prefix`, e.g. unshare)."""
    return subprocess.run(
        [*prefix, sys.executable, "-c", script, *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=child_env(),
        check=False,
        cwd=ROOT,
    )


def netns_available() -> str | None:
    """None when `unshare -n` can make a network namespace with lo up; else why not."""
    if sys.platform != "linux":
        return "a private network namespace (unshare -n) is Linux's"
    try:
        done = subprocess.run(
            ["unshare", "-n", "sh", "-c", "ip link set lo up"],
            capture_output=True,
            text=True,
            timeout=20,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"unshare -n not usable: {exc}"
    return None if done.returncode == 0 else f"unshare -n not allowed: {done.stderr.strip()}"


def in_netns(*, nonlocal_bind: bool = False) -> list[str]:
    """A prefix that runs a command in a new network namespace (freed when it exits)."""
    setup = "ip link set lo up"
    if nonlocal_bind:
        setup += " && sysctl -qw net.ipv4.ip_nonlocal_bind=1"
    return ["unshare", "-n", "sh", "-c", f'{setup} && exec "$0" "$@"']
