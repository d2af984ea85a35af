"""The planner keeps WorldClient's and Remote Administration's bind lists in step with the plan,
through the real writer and reader; and where the lists narrow the web listeners."""

from __future__ import annotations

from dataclasses import replace
from ipaddress import IPv4Address, ip_address

import pytest

from bindmgr.apply.edit import apply_changes
from bindmgr.ini.file import IniFile
from bindmgr.model import Config, Listener, Plan
from bindmgr.plan.desired import parse_desired
from bindmgr.plan.planner import make_plan
from bindmgr.plan.weblists import narrowings, probe_groups
from bindmgr.read.config import read_config
from tests.support.plan import LAYOUT, default, domain, write_config
from tests.support.plan import config as make_config

WC, WA = "../WorldClient/WorldClient.ini", "../WebAdmin/WebAdmin.ini"
A, B, C, D = "203.0.113.10", "203.0.113.11", "203.0.113.12", "198.51.100.7"


def site(wc: str | None, wa: str | None = None) -> dict[str, bytes]:
    """MDaemon.ini and Domains.dat binding A (Default Domain) and B (mail-2), and web files."""
    c = make_config(
        default(ip=A, bind=True),
        domain("mail-2.example.com", B, bind=True, fqdn="mail-2.example.com"),
    )
    files = write_config(c)
    for name, raw in ((WC, wc), (WA, wa)):
        lines = ["[WebServer]", "Port=3000", *([] if raw is None else [f"BindIPs={raw}"])]
        files[name] = "".join(f"{line}\r\n" for line in lines).encode("cp1252")
    return files


def read(files: dict[str, bytes]) -> Config:
    scanned = {name: IniFile.from_bytes(data, name) for name, data in files.items()}
    return read_config(scanned, LAYOUT).config


def plan(files: dict[str, bytes], *ips: str) -> Plan:
    """The plan for `ips`, checked to be idempotent through the real writer and reader."""
    p = make_plan(read(files), parse_desired("example.com", ips))
    if not p.conflicts:
        after = files | apply_changes(files, p.changes)
        assert make_plan(read(after), p.desired).changes == ()
    return p


def web(p: Plan) -> list[tuple[str, str | None, str | None]]:
    return [(c.file, c.old, c.new) for c in p.changes if c.file in (WC, WA)]


@pytest.mark.parametrize(
    ("raw", "ips", "new"),
    [
        (f"{A}, {B}", (A, C), f"{A}, {C}"),  # B moves to C: the list follows
        (f"{A},{B}", (A, B, C), f"{A},{B},{C}"),  # an added IP joins, in the list's separator
        (f"{A}:3000, {B}:3000", (A, C), f"{A}:3000, {C}:3000"),  # the shared port form
        (f"{A}:3000, {B}:8080", (A, C), f"{A}:3000, {C}"),  # mixed ports: a bare IP
        (f"{A}, {B}", (A,), A),  # a removed IP leaves
        (f"127.0.0.1, {B}", (A, C), f"127.0.0.1, {C}"),  # loopback entries stay
        # B stays bound without being listed; the new IPv6 address is bare (mixed ports)
        (
            f"{A}, [2001:db8::1]:3000",
            (A, B, "2001:db8::2"),
            f"{A}, [2001:db8::1]:3000, 2001:db8::2",
        ),
        ("[2001:db8::1]:3000", (A, B, "2001:db8::2"), "[2001:db8::1]:3000,[2001:db8::2]:3000"),
    ],
)
def test_a_list_follows_the_binding(raw: str, ips: tuple[str, ...], new: str) -> None:
    p = plan(site(raw), *ips)
    (change,) = [c for c in p.changes if c.file == WC]
    assert (change.section, change.key, change.old, change.new) == (
        "WebServer",
        "BindIPs",
        raw,
        new,
    )
    assert change.reason.startswith("WorldClient's bind list keeps in step: ")


def test_the_reason_names_what_joins_and_what_leaves() -> None:
    (change,) = web(plan(site(f"{A}, {B}"), A, C))
    p = plan(site(f"{A}, {B}"), A, C)
    reason = next(c.reason for c in p.changes if c.file == WC)
    assert reason == (
        f"WorldClient's bind list keeps in step: {C} joins the binding: add it; "
        f"{B} leaves the binding: remove it"
    )
    assert change == (WC, f"{A}, {B}", f"{A}, {C}")


@pytest.mark.parametrize("raw", [None, "", "  ", "*", f"*, {A}", "*:3000", "0.0.0.0"])
def test_blank_absent_and_wildcard_lists_are_left_alone(raw: str | None) -> None:
    p = plan(site(raw, raw), A, C)
    assert web(p) == []
    assert not any("bind list" in n for n in p.notes)


