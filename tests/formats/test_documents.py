"""Saved plans and check JSON: exact layout, lossless round trips, strict and helpful loading."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from ipaddress import IPv4Address, IPv6Address
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bindmgr import __version__
from bindmgr.errors import InputError
from bindmgr.formats.check import check_to_dict, dumps_check, loads_check
from bindmgr.formats.jsondoc import dumps_json
from bindmgr.formats.plan import SavedPlan, digest_of, dumps_plan, loads_plan, plan_to_dict
from bindmgr.model import (
    Action,
    Assignment,
    Change,
    Conflict,
    Desired,
    DnsRecord,
    Holder,
    InputFile,
    Plan,
    ProbeResult,
    ProbeStatus,
    Proto,
    Slot,
    sort_results,
)
from tests.support import report_samples as samples

# Any Python string, lone surrogates included (an INI layer may carry undecodable bytes so).
texts = st.text(st.characters(exclude_categories=()), max_size=12)
opt_texts = st.none() | texts
v4s = st.ip_addresses(v=4).map(lambda a: IPv4Address(int(a)))
v6s = st.ip_addresses(v=6).map(lambda a: IPv6Address(int(a)))
slots = st.one_of(
    st.builds(Slot, v4s, st.none()),
    st.builds(Slot, st.none(), v6s),
    st.builds(Slot, v4s, v6s),
)
changes = st.one_of(
    st.builds(Change, texts, texts, texts, opt_texts, texts, texts, st.just(Action.SET)),
    st.builds(Change, texts, texts, texts, opt_texts, st.none(), texts, st.just(Action.DELETE_KEY)),
    st.builds(
        Change, texts, texts, st.none(), opt_texts, st.none(), texts, st.just(Action.DELETE_SECTION)
    ),
)
dns_records = st.one_of(
    st.builds(DnsRecord, texts, st.just("A"), v4s.map(str)),
    st.builds(DnsRecord, texts, st.just("AAAA"), v6s.map(str)),
    st.builds(DnsRecord, texts, st.just("PTR"), texts),
)
shas = st.text("0123456789abcdef", min_size=64, max_size=64)


def _each_address_once(slots: list[Slot]) -> bool:
    addresses = [a for slot in slots for a in slot.addresses()]
    return len(set(addresses)) == len(addresses)


# A saved plan's desired state is validated when it is read, like one from the command line:
# any valid one must come back equal (public unicast addresses, each once; a real DNS name).
usable_v4s = st.integers(0x0B000000, 0xDF000000).map(IPv4Address)
usable_v6s = st.integers(0x2001_4000 << 96, (0x2001_4000 << 96) + 2**64).map(IPv6Address)
usable_slots = st.one_of(
    st.builds(Slot, usable_v4s, st.none()),
    st.builds(Slot, st.none(), usable_v6s),
    st.builds(Slot, usable_v4s, usable_v6s),
)
desireds = st.builds(
    Desired,
    st.sampled_from(["example.com", "mail.example.org", "xn--r8jz45g.example"]),
    st.lists(usable_slots, min_size=1, max_size=4, unique_by=lambda s: s.addresses())
    .filter(
        lambda ss: (
            len({a for s in ss for a in s.addresses()}) == sum(len(s.addresses()) for s in ss)
        )
    )
    .map(tuple),
    st.sampled_from(["mail-{n}.{domain}", "mx{n}.{domain}"]),
    st.booleans(),
)
plans = st.builds(
    Plan,
    desired=desireds,
    assignments=st.lists(st.builds(Assignment, texts, slots, st.booleans(), texts), max_size=4).map(
        tuple
    ),
    changes=st.lists(changes, max_size=6).map(tuple),
    conflicts=st.lists(st.builds(Conflict, texts, texts), max_size=3).map(tuple),
    notes=st.lists(texts, max_size=3).map(tuple),
    dns=st.lists(dns_records, max_size=4).map(tuple),
    inputs=st.lists(st.builds(InputFile, texts, shas), max_size=3).map(tuple),
)
holders = st.none() | st.builds(Holder, st.none() | st.integers(0, 2**22), opt_texts, opt_texts)
results = st.builds(
    ProbeResult,
    ip=v4s | v6s,
    port=st.integers(0, 65535),
    proto=st.sampled_from(Proto),
    service=texts,
    status=st.sampled_from(ProbeStatus),
    errno=st.none() | st.integers(0, 20000),
    holder=holders,
    event=opt_texts,
    hint=opt_texts,
    label=texts,
)


def _labels(found: tuple[ProbeResult, ...] | None) -> list[str]:
    return [r.label for r in found or ()]


@settings(max_examples=150, deadline=None)
@given(
    plan=plans,
    checks=st.none() | st.lists(results, max_size=5),
    app_dir=opt_texts,
    layout=opt_texts,
    created=opt_texts,
)
def test_round_trip_property(
    plan: Plan,
    checks: list[ProbeResult] | None,
    app_dir: str | None,
    layout: str | None,
    created: str | None,
) -> None:
    text = dumps_plan(plan, app_dir=app_dir, layout=layout, checks=checks, created=created)
    assert text.isascii()
    assert text.endswith("}\n")
    saved = loads_plan(text, "plan.json")
    assert saved.plan == plan
    assert (saved.app_dir, saved.layout, saved.created) == (app_dir, layout, created)
    if checks is None:
        assert saved.checks is None
    else:
        assert saved.checks == sort_results(checks)
        assert _labels(saved.checks) == _labels(sort_results(checks))
    # Writing what was read gives the same bytes: the format is a fixed point.
    again = dumps_plan(
        saved.plan, app_dir=app_dir, layout=layout, checks=saved.checks, created=created
    )
    assert again == text


@pytest.mark.parametrize(
    "make",
    [
        samples.provisioning,
        samples.no_changes,
        samples.conflicts,
        samples.dual_stack,
        samples.deletions,
    ],
)
def test_round_trip_examples(make: Callable[[], Plan]) -> None:
    plan = make()
    checks = samples.every_status()
    text = dumps_plan(plan, app_dir="C:\\MDaemon\\App", layout=None, checks=checks, created="t")
    digest = json.loads(text)["digest"]
    assert loads_plan(text, "p.json") == SavedPlan(
        plan, "C:\\MDaemon\\App", None, "t", sort_results(checks), digest=digest
    )


def test_the_digest_names_the_content_and_catches_any_edit() -> None:
    plan = samples.provisioning()
    doc = plan_to_dict(
        plan,
        app_dir="C:\\MDaemon\\App",
        layout="layout.ini",
        host="mx1",
        layout_sha256="ab" * 32,
        codepage=1251,
    )
    saved = loads_plan(json.dumps(doc), "p.json")
    assert (saved.host, saved.layout_sha256, saved.codepage) == ("mx1", "ab" * 32, 1251)
    assert saved.digest == doc["digest"]
    assert re.fullmatch(r"sha256:[0-9a-f]{64}", saved.digest)
    other = plan_to_dict(plan, app_dir="C:\\MDaemon\\App", layout="layout.ini", host="mx2")
    assert other["digest"] != doc["digest"]  # the host is part of what was reviewed
    for edit in (
        _set(("changes", 0, "new"), "10.0.0.66"),
        _set(("host",), "elsewhere"),
        _set(("codepage",), 1252),
        _set(("notes",), []),
        _set(("digest",), "sha256:" + "0" * 64),
    ):
        edited = json.loads(json.dumps(doc))
        edit(edited)
        with pytest.raises(InputError, match="digest: does not match the plan's content"):
            loads_plan(json.dumps(edited), "p.json")


def test_document_layout() -> None:
    plan = samples.provisioning()
    doc = plan_to_dict(plan, app_dir="C:\\MDaemon\\App", layout="layout.ini")
    assert list(doc) == [
        "format_version", "tool", "created", "host", "app_dir", "layout", "layout_sha256",
        "codepage", "summary", "desired", "inputs", "changes", "assignments", "conflicts",
        "notes", "dns", "check", "digest",
    ]  # fmt: skip
    assert doc["format_version"] == 3
    assert doc["tool"] == f"bindmgr {__version__}"
    assert doc["check"] is None
    assert doc["summary"] == {
        "changes": 8, "files": 2, "set": 8, "delete_key": 0, "delete_section": 0,
        "slots": 3, "addresses": 3, "assignments": 3, "conflicts": 0, "dns_records": 4,
    }  # fmt: skip
    assert doc["inputs"] == [
        {"file": "MDaemon.ini", "sha256": samples.SHA_INI},
        {"file": "Domains.dat", "sha256": samples.SHA_DOMAINS},
    ]
    assert doc["changes"][0] == {  # type: ignore[index]
        "file": "MDaemon.ini",
        "section": "Domain",
        "key": "DomainIP",
        "old": "10.0.0.9",
        "new": "10.0.0.1",
        "reason": "first IP binds the Default Domain",
        "action": "set",
    }
    text = dumps_plan(plan, app_dir="C:\\MDaemon\\App", layout="layout.ini")
    assert text == json.dumps(doc, indent=2) + "\n"


def test_check_document() -> None:
    found = samples.every_status()
    doc = check_to_dict(found)
    assert list(doc) == ["format_version", "results", "summary"]
    assert doc["summary"] == {
        "total": 9, "ok": 3, "in_use": 1, "in_use_wildcard": 1, "not_local": 1, "denied": 1,
        "held_by_mdaemon": 1, "error": 1, "conflicts": 5,
    }  # fmt: skip
    rows: Any = doc["results"]
    assert [r["ip"] for r in rows][:3] == ["10.0.0.1", "10.0.0.1", "10.0.0.1"]
    assert rows[-1]["ip"] == "2001:db8::5"
    pop3 = next(r for r in rows if r["port"] == 110)
    assert pop3 == {
        "ip": "10.0.0.2", "port": 110, "proto": "tcp", "service": "pop3", "label": "POP3",
        "status": "in_use", "errno": 98,
        "holder": {"pid": 4242, "name": "nginx", "cmdline": "/usr/sbin/nginx -g daemon off;"},
        "event": "MDaemon would log event 503: POP3 10.0.0.2:110 could not be initialized",
        "hint": "stop nginx (pid 4242) or move it off 10.0.0.2:110, then rerun bindmgr check",
    }  # fmt: skip
    assert loads_check(dumps_check(found), "c.json") == sort_results(found)
    assert dumps_check(reversed(found)) == dumps_check(found)
    assert dumps_check(found) == json.dumps(doc, indent=2) + "\n"


def test_check_document_in_many_chunks() -> None:
    """The chunked results array (made as it is written) reads as the whole one."""
    found = samples.every_status() * 3
    whole = json.dumps(check_to_dict(found), indent=2) + "\n"
    for size in (1, 2, 5, 1000):
        assert dumps_json(check_to_dict(found, chunk=size)) == whole


def test_check_label_is_optional_on_load() -> None:
    doc: Any = check_to_dict(samples.all_ok())
    for row in doc["results"]:
        del row["label"]
    found = loads_check(json.dumps(doc), "c.json")
    assert [r.label for r in found] == [""] * 6
    # The label takes part in equality: a result read back without it is a different value.
    assert found != sort_results(samples.all_ok())
    assert [r._replace(label="") for r in sort_results(samples.all_ok())] == list(found)


def _doc() -> Any:
    return plan_to_dict(
        samples.deletions(), app_dir=None, layout=None, checks=samples.every_status()
    )


def _set(path: tuple[str | int, ...], value: object) -> Callable[[Any], None]:
    def edit(doc: Any) -> None:
        for step in path[:-1]:
            doc = doc[step]
        doc[path[-1]] = value

    return edit


def _delete(path: tuple[str | int, ...]) -> Callable[[Any], None]:
    def edit(doc: Any) -> None:
        for step in path[:-1]:
            doc = doc[step]
        del doc[path[-1]]

    return edit


BAD_EDITS = [
    (_set(("format_version",), 4), "format_version", "newer bindmgr"),
    (_set(("format_version",), 1), "format_version", "older bindmgr, made without a digest"),
    (_set(("format_version",), 0), "format_version", "0 is unknown"),
    (_set(("format_version",), "2"), "format_version", "must be the number 3"),
    (_set(("layout_sha256",), "XYZ"), "layout_sha256", "64 lowercase hex"),
    (_set(("format_version",), True), "format_version", "must be the number 3"),
    (_delete(("format_version",)), "format_version", "is missing"),
    (_delete(("tool",)), "tool", "is missing"),
    (_set(("changes", 1, "action"), "sett"), "changes[1].action", '"sett" is not one of'),
    (_delete(("changes", 2, "reason")), "changes[2].reason", "is missing"),
    (_set(("changes", 0, "key"), "IP"), "changes[0].key", "must be null"),
    (_set(("changes", 1, "new"), "x"), "changes[1].new", "must be null"),
    (_set(("changes", 2, "new"), None), "changes[2].new", "must be a string"),
    (_set(("changes", 2, "key"), None), "changes[2].key", "must be a string"),
    (_set(("changes", 2, "old"), 3), "changes[2].old", "found a number"),
    (_set(("changes", 0), []), "changes[0]", "must be an object, found an array"),
    (_set(("desired", "slots", 0, "ip"), "10.0.0.256"), "desired.slots[0].ip", "not an IPv4"),
    (_set(("desired", "slots", 0, "ip"), "::1"), "desired.slots[0].ip", "not an IPv4"),
    (_set(("desired", "slots", 0, "ipv6"), "10.0.0.1"), "desired.slots[0].ipv6", "not an IPv6"),
    (_set(("desired", "slots", 0), {"ip": None, "ipv6": None}), "desired.slots[0]", "needs an"),
    (_delete(("desired", "slots", 0, "ip")), "desired.slots[0].ip", "is missing"),
    (_delete(("assignments", 0, "default")), "assignments[0].default", "is missing"),
    (_set(("desired", "prune"), "yes"), "desired.prune", "true or false"),
    (_set(("desired", "slots", 0, "ip"), "0.0.0.0"), "desired", "unspecified address"),
    (_set(("desired", "domain"), "exa mple.com"), "desired", "base domain"),
    (_set(("desired", "pattern"), "mail.{domain}"), "desired", "{n}"),
    (_set(("assignments", 1, "slot", "ip"), "x"), "assignments[1].slot.ip", "not an IPv4"),
    (_set(("inputs", 0, "sha256"), "ABC"), "inputs[0].sha256", "64 lowercase hex"),
    (_set(("dns",), [{"name": "a", "type": "MX", "value": "b"}]), "dns[0].type", '"MX"'),
    (_set(("dns",), [{"name": "a", "type": "A", "value": "::1"}]), "dns[0].value", "IPv4"),
    (_set(("notes",), ["ok", 5]), "notes[1]", "must be a string"),
    (_set(("summary", "changes"), 4), "summary.changes", "edited or truncated"),
    (_set(("summary", "changes"), 3.0), "summary.changes", "edited or truncated"),
    (_set(("summary",), []), "summary", "must be an object"),
    (_set(("check", "results", 0, "ip"), "10.0.0.300"), "check.results[0].ip", "not an IPv4 or"),
    (_set(("check", "results", 0, "port"), 70000), "check.results[0].port", "out of range"),
    (_set(("check", "results", 0, "port"), 25.0), "check.results[0].port", "whole number"),
    (_set(("check", "results", 0, "status"), "busy"), "check.results[0].status", '"busy"'),
    (_set(("check", "results", 0, "proto"), "sctp"), "check.results[0].proto", '"sctp"'),
    (_set(("check", "results", 1, "holder", "pid"), -1), "check.results[1].holder.pid", "range"),
    (_set(("check", "summary", "conflicts"), 0), "check.summary.conflicts", "edited"),
    (_delete(("check",)), "check", "is missing"),
]


@pytest.mark.parametrize(("edit", "path", "what"), BAD_EDITS)
def test_strict_loading_names_file_path_and_next_step(
    edit: Callable[[Any], None], path: str, what: str
) -> None:
    doc = _doc()
    edit(doc)
    with pytest.raises(InputError) as exc:
        loads_plan(json.dumps(doc), "C:\\plans\\p.json")
    message = str(exc.value)
    assert message.startswith(f"C:\\plans\\p.json: {path}: ")
    assert what in message
    assert message.endswith("; re-run `bindmgr plan --out C:\\plans\\p.json` to save a fresh plan")


@pytest.mark.parametrize(
    ("text", "what"),
    [
        ("", "not valid JSON: Expecting value at line 1 column 1"),
        ('{"a": 1,}', "not valid JSON"),
        ("[]", "must be an object, found an array"),
        ('{"format_version": NaN}', "NaN is not a number JSON allows"),
        ('{"a": 1, "a": 2}', 'the key "a" appears twice'),
        ("[" * 100_000 + "]" * 100_000, "not valid JSON"),
    ],
)
def test_unreadable_documents(text: str, what: str) -> None:
    with pytest.raises(InputError) as exc:
        loads_plan(text, "p.json")
    assert str(exc.value).startswith("p.json: the top level: ")
    assert what in str(exc.value)


def test_bom_and_unknown_keys_are_accepted() -> None:
    """A BOM (Notepad) is tolerated; unknown keys are additions of a later format version 1."""
    doc = _doc()
    doc["added_later"] = {"x": 1}
    doc["changes"][0]["also_new"] = True
    doc["digest"] = digest_of(doc)  # as the later bindmgr that added them would write it
    saved = loads_plan("\ufeff" + json.dumps(doc), "p.json")
    assert saved.plan == samples.deletions()


def test_check_document_errors_name_the_check_hint() -> None:
    with pytest.raises(InputError) as exc:
        loads_check('{"format_version": 1, "results": [{}], "summary": {}}', "c.json")
    assert str(exc.value) == (
        "c.json: results[0].ip: is missing; "
        "re-run `bindmgr check --format json` to write a fresh result"
    )
