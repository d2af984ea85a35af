"""`bindmgr dns`: the plan's own records as a zone snippet and as JSON, PTRs derived where the
records lack them, reverse names read back, and names checked before they are written.

Goldens: `BINDMGR_REGOLD=1 .venv/bin/pytest tests/report/test_zone.py`.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from collections.abc import Sequence
from ipaddress import IPv4Address, IPv6Address, ip_address
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bindmgr.errors import InputError
from bindmgr.model import Desired, DnsRecord, IPAddress, Plan, Slot
from bindmgr.plan.planner import make_plan
from bindmgr.report.zone import (
    DnsFormat,
    ptr_address,
    render_dns,
    render_dns_json,
    render_zone,
    with_ptrs,
)
from tests.support import plan as ps
from tests.support import report_samples as samples
from tests.support.goldens import assert_golden, golden_path


def planned() -> Plan:
    """A real plan: the Default Domain, mail-2 and a dual-stack mail-3."""
    slots = (
        Slot(v4=IPv4Address("203.0.113.7")),
        Slot(v4=IPv4Address("203.0.113.8")),
        Slot(v4=IPv4Address("203.0.113.9"), v6=IPv6Address("2001:db8::9")),
    )
    return make_plan(ps.config(ps.default("example.com")), Desired("example.com", slots))


RECORDS: dict[str, tuple[DnsRecord, ...]] = {
    "planned": planned().dns,
    "no-ptrs": samples.dual_stack().dns,  # A/AAAA only: the PTRs are derived
    "empty": (),
}


@pytest.mark.parametrize("fmt", DnsFormat)
@pytest.mark.parametrize("case", RECORDS)
def test_goldens(case: str, fmt: DnsFormat) -> None:
    suffix = "zone" if fmt is DnsFormat.ZONE else "json"
    assert_golden("dns", f"{case}.{suffix}", render_dns(RECORDS[case], fmt))


def test_the_planners_records_are_reused_as_they_are() -> None:
    plan = planned()
    assert any(r.rtype == "PTR" for r in plan.dns)
    assert with_ptrs(plan.dns) == (
        *(r for r in plan.dns if r.rtype != "PTR"),
        *(r for r in plan.dns if r.rtype == "PTR"),
    )


def test_missing_ptrs_are_derived_once_per_address() -> None:
    records = (
        DnsRecord("mail-2.example.com", "A", "203.0.113.8"),
        DnsRecord("mail-3.example.com", "A", "203.0.113.9"),
        DnsRecord("alias.example.com", "A", "203.0.113.9"),  # a second name: the first wins
        DnsRecord("9.113.0.203.in-addr.arpa", "PTR", "mail-3.example.com"),
        DnsRecord("mail-2.example.com", "A", "203.0.113.8"),  # a duplicate is written once
    )
    assert with_ptrs(records) == (
        DnsRecord("mail-2.example.com", "A", "203.0.113.8"),
        DnsRecord("mail-3.example.com", "A", "203.0.113.9"),
        DnsRecord("alias.example.com", "A", "203.0.113.9"),
        DnsRecord("9.113.0.203.in-addr.arpa", "PTR", "mail-3.example.com"),
        DnsRecord("8.113.0.203.in-addr.arpa", "PTR", "mail-2.example.com"),
    )


def test_input_spellings_are_normalised() -> None:
    records = (
        DnsRecord("mail-2.example.com.", "AAAA", "2001:DB8:0::7"),
        DnsRecord(
            "7.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.B.D.0.1.0.0.2.IP6.ARPA.",
            "PTR",
            "mail-2.example.com.",
        ),
    )
    assert with_ptrs(records) == (
        DnsRecord("mail-2.example.com", "AAAA", "2001:db8::7"),
        DnsRecord(IPv6Address("2001:db8::7").reverse_pointer, "PTR", "mail-2.example.com"),
    )


addresses = st.one_of(
    st.builds(IPv4Address, st.integers(0, 2**32 - 1)),
    st.builds(IPv6Address, st.integers(0, 2**128 - 1)),
)


@given(addresses, st.booleans(), st.booleans())
def test_reverse_names_read_back(ip: IPAddress, dot: bool, upper: bool) -> None:
    name = ip.reverse_pointer + ("." if dot else "")
    assert ptr_address(name.upper() if upper else name) == ip


@pytest.mark.parametrize(
    "name",
    [
        "",
        "in-addr.arpa",
        "113.0.203.in-addr.arpa",  # a zone, not an address
        "0/25.113.0.203.in-addr.arpa",  # classless delegation
        "256.113.0.203.in-addr.arpa",
        "07.113.0.203.in-addr.arpa",
        "7.113.0.203.in-addr.arpa.example.com",
        "x.113.0.203.in-addr.arpa",
        "\u0663.113.0.203.in-addr.arpa",  # a non-ASCII digit
        "1.ip6.arpa",
        "g" + ".0" * 31 + ".ip6.arpa",
        "10" + ".0" * 31 + ".ip6.arpa",
        "203.0.113.7",
    ],
)
def test_not_a_reverse_name(name: str) -> None:
    assert ptr_address(name) is None


@pytest.mark.parametrize(
    ("record", "message"),
    [
        (DnsRecord("mail.example.com\n@ IN NS evil.", "A", "10.0.0.1"), "not a DNS host name"),
        (DnsRecord("mail;x.example.com", "A", "10.0.0.1"), "not a DNS host name"),
        (DnsRecord("mail example.com", "A", "10.0.0.1"), "not a DNS host name"),
        (DnsRecord("mail..example.com", "A", "10.0.0.1"), "not a DNS host name"),
        (DnsRecord("-mail.example.com", "A", "10.0.0.1"), "not a DNS host name"),
        (DnsRecord("", "A", "10.0.0.1"), "not a DNS host name"),
        (DnsRecord("a" * 64 + ".example.com", "A", "10.0.0.1"), "not a DNS host name"),
        (DnsRecord(".".join(["a" * 63] * 4), "A", "10.0.0.1"), "not a DNS host name"),
        (DnsRecord("mail.example.123", "A", "10.0.0.1"), "ends in a number"),
        (DnsRecord("mail.example.com", "MX", "10.0.0.1"), "is not A, AAAA or PTR"),
        (DnsRecord("mail.example.com", "A", "2001:db8::1"), "not a plain IPv4 address"),
        (DnsRecord("mail.example.com", "AAAA", "10.0.0.1"), "not a plain IPv6 address"),
        (DnsRecord("mail.example.com", "AAAA", "fe80::1%eth0"), "not a plain IPv6 address"),
        (DnsRecord("mail.example.com", "A", "10.0.0.1 ; x"), "not an IP address"),
        (DnsRecord("mail.example.com", "PTR", "mail.example.com"), "full in-addr.arpa"),
        (DnsRecord("1.0.0.10.in-addr.arpa", "PTR", "bad name."), "not a DNS host name"),
    ],
)
def test_records_that_cannot_be_written_are_refused(record: DnsRecord, message: str) -> None:
    for fmt in DnsFormat:
        with pytest.raises(InputError, match=re.escape(message)) as caught:
            render_dns((record,), fmt)
        assert caught.value.hint is not None


@pytest.mark.parametrize("ttl", [-1, 2**31])
def test_ttl_out_of_range(ttl: int) -> None:
    with pytest.raises(InputError, match="TTL"):
        render_zone((), ttl=ttl)
    with pytest.raises(InputError, match="TTL"):
        render_dns_json((), ttl=ttl)


_RECORD_LINE = re.compile(r"(\S+\.) +IN  (A|AAAA|PTR) +(\S+)")


def _zone_records(text: str) -> list[tuple[str, str, str]]:
    found = []
    for line in text.splitlines():
        if line and not line.startswith(";"):
            m = _RECORD_LINE.fullmatch(line)
            assert m, line
            found.append((m[1], m[2].strip(), m[3]))
    return found


def _forward(ip: IPAddress, name: str) -> DnsRecord:
    return DnsRecord(name, "A" if isinstance(ip, IPv4Address) else "AAAA", str(ip))


labels = st.from_regex(r"[A-Za-z0-9]([A-Za-z0-9-]{0,20}[A-Za-z0-9])?", fullmatch=True)
names = st.lists(labels, min_size=1, max_size=3).map(lambda x: ".".join([*x, "example", "com"]))


@given(st.lists(st.tuples(addresses, names), max_size=6))
def test_zone_and_json_say_the_same(pairs: Sequence[tuple[IPAddress, str]]) -> None:
    records = [_forward(ip, name) for ip, name in pairs]
    zone = _zone_records(render_zone(records))
    document = json.loads(render_dns_json(records))
    assert document["format_version"] == 1
    rows = document["records"]
    assert all(list(row) == ["name", "type", "value", "ip"] for row in rows)
    assert zone == [
        (r["name"] + ".", r["type"], r["value"] + ("." if r["type"] == "PTR" else "")) for r in rows
    ]
    # every address has exactly one PTR, and it reads back to that address
    ptrs = [r for r in rows if r["type"] == "PTR"]
    assert sorted(r["ip"] for r in ptrs) == sorted({str(ip) for ip, _n in pairs})
    assert all(ptr_address(r["name"]) == ip_address(r["ip"]) for r in ptrs)


@given(st.text(max_size=30), addresses)
def test_any_name_is_refused_or_written_as_one_safe_line(name: str, ip: IPAddress) -> None:
    try:
        text = render_zone([_forward(ip, name)])
    except InputError:
        return
    assert _zone_records(text)[0][0] == name.removesuffix(".") + "."
    assert text.isascii()


# A root zone around the snippet, so every absolute name is inside it and gets checked.
_ROOT_ZONE = (
    "$TTL 3600\n"
    "@ IN SOA ns.invalid. hostmaster.invalid. 1 3600 600 86400 3600\n"
    "@ IN NS ns.invalid.\n"
    "ns.invalid. IN A 192.0.2.53\n"
)


@pytest.mark.parametrize("case", RECORDS)
def test_zone_goldens_load_in_named_checkzone(case: str, tmp_path: Path) -> None:
    if sys.platform == "win32":
        pytest.skip("named-checkzone (BIND's zone checker) is run on Linux; the goldens are shared")
    checker = shutil.which("named-checkzone")
    if checker is None:
        pytest.skip("named-checkzone is not installed (Debian: apt-get install bind9-utils)")
    path = tmp_path / "root.zone"
    path.write_text(_ROOT_ZONE + golden_path("dns", f"{case}.zone").read_text(encoding="utf-8"))
    command = [checker, "-k", "fail", "-i", "local", ".", str(path)]
    done = subprocess.run(command, capture_output=True, text=True, check=False, timeout=30)
    assert done.returncode == 0, done.stdout + done.stderr
