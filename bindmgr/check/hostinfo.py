"""Host facts for `bindmgr check`: the host's addresses (netifaces), its listener table (psutil).

The only module that imports netifaces or psutil. It reads; it never binds, connects or changes
anything. `probe` receives what it returns through seams, so probe tests need neither library.
psutil is imported only where it is used (~12 ms): by the listener table, and on systems without
Linux's /sys/class/net for the interfaces' loopback flags; a Linux check whose binds all succeed
never loads it (check/probe: TABLE_ON_FAILURE).
"""

from __future__ import annotations

import socket
import sys
import time
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from ipaddress import IPv4Address, IPv4Network, IPv6Address, IPv6Network, ip_address
from pathlib import Path
from typing import Any, NamedTuple

import netifaces

from bindmgr.check.hints import NO_OWNER_PID
from bindmgr.check.verdict import RESOURCE_ERRNOS
from bindmgr.errors import ResourceError
from bindmgr.model import IPAddress, ListeningSocket, Proto


def parse_ip(text: str) -> IPAddress:
    """An address as a socket API prints it: drops a `%scope` suffix, unwraps ::ffff:a.b.c.d."""
    ip = ip_address(text.split("%", 1)[0])
    if isinstance(ip, IPv6Address) and ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    return ip


def unscoped(ip: IPAddress) -> IPAddress:
    """`ip` without an IPv6 scope (fe80::1%eth0 -> fe80::1): scopes never decide locality."""
    if isinstance(ip, IPv6Address) and ip.scope_id is not None:
        return IPv6Address(str(ip).split("%", 1)[0])
    return ip


@dataclass(frozen=True, slots=True)
class HostAddresses:
    """The addresses this host can bind: exact addresses plus whole local networks.

    On Linux every address of a network configured on a loopback interface is local (lo with
    127.0.0.1/8 makes all of 127.0.0.0/8 bindable); Windows treats 127.0.0.0/8 the same way.
    """

    addresses: frozenset[IPAddress]
    networks: tuple[IPv4Network | IPv6Network, ...] = ()

    def __contains__(self, item: object) -> bool:
        if not isinstance(item, IPv4Address | IPv6Address):
            return False
        ip = unscoped(item)
        return ip in self.addresses or any(ip in net for net in self.networks)

    @classmethod
    def of(cls, addresses: Collection[IPAddress]) -> HostAddresses:
        """Exact addresses only (tests and callers that already know the list)."""
        return cls(frozenset(unscoped(a) for a in addresses))


WINDOWS_LOOPBACK = (IPv4Network("127.0.0.0/8"), IPv6Network("::1/128"))
WINDOWS_LOOPBACK_ADDRESSES = (IPv4Address("127.0.0.1"), IPv6Address("::1"))


def parse_interfaces(
    interfaces: Mapping[str, Mapping[int, Sequence[Mapping[str, str]]]],
    loopback: Collection[str] = (),
    *,
    windows: bool = False,
) -> HostAddresses:
    """Build HostAddresses from netifaces' shape {iface: {AF_*: [{"addr", "netmask"}, ...]}}.

    `windows`: 127.0.0.0/8 and ::1 are local, and 127.0.0.1 and ::1 are listed as the host's
    addresses, whatever the list says (Windows always has them, on "Loopback Pseudo-Interface
    1", which some interface lists leave out)."""
    addresses: set[IPAddress] = set(WINDOWS_LOOPBACK_ADDRESSES) if windows else set()
    networks: list[IPv4Network | IPv6Network] = list(WINDOWS_LOOPBACK) if windows else []
    for name, families in interfaces.items():
        for entry in families.get(int(netifaces.AF_INET), ()):
            if "addr" not in entry:
                continue
            ip4 = IPv4Address(entry["addr"])
            addresses.add(ip4)
            mask = entry.get("netmask")
            if mask and (name in loopback or ip4.is_loopback):
                networks.append(IPv4Network(f"{ip4}/{mask}", strict=False))
        for entry in families.get(int(netifaces.AF_INET6), ()):
            if "addr" in entry:  # IPv6: exact addresses only, scope suffix stripped
                addresses.add(parse_ip(entry["addr"]))
    return HostAddresses(frozenset(addresses), tuple(networks))


IFF_LOOPBACK = 0x8  # <net/if.h>, the same on Linux, macOS and the BSDs
SYS_NET = Path("/sys/class/net")


def sysfs_loopback(names: Iterable[str], root: Path = SYS_NET) -> set[str] | None:
    """The interfaces among `names` whose flags (Linux's /sys/class/net/NAME/flags, "0x9")
    carry IFF_LOOPBACK; None when a flags file cannot be read (not Linux, no sysfs)."""
    found = set()
    for name in names:
        try:
            flags = int((root / name / "flags").read_text(encoding="ascii"), 16)
        except (OSError, ValueError):
            return None
        if flags & IFF_LOOPBACK:
            found.add(name)
    return found


