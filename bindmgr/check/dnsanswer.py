"""What DNS says about the names and addresses a binding needs: pure values and classify_dns.

Values in (the records a plan needs, as Expected, and the raw Lookups resolve.py made), findings
out: no sockets, no event loop, no resolver library. Which queries to make is Expected.queries();
what their answers mean is classify_dns(), whose docstring states the rules.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from ipaddress import IPv4Address, IPv6Address, ip_address
from typing import Final

from bindmgr.errors import InputError
from bindmgr.model import DnsRecord, IPAddress

FORWARD: Final = ("A", "AAAA")
_FAMILY: Final[Mapping[str, int]] = {"A": 4, "AAAA": 6}
_V4_ARPA: Final = ".in-addr.arpa"
_V6_ARPA: Final = ".ip6.arpa"
_HINT: Final = (
    "the record comes from the plan: fix the name or address in MDaemon or in the desired state, "
    "and plan again"
)
_SHOW_RECORDS: Final = "`bindmgr dns` prints the records the binding needs"


def _fold(name: str) -> str:
    return name.removesuffix(".").casefold()


def reverse_address(name: str) -> IPAddress | None:
    """The address a full in-addr.arpa or ip6.arpa name stands for, else None.

    The rule report/zone.ptr_address applies to the records it writes; a stage cannot import a
    renderer, so the check reads reverse names by the same rule here.
    """
    folded = _fold(name)
    if folded.endswith(_V4_ARPA):
        parts = folded.removesuffix(_V4_ARPA).split(".")
        if len(parts) == 4 and all(p.isascii() and p.isdigit() and len(p) <= 3 for p in parts):
            octets = [int(p) for p in parts]
            if all(o <= 255 and str(o) == p for o, p in zip(octets, parts, strict=True)):
                return IPv4Address(".".join(reversed(parts)))
    elif folded.endswith(_V6_ARPA):
        nibbles = folded.removesuffix(_V6_ARPA).split(".")
        if len(nibbles) == 32 and all(len(n) == 1 and n in "0123456789abcdef" for n in nibbles):
            return IPv6Address(int("".join(reversed(nibbles)), 16))
    return None


@dataclass(frozen=True, slots=True)
class Query:
    """One DNS question: A or AAAA of a host name, or PTR of an address."""

    rtype: str  # "A", "AAAA" or "PTR"
    subject: str  # the host name, or the address of a PTR, as reports show it

    @property
    def qname(self) -> str:
        """The name asked for: the host name, or the address's reverse name."""
        if self.rtype == "PTR":
            return ip_address(self.subject).reverse_pointer
        return self.subject


@dataclass(frozen=True, slots=True)
class Expected:
    """What DNS should say: each name's addresses and each address's PTR names, in plan order."""

    forward: tuple[tuple[str, tuple[IPAddress, ...]], ...] = ()
    reverse: tuple[tuple[IPAddress, tuple[str, ...]], ...] = ()

    @classmethod
    def from_records(cls, records: Iterable[DnsRecord]) -> Expected:
        """The expectations of a plan's records (`Plan.dns`, or the current bindings').

        A name is compared without its final dot and case; the first spelling is kept. An address
        with no PTR record is expected to point back to the first name that resolves to it (the
        rule `bindmgr dns` prints its records by). Raises InputError for a record that is not a
        host name's A/AAAA or a reverse name's PTR.
        """
        names: dict[str, tuple[str, list[IPAddress]]] = {}
        ptrs: dict[IPAddress, list[str]] = {}
        for record in records:
            if record.rtype == "PTR":
                ip = reverse_address(record.name)
                if ip is None:
                    raise _bad(record, "a PTR name must be a full in-addr.arpa or ip6.arpa name")
                wanted = ptrs.setdefault(ip, [])
                if _fold(record.value) not in map(_fold, wanted):
                    wanted.append(record.value.removesuffix("."))
                continue
            family = _FAMILY.get(record.rtype)
            if family is None:
                raise _bad(record, f"type {record.rtype!r} is not A, AAAA or PTR")
            try:
                ip = ip_address(record.value)
            except ValueError:
                raise _bad(record, f"{record.value!r} is not an IP address") from None
            if ip.version != family:
                raise _bad(record, f"{record.value!r} is not an IPv{family} address")
            name = record.name.removesuffix(".")
            _spelled, addresses = names.setdefault(_fold(name), (name, []))
            if ip not in addresses:
                addresses.append(ip)
        for spelled, addresses in names.values():
            for ip in addresses:
                ptrs.setdefault(ip, [spelled])
        return cls(
            tuple((spelled, tuple(ips)) for spelled, ips in names.values()),
            tuple((ip, tuple(wanted)) for ip, wanted in ptrs.items()),
        )

    def queries(self) -> tuple[Query, ...]:
        """A and AAAA of every name (an unexpected family's records are looked for too), then
        the PTR of every address."""
        return (
            *(Query(rtype, name) for name, _ in self.forward for rtype in FORWARD),
            *(Query("PTR", str(ip)) for ip, _ in self.reverse),
        )


