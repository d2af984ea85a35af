"""What DNS answers mean, as pure calls, table by table: no sockets, no loop, no resolver."""

from __future__ import annotations

import random
from ipaddress import IPv4Address, IPv6Address, ip_address

import pytest

from bindmgr.check.dnsanswer import (
    DnsFinding,
    DnsStatus,
    Expected,
    Lookup,
    Outcome,
    Query,
    classify_dns,
    reverse_address,
)
from bindmgr.errors import InputError
from bindmgr.model import DnsRecord

NAME = "mail-2.example.com"
V4, V6 = "203.0.113.2", "2001:db8::2"
V4_PTR = ip_address(V4).reverse_pointer
V6_PTR = ip_address(V6).reverse_pointer


def records(*, v6: bool = False, name: str = NAME) -> list[DnsRecord]:
    out = [DnsRecord(name, "A", V4), DnsRecord(V4_PTR, "PTR", name)]
    if v6:
        out += [DnsRecord(name, "AAAA", V6), DnsRecord(V6_PTR, "PTR", name)]
    return out


# ---------------------------------------------------------------- reverse names


@pytest.mark.parametrize(
    ("name", "address"),
    [
        ("2.113.0.203.in-addr.arpa", "203.0.113.2"),
        ("2.113.0.203.IN-ADDR.ARPA.", "203.0.113.2"),
        ("0.0.0.0.in-addr.arpa", "0.0.0.0"),
        (V6_PTR, V6),
        (V6_PTR.upper() + ".", V6),
        ("2.113.0.203", None),  # not a reverse name
        ("113.0.203.in-addr.arpa", None),  # a reverse zone, not an address
        ("1.2.113.0.203.in-addr.arpa", None),
        ("256.113.0.203.in-addr.arpa", None),
        ("02.113.0.203.in-addr.arpa", None),  # a leading zero
        ("².113.0.203.in-addr.arpa", None),  # a digit, but not an ASCII one
        ("x.113.0.203.in-addr.arpa", None),
        (V6_PTR.split(".", 1)[1], None),  # 31 nibbles
        ("g." + V6_PTR.split(".", 1)[1], None),
        ("22." + V6_PTR.split(".", 1)[1], None),
    ],
)
def test_reverse_address(name: str, address: str | None) -> None:
    assert reverse_address(name) == (None if address is None else ip_address(address))


# ---------------------------------------------------------------- what is expected


def test_expected_from_a_plans_records() -> None:
    expected = Expected.from_records(records(v6=True))
    assert expected.forward == ((NAME, (IPv4Address(V4), IPv6Address(V6))),)
    assert expected.reverse == ((IPv4Address(V4), (NAME,)), (IPv6Address(V6), (NAME,)))
    assert expected.queries() == (
        Query("A", NAME),
        Query("AAAA", NAME),
        Query("PTR", V4),
        Query("PTR", V6),
    )
    assert [q.qname for q in expected.queries()] == [NAME, NAME, V4_PTR, V6_PTR]


def test_expected_folds_case_and_final_dots_and_keeps_the_first_spelling() -> None:
    expected = Expected.from_records(
        [
            DnsRecord("Mail-2.Example.com.", "A", V4),
            DnsRecord("mail-2.example.com", "A", V4),
            DnsRecord("MAIL-2.example.com", "AAAA", "2001:DB8:0::2"),
            DnsRecord(V4_PTR + ".", "PTR", "Mail-2.Example.com."),
            DnsRecord(V4_PTR.upper(), "PTR", "mail-2.example.com"),
        ]
    )
    assert expected.forward == (("Mail-2.Example.com", (IPv4Address(V4), IPv6Address(V6))),)
    assert expected.reverse == (
        (IPv4Address(V4), ("Mail-2.Example.com",)),
        (IPv6Address(V6), ("Mail-2.Example.com",)),  # derived: no PTR record for it
    )


