"""Names and addresses looked up at a real dnsmasq on this module's own loopback address, then
classified: right, wrong, missing and extra records, a PTR naming another host, IPv6, a
nameserver that refuses and one that never answers."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Iterator
from ipaddress import ip_address
from pathlib import Path

import dns.resolver
import pytest

from bindmgr.check.dnsanswer import (
    DnsFinding,
    DnsStatus,
    Expected,
    Lookup,
    Outcome,
    Query,
    classify_dns,
)
from bindmgr.check.resolve import (
    make_resolver,
    nameserver_text,
    parse_nameserver,
    resolve_all,
    run_resolve,
)
from bindmgr.errors import InputError, UsageError
from bindmgr.model import DnsRecord
from tests.support.dnsserver import Dnsmasq, free_port
from tests.support.probe import has_ipv6_loopback

# Addresses of this module's own: nothing else in the suite binds 127.0.5.53 or 127.0.5.54.
SERVER, NOBODY = "127.0.5.53", "127.0.5.54"
ZONE = "example.test"
REVERSE_ZONES = ("2.0.192.in-addr.arpa", "8.b.d.0.1.0.0.2.ip6.arpa")
SOON = {"timeout": 2.0, "total_timeout": 10.0}  # a test fails rather than hangs

# The records' addresses are data (documentation ranges): nothing connects to them.
PLAN = {
    "mail-1": ("192.0.2.1",),  # right: A and PTR
    "mail-2": ("192.0.2.2",),  # wrong: A 192.0.2.102, and no PTR for 192.0.2.2
    "mail-3": ("192.0.2.3",),  # missing: no such name (NXDOMAIN); its PTR is right
    "mail-4": ("192.0.2.4",),  # A right, PTR missing
    "mail-5": ("192.0.2.5",),  # A right, the PTR names mail-9 (a warning)
    "mail-6": ("192.0.2.6",),  # extra: A 192.0.2.6 and 192.0.2.106 (the old address)
    "mail-7": ("2001:db8::7",),  # IPv6: AAAA and ip6.arpa PTR right
    "mail-8": ("192.0.2.8",),  # a stale AAAA 2001:db8::108 beside the right A
    "mail-10": ("192.0.2.10", "2001:db8::10"),  # both families right
}


def fqdn(short: str) -> str:
    return f"{short}.{ZONE}"


def plan_records(plan: dict[str, tuple[str, ...]]) -> list[DnsRecord]:
    records = []
    for short, ips in plan.items():
        for ip in ips:
            rtype = "A" if ip_address(ip).version == 4 else "AAAA"
            records.append(DnsRecord(fqdn(short), rtype, ip))
            records.append(DnsRecord(ip_address(ip).reverse_pointer, "PTR", fqdn(short)))
    return records


EXPECTED = Expected.from_records(plan_records(PLAN))


def serve(workdir: Path, address: str = SERVER) -> Dnsmasq:
    return Dnsmasq(
        workdir,
        address,
        hosts=[
            ("192.0.2.1", fqdn("mail-1")),
            ("192.0.2.6", fqdn("mail-6")),
            ("192.0.2.106", fqdn("mail-6")),
            ("2001:db8::7", fqdn("mail-7")),
            ("192.0.2.8", fqdn("mail-8")),
            ("2001:db8::108", fqdn("mail-8")),
            ("192.0.2.10", fqdn("mail-10")),
            ("2001:db8::10", fqdn("mail-10")),
            ("192.0.2.102", fqdn("mail-2")),
            ("192.0.2.5", fqdn("mail-5")),
        ],
        ptrs=[("192.0.2.3", fqdn("mail-3")), ("192.0.2.5", fqdn("mail-9"))],
        forward_only=[(fqdn("mail-4"), "192.0.2.4")],
        cnames=[(fqdn("alias"), fqdn("mail-1"))],
        local=(ZONE, *REVERSE_ZONES),
    )


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Dnsmasq]:
    with serve(tmp_path_factory.mktemp("dnsmasq")) as running:
        yield running


@pytest.fixture(scope="module")
def findings(server: Dnsmasq) -> dict[tuple[str, str], DnsFinding]:
    lookups = run_resolve(EXPECTED, nameservers=[(ip_address(SERVER), server.port)], **SOON)
    assert [lookup.query for lookup in lookups] == list(EXPECTED.queries())
    return {(f.rtype, f.subject): f for f in classify_dns(EXPECTED, lookups)}


@pytest.mark.parametrize(
    ("rtype", "subject", "status", "seen"),
    [
        ("A", "mail-1", DnsStatus.OK, ("192.0.2.1",)),
        ("PTR", "192.0.2.1", DnsStatus.OK, (fqdn("mail-1"),)),
        ("A", "mail-2", DnsStatus.WRONG, ("192.0.2.102",)),
        ("PTR", "192.0.2.2", DnsStatus.MISSING, ()),
        ("A", "mail-3", DnsStatus.MISSING, ()),
        ("AAAA", "mail-3", None, None),  # nothing expected, nothing there: no finding
        ("PTR", "192.0.2.3", DnsStatus.OK, (fqdn("mail-3"),)),
        ("A", "mail-4", DnsStatus.OK, ("192.0.2.4",)),
        ("PTR", "192.0.2.4", DnsStatus.MISSING, ()),
        ("A", "mail-5", DnsStatus.OK, ("192.0.2.5",)),
        ("PTR", "192.0.2.5", DnsStatus.PTR_MISMATCH, (fqdn("mail-9"),)),
        ("A", "mail-6", DnsStatus.EXTRA, ("192.0.2.6", "192.0.2.106")),
        ("PTR", "192.0.2.6", DnsStatus.OK, (fqdn("mail-6"),)),
        ("A", "mail-7", None, None),
        ("AAAA", "mail-7", DnsStatus.OK, ("2001:db8::7",)),
        ("PTR", "2001:db8::7", DnsStatus.OK, (fqdn("mail-7"),)),
        ("A", "mail-8", DnsStatus.OK, ("192.0.2.8",)),
        ("AAAA", "mail-8", DnsStatus.EXTRA, ("2001:db8::108",)),
        ("A", "mail-10", DnsStatus.OK, ("192.0.2.10",)),
        ("AAAA", "mail-10", DnsStatus.OK, ("2001:db8::10",)),
        ("PTR", "2001:db8::10", DnsStatus.OK, (fqdn("mail-10"),)),
    ],
)
def test_what_the_server_says_is_classified(
    findings: dict[tuple[str, str], DnsFinding],
    rtype: str,
    subject: str,
    status: DnsStatus | None,
    seen: tuple[str, ...] | None,
) -> None:
    key = (rtype, subject if rtype == "PTR" else fqdn(subject))
    if status is None:
        assert key not in findings
        return
    finding = findings[key]
    assert (finding.status, finding.seen) == (status, seen), finding.detail
    assert finding.is_warning == (status is DnsStatus.PTR_MISMATCH)
    assert (finding.hint is None) == (status is DnsStatus.OK)


def test_every_expected_query_has_a_finding_but_empty_unexpected_families(
    findings: dict[tuple[str, str], DnsFinding],
) -> None:
    # 9 names x A/AAAA less the 7 empty families nothing expects, plus 10 addresses' PTRs
    assert len(findings) == 9 * 2 - 7 + 10


def test_a_name_reached_through_a_cname_says_so(server: Dnsmasq) -> None:
    alias = Expected.from_records([DnsRecord(fqdn("alias"), "A", "192.0.2.1")])
    lookups = run_resolve(alias, nameservers=[(ip_address(SERVER), server.port)], **SOON)
    assert lookups[0].answers == ("192.0.2.1",)
    assert lookups[0].detail == f"via CNAME {fqdn('mail-1')}"
    a, ptr = classify_dns(alias, lookups)
    assert (a.status, a.detail) == (
        DnsStatus.OK,
        f"{fqdn('alias')} resolves to 192.0.2.1 (via CNAME {fqdn('mail-1')})",
    )
    assert ptr.status is DnsStatus.PTR_MISMATCH  # the address points back to mail-1


def test_a_nameserver_that_refuses_is_an_error(server: Dnsmasq) -> None:
    outside = Expected.from_records([DnsRecord("mail-1.example.org", "A", "192.0.2.1")])
    lookups = run_resolve(outside, nameservers=[(ip_address(SERVER), server.port)], **SOON)
    forward, ptr = lookups[:2], lookups[2]
    assert {lookup.outcome for lookup in forward} == {Outcome.SERVFAIL}
    assert all("REFUSED" in lookup.detail for lookup in forward)
    assert ptr.answers == (fqdn("mail-1"),)  # its reverse zone is the server's
    statuses = [f.status for f in classify_dns(outside, lookups)]
    assert statuses == [DnsStatus.ERROR, DnsStatus.ERROR, DnsStatus.PTR_MISMATCH]


ONE = Expected.from_records(plan_records({"mail-1": ("192.0.2.1",)}))


def test_a_nameserver_that_never_answers_is_a_timeout_per_lookup() -> None:
    silent = [(ip_address(NOBODY), free_port(NOBODY))]  # nothing listens there
    lookups = run_resolve(ONE, nameservers=silent, timeout=0.3, total_timeout=30)
    assert [(lookup.outcome, lookup.detail) for lookup in lookups] == [
        (Outcome.TIMEOUT, "0.3 s per lookup")
    ] * 3
    assert {f.status for f in classify_dns(ONE, lookups)} == {DnsStatus.TIMEOUT}


def test_the_whole_runs_deadline_reports_the_unfinished_as_timeouts() -> None:
    silent = [(ip_address(NOBODY), free_port(NOBODY))]
    lookups = run_resolve(ONE, nameservers=silent, timeout=30, total_timeout=0.3, concurrency=1)
    assert [(lookup.outcome, lookup.detail) for lookup in lookups] == [
        (Outcome.TIMEOUT, "the whole run's 0.3 s")
    ] * 3


def test_one_at_a_time_gives_the_same_lookups(server: Dnsmasq) -> None:
    where = [(ip_address(SERVER), server.port)]
    assert run_resolve(EXPECTED, nameservers=where, concurrency=1, **SOON) == run_resolve(
        EXPECTED, nameservers=where, **SOON
    )


def test_the_second_nameserver_answers_when_the_first_does_not(server: Dnsmasq) -> None:
    silent = (ip_address(NOBODY), free_port(NOBODY))
    where = [silent, (ip_address(SERVER), server.port)]
    lookups = run_resolve(ONE, nameservers=where, timeout=5, total_timeout=20)
    assert [lookup.answers for lookup in lookups] == [("192.0.2.1",), (), (fqdn("mail-1"),)]


def test_a_name_dns_cannot_carry_is_an_error_without_a_query() -> None:
    bad = Expected.from_records([DnsRecord(f"{'x' * 64}.example.test", "A", "192.0.2.1")])
    silent = [(ip_address(NOBODY), free_port(NOBODY))]
    lookups = run_resolve(bad, nameservers=silent, timeout=0.3, total_timeout=10)
    assert [lookup.outcome for lookup in lookups] == [Outcome.ERROR, Outcome.ERROR, Outcome.TIMEOUT]
    assert "is not a DNS name" in lookups[0].detail


@pytest.mark.asyncio
async def test_resolve_all_runs_inside_a_callers_loop(server: Dnsmasq) -> None:
    """Beside other work in the caller's own loop; the leak guard checks what it leaves."""
    ticks = 0

    async def other_work() -> None:
        nonlocal ticks
        for _ in range(3):
            await asyncio.sleep(0)
            ticks += 1

    lookups, _ = await asyncio.gather(
        resolve_all(ONE, nameservers=[(ip_address(SERVER), server.port)], **SOON), other_work()
    )
    assert [lookup.outcome for lookup in lookups] == [
        Outcome.ANSWER,
        Outcome.NOANSWER,
        Outcome.ANSWER,
    ]
    assert ticks == 3