def host_addresses() -> HostAddresses:
    """This host's addresses, read now from its interfaces."""
    names = netifaces.interfaces()
    interfaces = {name: netifaces.ifaddresses(name) for name in names}
    # The IFF_LOOPBACK flag: from sysfs on Linux, else psutil (macOS/BSD); on Windows psutil's
    # `flags` is empty and the 127.x address itself marks the loopback network
    # (parse_interfaces checks both).
    loopback = sysfs_loopback(names) if sys.platform == "linux" else None
    if loopback is None:
        import psutil  # noqa: PLC0415 (lazy: see the module's docstring)

        loopback = {
            name
            for name, stats in psutil.net_if_stats().items()
            if "loopback" in getattr(stats, "flags", "").split(",")
        }
    return parse_interfaces(interfaces, loopback, windows=sys.platform == "win32")


Described = tuple[str | None, str | None, str | None]  # name, command line, executable path


def _describe(pid: int) -> Described:
    """(name, command line, executable) of a process, each None where the OS does not show it.

    The executable is what tells MDaemon's own processes from others of the same name (Windows:
    a service's path may be hidden from a non-elevated run; Linux: /proc/<pid>/exe, resolved).
    """
    import psutil  # noqa: PLC0415 (lazy: see the module's docstring)

    # psutil.Error covers AccessDenied, NoSuchProcess and ZombieProcess; a raw OSError can come
    # through from Windows' NtQuerySystemInformation (WinError 87) for some processes.
    try:
        proc = psutil.Process(pid)
    except (psutil.Error, OSError):
        return None, None, None
    with proc.oneshot():
        try:
            name: str | None = proc.name() or None
        except (psutil.Error, OSError):
            name = None
        try:
            args = proc.cmdline()
            cmdline = " ".join(args) if args else None
        except (psutil.Error, OSError):
            cmdline = None
        try:
            exe: str | None = proc.exe() or None
        except psutil.Error:
            exe = None
    return name, cmdline, exe


def rows_from_connections(
    connections: Iterable[Any],
    describe: Callable[[int], Described] = _describe,
) -> tuple[ListeningSocket, ...]:
    """Keep the listening rows of psutil connections and name their processes (once per pid)."""
    import psutil  # noqa: PLC0415 (lazy: see the module's docstring)

    names: dict[int, Described] = {}
    rows: list[ListeningSocket] = []
    for conn in connections:
        if not conn.laddr:
            continue
        if conn.type == socket.SOCK_STREAM and conn.status == psutil.CONN_LISTEN:
            proto = Proto.TCP
        elif conn.type == socket.SOCK_DGRAM and not conn.raddr:
            proto = Proto.UDP
        else:
            continue
        pid: int | None = conn.pid
        name = cmdline = exe = None
        if pid is not None and pid != NO_OWNER_PID:  # pid 0 has no process to name
            if pid not in names:
                names[pid] = describe(pid)
            name, cmdline, exe = names[pid]
        ip = parse_ip(conn.laddr.ip)
        rows.append(ListeningSocket(ip, conn.laddr.port, proto, pid, name, cmdline, exe))
    return tuple(rows)


class _Conn(NamedTuple):
    type: int
    status: str
    laddr: Any
    raddr: Any
    pid: int | None


def _per_process_connections() -> list[Any]:
    """Fallback where the system-wide table needs privileges (macOS): what each process shows."""
    import psutil  # noqa: PLC0415 (lazy: see the module's docstring)

    found: list[Any] = []
    for proc in psutil.process_iter():
        try:
            conns = proc.net_connections(kind="inet")
        except psutil.Error:
            continue
        found.extend(_Conn(c.type, c.status, c.laddr, c.raddr, proc.pid) for c in conns)
    return found


TABLE_TRIES = 3  # psutil raises RuntimeError when GetExtendedTcpTable/UdpTable fails (Windows)


def _system_table() -> list[Any]:
    import psutil  # noqa: PLC0415 (lazy: see the module's docstring)

    return list(psutil.net_connections(kind="inet"))


def connections(read: Callable[[], list[Any]] = _system_table) -> list[Any]:
    """The system-wide table (`read` is the seam); where it needs privileges (macOS), what each
    process shows. Windows' table calls can fail while the table changes: tried again."""
    import psutil  # noqa: PLC0415 (lazy: see the module's docstring)

    attempt = 1
    while True:
        try:
            return read()
        except psutil.AccessDenied:
            return _per_process_connections()
        except RuntimeError as exc:  # psutil: "GetExtendedTcpTable failed"
            if attempt >= TABLE_TRIES:
                raise ResourceError(
                    f"cannot read this host's listener table ({exc}; {TABLE_TRIES} tries)",
                    hint="rerun; if it keeps failing, look with `netstat -ano` as Administrator",
                ) from exc
        time.sleep(0.05 * attempt)
        attempt += 1


def listening_sockets() -> tuple[ListeningSocket, ...]:
    """The host's listener table now. Rows whose owner is hidden have pid/name None."""
    try:
        return rows_from_connections(connections())
    except OSError as exc:
        if exc.errno in RESOURCE_ERRNOS:
            raise ResourceError(
                f"ran out of file descriptors while reading the listener table ({exc})",
                hint="raise the limit (ulimit -n) or lower --batch-size, then rerun",
            ) from exc
        raise