def test_an_address_without_a_ptr_record_points_back_to_its_first_name() -> None:
    expected = Expected.from_records(
        [
            DnsRecord("mail-1.example.com", "A", "203.0.113.1"),
            DnsRecord("mail.example.com", "A", "203.0.113.1"),
            DnsRecord("mail-3.example.com", "A", "203.0.113.3"),
            DnsRecord(ip_address("203.0.113.3").reverse_pointer, "PTR", "mx.example.com"),
        ]
    )
    assert expected.reverse == (
        (IPv4Address("203.0.113.3"), ("mx.example.com",)),  # the record's, first
        (IPv4Address("203.0.113.1"), ("mail-1.example.com",)),
    )


def test_a_ptr_only_address_is_checked_without_forward_queries() -> None:
    expected = Expected.from_records([DnsRecord(V4_PTR, "PTR", NAME)])
    assert expected.forward == ()
    assert expected.queries() == (Query("PTR", V4),)


@pytest.mark.parametrize(
    ("record", "message"),
    [
        (DnsRecord(NAME, "MX", "10 mx.example.com"), "type 'MX' is not A, AAAA or PTR"),
        (DnsRecord(NAME, "A", "mail-1"), "'mail-1' is not an IP address"),
        (DnsRecord(NAME, "A", V6), f"'{V6}' is not an IPv4 address"),
        (DnsRecord(NAME, "AAAA", V4), f"'{V4}' is not an IPv6 address"),
        (DnsRecord("113.0.203.in-addr.arpa", "PTR", NAME), "full in-addr.arpa or ip6.arpa"),
    ],
)
def test_a_record_that_cannot_be_checked_is_an_input_error(record: DnsRecord, message: str) -> None:
    with pytest.raises(InputError, match=message) as caught:
        Expected.from_records([record])
    assert caught.value.message.startswith(f"DNS record {record.rtype} {record.name!r}")
    assert caught.value.hint is not None


# ---------------------------------------------------------------- forward answers


def answer(rtype: str, subject: str, *answers: str, detail: str = "") -> Lookup:
    return Lookup(Query(rtype, subject), Outcome.ANSWER, answers, detail)


def failed(rtype: str, subject: str, outcome: Outcome, detail: str = "") -> Lookup:
    return Lookup(Query(rtype, subject), outcome, (), detail)


def one(expected: Expected, lookup: Lookup) -> DnsFinding | None:
    """The finding of `lookup`'s query alone (the others answered as expected)."""
    right = {
        Query("A", NAME): answer("A", NAME, V4),
        Query("AAAA", NAME): failed("AAAA", NAME, Outcome.NOANSWER),
        Query("PTR", V4): answer("PTR", V4, NAME),
        Query("PTR", V6): answer("PTR", V6, NAME),
    }
    right[lookup.query] = lookup
    found = [f for f in classify_dns(expected, right.values()) if f.rtype == lookup.query.rtype]
    subject = [f for f in found if f.subject == lookup.query.subject]
    return subject[0] if subject else None


V4_ONLY = Expected.from_records(records())
BOTH = Expected.from_records(records(v6=True))


