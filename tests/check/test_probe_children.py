"""Bind checks in situations a single test process cannot make: other processes, another user,
a network namespace, a low descriptor limit. Every process started here is stopped here."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from bindmgr.check import hostinfo
from bindmgr.check.probe import run_check
from bindmgr.model import ProbeResult, ProbeStatus, Proto
from tests.support.probe import (
    absent_testnet,
    check_real,
    free_below,
    in_netns,
    ip,
    listener_socket,
    netns_available,
    port_of,
    run_child,
    tcp,
    udp,
)
from tests.support.wine import NO_SOCKET_OWNERS

# Every child prints one JSON document: its results, or {"resource": message}.
PRELUDE = """
import json, os, socket, sys
from ipaddress import ip_address
from bindmgr.check import hostinfo
from bindmgr.check import probe
from bindmgr.errors import ResourceError
from bindmgr.model import Listener, Proto

def show(results):
    print(json.dumps([
        [str(r.ip), r.port, r.proto.value, r.status.value, r.errno,
         None if r.holder is None else [r.holder.pid, r.holder.name, r.holder.cmdline]]
        for r in results
    ]))

def real_check(ips, listeners):
    return probe.run_check(
        [ip_address(a) for a in ips], listeners,
        host_addresses=hostinfo.host_addresses(), listener_table=hostinfo.listening_sockets,
    )
"""


def child_json(done: subprocess.CompletedProcess[str]) -> Any:
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def _stop(proc: subprocess.Popen[str]) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=10)


def _first_line(proc: subprocess.Popen[str], timeout: float = 20) -> str:
    """The child's first stdout line (bounded in time)."""
    assert proc.stdout is not None
    deadline = time.monotonic() + timeout
    line = ""
    while not line and time.monotonic() < deadline and proc.poll() is None:
        line = proc.stdout.readline()
    assert line, "the child printed nothing"
    return line.strip()


WILDCARD_SCRIPT = (
    PRELUDE
    + """
four = socket.socket(); four.bind(("0.0.0.0", 0)); four.listen(1)
port = four.getsockname()[1]
dgram = socket.socket(type=socket.SOCK_DGRAM); dgram.bind(("0.0.0.0", port))
six = socket.socket(socket.AF_INET6)
six.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0); six.bind(("::", 0)); six.listen(1)
dual = six.getsockname()[1]
show(real_check(["127.0.0.5", "0.0.0.0"], [
    Listener("smtp", "SMTP", port), Listener("minger", "Minger", port, Proto.UDP),
    Listener("imap", "IMAP", dual),
]))
"""
)


def test_wildcard_listeners_in_a_network_namespace() -> None:
    """0.0.0.0 and dual-stack [::] listeners block 127.0.0.5 (made in a private netns)."""
    reason = netns_available()
    if reason is not None:
        pytest.skip(reason)
    rows = child_json(run_child(WILDCARD_SCRIPT, prefix=in_netns()))
    statuses = [(r[0], r[2], r[3]) for r in rows]
    assert statuses == [
        ("127.0.0.5", "tcp", "in_use_wildcard"),
        ("127.0.0.5", "udp", "in_use_wildcard"),
        ("127.0.0.5", "tcp", "in_use_wildcard"),  # via [::] with IPV6_V6ONLY=0
        ("0.0.0.0", "tcp", "in_use"),
        ("0.0.0.0", "udp", "in_use"),
        ("0.0.0.0", "tcp", "in_use"),
    ]
    assert all(r[5] is not None and r[5][0] is not None for r in rows)


NONLOCAL_SCRIPT = (
    PRELUDE
    + """
absent = sys.argv[1]
host = hostinfo.host_addresses()
assert ip_address(absent) not in host, host
with open("/proc/sys/net/ipv4/ip_nonlocal_bind") as f:
    assert f.read().strip() == "1"
raw, _ = probe.bind_batch(probe.bind_specs([ip_address(absent)], [Listener("smtp", "SMTP", 2525)]))
assert raw == [0], raw  # the kernel binds a foreign address here
pairs = [Listener("smtp", "SMTP", 2525), Listener("m", "Minger", 4069, Proto.UDP)]
show(real_check([absent], pairs))
"""
)