def _bad(record: DnsRecord, message: str) -> InputError:
    return InputError(f"DNS record {record.rtype} {record.name!r}: {message}", hint=_HINT)


class Outcome(StrEnum):
    """How one query ended, as the resolver saw it."""

    ANSWER = "answer"
    NXDOMAIN = "nxdomain"  # the name does not exist
    NOANSWER = "noanswer"  # the name exists, with no record of this type
    TIMEOUT = "timeout"
    SERVFAIL = "servfail"  # every nameserver failed, refused or could not be reached
    ERROR = "error"  # the question could not be asked (a name DNS cannot carry, ...)


@dataclass(frozen=True, slots=True)
class Lookup:
    """The raw outcome of one query: no interpretation yet."""

    query: Query
    outcome: Outcome
    answers: tuple[str, ...] = ()  # addresses (A, AAAA) or names without the final dot (PTR)
    detail: str = ""  # which nameserver said what, which timeout, a CNAME followed


_ANSWERED: Final = frozenset({Outcome.ANSWER, Outcome.NXDOMAIN, Outcome.NOANSWER})


class DnsStatus(StrEnum):
    OK = "ok"
    MISSING = "missing"
    WRONG = "wrong"
    EXTRA = "extra"
    PTR_MISMATCH = "ptr_mismatch"
    TIMEOUT = "timeout"
    ERROR = "error"


@dataclass(frozen=True, slots=True)
class DnsFinding:
    """The verdict on one query: what the plan expects, what DNS said, and what to do."""

    status: DnsStatus
    rtype: str  # "A", "AAAA" or "PTR"
    subject: str  # the host name, or the address of a PTR
    expected: tuple[str, ...]  # addresses (A, AAAA) or names (PTR); empty: none expected
    seen: tuple[str, ...]
    detail: str
    hint: str | None = None

    @property
    def is_warning(self) -> bool:
        """A PTR naming another host: mail still flows, but receivers may score it down."""
        return self.status is DnsStatus.PTR_MISMATCH

    @property
    def is_failure(self) -> bool:
        return self.status is not DnsStatus.OK and not self.is_warning


def _listed(items: Sequence[str]) -> str:
    return ", ".join(items) or "nothing"


def _not_answered(query: Query, lookup: Lookup | None, wanted: tuple[str, ...]) -> DnsFinding:
    """The finding of a query that got no answer at all (timeout, failure, not asked)."""
    why = f" ({lookup.detail})" if lookup is not None and lookup.detail else ""
    what = f"{query.rtype} {query.subject}"
    if lookup is None:
        detail, status = f"{what} was not looked up", DnsStatus.ERROR
        hint = "rerun the check"
    elif lookup.outcome is Outcome.TIMEOUT:
        detail, status = f"no answer for {what}{why}", DnsStatus.TIMEOUT
        hint = "check that the nameserver is reachable (or name one with --nameserver) and rerun"
    elif lookup.outcome is Outcome.SERVFAIL:
        detail, status = f"the nameservers failed to answer {what}{why}", DnsStatus.ERROR
        hint = (
            "a resolver refuses names it does not serve: name one that resolves this zone with "
            "--nameserver; a SERVFAIL from a good resolver means the zone itself is broken "
            "(its nameservers or its DNSSEC signatures)"
        )
    else:
        detail, status = f"{what} could not be looked up{why}", DnsStatus.ERROR
        hint = "check the name in MDaemon (the domain's name or FQDN) and plan again"
    return DnsFinding(status, query.rtype, query.subject, wanted, (), detail, hint)


def _addresses(answers: Sequence[str]) -> tuple[str, ...]:
    """Answers as canonical address text where they parse (so 2001:DB8::7 equals 2001:db8::7)."""
    out = []
    for text in answers:
        try:
            out.append(str(ip_address(text)))
        except ValueError:
            out.append(text)
    return tuple(dict.fromkeys(out))


def _compared(
    name: str, rtype: str, wanted: tuple[str, ...], seen: tuple[str, ...], outcome: Outcome
) -> tuple[DnsStatus, str, str | None]:
    """Status, detail and hint of a name's answers of a family the binding gives it."""
    add = f"add {rtype} {name} -> {_listed(wanted)} ({_SHOW_RECORDS})"
    if not seen:
        if outcome is Outcome.NXDOMAIN:
            return DnsStatus.MISSING, f"{name} does not exist in DNS (NXDOMAIN)", add
        return DnsStatus.MISSING, f"{name} has no {rtype} record", add
    absent = tuple(a for a in wanted if a not in seen)
    others = tuple(a for a in seen if a not in wanted)
    if not absent and not others:
        return DnsStatus.OK, f"{name} resolves to {_listed(seen)}", None
    if len(absent) == len(wanted):
        detail = f"{name} resolves to {_listed(seen)}, not {_listed(wanted)}"
        hint = f"change {rtype} {name} to {_listed(wanted)} ({_SHOW_RECORDS})"
        return DnsStatus.WRONG, detail, hint
    if absent:
        return (
            DnsStatus.MISSING,
            f"{name} resolves to {_listed(seen)}, without {_listed(absent)}",
            add,
        )
    detail = f"{name} resolves to {_listed(wanted)} and also to {_listed(others)}"
    hint = (
        f"delete {rtype} {name} -> {_listed(others)} (an old address?): senders that pick it "
        "reach an address this domain is not bound to"
    )
    return DnsStatus.EXTRA, detail, hint


