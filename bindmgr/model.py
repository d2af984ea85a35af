"""Frozen value types shared by every part of bindmgr.

Values are parsed once, at the boundary: addresses are `ipaddress` objects from the moment they
leave an INI file or the command line. Nothing here does I/O or imports another bindmgr module.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum
from ipaddress import IPv4Address, IPv6Address
from typing import NamedTuple

IPAddress = IPv4Address | IPv6Address


class Proto(StrEnum):
    TCP = "tcp"
    UDP = "udp"


@dataclass(frozen=True, slots=True)
class Location:
    """Where a value lives: a file (relative to the App folder), a section, a key, a line."""

    file: str
    section: str
    key: str
    line: int | None = None  # 1-based; None when the key is not in the file

    def __str__(self) -> str:
        where = f"{self.file} [{self.section}] {self.key}"
        return where if self.line is None else f"{where} (line {self.line})"


@dataclass(frozen=True, slots=True)
class Problem:
    """Something wrong in an input that does not stop bindmgr (reported, never fixed silently)."""

    file: str
    line: int | None
    message: str

    def __str__(self) -> str:
        where = self.file if self.line is None else f"{self.file}:{self.line}"
        return f"{where}: {self.message}"


def sha256_bytes(data: bytes) -> str:
    """Hex sha256 of `data`."""
    return hashlib.sha256(data).hexdigest()


def digest(data: bytes | None) -> str | None:
    """Hex sha256 of a file's bytes; None for a file that does not exist."""
    return None if data is None else sha256_bytes(data)


def show_digest(value: str | None) -> str:
    """A digest as messages show it: "absent" or "sha256 0123456789ab"."""
    return "absent" if value is None else f"sha256 {value[:12]}"


@dataclass(frozen=True, slots=True)
class InputFile:
    """A file a plan was made from, with the sha256 of its bytes (stale-plan detection)."""

    name: str  # relative to the App folder, as the layout names it
    sha256: str  # hex (only files that exist are inputs)

    @classmethod
    def of(cls, name: str, data: bytes) -> InputFile:
        return cls(name, sha256_bytes(data))


@dataclass(frozen=True, slots=True)
class Listener:
    """One socket MDaemon opens per bound IP: a service on a port and protocol."""

    service: str  # layout id, e.g. "smtp", "minger"
    label: str  # what MDaemon's event log calls it, e.g. "SMTP"
    port: int
    proto: Proto = Proto.TCP
    source: Location | None = None  # where the port was read; None = the layout's default


@dataclass(frozen=True, slots=True)
class DomainKeys:
    """Where the planner writes a domain's binding (from the layout).

    `section` is fixed for the Default Domain; for secondary domains it is None and the section
    is the domain's own name. A key that is None is not managed (the layout has no such key).
    """

    file: str
    section: str | None
    ip: str
    bind: str
    ipv6: str | None = None
    fqdn: str | None = None

    def managed(self) -> tuple[str, ...]:
        return tuple(k for k in (self.ip, self.bind, self.ipv6, self.fqdn) if k is not None)


@dataclass(frozen=True, slots=True)
class Domain:
    """A domain and its binding as MDaemon sees it (first section, first key wins)."""

    name: str  # as spelled in the file (the section name for secondary domains)
    ip: IPv4Address | None = None
    ipv6: IPv6Address | None = None
    bind: bool = False  # "restrict connections to this IP"
    fqdn: str | None = None
    is_default: bool = False
    raw: tuple[tuple[str, str], ...] = ()  # managed keys present in the file: (key, raw value)
    other_keys: tuple[str, ...] = ()  # keys in the section that bindmgr does not manage

    def raw_value(self, key: str) -> str | None:
        folded = key.casefold()
        return next((v for k, v in self.raw if k.casefold() == folded), None)

    def addresses(self) -> tuple[IPAddress, ...]:
        return tuple(a for a in (self.ip, self.ipv6) if a is not None)


@dataclass(frozen=True, slots=True)
class BindEntry:
    """One entry of a web server's bind list: `IP`, `IP:port`, or `*` (ip None: every IP)."""

    text: str  # as written, blanks around it dropped
    ip: IPAddress | None
    port: int | None = None

    @property
    def is_wildcard(self) -> bool:
        return self.ip is None or self.ip.is_unspecified


@dataclass(frozen=True, slots=True)
class BindList:
    """WorldClient's or Remote Administration's own bind list and the listeners it governs.

    Blank (or absent): they listen on every IP a domain holds; otherwise only on the entries."""

    name: str  # layout id, e.g. "worldclient"
    label: str  # e.g. "WorldClient"
    where: Location  # line None when the key is absent
    raw: str | None  # None when the key is absent
    entries: tuple[BindEntry, ...]
    services: tuple[str, ...]  # layout ids of the listeners it governs, the main one first

    @property
    def narrows(self) -> bool:
        """True when the list names addresses: not blank, no `*`."""
        return bool(self.entries) and not any(e.is_wildcard for e in self.entries)

    @property
    def loopback_only(self) -> bool:
        return self.narrows and all(e.ip is not None and e.ip.is_loopback for e in self.entries)


@dataclass(frozen=True, slots=True)
class Config:
    """MDaemon's current configuration, read through a layout."""

    default: Domain
    domains: tuple[Domain, ...]  # secondary domains, in file order
    listeners: tuple[Listener, ...]
    default_keys: DomainKeys
    domain_keys: DomainKeys
    inputs: tuple[InputFile, ...] = ()
    problems: tuple[Problem, ...] = ()
    bind_lists: tuple[BindList, ...] = ()  # the web servers' own bind lists the layout names

    def all_domains(self) -> tuple[Domain, ...]:
        return (self.default, *self.domains)


