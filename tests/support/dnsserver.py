"""A real DNS server for the DNS tests: dnsmasq on the test's own loopback address.

dnsmasq (Debian: dnsmasq-base) runs in the foreground on a free high port of an address the
test names, with no upstream server and no system file read: it answers only from the records
given, and names in its local zones that it has no record of get NXDOMAIN, names elsewhere
REFUSED. Leaving the `with Dnsmasq(...)` block stops it (SIGTERM, then SIGKILL), within bounded
time. A test without the binary is skipped, saying what to install.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import sys
from collections.abc import Sequence
from ipaddress import ip_address
from pathlib import Path
from types import TracebackType

import dns.exception
import dns.message
import dns.query
import pytest

WAIT = 5.0  # seconds a start or a stop may take
TRIES = 5  # ports tried, should another program take the free one first
PROBE = 0.2  # seconds one readiness query waits


def dnsmasq_binary() -> str:
    """The dnsmasq binary's path; skips the test when there is none."""
    if sys.platform == "win32":
        pytest.skip("dnsmasq, the tests' DNS server, runs on Linux (dnspython is the same code)")
    found = shutil.which("dnsmasq") or shutil.which("dnsmasq", path="/usr/sbin:/sbin")
    if found is None:
        pytest.skip("dnsmasq is not installed (Debian: apt-get install dnsmasq-base)")
    return found


def free_port(address: str) -> int:
    """A port free for both UDP and TCP on `address` a moment ago (bound to port 0 first)."""
    family = socket.AF_INET6 if ":" in address else socket.AF_INET
    for _ in range(TRIES):
        with socket.socket(family, socket.SOCK_DGRAM) as udp:
            udp.bind((address, 0))
            port = int(udp.getsockname()[1])
            with socket.socket(family, socket.SOCK_STREAM) as tcp:
                try:
                    tcp.bind((address, port))
                except OSError:
                    continue
                return port
    raise AssertionError(f"no port free for UDP and TCP on {address} after {TRIES} tries")


class Dnsmasq:
    """dnsmasq answering from `hosts` lines and extra record options until the block ends.

    `hosts`: (address, name) lines of a hosts file (A or AAAA, and a PTR for an address's first
    name); `ptrs`: (address, name) PTR records; `forward_only`: (name, address) records with no
    PTR; `cnames`: (alias, target) CNAMEs to a name of the hosts file; `local`: zones answered
    only from those records (NXDOMAIN for other names in them).
    """

    def __init__(
        self,
        workdir: Path,
        address: str,
        *,
        hosts: Sequence[tuple[str, str]] = (),
        ptrs: Sequence[tuple[str, str]] = (),
        forward_only: Sequence[tuple[str, str]] = (),
        cnames: Sequence[tuple[str, str]] = (),
        local: Sequence[str] = (),
    ) -> None:
        self.address = address
        self.port = 0
        self._workdir = workdir
        self._hosts = workdir / "hosts"
        self._hosts.write_text("".join(f"{ip} {name}\n" for ip, name in hosts), encoding="ascii")
        self._log_path = workdir / "dnsmasq.log"
        self._records = [
            *(f"--ptr-record={ip_address(ip).reverse_pointer},{name}" for ip, name in ptrs),
            *(f"--address=/{name}/{ip}" for name, ip in forward_only),
            *(f"--cname={alias},{target}" for alias, target in cnames),
            *(f"--local=/{zone}/" for zone in local),
        ]
        self._process: subprocess.Popen[bytes] | None = None

    def _command(self, binary: str, port: int) -> list[str]:
        return [
            binary,
            "--keep-in-foreground",
            "--no-daemon",  # no fork, no pid file, no change of user
            "--conf-file=/dev/null",  # not /etc/dnsmasq.conf
            "--no-resolv",  # no upstream: it answers only from what it is given
            "--no-hosts",  # not /etc/hosts
            "--no-poll",
            f"--addn-hosts={self._hosts}",
            f"--listen-address={self.address}",
            "--bind-interfaces",  # bind that address only, not the wildcard
            f"--port={port}",
            "--log-facility=-",
            "--log-queries",
            *self._records,
        ]

    def log(self) -> str:
        return self._log_path.read_text("utf-8", "replace") if self._log_path.exists() else ""

    def _answers(self) -> bool:
        """Does the server answer a query now? (any answer will do, even REFUSED)"""
        query = dns.message.make_query("ready.invalid.", "A")
        try:
            dns.query.udp(query, self.address, timeout=PROBE, port=self.port)
        except (dns.exception.Timeout, OSError):
            return False
        return True

    def _start(self, binary: str) -> bool:
        """Start on a free port and wait until it answers; False if the port was taken."""
        self.port = free_port(self.address)
        with self._log_path.open("wb") as log:
            self._process = subprocess.Popen(
                self._command(binary, self.port),
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        for _ in range(int(WAIT / PROBE)):  # each pass waits at most PROBE: bounded
            if self._process.poll() is not None:
                self._stop()
                if "in use" in self.log():
                    return False
                raise AssertionError(f"dnsmasq did not start:\n{self.log()}")
            if self._answers():
                return True
        self._stop()
        raise AssertionError(f"dnsmasq did not answer within {WAIT:g} s:\n{self.log()}")

    def _stop(self) -> None:
        process, self._process = self._process, None
        if process is None:
            return
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(WAIT)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(WAIT)

    def __enter__(self) -> Dnsmasq:
        binary = dnsmasq_binary()
        for _ in range(TRIES):
            if self._start(binary):
                return self
        raise AssertionError(f"dnsmasq found no free port on {self.address}:\n{self.log()}")

    def __exit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self._stop()
