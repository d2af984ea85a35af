"""Firewall rules for MDaemon's listeners: PowerShell, netsh or nftables text from plain values.

Inbound: each listener's port on each bound IP only; outbound: the ports MDaemon needs; loopback
is never blocked. Rule names are stable, so a rerun replaces rules instead of piling them up.
Pure: listeners and addresses in, a script out; it never runs one or reads the host's rules.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from ipaddress import IPv4Address, IPv6Address

from bindmgr.errors import InputError
from bindmgr.model import IPAddress, Listener, Proto

GROUP = "bindmgr"  # the Windows Firewall rule group and the nftables table
MAX_LABEL = 40  # characters of a listener's label kept in its rule names
# Every rule name matches this: the label part has no '.' or '_', an address part has no '-'
# (IPv4 dotted, IPv6 with '_' for ':'), so different (label, address) pairs never share a name.
NAME_RE = re.compile(
    r"bindmgr-(?:out-[A-Za-z0-9-]+-(?:tcp|udp)|[A-Za-z0-9-]+-(?:[0-9.]+|[0-9a-f_]+|any))"
)
_UNSAFE = re.compile(r"[^A-Za-z0-9]+")


class FirewallFormat(StrEnum):
    POWERSHELL = "powershell"
    NETSH = "netsh"
    NFTABLES = "nftables"


@dataclass(frozen=True, slots=True)
class Outbound:
    """A port MDaemon connects to on other hosts."""

    name: str  # rule-name part
    port: int
    proto: Proto
    why: str  # the rule's description: plain words, no quotes (it is not escaped)


OUTBOUND: tuple[Outbound, ...] = (
    Outbound("DNS", 53, Proto.UDP, "DNS lookups (MX, A, PTR)"),
    Outbound("DNS", 53, Proto.TCP, "DNS answers too large for UDP"),
    Outbound("SMTP", 25, Proto.TCP, "delivery to other mail servers"),
    Outbound("POP3", 110, Proto.TCP, "MultiPOP collection"),
    Outbound("ODMR", 366, Proto.TCP, "ODMR (ATRN)"),
    Outbound("POP3-SSL", 995, Proto.TCP, "MultiPOP over SSL"),
    Outbound("Minger", 4069, Proto.UDP, "Minger queries to other servers"),
    Outbound("BES", 3101, Proto.TCP, "BES services"),
    Outbound("Updates-HTTP", 80, Proto.TCP, "SA-Update, AV and Outbreak updates"),
    Outbound("Updates-FTP", 21, Proto.TCP, "AV updates over FTP"),
)


@dataclass(frozen=True, slots=True)
class Rule:
    """One allow rule. `ip` is the local address for inbound rules; None = every address."""

    name: str
    inbound: bool
    proto: Proto
    port: int
    ip: IPAddress | None = None
    why: str = ""


@dataclass(frozen=True, slots=True)
class RuleSet:
    """What every format renders: the rules to add and the names to delete first."""

    rules: tuple[Rule, ...]
    deletions: tuple[str, ...]  # every rule name to delete before adding (netsh)
    removed: tuple[IPAddress, ...]  # previously bound addresses whose rules go away


def _label_part(text: str) -> str:
    return _UNSAFE.sub("-", text).strip("-")[:MAX_LABEL].strip("-")


def _address_part(ip: IPAddress | None) -> str:
    if ip is None:
        return "any"
    return ip.compressed.replace(":", "_") if isinstance(ip, IPv6Address) else ip.compressed


def rule_name(label_part: str, ip: IPAddress | None) -> str:
    """bindmgr-SMTP-203.0.113.7, bindmgr-SMTP-2001_db8__7, bindmgr-SMTP-any."""
    return f"{GROUP}-{_label_part(label_part) or 'port'}-{_address_part(ip)}"


def _outbound_name(out: Outbound) -> str:
    return f"{GROUP}-out-{out.name}-{out.proto.value}"


def _check_port(listener: Listener) -> None:
    if not 1 <= listener.port <= 65535:
        raise InputError(
            f"listener {listener.service!r} has port {listener.port}, which no firewall can open",
            hint="give it a port between 1 and 65535 in the layout or in MDaemon's settings",
        )


def label_parts(listeners: Sequence[Listener]) -> tuple[tuple[Listener, str, tuple[str, ...]], ...]:
    """Each distinct (port, protocol) with its unique name part and the parts it replaces.

    The first listener of a (port, protocol) wins. Parts compare without regard to case (Windows
    does); clashing ones get `-<port><proto>`, then `-2`, `-3`. A clashing part's plain form is
    also returned, so netsh deletes rules an earlier run named without the suffix.
    """
    seen: set[tuple[int, Proto]] = set()
    unique: list[Listener] = []
    for listener in listeners:
        _check_port(listener)
        if (listener.port, listener.proto) not in seen:
            seen.add((listener.port, listener.proto))
            unique.append(listener)
    base = [
        _label_part(x.label) or _label_part(x.service) or f"port{x.port}{x.proto.value}"
        for x in unique
    ]
    folded = [b.casefold() for b in base]
    parts = [
        f"{b}-{x.port}{x.proto.value}" if folded.count(b.casefold()) > 1 else b
        for b, x in zip(base, unique, strict=True)
    ]
    taken: set[str] = set()
    result: list[tuple[Listener, str, tuple[str, ...]]] = []
    for listener, plain, part in zip(unique, base, parts, strict=True):
        final, n = part, 1
        while final.casefold() in taken:
            n += 1
            final = f"{part}-{n}"
        taken.add(final.casefold())
        result.append((listener, final, () if final == plain else (plain,)))
    return tuple(result)


def _bare(ip: IPAddress) -> IPAddress:
    """The address without an IPv6 scope: firewalls match addresses, not interfaces."""
    return IPv6Address(ip.packed) if isinstance(ip, IPv6Address) else ip


def _targets(bound: Iterable[IPAddress]) -> tuple[IPAddress | None, ...]:
    addresses = tuple(dict.fromkeys(_bare(ip) for ip in bound))
    unspecified = [ip for ip in addresses if ip.is_unspecified]
    if not addresses or len(unspecified) == len(addresses):
        return (None,)  # no domain bound: MDaemon listens on every address
    if unspecified:
        raise InputError(
            f"{unspecified[0]} (every address) is listed beside specific addresses",
            hint="give either the bound addresses or none (rules for every address)",
        )
    return addresses


def rule_set(
    listeners: Sequence[Listener],
    bound: Sequence[IPAddress],
    *,
    removed: Iterable[IPAddress] = (),
) -> RuleSet:
    """The rules for `listeners` on the `bound` addresses, plus the deletions a rerun needs.

    No bound address (or only 0.0.0.0/::) means MDaemon listens on every address: the inbound
    rules then name no local address. `removed` are addresses bound before (say, the current
    configuration's) whose rules must go; those still in `bound` are ignored.
    """
    targets = _targets(bound)
    gone = tuple(ip for ip in dict.fromkeys(_bare(ip) for ip in removed) if ip not in targets)
    parts = label_parts(listeners)
    rules = [
        Rule(rule_name(part, ip), True, listener.proto, listener.port, ip)
        for ip in targets
        for listener, part, _old in parts
    ]
    rules += [Rule(_outbound_name(o), False, o.proto, o.port, None, o.why) for o in OUTBOUND]
    # Names an earlier run may have used: a part before it needed a suffix, a dropped address.
    old = [rule_name(p, ip) for ip in (*targets, *gone) for _l, _p, olds in parts for p in olds]
    old += [rule_name(part, ip) for ip in gone for _l, part, _o in parts]
    deletions = tuple(dict.fromkeys([*(r.name for r in rules), *old]))
    return RuleSet(tuple(rules), deletions, gone)


_LOOPBACK = "Never block loopback (127.0.0.1, ::1): MDaemon's parts talk to each other over it."


def _ps(rules: RuleSet) -> list[str]:
    lines = [
        "# bindmgr firewall rules for MDaemon (PowerShell, NetSecurity module; run as",
        "# Administrator). A rerun replaces them: every rule of the group 'bindmgr' is removed",
        "# first, so the rules of addresses that are no longer bound go too.",
        f"# {_LOOPBACK}",
        "# Windows Firewall leaves loopback alone by default: add no rule that blocks it.",
    ]
    lines += _notes(rules, "#")
    lines += [
        "$ErrorActionPreference = 'Stop'",
        f"Remove-NetFirewallRule -Group '{GROUP}' -ErrorAction SilentlyContinue",
    ]
    for inbound in (True, False):
        lines.append("")
        lines += _heading(inbound, "#")
        for rule in (r for r in rules.rules if r.inbound is inbound):
            address = f" -LocalAddress {rule.ip}" if rule.ip is not None else ""
            port = "-LocalPort" if inbound else "-RemotePort"
            why = f" -Description '{rule.why}'" if rule.why else ""
            lines.append(
                f"New-NetFirewallRule -Name '{rule.name}' -DisplayName '{rule.name}'{why} "
                f"-Group '{GROUP}' -Direction {'Inbound' if inbound else 'Outbound'} "
                f"-Protocol {rule.proto.value.upper()}{address} {port} {rule.port} "
                "-Action Allow -Profile Any | Out-Null"
            )
    return lines


def _notes(rules: RuleSet, mark: str) -> list[str]:
    lines = []
    if any(r.inbound and r.ip is None for r in rules.rules):
        lines += [
            f"{mark} No domain is bound, so MDaemon listens on every address: the inbound rules",
            f"{mark} name no local address.",
        ]
    if rules.removed:
        lines.append(f"{mark} No longer bound: " + ", ".join(map(str, rules.removed)))
    return lines


def _heading(inbound: bool, mark: str) -> list[str]:
    if inbound:
        return [f"{mark} Inbound: each listener's port on each bound address only"]
    return [
        f"{mark} Outbound: the ports MDaemon connects to; replies come back as established",
        f"{mark} traffic. These matter only where outbound traffic is blocked by default.",
    ]


def _netsh(rules: RuleSet) -> list[str]:
    lines = [
        "@echo off",
        "REM bindmgr firewall rules for MDaemon (netsh advfirewall; save as a .cmd file and run",
        "REM it from an elevated prompt). A rerun replaces them: each rule is deleted by name",
        "REM before it is added, and so are the rules of addresses that are no longer bound.",
        f"REM {_LOOPBACK}",
        "REM Windows Firewall leaves loopback alone by default: add no rule that blocks it.",
    ]
    lines += _notes(rules, "REM")
    lines += ["", "REM Delete what an earlier run added (no match is fine)"]
    lines += [f'netsh advfirewall firewall delete rule name="{n}" >nul' for n in rules.deletions]
    for inbound in (True, False):
        lines.append("")
        lines += _heading(inbound, "REM")
        for rule in (r for r in rules.rules if r.inbound is inbound):
            side = "local" if inbound else "remote"
            address = f" localip={rule.ip}" if rule.ip is not None else ""
            why = f' description="{rule.why}"' if rule.why else ""
            lines.append(
                f'netsh advfirewall firewall add rule name="{rule.name}"{why} '
                f"dir={'in' if inbound else 'out'} action=allow "
                f"protocol={rule.proto.value.upper()}{address} {side}port={rule.port} profile=any"
            )
    return lines


def _nft_rule(rule: Rule) -> list[str]:
    match = f"{rule.proto.value} dport {rule.port}"
    if rule.ip is not None:
        family = "ip" if isinstance(rule.ip, IPv4Address) else "ip6"
        match = f"{family} daddr {rule.ip} {match}"
    why = [f"\t\t# {rule.why}"] if rule.why else []
    return [*why, f'\t\t{match} counter accept comment "{rule.name}"']


def _nftables(rules: RuleSet) -> list[str]:
    lines = [
        "#!/usr/sbin/nft -f",
        "# bindmgr firewall rules for MDaemon (nftables; load with `nft -f FILE`). A rerun",
        "# replaces them: the two lines after this comment create the table if it is missing and",
        "# delete it, so the definition below starts from nothing and no rule piles up.",
        f"# {_LOOPBACK}",
        "#",
        "# This table only accepts and both chains have policy accept: loading it cannot lock",
        "# anyone out. An accept ends only this table's chain, and a drop in any other table",
        "# still wins, so your own ruleset decides what is dropped: if it drops by default,",
        "# accept these ports there too. To make this table enforce the list on its own, change",
        "# the input chain's policy to drop only after adding your own access (ssh) to it.",
    ]
    lines += _notes(rules, "#")
    lines += [
        f"table inet {GROUP} {{}}",
        f"delete table inet {GROUP}",
        f"table inet {GROUP} {{",
    ]
    for inbound, chain, lo in ((True, "input", "iif"), (False, "output", "oif")):
        lines += [
            f"\tchain {chain} {{",
            f"\t\ttype filter hook {chain} priority filter; policy accept;",
            f"\t\t{lo} lo accept",
            "\t\tct state established,related accept",
            *(f"\t\t{line}" for line in _heading(inbound, "#")),
        ]
        if not inbound:
            lines.append(
                "\t\t# FTP data connections are related only with the ftp conntrack helper."
            )
        lines += [line for r in rules.rules if r.inbound is inbound for line in _nft_rule(r)]
        lines.append("\t}")
    lines.append("}")
    return lines


_RENDER = {
    FirewallFormat.POWERSHELL: _ps,
    FirewallFormat.NETSH: _netsh,
    FirewallFormat.NFTABLES: _nftables,
}


def render_firewall(
    listeners: Sequence[Listener],
    bound: Sequence[IPAddress],
    fmt: FirewallFormat,
    *,
    removed: Iterable[IPAddress] = (),
) -> str:
    """The script of `bindmgr firewall --format FMT`, "\n" line ends, one trailing newline.

    The netsh form is a .cmd file; the edge that writes it lets the platform's text mode turn
    "\n" into CRLF. Raises InputError for a listener port outside 1-65535 or for 0.0.0.0/::
    beside real addresses.
    """
    return "\n".join(_RENDER[fmt](rule_set(listeners, bound, removed=removed))) + "\n"
