"""Hand-made plans and probe results for the planfile and report tests (no planner, no files)."""

from __future__ import annotations

from ipaddress import IPv4Address, IPv6Address, ip_address

from bindmgr.model import (
    Action,
    Assignment,
    Change,
    Conflict,
    Desired,
    DnsRecord,
    Holder,
    InputFile,
    Plan,
    ProbeResult,
    ProbeStatus,
    Proto,
    Slot,
)

SHA_INI = "3f" * 32
SHA_DOMAINS = "a0" * 32
LOGIN = (
    "Users must log in with their full e-mail address (user@example.com): on an IP shared by "
    "several domains MDaemon cannot tell from the address which domain a bare user name means."
)
RESTART = (
    "MDaemon opens its listening sockets at start-up: restart it (e.g. RESTART.SEM in the App "
    "folder) after applying these changes."
)
INPUTS = (InputFile("MDaemon.ini", SHA_INI), InputFile("Domains.dat", SHA_DOMAINS))


def v4(text: str) -> IPv4Address:
    return IPv4Address(text)


def v6(text: str) -> IPv6Address:
    return IPv6Address(text)


def provisioning() -> Plan:
    """Three IPs from scratch: the Default Domain rebound, two new secondary domains."""
    ips = ("10.0.0.1", "10.0.0.2", "10.0.0.3")
    changes = [
        Change(
            "MDaemon.ini",
            "Domain",
            "DomainIP",
            "10.0.0.9",
            ips[0],
            "first IP binds the Default Domain",
        ),
        Change(
            "MDaemon.ini",
            "Domain",
            "BindToDomainIP",
            "No",
            "Yes",
            "restrict connections to this IP",
        ),
    ]
    for n, ip in enumerate(ips[1:], start=2):
        section = f"mail-{n}.example.com"
        changes += [
            Change("Domains.dat", section, "IP", None, ip, f"new domain for IP {n}"),
            Change("Domains.dat", section, "Bind", None, "Yes", "restrict connections to this IP"),
            Change("Domains.dat", section, "FQDN", None, section, "greeting name on this IP"),
        ]
    return Plan(
        desired=Desired("example.com", tuple(Slot(v4(ip)) for ip in ips)),
        assignments=(
            Assignment("example.com", Slot(v4(ips[0])), True, "rebound from 10.0.0.9"),
            Assignment("mail-2.example.com", Slot(v4(ips[1])), False, "new domain"),
            Assignment("mail-3.example.com", Slot(v4(ips[2])), False, "new domain"),
        ),
        changes=tuple(changes),
        notes=(RESTART, LOGIN),
        dns=(
            DnsRecord("mail-2.example.com", "A", ips[1]),
            DnsRecord("mail-3.example.com", "A", ips[2]),
            DnsRecord("2.0.0.10.in-addr.arpa", "PTR", "mail-2.example.com"),
            DnsRecord("3.0.0.10.in-addr.arpa", "PTR", "mail-3.example.com"),
        ),
        inputs=INPUTS,
    )


def no_changes() -> Plan:
    return Plan(
        desired=Desired("example.com", (Slot(v4("10.0.0.1")), Slot(v4("10.0.0.2")))),
        assignments=(
            Assignment("example.com", Slot(v4("10.0.0.1")), True, "unchanged"),
            Assignment("mail-2.example.com", Slot(v4("10.0.0.2")), False, "unchanged"),
        ),
        changes=(),
        notes=(LOGIN,),
        inputs=INPUTS,
    )


def conflicts() -> Plan:
    return Plan(
        desired=Desired("example.com", (Slot(v4("10.0.0.1")), Slot(v4("10.0.0.2")))),
        assignments=(
            Assignment("example.com", Slot(v4("10.0.0.1")), True, "unchanged"),
            Assignment("mail-2.example.com", Slot(v4("10.0.0.2")), False, "bound"),
        ),
        changes=(
            Change("Domains.dat", "mail-2.example.com", "Bind", "No", "Yes", "bind the second IP"),
        ),
        conflicts=(
            Conflict(
                "10.0.0.2",
                "sales.example.net is already bound to 10.0.0.2; unbind it in MDaemon or "
                "leave 10.0.0.2 out of the desired IPs",
            ),
            Conflict(
                "mail-2.example.com",
                "[mail-2.example.com] appears twice in Domains.dat (lines 12 and 40); "
                "remove one and rerun",
            ),
        ),
        notes=(LOGIN,),
        inputs=INPUTS,
    )


