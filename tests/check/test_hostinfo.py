"""Host addresses (netifaces) and the listener table (psutil), on this host with real sockets."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from ipaddress import IPv4Address, IPv4Network, IPv6Address
from pathlib import Path
from types import SimpleNamespace

import netifaces
import psutil
import pytest

from bindmgr.check import hostinfo
from bindmgr.check.hostinfo import HostAddresses, ListeningSocket, parse_interfaces, parse_ip
from bindmgr.errors import ResourceError
from bindmgr.model import Proto
from tests.support.probe import absent_testnet, listener_socket, port_of
from tests.support.wine import NO_PROCESS_NAMES, NO_SOCKET_OWNERS

AF4, AF6 = int(netifaces.AF_INET), int(netifaces.AF_INET6)


def test_this_hosts_addresses_cover_the_loopback_network() -> None:
    host = hostinfo.host_addresses()
    assert IPv4Address("127.0.0.1") in host
    assert IPv4Address("127.77.3.4") in host  # lo has 127.0.0.1/8 on Linux and Windows alike
    assert absent_testnet() not in host


def test_absent_testnet_is_really_absent_per_netifaces() -> None:
    absent = str(absent_testnet())
    for name in netifaces.interfaces():
        for entry in netifaces.ifaddresses(name).get(AF4, []):
            assert entry.get("addr") != absent


def test_parse_interfaces_networks_only_for_loopback() -> None:
    host = parse_interfaces(
        {
            "lo": {AF4: [{"addr": "127.0.0.1", "netmask": "255.0.0.0"}]},
            "dummy": {AF4: [{"addr": "10.9.0.1", "netmask": "255.255.255.0"}]},
            "eth0": {
                AF4: [{"addr": "192.0.2.2", "netmask": "255.255.255.0"}, {"peer": "x"}],
                AF6: [
                    {"addr": "fe80::fc:ff:fe00:1%eth0", "netmask": "ffff:ffff:ffff:ffff::/64"},
                    {"addr": "fd00::2", "netmask": "ffff:ffff:ffff:ffff::/64"},
                ],
            },
        },
        loopback={"dummy"},  # an address on a loopback interface makes its network local
    )
    assert IPv4Address("127.200.1.1") in host
    assert IPv4Address("10.9.0.77") in host
    assert IPv4Address("192.0.2.2") in host
    assert IPv4Address("192.0.2.3") not in host  # a LAN neighbour is not this host
    assert IPv6Address("fe80::fc:ff:fe00:1") in host
    assert IPv6Address("fe80::fc:ff:fe00:1%eth0") in host  # the scope never decides
    assert IPv6Address("fd00::3") not in host
    assert "127.0.0.1" not in host  # only address objects are members
    assert host.networks == (IPv4Network("127.0.0.0/8"), IPv4Network("10.9.0.0/24"))


def test_host_addresses_of_a_list_is_exact() -> None:
    host = HostAddresses.of([IPv4Address("127.0.0.1"), IPv6Address("fe80::1%eth1")])
    assert IPv4Address("127.0.0.2") not in host
    assert IPv6Address("fe80::1%eth0") in host


def test_parse_ip_unwraps_mapped_and_scoped() -> None:
    assert parse_ip("::ffff:127.0.0.1") == IPv4Address("127.0.0.1")
    assert parse_ip("fe80::1%eth0") == IPv6Address("fe80::1")
    assert parse_ip("0.0.0.0").is_unspecified


def _rows_on(host: str) -> list[ListeningSocket]:
    return [r for r in hostinfo.listening_sockets() if str(r.ip) == host]


@NO_SOCKET_OWNERS
def test_listener_table_has_tcp_listeners_and_bound_udp_with_this_process() -> None:
    with (
        listener_socket("127.0.0.41") as tcp_sock,
        listener_socket("127.0.0.41", port_of(tcp_sock), Proto.UDP),
    ):
        rows = _rows_on("127.0.0.41")
        port = port_of(tcp_sock)
    assert {(r.port, r.proto) for r in rows} == {(port, Proto.TCP), (port, Proto.UDP)}
    me = psutil.Process()
    assert all(r.pid == os.getpid() for r in rows)
    assert all(r.name == me.name() for r in rows)
    assert all(r.cmdline == " ".join(me.cmdline()) for r in rows)


def test_listener_table_skips_unlistened_tcp_and_connected_udp() -> None:
    with (
        socket.socket() as bound_only,
        socket.socket(type=socket.SOCK_DGRAM) as connected,
        listener_socket("127.0.0.43", proto=Proto.UDP) as peer,
    ):
        bound_only.bind(("127.0.0.42", 0))
        connected.bind(("127.0.0.42", 0))
        connected.connect(("127.0.0.43", port_of(peer)))
        assert _rows_on("127.0.0.42") == []


def test_rows_from_connections_names_each_pid_once() -> None:
    calls: list[int] = []

    def describe(pid: int) -> tuple[str | None, str | None, str | None]:
        calls.append(pid)
        return ("svc.exe", None, "C:\\svc\\svc.exe") if pid == 5 else (None, None, None)

    addr = SimpleNamespace
    conns = [
        SimpleNamespace(
            type=socket.SOCK_STREAM,
            status=psutil.CONN_LISTEN,
            pid=5,
            laddr=addr(ip="::ffff:10.0.0.1", port=25),
            raddr=(),
        ),
        SimpleNamespace(
            type=socket.SOCK_STREAM,
            status=psutil.CONN_LISTEN,
            pid=5,
            laddr=addr(ip="::", port=110),
            raddr=(),
        ),
        SimpleNamespace(
            type=socket.SOCK_STREAM,
            status=psutil.CONN_ESTABLISHED,
            pid=5,
            laddr=addr(ip="10.0.0.1", port=25),
            raddr=addr(ip="10.0.0.9", port=9),
        ),
        SimpleNamespace(
            type=socket.SOCK_DGRAM,
            status=psutil.CONN_NONE,
            pid=None,
            laddr=addr(ip="0.0.0.0", port=4069),
            raddr=(),
        ),
        SimpleNamespace(type=socket.SOCK_DGRAM, status=psutil.CONN_NONE, pid=6, laddr=(), raddr=()),
    ]
    rows = hostinfo.rows_from_connections(conns, describe)
    assert rows == (
        ListeningSocket(
            IPv4Address("10.0.0.1"), 25, Proto.TCP, 5, "svc.exe", None, "C:\\svc\\svc.exe"
        ),
        ListeningSocket(IPv6Address("::"), 110, Proto.TCP, 5, "svc.exe", None, "C:\\svc\\svc.exe"),
        ListeningSocket(IPv4Address("0.0.0.0"), 4069, Proto.UDP, None, None, None, None),
    )
    assert calls == [5]


def test_describe_a_vanished_process() -> None:
    with subprocess.Popen([sys.executable, "-c", "pass"]) as gone:
        gone.wait(timeout=20)
    assert hostinfo._describe(gone.pid) == (None, None, None)


@NO_PROCESS_NAMES
def test_describe_this_process() -> None:
    name, cmdline, exe = hostinfo._describe(os.getpid())
    assert name == psutil.Process().name()
    assert cmdline is not None
    assert exe == psutil.Process().exe()
    assert os.path.isabs(exe)


@NO_SOCKET_OWNERS
def test_per_process_fallback_sees_this_process_listener() -> None:
    """The path taken where the system-wide table needs privileges (macOS)."""
    with listener_socket("127.0.0.44") as sock:
        rows = hostinfo.rows_from_connections(hostinfo._per_process_connections())
        port = port_of(sock)
    mine = [r for r in rows if str(r.ip) == "127.0.0.44"]
    assert [(r.port, r.proto, r.pid) for r in mine] == [(port, Proto.TCP, os.getpid())]


def test_on_windows_loopback_is_local_whatever_the_interface_list_says() -> None:
    listed = {"eth0": {int(netifaces.AF_INET): [{"addr": "192.0.2.7", "netmask": "255.0.0.0"}]}}
    windows = parse_interfaces(listed, windows=True)
    assert IPv4Address("127.5.6.7") in windows
    assert IPv6Address("::1") in windows
    assert IPv4Address("192.0.2.8") not in windows  # only loopback networks are whole
    assert IPv4Address("127.5.6.7") not in parse_interfaces(listed)
    # listed as the host's own addresses too (inspect shows them), as on a real Windows host
    assert {IPv4Address("127.0.0.1"), IPv6Address("::1")} <= windows.addresses
    assert IPv4Address("127.0.0.1") not in parse_interfaces(listed).addresses


def test_sysfs_loopback_flags(tmp_path: Path) -> None:
    for name, flags in (("lo", "0x9\n"), ("eth0", "0x1003\n"), ("dummy0", "0x8b\n")):
        (tmp_path / name).mkdir()
        (tmp_path / name / "flags").write_text(flags)
    assert hostinfo.sysfs_loopback(["lo", "eth0", "dummy0"], tmp_path) == {"lo", "dummy0"}
    assert hostinfo.sysfs_loopback([], tmp_path) == set()
    assert hostinfo.sysfs_loopback(["lo", "gone"], tmp_path) is None  # then psutil is asked
    (tmp_path / "eth0" / "flags").write_text("junk")
    assert hostinfo.sysfs_loopback(["eth0"], tmp_path) is None


@pytest.mark.skipif(sys.platform != "linux", reason="/sys/class/net is Linux's")
def test_sysfs_and_psutil_agree_on_this_hosts_loopback_interfaces() -> None:
    names = netifaces.interfaces()
    by_psutil = {
        name
        for name, stats in psutil.net_if_stats().items()
        if name in names and "loopback" in stats.flags.split(",")
    }
    assert hostinfo.sysfs_loopback(names) == by_psutil


def test_rows_owned_by_pid_0_are_not_looked_up() -> None:
    """Windows lists a closing socket, or one whose process is gone, under pid 0."""
    calls: list[int] = []

    def describe(pid: int) -> tuple[str | None, str | None, str | None]:
        calls.append(pid)
        return "System Idle Process", None, None

    listening = SimpleNamespace(
        type=socket.SOCK_STREAM,
        status=psutil.CONN_LISTEN,
        pid=0,
        laddr=SimpleNamespace(ip="127.0.0.1", port=25),
        raddr=(),
    )
    rows = hostinfo.rows_from_connections([listening], describe)
    assert rows == (ListeningSocket(IPv4Address("127.0.0.1"), 25, Proto.TCP, 0, None, None),)
    assert calls == []


def test_a_listener_table_that_fails_is_tried_again_then_a_clear_error() -> None:
    """psutil raises RuntimeError when Windows' GetExtendedTcpTable fails (the table changed)."""
    calls: list[int] = []

    def flaky() -> list[object]:
        calls.append(1)
        if len(calls) < hostinfo.TABLE_TRIES:
            raise RuntimeError("GetExtendedTcpTable failed")
        return []

    assert hostinfo.connections(flaky) == []
    assert len(calls) == hostinfo.TABLE_TRIES

    def broken() -> list[object]:
        raise RuntimeError("GetExtendedTcpTable failed")

    with pytest.raises(ResourceError, match="cannot read this host's listener table") as raised:
        hostinfo.connections(broken)
    assert "netstat -ano" in str(raised.value.hint)