def test_not_local_even_when_the_kernel_binds_foreign_addresses() -> None:
    reason = netns_available()
    if reason is not None:
        pytest.skip(reason)
    absent = str(absent_testnet())
    rows = child_json(run_child(NONLOCAL_SCRIPT, absent, prefix=in_netns(nonlocal_bind=True)))
    assert [(r[0], r[3], r[4]) for r in rows] == [
        (absent, "not_local", None),
        (absent, "not_local", None),
    ]


DENIED_SCRIPT = (
    PRELUDE
    + """
import concurrent.futures.thread  # imported before dropping privileges
port = int(sys.argv[1])
real_check(["127.0.0.24"], [Listener("warm", "Warm", 0)])  # loads every lazy import as root
from bindmgr.check import hostinfo; hostinfo.listening_sockets()  # psutil: read on failure only
os.setgroups([]); os.setgid(65534); os.setuid(65534)
assert os.geteuid() == 65534
show(real_check(["127.0.0.24"], [Listener("smtp", "SMTP", port)]))
"""
)


@pytest.mark.skipif(
    sys.platform == "win32",
    reason="Windows has no privileged ports; its WSAEACCES comes from exclusive holders and "
    "excluded ranges (tests/check/test_verdict.py)",
)
def test_denied_for_a_non_root_process_below_the_unprivileged_start() -> None:
    if os.geteuid() != 0:
        pytest.skip("needs root to start a child as uid 65534 (nobody)")
    start = int(Path("/proc/sys/net/ipv4/ip_unprivileged_port_start").read_text().strip())
    if start == 0:
        pytest.skip("net.ipv4.ip_unprivileged_port_start is 0: every port is unprivileged")
    port = free_below(start)
    if port is None:
        pytest.skip(f"every port below {start} has a listener")
    # The interpreter may live where uid 65534 cannot read it (/root/.pyenv), so the child
    # starts as root, imports everything, then drops to 65534 before it checks.
    rows = child_json(run_child(DENIED_SCRIPT, str(port)))
    assert [(r[0], r[1], r[3], r[4]) for r in rows] == [("127.0.0.24", port, "denied", 13)]


SERVER = (
    "import socket, sys\n"
    "s = socket.socket(); s.bind((sys.argv[1], 0)); s.listen(1)\n"
    "print(s.getsockname()[1], flush=True)\n"
    "sys.stdin.read()\n"
)


def serve_as(exe: Path, host: str, mdaemon_dir: Path, **env: str) -> tuple[ProbeResult, int]:
    """Run SERVER through `exe` on host:0 and bind-check its port; (result, the server's pid)."""
    with subprocess.Popen(
        [str(exe), "-c", SERVER, host],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, **env},
    ) as proc:
        try:
            port = int(_first_line(proc))
            (result,) = run_check(
                [ip(host)],
                [tcp(port)],
                host_addresses=hostinfo.host_addresses(),
                listener_table=hostinfo.listening_sockets,
                mdaemon_dir=str(mdaemon_dir),
            )
        finally:
            _stop(proc)
    return result, proc.pid


@pytest.mark.skipif(
    sys.platform == "win32",
    reason="needs a symlink to the interpreter named MDaemon.exe; on Windows that needs "
    "SeCreateSymbolicLinkPrivilege (Wine makes none on C:) and a copy lacks python3X.dll; "
    "MDaemon is told by name and path in tests/check/test_verdict.py",
)
def test_a_renamed_interpreter_named_mdaemon_exe_is_in_use(tmp_path: Path) -> None:
    """Named MDaemon.exe (the link's name) but running Python from outside the MDaemon folder."""
    mdaemon = tmp_path / "MDaemon"
    (mdaemon / "App").mkdir(parents=True)
    exe = tmp_path / "MDaemon.exe"
    exe.symlink_to(os.path.realpath(sys.executable))
    result, pid = serve_as(exe, "127.0.0.25", mdaemon)
    assert result.status is ProbeStatus.IN_USE
    assert result.holder is not None
    assert (result.holder.pid, result.holder.name) == (pid, "MDaemon.exe")
    assert result.event is not None
    assert result.hint is not None
    assert f"runs {os.path.realpath(sys.executable)}, which is not one of MDaemon's" in result.hint
    assert f"inside {mdaemon}" in result.hint