@pytest.mark.asyncio
async def test_cancelling_the_run_leaves_no_task_or_socket() -> None:
    silent = [(ip_address(NOBODY), free_port(NOBODY))]
    run = asyncio.create_task(resolve_all(EXPECTED, nameservers=silent, timeout=30))
    await asyncio.sleep(0.1)
    run.cancel()
    with pytest.raises(asyncio.CancelledError):
        await run


def test_a_nameserver_on_ipv6(tmp_path: Path) -> None:
    if not has_ipv6_loopback():
        pytest.skip("this host has no ::1")
    with serve(tmp_path, "::1") as on_v6:
        lookups = run_resolve(ONE, nameservers=[(ip_address("::1"), on_v6.port)], **SOON)
    assert [lookup.answers for lookup in lookups] == [("192.0.2.1",), (), (fqdn("mail-1"),)]


# ---------------------------------------------------------------- the resolver and its inputs


def test_without_nameservers_the_systems_configuration_is_used() -> None:
    try:
        system = dns.resolver.Resolver()
    except (dns.resolver.NoResolverConfiguration, OSError):  # OSError: a missing registry key
        with pytest.raises(InputError, match="no nameserver to ask"):
            make_resolver(None, timeout=1)
    else:
        assert make_resolver(None, timeout=1).nameservers == system.nameservers