def test_a_loopback_only_list_is_left_alone_and_said_so() -> None:
    p = plan(site("127.0.0.1:3000, [::1]:3000", "127.0.0.1"), A, C)
    assert web(p) == []
    said = [n for n in p.notes if "loopback addresses only" in n]
    assert len(said) == 2
    assert said[0].startswith(
        f"WorldClient's bind list ({WC} [WebServer] BindIPs (line 3): 127.0.0.1:3000, [::1]:3000)"
    )
    assert "reverse proxy" in said[0]
    assert said[1].startswith(f"Remote Administration's bind list ({WA} [WebServer] BindIPs")


def test_addresses_no_domain_binds_are_kept_and_warned() -> None:
    p = plan(site(f"{A}, {B}, {D}"), A, C)
    assert web(p) == [(WC, f"{A}, {B}, {D}", f"{A}, {D}, {C}")]
    (note,) = [n for n in p.notes if "no domain binds" in n]
    assert f"names {D}, which no domain binds after this plan: bindmgr keeps them" in note


def test_a_list_the_plan_would_empty_is_a_conflict() -> None:
    p = make_plan(read(site(B)), parse_desired("example.com", [A]))
    assert web(p) == []
    (conflict,) = p.conflicts
    assert conflict.subject == "WorldClient bind list"
    assert f"takes {B} from the binding, every address of WorldClient's bind list" in (
        conflict.message
    )
    assert "an empty list would make WorldClient listen on every domain IP" in conflict.message


def test_no_change_of_the_binding_means_no_change_of_the_list() -> None:
    p = plan(site(f"{A}"), A, B)  # the list leaves B out on purpose: bindmgr does not add it
    assert p.changes == ()


def test_both_lists_are_kept_in_step() -> None:
    p = plan(site(f"{A}, {B}", f"{B}:1000"), A, C)
    assert web(p) == [(WC, f"{A}, {B}", f"{A}, {C}"), (WA, f"{B}:1000", f"{C}:1000")]


# -- narrowing -----------------------------------------------------------------------------

LISTENERS = (
    Listener("smtp", "SMTP", 25),
    Listener("webmail", "WorldClient", 3000),
    Listener("webmail_http", "WorldClient HTTP", 80),
    Listener("webmail_https", "WorldClient HTTPS", 443),
    Listener("webadmin", "WebAdmin", 1000),
)


def with_listeners(files: dict[str, bytes]) -> Config:
    return replace(read(files), listeners=LISTENERS)


def test_a_bare_ip_entry_is_every_governed_listener_and_ip_port_one_socket() -> None:
    config = with_listeners(site(f"{A}, 127.0.0.1:443, 127.0.0.2:8080", "127.0.0.1"))
    wc, wa = narrowings(config)
    got = [(str(ip), lst.service, lst.port) for ip, lst in wc.pairs]
    assert got == [
        (A, "webmail", 3000),
        (A, "webmail_http", 80),
        (A, "webmail_https", 443),
        ("127.0.0.1", "webmail_https", 443),  # the listener on that port
        ("127.0.0.2", "webmail", 8080),  # no listener there: the main one, moved to it
    ]
    assert [(str(ip), lst.port) for ip, lst in wa.pairs] == [("127.0.0.1", 1000)]


def test_probe_groups_keep_other_listeners_on_every_address() -> None:
    config = with_listeners(site(f"{A}:3000", None))
    ips = (ip_address(A), ip_address(B))
    groups, notes = probe_groups(ips, config)
    assert [(ips_, [lst.service for lst in ls]) for ips_, ls in groups] == [
        (ips, ["smtp", "webadmin"]),
        ((IPv4Address(A),), ["webmail"]),
    ]
    (note,) = notes
    assert note.startswith("WorldClient, WorldClient HTTP, WorldClient HTTPS checked only where")
    assert note.endswith(f": {A}:3000 WorldClient")


def test_probe_groups_within_the_asked_addresses() -> None:
    config = with_listeners(site(f"{A}, {B}", None))
    groups, notes = probe_groups((ip_address(C),), config, within=[ip_address(C)])
    assert [[lst.service for lst in ls] for _, ls in groups] == [["smtp", "webadmin"]]
    assert "names none of the addresses checked" in notes[0]


def test_no_list_no_narrowing() -> None:
    config = with_listeners(site(None, ""))
    groups, notes = probe_groups((ip_address(A),), config)
    assert groups == (((ip_address(A),), LISTENERS),)
    assert notes == ()