@pytest.mark.skipif(
    sys.platform == "win32",
    reason="needs a symlink to the interpreter named MDaemon.exe; on Windows that needs "
    "SeCreateSymbolicLinkPrivilege (Wine makes none on C:) and a copy lacks python3X.dll; "
    "MDaemon is told by name and path in tests/check/test_verdict.py",
)
def test_mdaemons_own_executable_is_held_by_mdaemon(tmp_path: Path) -> None:
    """A copy of the interpreter saved as <MDaemon folder>/App/MDaemon.exe: MDaemon's own."""
    mdaemon = tmp_path / "MDaemon"
    (mdaemon / "App").mkdir(parents=True)
    exe = mdaemon / "App" / "MDaemon.exe"
    shutil.copy2(os.path.realpath(sys.executable), exe)
    result, pid = serve_as(exe, "127.0.0.26", mdaemon, PYTHONHOME=sys.base_prefix)
    assert result.status is ProbeStatus.HELD_BY_MDAEMON
    assert result.holder is not None
    assert result.holder.pid == pid
    assert result.event is None


@NO_SOCKET_OWNERS
def test_a_third_party_server_is_named_with_its_command_line() -> None:
    with subprocess.Popen(
        [sys.executable, "-u", "-m", "http.server", "--bind", "127.0.0.9", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    ) as proc:
        try:
            line = _first_line(proc)  # "Serving HTTP on 127.0.0.9 port 41234 (http://...) ..."
            port = int(line.split(" port ")[1].split()[0])
            (result,) = check_real([ip("127.0.0.9")], [tcp(port, "WorldClient")])
        finally:
            _stop(proc)
    assert result.status is ProbeStatus.IN_USE
    assert result.holder is not None
    assert result.holder.pid == proc.pid
    assert result.holder.name is not None
    assert result.holder.name.startswith("python")
    assert result.holder.cmdline is not None
    assert "http.server" in result.holder.cmdline
    assert (
        result.hint == f"stop {result.holder.name} (pid {proc.pid}) or move it off 127.0.0.9:{port}"
    )


LOW_FD_SCRIPT = (
    PRELUDE
    + """
import concurrent.futures.thread, resource
port, extra = int(sys.argv[1]), int(sys.argv[2])
ips = [f"127.78.{n // 200}.{n % 200 + 1}" for n in range(256)]
listeners = [Listener("smtp", "SMTP", port), Listener("minger", "Minger", port, Proto.UDP)]
hosts = hostinfo.host_addresses()
top = max(int(fd) for fd in os.listdir("/proc/self/fd")) + 1
resource.setrlimit(resource.RLIMIT_NOFILE, (top + extra, top + extra))
try:
    results = probe.run_check(
        [ip_address(a) for a in ips], listeners,
        host_addresses=hosts, listener_table=hostinfo.listening_sockets,
    )
except ResourceError as exc:
    print(json.dumps({"resource": str(exc)}))
else:
    show(results)
"""
)


@pytest.mark.slow
@pytest.mark.skipif(sys.platform == "win32", reason="RLIMIT_NOFILE (the resource module) is POSIX")
def test_low_descriptor_limit_gives_right_answers_or_a_resource_error() -> None:
    with (
        listener_socket("127.78.0.5") as busy,
        listener_socket("127.78.0.6", port_of(busy), Proto.UDP),
    ):
        port = port_of(busy)
        outcomes = {
            extra: child_json(run_child(LOW_FD_SCRIPT, str(port), str(extra)))
            for extra in (0, 1, 2, 3, 5, 8, 64)
        }
    expected = {("127.78.0.5", "tcp"), ("127.78.0.6", "udp")}
    answered = 0
    for extra, outcome in outcomes.items():
        if isinstance(outcome, dict):
            assert "ulimit -n" in outcome["resource"], (extra, outcome)
            continue
        answered += 1
        assert len(outcome) == 512
        busy_pairs = {(r[0], r[2]) for r in outcome if r[3] != "ok"}
        assert busy_pairs == expected, (extra, busy_pairs)
        assert {r[3] for r in outcome if (r[0], r[2]) in expected} == {"in_use"}
    assert isinstance(outcomes[0], dict)  # no descriptor at all: the loop cannot even start
    assert not isinstance(outcomes[64], dict)
    assert answered >= 2


def test_udp_listener_helper_and_tcp_listener_share_nothing() -> None:
    """The UDP probe must not see a TCP listener on the same port (and vice versa)."""
    with listener_socket("127.0.0.26") as busy:
        port = port_of(busy)
        results = check_real([ip("127.0.0.26")], [udp(port), tcp(port)])
    assert [r.status for r in results] == [ProbeStatus.OK, ProbeStatus.IN_USE]