def _forward(query: Query, lookup: Lookup | None, ips: tuple[IPAddress, ...]) -> DnsFinding | None:
    family = _FAMILY[query.rtype]
    wanted = tuple(str(ip) for ip in ips if ip.version == family)
    name, rtype = query.subject, query.rtype
    if lookup is None or lookup.outcome not in _ANSWERED:
        return _not_answered(query, lookup, wanted)
    seen = _addresses(lookup.answers) if lookup.outcome is Outcome.ANSWER else ()
    if wanted:
        status, detail, hint = _compared(name, rtype, wanted, seen, lookup.outcome)
    elif seen:
        status = DnsStatus.EXTRA
        detail = (
            f"{name} also has {rtype} {_listed(seen)}, but the binding gives it no "
            f"IPv{family} address"
        )
        hint = (
            f"delete the {rtype} record of {name}: senders that use it reach an address "
            "MDaemon does not serve this domain on"
        )
    else:
        return None  # nothing expected, nothing there
    via = f" ({lookup.detail})" if lookup.detail else ""
    return DnsFinding(status, rtype, name, wanted, seen, detail + via, hint)


def _reverse(query: Query, lookup: Lookup | None, names: tuple[str, ...]) -> DnsFinding:
    ip = query.subject
    if lookup is None or lookup.outcome not in _ANSWERED:
        return _not_answered(query, lookup, names)
    seen = tuple(dict.fromkeys(a.removesuffix(".") for a in lookup.answers))
    if lookup.outcome is not Outcome.ANSWER or not seen:
        return DnsFinding(
            DnsStatus.MISSING,
            "PTR",
            ip,
            names,
            (),
            f"{ip} has no PTR record",
            f"ask whoever holds the reverse zone of {ip} (often the provider that assigned it) "
            f"for PTR {ip} -> {_listed(names)}: receivers reject or score down mail from an "
            "address without one",
        )
    wanted = {_fold(n) for n in names}
    got = {_fold(n) for n in seen}
    if wanted == got:
        return DnsFinding(
            DnsStatus.OK, "PTR", ip, names, seen, f"{ip} points back to {_listed(seen)}"
        )
    others = tuple(n for n in seen if _fold(n) not in wanted)
    if wanted & got:
        detail = (
            f"{ip} points back to {_listed([n for n in seen if _fold(n) in wanted])} and also "
            f"to {_listed(others)}: receivers may pick any of them"
        )
    else:
        detail = f"{ip} points back to {_listed(seen)}, not {_listed(names)}"
    detail += " (MDaemon greets with the name of the domain bound to the address)"
    hint = (
        f"have the PTR of {ip} name only {_listed(names)} (receivers compare it with the name "
        "MDaemon greets with), or bind the address to the domain its PTR names"
    )
    return DnsFinding(DnsStatus.PTR_MISMATCH, "PTR", ip, names, seen, detail, hint)


def classify_dns(expected: Expected, lookups: Iterable[Lookup]) -> tuple[DnsFinding, ...]:
    """The findings, in Expected's order: each name's A then AAAA, then each address's PTR.

    The rules (tests/check/test_dnsanswer.py has them as tables):

    - A/AAAA of a name the binding gives an address of that family: `ok` when the answers are
      exactly the expected addresses; `missing` when the name does not exist (NXDOMAIN), has no
      record of the type, or lacks one of several expected addresses; `wrong` when it resolves
      only to other addresses; `extra` when it resolves to every expected address and others
      too (an old address left behind: some senders will use it);
    - A/AAAA of a family the binding gives the name no address of: `extra` when DNS has such
      records (a stale AAAA sends IPv6 senders elsewhere), no finding when it has none;
    - PTR of an address: `ok` when its names are exactly the expected ones (case and final dot
      aside), `missing` when there is none, and `ptr_mismatch` (a warning) when it names another
      host or also another host;
    - no answer at all: `timeout`, or `error` when the nameservers failed or refused or the
      question could not be asked (the detail says which). A query without a Lookup is an
      `error` too; a Lookup for a query Expected does not make is ignored.
    """
    by_query = {lookup.query: lookup for lookup in lookups}
    found: list[DnsFinding] = []
    for name, ips in expected.forward:
        for rtype in FORWARD:
            query = Query(rtype, name)
            finding = _forward(query, by_query.get(query), ips)
            if finding is not None:
                found.append(finding)
    for ip, names in expected.reverse:
        query = Query("PTR", str(ip))
        found.append(_reverse(query, by_query.get(query), names))
    return tuple(found)