@dataclass(frozen=True, slots=True)
class Slot:
    """What one domain should bind: an IPv4 address, an IPv6 address, or one of each."""

    v4: IPv4Address | None = None
    v6: IPv6Address | None = None

    def __post_init__(self) -> None:
        if self.v4 is None and self.v6 is None:
            raise ValueError("a slot needs an IPv4 or an IPv6 address")

    def addresses(self) -> tuple[IPAddress, ...]:
        return tuple(a for a in (self.v4, self.v6) if a is not None)

    def __str__(self) -> str:
        return "+".join(str(a) for a in self.addresses())


DEFAULT_PATTERN = "mail-{n}.{domain}"


@dataclass(frozen=True, slots=True)
class Desired:
    """The desired state: the base domain and the ordered slots; slot 1 is the Default Domain's."""

    domain: str
    slots: tuple[Slot, ...]
    pattern: str = DEFAULT_PATTERN
    prune: bool = False

    def addresses(self) -> tuple[IPAddress, ...]:
        return tuple(a for s in self.slots for a in s.addresses())


class Action(StrEnum):
    SET = "set"
    DELETE_KEY = "delete_key"
    DELETE_SECTION = "delete_section"


@dataclass(frozen=True, slots=True)
class Change:
    """One edit of one INI file, with the value it replaces and why."""

    file: str
    section: str
    key: str | None  # None for DELETE_SECTION
    old: str | None  # raw value as read; None when absent
    new: str | None  # None for the delete actions
    reason: str
    action: Action = Action.SET


@dataclass(frozen=True, slots=True)
class Assignment:
    """After the plan: which domain binds which slot, and how it got there."""

    domain: str
    slot: Slot
    is_default: bool
    note: str  # "unchanged", "new domain", "rebound from 10.0.0.9", "reuses a freed name", ...


@dataclass(frozen=True, slots=True)
class Conflict:
    """A reason the plan must not be applied as it stands."""

    subject: str  # the domain or address concerned
    message: str  # what is wrong and what to do


@dataclass(frozen=True, slots=True)
class DnsRecord:
    name: str
    rtype: str  # "A", "AAAA" or "PTR"
    value: str


@dataclass(frozen=True, slots=True)
class Plan:
    """The result of planning: pure data, renderable and saveable."""

    desired: Desired
    assignments: tuple[Assignment, ...]
    changes: tuple[Change, ...]
    conflicts: tuple[Conflict, ...] = ()
    notes: tuple[str, ...] = ()
    dns: tuple[DnsRecord, ...] = ()
    inputs: tuple[InputFile, ...] = ()

    @property
    def has_changes(self) -> bool:
        return bool(self.changes)


class ProbeStatus(StrEnum):
    OK = "ok"
    IN_USE = "in_use"
    IN_USE_WILDCARD = "in_use_wildcard"
    NOT_LOCAL = "not_local"
    DENIED = "denied"
    HELD_BY_MDAEMON = "held_by_mdaemon"
    ERROR = "error"

    @property
    def is_conflict(self) -> bool:
        return self not in (ProbeStatus.OK, ProbeStatus.HELD_BY_MDAEMON)


@dataclass(frozen=True, slots=True)
class ListeningSocket:
    """One row of the listener table: a TCP socket in LISTEN, or a bound, unconnected UDP one."""

    ip: IPAddress
    port: int
    proto: Proto
    pid: int | None
    name: str | None
    cmdline: str | None = None
    exe: str | None = None  # the executable's absolute path, None where the OS hides it


@dataclass(frozen=True, slots=True)
class Holder:
    """The process that holds a port, as far as the listener table shows it."""

    pid: int | None
    name: str | None
    cmdline: str | None = None


class ProbeResult(NamedTuple):
    """The answer for one (IP, port, protocol): can MDaemon bind it, and if not, why.

    A NamedTuple rather than a frozen dataclass: a check makes one per pair, thousands per run,
    and a NamedTuple is built about 4x faster (0.35 against 1.4 µs). Immutable and typed all the
    same; every field takes part in equality and hashing, `label` included.
    """

    ip: IPAddress
    port: int
    proto: Proto
    service: str
    status: ProbeStatus
    errno: int | None = None
    holder: Holder | None = None
    event: str | None = None  # "MDaemon would log event 503: SMTP 203.0.113.7:25 could not ..."
    hint: str | None = None  # the next step
    label: str = ""  # what MDaemon's event log calls the service, e.g. "SMTP"


def result_order(result: ProbeResult) -> tuple[int, bytes, str, int, str, str]:
    """IPv4 before IPv6, addresses numerically, then port, protocol and service."""
    ip = result.ip
    return (ip.version, ip.packed, str(ip), result.port, result.proto.value, result.service)


def sort_results(results: Iterable[ProbeResult]) -> tuple[ProbeResult, ...]:
    """Results in the one stable order every output uses, whatever order the probes finished in.

    The order of `result_order`; the address part of the key is made once per address object
    (a check's results share one per IP, and `packed` and `str` of an ipaddress run Python
    code), kept by id() while `items` holds every result, and so every address."""
    items = list(results)
    by_id: dict[int, tuple[int, bytes, str]] = {}

    def order(result: ProbeResult) -> tuple[int, bytes, str, int, str, str]:
        ip = result.ip
        head = by_id.get(id(ip))
        if head is None:
            head = by_id[id(ip)] = (ip.version, ip.packed, str(ip))
        return (*head, result.port, result.proto.value, result.service)

    return tuple(sorted(items, key=order))


def status_counts(results: Iterable[ProbeResult]) -> dict[ProbeStatus, int]:
    """Every status, in the enum's order, with its count (zeros included)."""
    counts = dict.fromkeys(ProbeStatus, 0)
    for result in results:
        counts[result.status] += 1
    return counts
