"""The DNS records a plan needs, as a zone-file snippet or a JSON document.

Takes the planner's records (`Plan.dns`: A/AAAA of every bound name, PTR of every address) and
adds a PTR for any address that lacks one. Every name is checked before it is written, so
nothing from a hand-edited INI can inject zone-file syntax. Pure: records in, text out.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from ipaddress import IPv4Address, IPv6Address, ip_address

from bindmgr.errors import InputError
from bindmgr.formats.jsondoc import dumps_json
from bindmgr.model import DnsRecord, IPAddress

DNS_FORMAT_VERSION = 1
DEFAULT_TTL = 3600
MAX_NAME = 253
MAX_TTL = 2**31 - 1  # RFC 2181
_LABEL = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?")
_V4_ARPA = ".in-addr.arpa"
_V6_ARPA = ".ip6.arpa"
_HINT = (
    "the record comes from the plan: fix the name or address in MDaemon (the Default Domain's "
    "FQDN) or in the desired state, and plan again"
)


class DnsFormat(StrEnum):
    ZONE = "zone"
    JSON = "json"


@dataclass(frozen=True, slots=True)
class Entry:
    """A checked record: `name` and `value` without the trailing dot; `ip` its address."""

    name: str
    rtype: str  # "A", "AAAA" or "PTR"
    value: str
    ip: IPAddress

    @property
    def forward(self) -> bool:
        return self.rtype != "PTR"


def _fail(record: DnsRecord, message: str) -> InputError:
    return InputError(f"DNS record {record.rtype} {record.name!r}: {message}", hint=_HINT)


def _host(text: str, record: DnsRecord) -> str:
    name = text.removesuffix(".")
    labels = name.split(".")
    if not name or len(name) > MAX_NAME or not all(_LABEL.fullmatch(x) for x in labels):
        raise _fail(record, f"{text!r} is not a DNS host name (letters, digits, inner '-', '.')")
    if labels[-1].isdigit():
        raise _fail(record, f"{text!r} ends in a number: it reads like an address, not a name")
    return name


def ptr_address(name: str) -> IPAddress | None:
    """The address a reverse name stands for: 7.113.0.203.in-addr.arpa -> 203.0.113.7.

    None unless `name` (with or without the trailing dot) is a full in-addr.arpa name (four
    decimal labels) or ip6.arpa name (32 hex nibbles).
    """
    folded = name.removesuffix(".").casefold()
    try:
        if folded.endswith(_V4_ARPA):
            parts = folded.removesuffix(_V4_ARPA).split(".")
            if len(parts) == 4 and all(p.isdigit() and p.isascii() for p in parts):
                return IPv4Address(".".join(reversed(parts)))
        elif folded.endswith(_V6_ARPA):
            nibbles = folded.removesuffix(_V6_ARPA).split(".")
            if len(nibbles) == 32 and all(len(n) == 1 and n in "0123456789abcdef" for n in nibbles):
                return IPv6Address(int("".join(reversed(nibbles)), 16))
    except ValueError:  # 256.0.0.10.in-addr.arpa, 01.0.0.10.in-addr.arpa
        return None
    return None


_FAMILIES: dict[str, tuple[type[IPv4Address] | type[IPv6Address], str]] = {
    "A": (IPv4Address, "IPv4"),
    "AAAA": (IPv6Address, "IPv6"),
}


def _entry(record: DnsRecord) -> Entry:
    if record.rtype == "PTR":
        ip = ptr_address(record.name)
        if ip is None:
            raise _fail(record, "a PTR name must be a full in-addr.arpa or ip6.arpa name")
        return Entry(ip.reverse_pointer, "PTR", _host(record.value, record), ip)
    family, spelled = _FAMILIES.get(record.rtype, (None, ""))
    if family is None:
        raise _fail(record, f"type {record.rtype!r} is not A, AAAA or PTR")
    try:
        ip = ip_address(record.value)
    except ValueError:
        raise _fail(record, f"{record.value!r} is not an IP address") from None
    if not isinstance(ip, family) or (isinstance(ip, IPv6Address) and ip.scope_id):
        raise _fail(record, f"{record.value!r} is not a plain {spelled} address")
    return Entry(_host(record.name, record), record.rtype, str(ip), ip)


def entries(records: Sequence[DnsRecord]) -> tuple[Entry, ...]:
    """The records checked, each once, forward ones first, plus a PTR for each unmapped address.

    The planner's order is kept; a derived PTR names the first name bound to its address and
    follows the planner's PTRs. Raises InputError for a record that cannot be written.
    """
    checked = tuple(dict.fromkeys(_entry(r) for r in records))
    forward = [e for e in checked if e.forward]
    reverse = [e for e in checked if not e.forward]
    mapped = {e.ip for e in reverse}
    for entry in forward:
        if entry.ip not in mapped:
            mapped.add(entry.ip)
            reverse.append(Entry(entry.ip.reverse_pointer, "PTR", entry.name, entry.ip))
    return (*forward, *reverse)


def with_ptrs(records: Sequence[DnsRecord]) -> tuple[DnsRecord, ...]:
    """`records` as DnsRecords again, with the PTRs `entries` derives."""
    return tuple(DnsRecord(e.name, e.rtype, e.value) for e in entries(records))


def _absolute(entry: Entry) -> tuple[str, str]:
    value = f"{entry.value}." if entry.rtype == "PTR" else entry.value
    return f"{entry.name}.", value


def _section(title: Sequence[str], rows: Sequence[Entry]) -> list[str]:
    if not rows:
        return []
    cells = [(*_absolute(e), e.rtype) for e in rows]
    width = max(len(name) for name, _v, _t in cells)
    kind = max(len(t) for _n, _v, t in cells)
    return [
        "",
        *(f"; {line}" for line in title),
        *(f"{name:<{width}}  IN  {t:<{kind}}  {value}" for name, value, t in cells),
    ]


def _check_ttl(ttl: int) -> None:
    if not 0 <= ttl <= MAX_TTL:
        raise InputError(
            f"a TTL of {ttl} seconds is out of range", hint=f"give 0 to {MAX_TTL} seconds"
        )


def render_zone(records: Sequence[DnsRecord], *, ttl: int = DEFAULT_TTL) -> str:
    """A zone-file snippet: absolute names, one record per line, forward then reverse."""
    _check_ttl(ttl)
    rows = entries(records)
    lines = [
        "; DNS records for the names bindmgr binds: each name must resolve to its address, and",
        "; each address back to its name (MDaemon greets on an address with the name that owns",
        "; it, and receivers compare that with the PTR). Names are absolute (trailing dot), so",
        "; the lines fit any zone file; the records carry no TTL of their own.",
        f"; $TTL {ttl}    ; suggested: keep your zone's own $TTL line, or put this one first",
    ]
    if not rows:
        lines += ["", "; No records: the plan binds no address."]
    lines += _section(("Forward zone: A and AAAA records",), [e for e in rows if e.forward])
    lines += _section(
        (
            "Reverse zones: each PTR goes into the zone that holds its name; for addresses a",
            "provider assigned, ask the provider to set it.",
        ),
        [e for e in rows if not e.forward],
    )
    return "\n".join(lines) + "\n"


def render_dns_json(records: Sequence[DnsRecord], *, ttl: int = DEFAULT_TTL) -> str:
    """One object: format_version, ttl, records [{name, type, value, ip}]; names without dots."""
    _check_ttl(ttl)
    return dumps_json(
        {
            "format_version": DNS_FORMAT_VERSION,
            "ttl": ttl,
            "records": [
                {"name": e.name, "type": e.rtype, "value": e.value, "ip": str(e.ip)}
                for e in entries(records)
            ],
        }
    )


def render_dns(records: Sequence[DnsRecord], fmt: DnsFormat, *, ttl: int = DEFAULT_TTL) -> str:
    """The text of `bindmgr dns --format FMT` for a plan's records (`Plan.dns`)."""
    if fmt is DnsFormat.JSON:
        return render_dns_json(records, ttl=ttl)
    return render_zone(records, ttl=ttl)
