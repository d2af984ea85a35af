"""The "dns" array of the check and verify documents: a PTR is named as `bindmgr dns` and the
plan name it (its reverse name), its address beside it; check documents of format 1 still read."""

from __future__ import annotations

import json

from bindmgr.check.dnsanswer import DnsFinding, DnsStatus
from bindmgr.formats.check import check_to_dict, loads_check
from bindmgr.formats.verify import dns_to_list
from bindmgr.model import sort_results
from tests.support import report_samples as samples


def test_a_ptr_finding_is_named_by_its_reverse_name() -> None:
    found = [
        DnsFinding(DnsStatus.OK, "A", "mail.example.com", ("203.0.113.7",), ("203.0.113.7",), "ok"),
        DnsFinding(DnsStatus.MISSING, "PTR", "203.0.113.7", ("mail.example.com",), (), "none"),
        DnsFinding(DnsStatus.OK, "PTR", "2001:db8::7", ("mail.example.com",), (), "ok"),
    ]
    rows = dns_to_list(found)
    assert [(r["type"], r["name"], r["ip"]) for r in rows] == [
        ("A", "mail.example.com", None),
        ("PTR", "7.113.0.203.in-addr.arpa", "203.0.113.7"),
        ("PTR", "7." + "0." * 23 + "8.b.d.0.1.0.0.2.ip6.arpa", "2001:db8::7"),
    ]
    assert list(rows[1]) == [
        "type", "name", "ip", "status", "warning", "expected", "seen", "detail", "hint",
    ]  # fmt: skip


def test_a_check_document_of_format_1_still_reads() -> None:
    doc = check_to_dict(samples.every_status())
    assert doc["format_version"] == 2
    doc["format_version"] = 1
    assert loads_check(json.dumps(doc), "c.json") == sort_results(samples.every_status())