def dual_stack() -> Plan:
    """A dual-stack Default Domain, an IPv6-only slot and a dual-stack secondary domain."""
    slots = (
        Slot(v4("192.168.10.5"), v6("2001:db8::5")),
        Slot(None, v6("2001:db8::6")),
        Slot(v4("192.168.10.7"), v6("2001:db8::7")),
    )
    return Plan(
        desired=Desired("example.org", slots),
        assignments=(
            Assignment("example.org", slots[0], True, "unchanged"),
            Assignment("mail-2.example.org", slots[1], False, "new domain"),
            Assignment("mail-3.example.org", slots[2], False, "rebound from 192.168.10.9"),
        ),
        changes=(
            Change("Domains.dat", "mail-2.example.org", "IP6", None, "2001:db8::6", "new domain"),
            Change("Domains.dat", "mail-2.example.org", "Bind", None, "Yes", "restrict to this IP"),
            Change(
                "Domains.dat", "mail-3.example.org", "IP", "192.168.10.9", "192.168.10.7", "slot 3"
            ),
            Change("Domains.dat", "mail-3.example.org", "IP6", "", "2001:db8::7", "slot 3"),
        ),
        notes=(LOGIN.replace("example.com", "example.org"),),
        dns=(
            DnsRecord("mail-2.example.org", "AAAA", "2001:db8::6"),
            DnsRecord("mail-3.example.org", "A", "192.168.10.7"),
            DnsRecord("mail-3.example.org", "AAAA", "2001:db8::7"),
        ),
        inputs=(InputFile("MDaemon.ini", SHA_INI), InputFile("Domains.dat", "")),
    )


def deletions() -> Plan:
    """Prune: one domain's section deleted, one key deleted, one value cleared to empty."""
    return Plan(
        desired=Desired("example.com", (Slot(v4("10.0.0.1")),), prune=True),
        assignments=(
            Assignment("example.com", Slot(v4("10.0.0.1")), True, "unchanged"),
            Assignment("mail-2.example.com", Slot(v4("10.0.0.2")), False, "deleted (prune)"),
        ),
        changes=(
            Change(
                "Domains.dat",
                "mail-2.example.com",
                None,
                None,
                None,
                "mail-2.example.com is no longer wanted (prune)",
                Action.DELETE_SECTION,
            ),
            Change(
                "MDaemon.ini",
                "Domain",
                "DomainIP6",
                "2001:db8::1",
                None,
                "the Default Domain binds no IPv6 address",
                Action.DELETE_KEY,
            ),
            Change("Domains.dat", "mail-3.example.com", "IP", "10.0.0.3", "", "unbind 10.0.0.3"),
        ),
        inputs=INPUTS,
    )


def _probe(
    ip: str,
    port: int,
    service: str,
    status: ProbeStatus,
    *,
    proto: Proto = Proto.TCP,
    errno: int | None = None,
    holder: Holder | None = None,
    event: str | None = None,
    hint: str | None = None,
) -> ProbeResult:
    label = {"smtp": "SMTP", "pop3": "POP3", "imap": "IMAP", "minger": "Minger"}.get(service, "")
    return ProbeResult(
        ip_address(ip), port, proto, service, status, errno, holder, event, hint, label
    )


def _event(label: str, ip: str, port: int) -> str:
    where = f"[{ip}]" if ":" in ip else ip
    return f"MDaemon would log event 503: {label} {where}:{port} could not be initialized"


def every_status() -> tuple[ProbeResult, ...]:
    """One result per ProbeStatus (and a few oks), over IPv4 and IPv6, deliberately unsorted."""
    return (
        _probe("2001:db8::5", 25, "smtp", ProbeStatus.OK),
        _probe(
            "10.0.0.2",
            110,
            "pop3",
            ProbeStatus.IN_USE,
            errno=98,
            holder=Holder(4242, "nginx", "/usr/sbin/nginx -g daemon off;"),
            event=_event("POP3", "10.0.0.2", 110),
            hint="stop nginx (pid 4242) or move it off 10.0.0.2:110, then rerun bindmgr check",
        ),
        _probe("10.0.0.1", 25, "smtp", ProbeStatus.OK),
        _probe(
            "10.0.0.1",
            143,
            "imap",
            ProbeStatus.HELD_BY_MDAEMON,
            errno=98,
            holder=Holder(1200, "MDaemon.exe"),
            hint="MDaemon itself listens here; this is not a conflict",
        ),
        _probe(
            "10.0.0.2",
            25,
            "smtp",
            ProbeStatus.IN_USE_WILDCARD,
            errno=98,
            holder=Holder(None, "postfix"),
            event=_event("SMTP", "10.0.0.2", 25),
            hint="postfix listens on 0.0.0.0:25, which covers 10.0.0.2; bind it to one address",
        ),
        _probe(
            "203.0.113.7",
            25,
            "smtp",
            ProbeStatus.NOT_LOCAL,
            errno=99,
            event=_event("SMTP", "203.0.113.7", 25),
            hint="203.0.113.7 is not on this host; add it to a network adapter or drop it",
        ),
        _probe(
            "10.0.0.1",
            4069,
            "minger",
            ProbeStatus.DENIED,
            proto=Proto.UDP,
            errno=13,
            holder=Holder(77, None),
            event=_event("Minger", "10.0.0.1", 4069),
            hint="run bindmgr check as Administrator, or check the firewall's port exclusions",
        ),
        _probe(
            "2001:db8::5",
            993,
            "imaps",
            ProbeStatus.ERROR,
            errno=24,
            event="the probe failed: too many open files",
            hint="raise the open-files limit (ulimit -n) or lower --batch-size, then rerun",
        ),
        _probe("10.0.0.2", 143, "imap", ProbeStatus.OK),
    )


def all_ok() -> tuple[ProbeResult, ...]:
    return tuple(
        _probe(ip, port, service, ProbeStatus.OK)
        for ip in ("10.0.0.1", "10.0.0.2")
        for port, service in ((25, "smtp"), (110, "pop3"), (143, "imap"))
    )