posix_resolv_conf = pytest.mark.skipif(
    sys.platform == "win32", reason="dnspython reads the registry on Windows, never a resolv.conf"
)


@posix_resolv_conf
def test_a_resolv_conf_is_read_when_no_nameserver_is_given(tmp_path: Path) -> None:
    conf = tmp_path / "resolv.conf"
    conf.write_text(f"nameserver {SERVER}\nsearch example.test\n", encoding="ascii")
    resolver = make_resolver(None, timeout=0.5, resolv_conf=str(conf))
    assert resolver.nameservers == [SERVER]
    assert (resolver.lifetime, resolver.timeout) == (0.5, 0.5)


@posix_resolv_conf
@pytest.mark.parametrize("text", ["", "# no nameserver line\noptions ndots:1\n"])
def test_a_system_configuration_without_nameservers_is_an_input_error(
    tmp_path: Path, text: str
) -> None:
    conf = tmp_path / "resolv.conf"
    conf.write_text(text, encoding="ascii")
    with pytest.raises(InputError, match="no nameserver to ask") as caught:
        make_resolver(None, timeout=1, resolv_conf=str(conf))
    assert caught.value.hint is not None
    assert "--nameserver" in caught.value.hint


def test_given_nameservers_keep_their_ports() -> None:
    resolver = make_resolver([(ip_address("127.0.5.53"), 5353), (ip_address("::1"), 53)], timeout=5)
    assert [str(ns) for ns in resolver.nameservers] == ["Do53:127.0.5.53@5353", "Do53:::1@53"]
    assert (resolver.lifetime, resolver.timeout) == (5, 2.0)


