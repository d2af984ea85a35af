"""Look up every name and address a binding needs at once: the DNS edge of `check` and `verify`.

One dnspython asynchronous resolver, either the system's (/etc/resolv.conf; on Windows
dnspython reads the registry) or one that asks only the nameservers given (`--nameserver`). Each
query is bounded by `timeout` (all its tries), at most `concurrency` are in flight, and the whole
run is bounded by `total_timeout`: what is unfinished then is a timeout. The expected outcomes
(NXDOMAIN, no answer, timeout, refused) are data, Lookups; only "cannot continue" raises. Every
task is done and every socket closed when resolve_all returns, so it can share a caller's event
loop; run_resolve is the one call of asyncio.run here. What the answers mean is dnsanswer's.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from ipaddress import ip_address
from typing import Final

import dns.asyncresolver
import dns.exception
import dns.name
import dns.nameserver
import dns.rdtypes.ANY.PTR
import dns.rdtypes.IN.A
import dns.rdtypes.IN.AAAA
import dns.resolver

from bindmgr.check.dnsanswer import Expected, Lookup, Outcome, Query
from bindmgr.errors import InputError, UsageError
from bindmgr.model import IPAddress

DNS_PORT: Final = 53
PER_TRY: Final = 2.0  # seconds one try at one nameserver may take (dnspython's default)
_NAMESERVER_HINT: Final = "give IP, IP:PORT or [IPv6]:PORT, e.g. 192.0.2.53 or [2001:db8::53]:5353"

Nameserver = tuple[IPAddress, int]


def parse_nameserver(text: str) -> Nameserver:
    """`--nameserver`'s value: IP, IPv4:PORT, IPv6 or [IPv6]:PORT; the port defaults to 53.

    Raises UsageError naming the value for anything else (a host name, a bad port, 0.0.0.0).
    """
    raw = text.strip()
    host, port_text = raw, None
    if raw.startswith("["):
        host, sep, rest = raw[1:].partition("]")
        if not sep or (rest and not rest.startswith(":")):
            raise UsageError(f"nameserver {text!r}: a '[' needs its ']'", hint=_NAMESERVER_HINT)
        port_text = rest[1:] if rest else None
    elif raw.count(":") == 1:
        host, _, port_text = raw.partition(":")
    try:
        ip = ip_address(host)
    except ValueError:
        raise UsageError(
            f"nameserver {text!r}: {host!r} is not an IP address", hint=_NAMESERVER_HINT
        ) from None
    if raw.startswith("[") and ip.version == 4:
        raise UsageError(f"nameserver {text!r}: brackets are for IPv6", hint=_NAMESERVER_HINT)
    if ip.is_unspecified:
        raise UsageError(
            f"nameserver {text!r}: {ip} is no nameserver's address", hint=_NAMESERVER_HINT
        )
    port = DNS_PORT
    if port_text is not None:
        if not (port_text.isascii() and port_text.isdigit() and 1 <= int(port_text) <= 65535):
            raise UsageError(
                f"nameserver {text!r}: port {port_text!r} is not 1 to 65535",
                hint=_NAMESERVER_HINT,
            )
        port = int(port_text)
    return ip, port


def nameserver_text(nameserver: Nameserver) -> str:
    """192.0.2.53:53 or [2001:db8::53]:53, as messages show a nameserver."""
    ip, port = nameserver
    return f"[{ip}]:{port}" if ip.version == 6 else f"{ip}:{port}"


def make_resolver(
    nameservers: Sequence[Nameserver] | None,
    *,
    timeout: float,
    resolv_conf: str | None = None,
) -> dns.asyncresolver.Resolver:
    """The resolver of a run: only `nameservers` when given (no system configuration read),
    else the system's (`resolv_conf` names another resolv.conf-style file; Windows ignores it
    and reads the registry). No cache, no search list. Raises InputError when the system names
    no nameserver."""
    if nameservers:
        resolver = dns.asyncresolver.Resolver(configure=False)
        resolver.nameservers = [
            dns.nameserver.Do53Nameserver(str(ip), port) for ip, port in nameservers
        ]
    else:
        try:
            if resolv_conf is None:
                resolver = dns.asyncresolver.Resolver()
            else:
                resolver = dns.asyncresolver.Resolver(filename=resolv_conf)
        except (dns.resolver.NoResolverConfiguration, OSError) as exc:  # OSError: a registry
            where = resolv_conf or "the system's resolver configuration"  # key Windows lacks
            raise InputError(
                f"no nameserver to ask: {where} could not be read or names none ({exc})",
                hint="name one with --nameserver IP[:PORT]",
            ) from None
    resolver.cache = None
    resolver.lifetime = timeout
    resolver.timeout = min(PER_TRY, timeout)
    return resolver


def _failures(exc: dns.resolver.NoNameservers) -> str:
    """'Do53:192.0.2.53@53 answered REFUSED; ...' from dnspython's list of what each said."""
    errors = exc.kwargs.get("errors") or []
    return "; ".join(f"{error[0]} answered {error[3]}" for error in errors) or str(exc)


