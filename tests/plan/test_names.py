"""Validation of user input for the planner: slots, base domain, name pattern, desired state."""

from __future__ import annotations

from ipaddress import IPv4Address, IPv6Address

import pytest

from bindmgr.errors import PlanError
from bindmgr.model import Desired, Slot
from bindmgr.plan.desired import parse_desired, parse_slot, validate_desired
from bindmgr.plan.names import check_dns_name, compile_pattern


@pytest.mark.parametrize(
    ("text", "v4", "v6"),
    [
        ("10.0.0.2", "10.0.0.2", None),
        (" 127.0.0.3 ", "127.0.0.3", None),
        ("2001:db8::2", None, "2001:db8::2"),
        ("2001:DB8:0:0::2", None, "2001:db8::2"),
        ("10.0.0.2+2001:db8::2", "10.0.0.2", "2001:db8::2"),
        ("2001:db8::2 + 10.0.0.2", "10.0.0.2", "2001:db8::2"),
        ("::1", None, "::1"),
        ("169.254.0.7", "169.254.0.7", None),
        ("fd00::5", None, "fd00::5"),
    ],
)
def test_parse_slot_accepts(text: str, v4: str | None, v6: str | None) -> None:
    slot = parse_slot(text)
    assert slot.v4 == (IPv4Address(v4) if v4 else None)
    assert slot.v6 == (IPv6Address(v6) if v6 else None)


def test_slot_text_round_trips() -> None:
    assert str(parse_slot("2001:db8:0::2+10.0.0.2")) == "10.0.0.2+2001:db8::2"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", "slot '' is malformed"),
        ("10.0.0.1+", "slot '10.0.0.1+' is malformed"),
        ("10.0.0.1+2001:db8::1+10.0.0.2", "is malformed"),
        ("10.0.0.256", "'10.0.0.256' is not an IP address"),
        ("010.0.0.1", "'010.0.0.1' is not an IP address"),
        ("mail.example.com", "'mail.example.com' is not an IP address"),
        ("10.0.0.1/24", "'10.0.0.1/24' is not an IP address"),
        ("10.0.0.1+10.0.0.2", "has two IPv4 addresses"),
        ("2001:db8::1+2001:db8::2", "has two IPv6 addresses"),
        ("0.0.0.0", "0.0.0.0 cannot be bound: it is the unspecified address"),
        ("::", ":: cannot be bound: it is the unspecified address"),
        ("0.1.2.3", "0.0.0.0/8 means 'this network'"),
        ("224.0.0.1", "224.0.0.1 cannot be bound: it is a multicast address"),
        ("ff02::1", "it is a multicast address"),
        ("255.255.255.255", "it is the limited broadcast address"),
        ("240.0.0.1", "reserved range 240.0.0.0/4"),
        ("::ffff:10.0.0.1", "IPv4-mapped IPv6 address; write it as 10.0.0.1"),
        ("fe80::1", "link-local IPv6 addresses need a zone"),
        ("2001:db8::1%eth0", "carries a zone (%eth0)"),
        ("100::1", "reserved IPv6 range"),
    ],
)
def test_parse_slot_refuses(text: str, expected: str) -> None:
    with pytest.raises(PlanError) as exc:
        parse_slot(text)
    assert expected in str(exc.value)
    assert repr(text) in str(exc.value)  # the message names the value


@pytest.mark.parametrize(
    "name",
    ["example.com", "EXAMPLE.com", "a", "x-1.y2.example", "1example.com", "xn--bcher-kva.example"],
)
def test_dns_names_accepted(name: str) -> None:
    check_dns_name(name, "base domain")


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("", "base domain is empty"),
        ("exa]mple.com", "it contains ']'"),
        ("[example.com", "it contains '['"),
        ("a=b.com", "it contains '='"),
        (";example.com", "it contains ';'"),
        ("example.com\r\nBind=Yes", "it contains '='"),
        ("example.com\nx", "it contains a line feed"),
        ("example.com\rx", "it contains a carriage return"),
        ("exa\0mple.com", "it contains a NUL byte"),
        ("my domain.com", "it contains a space"),
        ("bücher.example", "non-ASCII"),
        ("example.com.", "ends with a dot"),
        ("example..com", "empty label"),
        (".example.com", "empty label"),
        ("-example.com", "label '-example' may hold only letters"),
        ("example-.com", "label 'example-'"),
        ("ex_ample.com", "label 'ex_ample'"),
        ("x" * 64 + ".com", "is 64 characters long (at most 63)"),
        (".".join(["a" * 63] * 4), "is 255 characters long (at most 253)"),
        ("10.0.0.1", "all digits"),
    ],
)
def test_dns_names_refused(name: str, expected: str) -> None:
    with pytest.raises(PlanError) as exc:
        check_dns_name(name, "base domain")
    assert expected in str(exc.value)


def test_longest_name_allowed() -> None:
    check_dns_name(".".join(["a" * 63, "b" * 63, "c" * 63, "d" * 61]), "x")  # 253 characters


