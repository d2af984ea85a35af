"""--ip ranges and blocks: one slot per address, in order, capped, every error naming the value."""

from ipaddress import IPv4Address, IPv6Address

import pytest

from bindmgr.errors import PlanError
from bindmgr.model import Slot
from bindmgr.plan.desired import MAX_EXPANSION, parse_bindings, parse_desired, parse_slots


def v4(*texts: str) -> tuple[Slot, ...]:
    return tuple(Slot(v4=IPv4Address(t)) for t in texts)


def test_block_gives_its_host_addresses_in_order() -> None:
    hosts = [f"203.0.113.{n}" for n in range(9, 15)]  # .8 network, .15 broadcast
    assert parse_slots(["203.0.113.8/29"]) == v4(*hosts)
    assert parse_slots(["203.0.113.8/32"]) == v4("203.0.113.8")
    assert parse_slots(["203.0.113.8/31"]) == v4("203.0.113.8", "203.0.113.9")


def test_ranges_short_and_long_form() -> None:
    assert parse_slots(["127.0.1.1-4"]) == v4(*(f"127.0.1.{n}" for n in range(1, 5)))
    assert parse_slots(["10.0.0.254-10.0.1.1"]) == v4(
        "10.0.0.254", "10.0.0.255", "10.0.1.0", "10.0.1.1"
    )
    assert parse_slots([" 10.0.0.7-7 "]) == v4("10.0.0.7")
    assert parse_slots(["2001:db8::1-2001:db8::3"]) == tuple(
        Slot(v6=IPv6Address(f"2001:db8::{n}")) for n in (1, 2, 3)
    )


def test_ranges_mix_with_plain_slots_keeping_the_order() -> None:
    desired = parse_desired(
        "example.com", ["203.0.113.1", "203.0.113.2-3", "203.0.113.4+2001:db8::4"]
    )
    assert desired.slots == (
        *v4("203.0.113.1", "203.0.113.2", "203.0.113.3"),
        Slot(IPv4Address("203.0.113.4"), IPv6Address("2001:db8::4")),
    )


def test_the_cap_is_inclusive_and_the_error_says_how_many() -> None:
    assert len(parse_slots(["10.0.0.0/20"])) == MAX_EXPANSION - 2
    assert len(parse_slots([f"10.1.0.0-10.1.{(MAX_EXPANSION - 1) // 256}.255"])) == MAX_EXPANSION
    with pytest.raises(PlanError) as caught:
        parse_slots(["10.0.0.0/8"])
    assert "'10.0.0.0/8' covers 16,777,216 addresses" in caught.value.message
    assert caught.value.hint == "give a narrower range, or several --ip"
    with pytest.raises(PlanError, match="covers 4,097 addresses"):
        parse_slots([f"10.1.0.0-10.1.{MAX_EXPANSION // 256}.0"])


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("203.0.113.9/29", "slot '203.0.113.9/29': has host bits set; the block is 203.0.113.8/29"),
        ("203.0.113.0/33", "slot '203.0.113.0/33': is not an address block"),
        ("mail/24", "slot 'mail/24': is not an address block"),
        ("10.0.0.9-3", "slot '10.0.0.9-3': 10.0.0.3 does not come after 10.0.0.9"),
        ("10.0.0.1-2001:db8::1", "does not come after 10.0.0.1"),
        ("10.0.0.1-x", "slot '10.0.0.1-x': 'x' is not an IP address"),
        ("x-3", "slot 'x-3': 'x' is not an IP address"),
        ("10.0.0.1-256", "'256' is not an IP address"),
        ("224.0.0.0/30", "224.0.0.1 cannot be bound: it is a multicast address"),
    ],
)
def test_bad_ranges_and_blocks_name_the_value(text: str, message: str) -> None:
    with pytest.raises(PlanError) as caught:
        parse_slots([text])
    assert message in caught.value.message
    assert caught.value.hint


def test_duplicates_across_ranges_are_refused() -> None:
    with pytest.raises(PlanError, match=r"203\.0\.113\.3 is given twice"):
        parse_desired("example.com", ["203.0.113.1-3", "203.0.113.3/32"])


def test_the_bindings_file_takes_ranges_too() -> None:
    desired = parse_bindings("domain = example.com\nips = 203.0.113.10-12, 203.0.113.20\n", "b")
    assert desired.slots == v4("203.0.113.10", "203.0.113.11", "203.0.113.12", "203.0.113.20")
    with pytest.raises(Exception, match="covers 16,777,216"):
        parse_bindings("domain = example.com\nips = 10.0.0.0/8\n", "b")