def _answers(answer: dns.resolver.Answer) -> tuple[str, ...]:
    """The addresses or PTR names of an answer, sorted: a record set has no order, and servers
    rotate theirs."""
    addresses: list[IPAddress] = []
    names: list[str] = []
    for rdata in answer.rrset or ():
        if isinstance(rdata, dns.rdtypes.IN.A.A | dns.rdtypes.IN.AAAA.AAAA):
            addresses.append(ip_address(rdata.address))
        elif isinstance(rdata, dns.rdtypes.ANY.PTR.PTR):
            names.append(rdata.target.to_text(omit_final_dot=True))
    ordered = sorted(addresses, key=lambda ip: (ip.version, ip))
    return (*map(str, ordered), *sorted(names, key=str.casefold))


_OUTCOMES: Final[
    tuple[tuple[type[BaseException] | tuple[type[BaseException], ...], Outcome], ...]
] = (
    (dns.resolver.NXDOMAIN, Outcome.NXDOMAIN),
    (dns.resolver.NoAnswer, Outcome.NOANSWER),
    ((TimeoutError, dns.exception.Timeout), Outcome.TIMEOUT),  # ours, or dnspython's lifetime
    (dns.resolver.NoNameservers, Outcome.SERVFAIL),
)


def _failed(query: Query, exc: BaseException, timeout: float) -> Lookup:
    """The Lookup of a query that raised: what each exception means (others are errors)."""
    outcome = next((o for kinds, o in _OUTCOMES if isinstance(exc, kinds)), Outcome.ERROR)
    detail = ""
    if outcome is Outcome.TIMEOUT:
        detail = f"{timeout:g} s per lookup"
    elif isinstance(exc, dns.resolver.NoNameservers):
        detail = _failures(exc)
    elif outcome is Outcome.ERROR:  # YXDOMAIN, a malformed answer, ...
        detail = str(exc) or type(exc).__name__
    return Lookup(query, outcome, detail=detail)


async def _lookup(resolver: dns.asyncresolver.Resolver, query: Query, timeout: float) -> Lookup:
    """One query's Lookup; every expected failure becomes data."""
    try:
        qname = dns.name.from_text(query.qname)
    except dns.exception.DNSException as exc:  # an empty label, a label over 63 bytes, ...
        return Lookup(query, Outcome.ERROR, detail=f"{query.qname!r} is not a DNS name: {exc}")
    try:
        async with asyncio.timeout(timeout):
            answer = await resolver.resolve(qname, query.rtype, search=False)
    except (TimeoutError, dns.exception.DNSException) as exc:
        return _failed(query, exc, timeout)
    via = ""
    if answer.canonical_name != qname:
        via = f"via CNAME {answer.canonical_name.to_text(omit_final_dot=True)}"
    return Lookup(query, Outcome.ANSWER, _answers(answer), via)


async def resolve_all(
    expected: Expected,
    *,
    nameservers: Sequence[Nameserver] | None = None,
    timeout: float = 3.0,
    total_timeout: float = 30.0,
    concurrency: int = 32,
    resolv_conf: str | None = None,
) -> tuple[Lookup, ...]:
    """The Lookup of each of `expected.queries()`, in that order.

    `nameservers` None means the system's resolver configuration (make_resolver). `timeout`
    bounds one query with all its tries, `total_timeout` the run: at that deadline every
    unfinished query is cancelled and reported as a timeout. Raises UsageError for a bad bound,
    InputError when there is no nameserver to ask.
    """
    if concurrency < 1:
        raise UsageError(f"concurrency {concurrency} is not allowed; give 1 or more")
    if not (timeout > 0 and total_timeout > 0):
        raise UsageError(f"timeouts must be above 0 s (got {timeout:g} and {total_timeout:g})")
    resolver = make_resolver(nameservers, timeout=timeout, resolv_conf=resolv_conf)
    queries = expected.queries()
    done: list[Lookup | None] = [None] * len(queries)
    gate = asyncio.Semaphore(concurrency)

    async def one(i: int) -> None:
        async with gate:
            done[i] = await _lookup(resolver, queries[i], timeout)

    try:
        async with asyncio.timeout(total_timeout), asyncio.TaskGroup() as group:
            for i in range(len(queries)):
                group.create_task(one(i))
    except TimeoutError:
        pass  # the whole run's deadline: the unfinished ones are reported below
    except ExceptionGroup as failures:  # a child could not continue: say why, not "a group"
        raise failures.exceptions[0] from None
    await asyncio.sleep(0)  # closed datagram transports let go of their sockets on this turn
    deadline = f"the whole run's {total_timeout:g} s"
    return tuple(
        lookup if lookup is not None else Lookup(query, Outcome.TIMEOUT, detail=deadline)
        for lookup, query in zip(done, queries, strict=True)
    )


def run_resolve(
    expected: Expected,
    *,
    nameservers: Sequence[Nameserver] | None = None,
    timeout: float = 3.0,
    total_timeout: float = 30.0,
    concurrency: int = 32,
    resolv_conf: str | None = None,
) -> tuple[Lookup, ...]:
    """resolve_all() from synchronous code: the one place `asyncio.run` is called."""
    return asyncio.run(
        resolve_all(
            expected,
            nameservers=nameservers,
            timeout=timeout,
            total_timeout=total_timeout,
            concurrency=concurrency,
            resolv_conf=resolv_conf,
        )
    )