@pytest.mark.parametrize(
    ("pattern", "expected"),
    [
        ("mail.{domain}", "must contain {n} exactly once (it has 0)"),
        ("mail-{n}-{n}.{domain}", "(it has 2)"),
        ("mail-{x}.{domain}", "unknown field {x}"),
        ("mail-{}.{domain}", "unknown field {}"),
        ("mail-{0}.{domain}", "unknown field {0}"),
        ("mail-{n:03}.{domain}", "may not carry a format spec"),
        ("mail-{n!r}.{domain}", "may not carry a format spec"),
        ("mail-{n.{domain}", "unbalanced braces"),
        ("mail-{n}}.{domain}", "unbalanced braces"),
        ("mail_{n}.{domain}", "label 'mail_2'"),
        ("mail {n}.{domain}", "contains a space"),
        ("[{n}].{domain}", "it contains '['"),
        ("mail-{{n}}-{n}.{domain}", "label 'mail-{n}-2'"),
        ("mail-{n}.{domain}.", "ends with a dot"),
    ],
)
def test_patterns_refused(pattern: str, expected: str) -> None:
    with pytest.raises(PlanError) as exc:
        compile_pattern(pattern, "example.com")
    assert expected in str(exc.value)
    assert repr(pattern) in str(exc.value)


@pytest.mark.parametrize(
    ("pattern", "name", "n"),
    [
        ("mail-{n}.{domain}", "mail-2.example.com", 2),
        ("mail-{n}.{domain}", "MAIL-12.Example.COM", 12),
        ("mail-{n}.{domain}", "mail-1.example.com", None),
        ("mail-{n}.{domain}", "mail-0.example.com", None),
        ("mail-{n}.{domain}", "mail-02.example.com", None),
        ("mail-{n}.{domain}", "mail-2.example.org", None),
        ("mail-{n}.{domain}", "mail-2.sub.example.com", None),
        ("mail-{n}.{domain}", "xmail-2.example.com", None),
        ("mail-{n}.{domain}", "mail-2xexample.com", None),
        ("mail-{n}.{domain}", "example.com", None),
        ("mail-{n}.{domain}", "mail-\u0662.example.com", None),  # ARABIC-INDIC DIGIT TWO
        ("smtp{n}.{domain}", "smtp3.example.com", 3),
        ("{n}.mx.{domain}", "7.mx.example.com", 7),
        ("mx{n}.example.net", "mx4.example.net", 4),
        ("{domain}-{n}.relay", "example.com-5.relay", 5),
    ],
)
def test_pattern_ownership(pattern: str, name: str, n: int | None) -> None:
    assert compile_pattern(pattern, "example.com").number(name) == n


def test_generated_name_too_long() -> None:
    base = ".".join(["a" * 63, "b" * 63, "c" * 63, "d" * 58])  # 250 characters
    names = compile_pattern("m{n}.{domain}", base)
    assert names.name(9) == "m9." + base
    with pytest.raises(PlanError, match=r"for n=10 .* 254 characters long"):
        names.name(10)


def test_parse_desired() -> None:
    desired = parse_desired(
        " Example.COM ", ["127.0.0.1", "127.0.0.2+::1"], pattern="smtp{n}.{domain}", prune=True
    )
    assert desired == Desired(
        domain="example.com",
        slots=(
            Slot(v4=IPv4Address("127.0.0.1")),
            Slot(v4=IPv4Address("127.0.0.2"), v6=IPv6Address("::1")),
        ),
        pattern="smtp{n}.{domain}",
        prune=True,
    )


@pytest.mark.parametrize(
    ("domain", "ips", "pattern", "expected"),
    [
        ("example.com", [], "mail-{n}.{domain}", "no IP addresses given"),
        ("example.com", ["10.0.0.1", "10.0.0.1"], "mail-{n}.{domain}", "10.0.0.1 is given twice"),
        (
            "example.com",
            ["10.0.0.1", "10.0.0.2+2001:db8::1", "2001:db8:0::1"],
            "mail-{n}.{domain}",
            "2001:db8::1 is given twice (slots 2 and 3)",
        ),
        ("exa mple.com", ["10.0.0.1"], "mail-{n}.{domain}", "base domain 'exa mple.com'"),
        ("example.com=x", ["10.0.0.1"], "mail-{n}.{domain}", "contains '='"),
        ("example.com", ["10.0.0.1"], "mail.{domain}", "must contain {n}"),
        ("example.com", ["10.0.0.x"], "mail-{n}.{domain}", "'10.0.0.x' is not an IP address"),
    ],
)
def test_parse_desired_refuses(domain: str, ips: list[str], pattern: str, expected: str) -> None:
    with pytest.raises(PlanError) as exc:
        parse_desired(domain, ips, pattern=pattern)
    assert expected in str(exc.value)


def test_parse_desired_wants_a_sequence_of_slots() -> None:
    with pytest.raises(TypeError):
        parse_desired("example.com", "10.0.0.1")


def test_validate_desired_checks_values_built_elsewhere() -> None:
    bad = Desired("example.com", (Slot(v4=IPv4Address("0.0.0.0")),))
    with pytest.raises(PlanError, match=r"slot 1 \(0\.0\.0\.0\): 0\.0\.0\.0 cannot be bound"):
        validate_desired(bad)