@pytest.mark.parametrize(
    ("text", "ip", "port"),
    [
        ("192.0.2.53", "192.0.2.53", 53),
        (" 192.0.2.53:5353 ", "192.0.2.53", 5353),
        ("2001:db8::53", "2001:db8::53", 53),
        ("[2001:db8::53]", "2001:db8::53", 53),
        ("[2001:db8::53]:5353", "2001:db8::53", 5353),
        ("::1", "::1", 53),
        ("127.0.0.1:65535", "127.0.0.1", 65535),
    ],
)
def test_parse_nameserver(text: str, ip: str, port: int) -> None:
    assert parse_nameserver(text) == (ip_address(ip), port)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "is not an IP address"),
        ("ns1.example.com", "is not an IP address"),
        ("ns1.example.com:53", "is not an IP address"),
        ("192.0.2.53:0", "port '0' is not 1 to 65535"),
        ("192.0.2.53:65536", "port '65536' is not 1 to 65535"),
        ("192.0.2.53:", "port '' is not 1 to 65535"),
        ("192.0.2.53:dns", "port 'dns' is not 1 to 65535"),
        ("[2001:db8::53", "needs its ']'"),
        ("[2001:db8::53]5353", "needs its ']'"),
        ("[192.0.2.53]:53", "brackets are for IPv6"),
        ("0.0.0.0", "is no nameserver's address"),
        ("[::]:53", "is no nameserver's address"),
    ],
)
def test_a_bad_nameserver_is_a_usage_error_naming_it(text: str, message: str) -> None:
    with pytest.raises(UsageError, match=message) as caught:
        parse_nameserver(text)
    assert repr(text) in caught.value.message
    assert caught.value.hint is not None


def test_nameserver_text() -> None:
    assert nameserver_text((ip_address("192.0.2.53"), 53)) == "192.0.2.53:53"
    assert nameserver_text((ip_address("2001:db8::53"), 5353)) == "[2001:db8::53]:5353"


@pytest.mark.parametrize(
    ("kw", "message"),
    [
        ({"concurrency": 0}, "concurrency 0"),
        ({"timeout": 0}, "above 0 s"),
        ({"total_timeout": -1}, "above 0 s"),
    ],
)
def test_bad_bounds_are_usage_errors(kw: dict[str, float], message: str) -> None:
    with pytest.raises(UsageError, match=message):
        run_resolve(ONE, nameservers=[(ip_address(NOBODY), 53)], **kw)


def test_nothing_expected_nothing_asked() -> None:
    assert run_resolve(Expected(), nameservers=[(ip_address(NOBODY), 53)]) == ()


def test_a_lookup_keeps_its_query() -> None:
    lookup = Lookup(Query("PTR", "192.0.2.1"), Outcome.NXDOMAIN)
    assert lookup.query.qname == "1.2.0.192.in-addr.arpa"
