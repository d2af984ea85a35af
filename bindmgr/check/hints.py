"""The words of a bind check: the MDaemon event a conflict would cause and the next step to take.

Pure functions of a probe's facts; no I/O. `probe` decides the status, this module only says it.
"""

from __future__ import annotations

import errno
import os
from ipaddress import IPv6Address

from bindmgr.check.events import address, event_for_bind_failure
from bindmgr.model import IPAddress, Listener, ListeningSocket, ProbeStatus

HTTP_SYS_PID = 4  # Windows' "System" process: a port it holds belongs to the HTTP.sys driver
NO_OWNER_PID = 0  # Windows' "System Idle Process": a socket that is closing or outlived its owner


def event_text(status: ProbeStatus, ip: IPAddress, listener: Listener) -> str | None:
    """The event MDaemon would log for this pair; None when it would bind (or rebind) fine."""
    if status in (ProbeStatus.OK, ProbeStatus.HELD_BY_MDAEMON):
        return None
    return event_for_bind_failure(listener.label or listener.service, ip, listener.port)


def _who(row: ListeningSocket) -> str:
    if row.pid is None:
        return "a process bindmgr cannot see (run it as Administrator/root to name it)"
    return f"{row.name or 'a process'} (pid {row.pid})"


def _is_http_sys(row: ListeningSocket) -> bool:
    return row.pid == HTTP_SYS_PID or (row.name or "").casefold() == "system"


def _denied(listener: Listener, *, windows: bool) -> str:
    if windows:
        return (
            "run bindmgr as Administrator; if it is still denied, port "
            f"{listener.port} is held with SO_EXCLUSIVEADDRUSE by a process bindmgr cannot "
            "see or lies in an excluded port range (Hyper-V, WinNAT, Docker): see "
            f"`netsh interface ipv4 show excludedportrange protocol={listener.proto.value}`"
        )
    return (
        f"run bindmgr as Administrator/root: binding port {listener.port} needs privileges "
        "here (Linux: net.ipv4.ip_unprivileged_port_start)"
    )


def _in_use(
    status: ProbeStatus, where: str, listener: Listener, row: ListeningSocket | None
) -> str:
    if row is None:
        return (
            f"{where} is in use but no listener owns it: it may be closing (TIME_WAIT), be bound "
            "by a process that does not listen on it, or belong to a process bindmgr cannot see; "
            "look with `netstat -ano` (Windows) or `ss -lntupa` (Linux) as Administrator/root, "
            "or retry in a few minutes"
        )
    if row.pid == NO_OWNER_PID:
        return (
            f"{where} is held by a socket Windows lists under pid 0 (no living owner): it is "
            "closing, or its process has just exited; retry in a few minutes, and if it stays, "
            "look with `netstat -ano` as Administrator (a driver may hold it) or restart Windows"
        )
    if _is_http_sys(row):
        return (
            f"the HTTP.sys driver (PID 4, System) holds {where} for a URL that a service "
            "registered (IIS/W3SVC, WinRM, WSUS, ...): find it with `netsh http show "
            "servicestate`, stop it or change its URL reservation, or move "
            f"{listener.label or listener.service} off port {listener.port}"
        )
    if status is ProbeStatus.IN_USE_WILDCARD:
        return (
            f"{_who(row)} listens on all addresses ({address(row.ip, row.port)}), which "
            f"blocks {where}: bind it to its own addresses only, stop it, or move it to "
            "another port"
        )
    return f"stop {_who(row)} or move it off {address(row.ip, row.port)}"


def _error(ip: IPAddress, where: str, outcome: int | None) -> str:
    if outcome is None:
        return f"binding {where} failed without an error number; rerun, and report it if it stays"
    link_local = isinstance(ip, IPv6Address) and ip.is_link_local and ip.scope_id is None
    if link_local and outcome == errno.EINVAL:
        return f"a link-local address needs its interface: write it as {ip}%<interface>"
    return (
        f"binding {where} failed with errno {outcome} ({os.strerror(outcome)}); check that "
        f"{ip} can carry a listening socket on this host, then rerun"
    )


def hint_text(
    status: ProbeStatus,
    ip: IPAddress,
    listener: Listener,
    row: ListeningSocket | None,
    outcome: int | None,
    *,
    windows: bool,
    impostor: bool = False,
    mdaemon_dir: str | None = None,
) -> str | None:
    """The next step for a result that is not plain `ok` (None for `ok`).

    `impostor`: the holder is named like an MDaemon process but is not one of this MDaemon
    folder's (`mdaemon_dir`) executables; the hint says why it is in the way."""
    where = address(ip, listener.port)
    if status is ProbeStatus.OK:
        return None
    if status is ProbeStatus.NOT_LOCAL:
        return f"add {ip} to an interface of this host or drop it from the plan"
    if status is ProbeStatus.DENIED:
        return _denied(listener, windows=windows)
    if status is ProbeStatus.HELD_BY_MDAEMON and row is not None:
        return f"held by MDaemon itself ({_who(row)}), which rebinds it on restart: nothing to do"
    if status in (ProbeStatus.IN_USE, ProbeStatus.IN_USE_WILDCARD):
        text = _in_use(status, where, listener, row)
        return text if not impostor or row is None else f"{text}; {_impostor(row, mdaemon_dir)}"
    return _error(ip, where, outcome)


def _impostor(row: ListeningSocket, mdaemon_dir: str | None) -> str:
    name = row.name or "it"
    if row.exe is None:
        return (
            f"it is named {name} but bindmgr cannot see its executable, so it cannot tell it is "
            "MDaemon's own (run bindmgr as Administrator/root to check it)"
        )
    folder = mdaemon_dir or "the MDaemon folder"
    return (
        f"it is named {name} but runs {row.exe}, which is not one of MDaemon's own executables "
        f"inside {folder}"
    )