@pytest.mark.parametrize(
    ("expected", "lookup", "status", "detail"),
    [
        (V4_ONLY, answer("A", NAME, V4), DnsStatus.OK, f"{NAME} resolves to {V4}"),
        (
            V4_ONLY,
            answer("A", NAME, V4, detail="via CNAME mx.example.com"),
            DnsStatus.OK,
            f"{NAME} resolves to {V4} (via CNAME mx.example.com)",
        ),
        (BOTH, answer("AAAA", NAME, "2001:DB8:0::2"), DnsStatus.OK, f"resolves to {V6}"),
        (
            V4_ONLY,
            failed("A", NAME, Outcome.NXDOMAIN),
            DnsStatus.MISSING,
            f"{NAME} does not exist in DNS (NXDOMAIN)",
        ),
        (V4_ONLY, failed("A", NAME, Outcome.NOANSWER), DnsStatus.MISSING, "has no A record"),
        (BOTH, failed("AAAA", NAME, Outcome.NOANSWER), DnsStatus.MISSING, "has no AAAA record"),
        (
            V4_ONLY,
            answer("A", NAME, "203.0.113.9"),
            DnsStatus.WRONG,
            f"{NAME} resolves to 203.0.113.9, not {V4}",
        ),
        (
            V4_ONLY,
            answer("A", NAME, "not an address"),
            DnsStatus.WRONG,
            f"{NAME} resolves to not an address, not {V4}",
        ),
        (
            V4_ONLY,
            answer("A", NAME, V4, "203.0.113.9"),
            DnsStatus.EXTRA,
            f"{NAME} resolves to {V4} and also to 203.0.113.9",
        ),
        (
            V4_ONLY,
            answer("AAAA", NAME, "2001:db8::99"),
            DnsStatus.EXTRA,
            f"{NAME} also has AAAA 2001:db8::99, but the binding gives it no IPv6 address",
        ),
        (V4_ONLY, failed("AAAA", NAME, Outcome.NXDOMAIN), None, ""),
        (
            V4_ONLY,
            failed("A", NAME, Outcome.TIMEOUT, "3 s per lookup"),
            DnsStatus.TIMEOUT,
            f"no answer for A {NAME} (3 s per lookup)",
        ),
        (
            V4_ONLY,
            failed("AAAA", NAME, Outcome.TIMEOUT, "3 s per lookup"),
            DnsStatus.TIMEOUT,  # an unexpected family unasked is a check not done
            f"no answer for AAAA {NAME}",
        ),
        (
            V4_ONLY,
            failed("A", NAME, Outcome.SERVFAIL, "Do53:192.0.2.53@53 answered REFUSED"),
            DnsStatus.ERROR,
            f"the nameservers failed to answer A {NAME} (Do53:192.0.2.53@53 answered REFUSED)",
        ),
        (
            V4_ONLY,
            failed("A", NAME, Outcome.ERROR, "'x..y' is not a DNS name"),
            DnsStatus.ERROR,
            f"A {NAME} could not be looked up ('x..y' is not a DNS name)",
        ),
    ],
)
def test_forward_answers(
    expected: Expected, lookup: Lookup, status: DnsStatus | None, detail: str
) -> None:
    finding = one(expected, lookup)
    if status is None:
        assert finding is None
        return
    assert finding is not None
    assert finding.status is status
    assert detail in finding.detail
    assert (finding.hint is None) == (status is DnsStatus.OK)
    assert not finding.is_warning
    assert finding.is_failure == (status is not DnsStatus.OK)


def test_a_name_with_two_expected_addresses_lacking_one_is_missing() -> None:
    expected = Expected.from_records(
        [DnsRecord(NAME, "A", V4), DnsRecord(NAME, "A", "203.0.113.3")]
    )
    (a, _ptr2, _ptr3) = classify_dns(
        expected,
        [
            answer("A", NAME, V4, "203.0.113.9"),
            failed("AAAA", NAME, Outcome.NOANSWER),
            answer("PTR", V4, NAME),
            answer("PTR", "203.0.113.3", NAME),
        ],
    )
    assert (a.status, a.expected, a.seen) == (
        DnsStatus.MISSING,
        (V4, "203.0.113.3"),
        (V4, "203.0.113.9"),
    )
    assert a.detail == f"{NAME} resolves to {V4}, 203.0.113.9, without 203.0.113.3"
    assert a.hint is not None
    assert "add A" in a.hint


def test_the_hints_say_what_to_do() -> None:
    wrong = one(V4_ONLY, answer("A", NAME, "203.0.113.9"))
    assert wrong is not None
    assert (
        wrong.hint
        == f"change A {NAME} to {V4} (`bindmgr dns` prints the records the binding needs)"
    )
    extra = one(V4_ONLY, answer("A", NAME, V4, "203.0.113.9"))
    assert extra is not None
    assert extra.hint is not None
    assert extra.hint.startswith(f"delete A {NAME} -> 203.0.113.9 (an old address?)")
    timeout = one(V4_ONLY, failed("A", NAME, Outcome.TIMEOUT))
    assert timeout is not None
    assert timeout.hint is not None
    assert "--nameserver" in timeout.hint


# ---------------------------------------------------------------- reverse answers


