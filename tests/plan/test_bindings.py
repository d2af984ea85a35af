"""The bindings file: ConfigObj + configspec, errors naming file, line and key."""

from ipaddress import IPv4Address, IPv6Address
from pathlib import Path

import pytest

from bindmgr.commands.inputs import read_bindings
from bindmgr.errors import InputError, PlanError
from bindmgr.model import Slot
from bindmgr.plan.desired import EXAMPLE, parse_bindings


def test_example_parses() -> None:
    desired = parse_bindings(EXAMPLE, "b.ini")
    assert desired.domain == "example.com"
    assert desired.slots == (
        Slot(IPv4Address("203.0.113.10")),
        Slot(IPv4Address("203.0.113.11")),
        Slot(IPv4Address("203.0.113.12"), IPv6Address("2001:db8::12")),
    )
    assert (desired.pattern, desired.prune) == ("mail-{n}.{domain}", False)


def test_single_ip_pattern_and_prune() -> None:
    text = "domain = Example.COM\nips = 10.0.0.1\npattern = mx{n}.{domain}\nprune = yes\n"
    desired = parse_bindings(text, "b.ini")
    assert (desired.domain, len(desired.slots), desired.pattern, desired.prune) == (
        "example.com",
        1,
        "mx{n}.{domain}",
        True,
    )


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (EXAMPLE.replace("203.0.113.11", "203.0.113.999"), "b.ini:5: ips: slot '203.0.113.999'"),
        ("domain = example.com\n", "b.ini: ips is missing"),
        ("ips = 10.0.0.1\n", "b.ini: domain is missing"),
        (EXAMPLE + "prune = maybe\n", 'b.ini:6: prune: the value "maybe"'),
        (EXAMPLE + "pattren = x\n", "unknown key 'pattren'"),
        ('domain = "x\n', "b.ini:1: not a valid bindings file"),
        (EXAMPLE.replace("203.0.113.11,", "10.0.0.1+10.0.0.2,"), "ips: slot '10.0.0.1+10.0.0.2'"),
    ],
)
def test_bad_bindings_are_located(text: str, expected: str) -> None:
    with pytest.raises(InputError) as exc:
        parse_bindings(text, "b.ini")
    assert expected in str(exc.value)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (EXAMPLE.replace("example.com", "exa]mple.com"), "b.ini: base domain 'exa]mple.com'"),
        (EXAMPLE.replace("203.0.113.11,", "203.0.113.10,"), "b.ini: 203.0.113.10 is given twice"),
        (EXAMPLE + "pattern = mail.{domain}\n", "b.ini: "),
    ],
)
def test_semantic_errors_name_the_file(text: str, expected: str) -> None:
    with pytest.raises(PlanError) as exc:
        parse_bindings(text, "b.ini")
    assert str(exc.value).startswith(expected)


def test_read_errors(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="cannot read the bindings file"):
        read_bindings(tmp_path / "missing.ini")
    path = tmp_path / "b.ini"
    path.write_text(EXAMPLE, encoding="utf-8")
    assert read_bindings(path).domain == "example.com"