@pytest.mark.parametrize(
    ("lookup", "status", "detail"),
    [
        (answer("PTR", V4, NAME), DnsStatus.OK, f"{V4} points back to {NAME}"),
        (answer("PTR", V4, "MAIL-2.Example.COM."), DnsStatus.OK, "points back to MAIL-2"),
        (failed("PTR", V4, Outcome.NXDOMAIN), DnsStatus.MISSING, f"{V4} has no PTR record"),
        (failed("PTR", V4, Outcome.NOANSWER), DnsStatus.MISSING, f"{V4} has no PTR record"),
        (
            answer("PTR", V4, "mail-9.example.com"),
            DnsStatus.PTR_MISMATCH,
            f"{V4} points back to mail-9.example.com, not {NAME}",
        ),
        (
            answer("PTR", V4, "old.example.com", NAME),
            DnsStatus.PTR_MISMATCH,
            f"{V4} points back to {NAME} and also to old.example.com: receivers may pick any",
        ),
        (
            failed("PTR", V4, Outcome.TIMEOUT, "the whole run's 30 s"),
            DnsStatus.TIMEOUT,
            f"no answer for PTR {V4} (the whole run's 30 s)",
        ),
        (failed("PTR", V4, Outcome.SERVFAIL), DnsStatus.ERROR, "failed to answer PTR"),
    ],
)
def test_reverse_answers(lookup: Lookup, status: DnsStatus, detail: str) -> None:
    finding = one(V4_ONLY, lookup)
    assert finding is not None
    assert finding.status is status
    assert detail in finding.detail
    assert finding.expected == (NAME,)
    assert finding.is_warning == (status is DnsStatus.PTR_MISMATCH)
    assert finding.is_failure == (status not in (DnsStatus.OK, DnsStatus.PTR_MISMATCH))


def test_a_ptr_mismatch_says_why_it_matters() -> None:
    finding = one(V4_ONLY, answer("PTR", V4, "mail-9.example.com"))
    assert finding is not None
    assert "MDaemon greets with" in finding.detail
    assert finding.hint is not None
    assert finding.hint.startswith(f"have the PTR of {V4} name only {NAME}")


def test_a_missing_ptr_points_at_whoever_holds_the_reverse_zone() -> None:
    finding = one(V4_ONLY, failed("PTR", V4, Outcome.NXDOMAIN))
    assert finding is not None
    assert finding.hint is not None
    assert "reverse zone" in finding.hint
    assert f"PTR {V4} -> {NAME}" in finding.hint


# ---------------------------------------------------------------- order and completeness


def test_the_order_is_the_plans_whatever_order_the_lookups_came_in() -> None:
    expected = Expected.from_records(
        [
            DnsRecord("mail-3.example.com", "A", V4),
            DnsRecord("mail-1.example.com", "A", "203.0.113.1"),
            DnsRecord("mail-3.example.com", "AAAA", V6),
        ]
    )
    lookups = [
        answer("A", "mail-3.example.com", V4),
        answer("AAAA", "mail-3.example.com", V6),
        answer("A", "mail-1.example.com", "203.0.113.1"),
        failed("AAAA", "mail-1.example.com", Outcome.NOANSWER),
        answer("PTR", V4, "mail-3.example.com"),
        answer("PTR", V6, "mail-3.example.com"),
        answer("PTR", "203.0.113.1", "mail-1.example.com"),
    ]
    wanted = classify_dns(expected, lookups)
    for seed in range(5):
        shuffled = list(lookups)
        random.Random(seed).shuffle(shuffled)
        assert classify_dns(expected, shuffled) == wanted
    assert [(f.rtype, f.subject) for f in wanted] == [
        ("A", "mail-3.example.com"),
        ("AAAA", "mail-3.example.com"),
        ("A", "mail-1.example.com"),
        ("PTR", V4),
        ("PTR", V6),
        ("PTR", "203.0.113.1"),
    ]
    assert {f.status for f in wanted} == {DnsStatus.OK}


def test_a_query_without_a_lookup_is_an_error_and_a_stray_lookup_is_ignored() -> None:
    found = classify_dns(V4_ONLY, [answer("A", NAME, V4), answer("A", "other.example.com", V4)])
    assert [(f.rtype, f.status) for f in found] == [
        ("A", DnsStatus.OK),
        ("AAAA", DnsStatus.ERROR),
        ("PTR", DnsStatus.ERROR),
    ]
    assert found[1].detail == f"AAAA {NAME} was not looked up"


def test_nothing_expected_nothing_found() -> None:
    assert classify_dns(Expected(), []) == ()
    assert Expected().queries() == ()
