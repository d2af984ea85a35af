"""make_plan on hand-built configs: provisioning, rebinding, prune, conflicts, IPv6, patterns."""

from __future__ import annotations

from dataclasses import replace
from ipaddress import IPv4Address, IPv6Address

import pytest

from bindmgr.errors import LayoutError, PlanError
from bindmgr.model import (
    DEFAULT_PATTERN,
    Action,
    Config,
    DnsRecord,
    Domain,
    InputFile,
    Plan,
    Slot,
)
from bindmgr.plan.desired import parse_desired
from bindmgr.plan.planner import make_plan
from tests.support.plan import (
    DEFAULT_KEYS,
    DOMAIN_KEYS,
    applied,
    config,
    default,
    domain,
    section_changes,
    sets,
)

INI, DAT = "MDaemon.ini", "Domains.dat"
A, B, C, D, E = (f"127.0.0.{i}" for i in range(1, 6))


def plan(c: Config, *ips: str, pattern: str = DEFAULT_PATTERN, prune: bool = False) -> Plan:
    p = make_plan(c, parse_desired("example.com", ips, pattern=pattern, prune=prune))
    if not p.conflicts:  # every plan in this file is also idempotent
        assert make_plan(applied(c, p), p.desired).changes == ()
    return p


def bound(name: str, ip: str, *, other: tuple[str, ...] = ()) -> Domain:
    return domain(name, ip, bind=True, fqdn=name, other=other)


def current() -> Config:
    """A applied: Default Domain on A, mail-2 on B, mail-3 on C, all bound."""
    return config(
        default(ip=A, bind=True),
        bound("mail-2.example.com", B),
        bound("mail-3.example.com", C),
    )


def notes(p: Plan) -> dict[str, str]:
    return {a.domain: a.note for a in p.assignments}


def test_provision_empty_config() -> None:
    p = plan(config(default(bind=False)), A, B, C)
    assert sets(p) == [
        (INI, "Domain", "DomainIP", None, A),
        (INI, "Domain", "BindToDomainIP", "No", "Yes"),
        (DAT, "mail-2.example.com", "IP", None, B),
        (DAT, "mail-2.example.com", "Bind", None, "Yes"),
        (DAT, "mail-2.example.com", "FQDN", None, "mail-2.example.com"),
        (DAT, "mail-3.example.com", "IP", None, C),
        (DAT, "mail-3.example.com", "Bind", None, "Yes"),
        (DAT, "mail-3.example.com", "FQDN", None, "mail-3.example.com"),
    ]
    assert [c.reason for c in p.changes[:3]] == [
        f"slot 1 ({A}) binds the Default Domain example.com",
        f"slot 1 ({A}) binds the Default Domain example.com",
        f"slot 2 ({B}) binds mail-2.example.com",
    ]
    assert all(c.action is Action.SET for c in p.changes)
    assert notes(p) == {
        "example.com": "bound",
        "mail-2.example.com": "new domain",
        "mail-3.example.com": "new domain",
    }
    assert [a.is_default for a in p.assignments] == [True, False, False]
    assert p.dns == (
        DnsRecord("example.com", "A", A),
        DnsRecord("1.0.0.127.in-addr.arpa", "PTR", "example.com"),
        DnsRecord("mail-2.example.com", "A", B),
        DnsRecord("2.0.0.127.in-addr.arpa", "PTR", "mail-2.example.com"),
        DnsRecord("mail-3.example.com", "A", C),
        DnsRecord("3.0.0.127.in-addr.arpa", "PTR", "mail-3.example.com"),
    )
    assert p.conflicts == ()
    assert any("full e-mail address (user@example.com)" in n for n in p.notes)
    assert any("restart" in n for n in p.notes)


def test_single_ip_binds_only_the_default_domain() -> None:
    p = plan(config(default(ip=A, bind=False)), A)
    assert sets(p) == [(INI, "Domain", "BindToDomainIP", "No", "Yes")]
    assert notes(p) == {"example.com": "now bound"}


def test_applied_state_is_unchanged() -> None:
    p = plan(current(), A, B, C)
    assert p.changes == ()
    assert set(notes(p).values()) == {"unchanged"}
    assert not any("restart" in n for n in p.notes)
    assert any("full e-mail address" in n for n in p.notes)


def test_typed_comparison_ignores_spelling() -> None:
    c = config(
        default(ip=A, bind_raw="yes"),
        domain("mail-2.example.com", B, bind_raw="YES", fqdn="MAIL-2.example.COM"),
    )
    assert plan(c, A, B).changes == ()


@pytest.mark.parametrize(
    ("ips", "expected", "assigned"),
    [
        pytest.param(
            (A, B, D),
            [(DAT, "mail-3.example.com", "IP", C, D)],
            {"mail-3.example.com": f"reuses the freed name, rebound from {C}"},
            id="last-ip-replaced",
        ),
        pytest.param(
            (A, D, C),
            [(DAT, "mail-2.example.com", "IP", B, D)],
            {"mail-2.example.com": f"reuses the freed name, rebound from {B}"},
            id="middle-ip-replaced-keeps-mail-3",
        ),
        pytest.param(
            (A, C, B),
            [],
            {"mail-2.example.com": "unchanged", "mail-3.example.com": "unchanged"},
            id="secondary-order-changed-no-churn",
        ),
        pytest.param(
            (A, B, C, D),
            [
                (DAT, "mail-4.example.com", "IP", None, D),
                (DAT, "mail-4.example.com", "Bind", None, "Yes"),
                (DAT, "mail-4.example.com", "FQDN", None, "mail-4.example.com"),
            ],
            {"mail-4.example.com": "new domain"},
            id="ip-added",
        ),
        pytest.param(
            (B, A, C),
            [(INI, "Domain", "DomainIP", A, B), (DAT, "mail-2.example.com", "IP", B, A)],
            {
                "example.com": f"rebound from {A}",
                "mail-2.example.com": f"reuses the freed name, rebound from {B}",
            },
            id="slot-1-swapped",
        ),
        pytest.param(
            (D, E, "127.0.0.6"),
            [
                (INI, "Domain", "DomainIP", A, D),
                (DAT, "mail-2.example.com", "IP", B, E),
                (DAT, "mail-3.example.com", "IP", C, "127.0.0.6"),
            ],
            {"mail-3.example.com": f"reuses the freed name, rebound from {C}"},
            id="all-replaced",
        ),
        pytest.param(
            (A, C),
            [
                (DAT, "mail-2.example.com", "IP", B, ""),
                (DAT, "mail-2.example.com", "Bind", "Yes", "No"),
            ],
            {"mail-2.example.com": "unbound", "mail-3.example.com": "unchanged"},
            id="ip-dropped",
        ),
    ],
)
def test_rebinding(
    ips: tuple[str, ...],
    expected: list[tuple[str, str, str | None, str | None, str | None]],
    assigned: dict[str, str],
) -> None:
    p = plan(current(), *ips)
    assert sets(p) == expected
    assert notes(p).items() >= assigned.items()


def test_dropped_ip_reasons_and_note() -> None:
    p = plan(current(), A, C)
    assert [c.reason for c in p.changes] == [
        f"{B} dropped from the desired IPs: clear it from mail-2.example.com "
        "(WorldClient/WebAdmin with blank bind lists listen on every IP a domain holds)",
        f"{B} dropped from the desired IPs: unbind mail-2.example.com",
    ]
    assert "mail-2.example.com is left unbound; plan with prune to delete it." in p.notes
    assert p.dns == (
        DnsRecord("example.com", "A", A),
        DnsRecord("1.0.0.127.in-addr.arpa", "PTR", "example.com"),
        DnsRecord("mail-3.example.com", "A", C),
        DnsRecord("3.0.0.127.in-addr.arpa", "PTR", "mail-3.example.com"),
    )


def test_ip_moving_to_the_default_domain_is_not_called_dropped() -> None:
    p = plan(current(), B)
    reasons = [c.reason for c in section_changes(p, "mail-2.example.com")]
    assert reasons == [
        f"{B} moves to example.com: clear it from mail-2.example.com",
        f"{B} moved to other domains: unbind mail-2.example.com",
    ]


def test_freed_names_are_reused_lowest_n_first() -> None:
    c = config(
        default(ip=A, bind=True),
        bound("mail-4.example.com", D),
        domain("mail-3.example.com"),  # left unbound and empty by an earlier plan
        bound("mail-2.example.com", B),
    )
    p = plan(c, A, "127.0.0.7", "127.0.0.8", D)
    assert notes(p) == {
        "example.com": "unchanged",
        "mail-2.example.com": f"reuses the freed name, rebound from {B}",
        "mail-3.example.com": "reuses the freed name, bound",
        "mail-4.example.com": "unchanged",
    }
    # changes are ordered by n, whatever the file order
    assert [c.section for c in p.changes] == ["mail-2.example.com"] + ["mail-3.example.com"] * 3


def test_new_names_fill_gaps_and_skip_taken_names() -> None:
    c = config(
        default("mail-2.example.com", ip=A, bind=True),
        bound("mail-3.example.com", B),
        bound("mail-5.example.com", C),
        domain("MAIL-6.EXAMPLE.COM", other=("MaxUsers",)),
    )
    p = plan(c, A, B, C, D, E, "127.0.0.6")
    names = [a.domain for a in p.assignments]
    assert names == [
        "mail-2.example.com",
        "mail-3.example.com",
        "mail-5.example.com",
        "MAIL-6.EXAMPLE.COM",
        "mail-4.example.com",
        "mail-7.example.com",
    ]
    assert any("named like the pattern" in n and "n=2" in n for n in p.notes)
    assert section_changes(p, "mail-6.example.com")[-1].new == "MAIL-6.EXAMPLE.COM"  # FQDN


@pytest.mark.parametrize(
    ("other", "expected_actions", "note"),
    [
        ((), [Action.DELETE_SECTION], None),
        (
            ("MaxUsers", "EnableAntiVirus"),
            [Action.SET, Action.SET],
            "mail-3.example.com is not deleted although prune was asked: its section also holds "
            "MaxUsers, EnableAntiVirus",
        ),
    ],
)
def test_prune(other: tuple[str, ...], expected_actions: list[Action], note: str | None) -> None:
    c = config(
        default(ip=A, bind=True),
        bound("mail-2.example.com", B),
        bound("mail-3.example.com", C, other=other),
    )
    p = plan(c, A, B, prune=True)
    assert [ch.action for ch in p.changes] == expected_actions
    assert {ch.section for ch in p.changes} == {"mail-3.example.com"}
    if note is None:
        assert p.changes[0].key is None
        assert p.changes[0].new is None
        assert notes(p)["mail-3.example.com"] == "deleted (prune)"
        assert "delete it (prune)" in p.changes[0].reason
    else:
        assert any(n.startswith(note) for n in p.notes)
        assert notes(p)["mail-3.example.com"] == "unbound"


def test_prune_removes_empty_leftovers_and_never_foreign_domains() -> None:
    c = config(
        default(ip=A, bind=True),
        domain("mail-2.example.com"),
        domain("mail-3.example.com", bind=False, fqdn="mail-3.example.com"),
        domain("partner.example.net"),
        domain("mail-2.example.org"),
    )
    p = plan(c, A, prune=True)
    assert sets(p) == [
        (DAT, "mail-2.example.com", None, None, None),
        (DAT, "mail-3.example.com", None, None, None),
    ]
    assert notes(p) == {"example.com": "unchanged"}  # nothing bound there, nothing to show
    assert make_plan(c, replace(p.desired, prune=False)).changes == ()


def test_conflict_foreign_domain_bound_to_requested_ip() -> None:
    c = config(default(ip=A, bind=True), domain("partner.example.net", B, bind=True))
    p = plan(c, A, B)
    assert len(p.conflicts) == 1
    conflict = p.conflicts[0]
    assert conflict.subject == B
    assert "already bound to partner.example.net (Domains.dat [partner.example.net])" in (
        conflict.message
    )
    assert "unbind partner.example.net" in conflict.message
    assert "remove 127.0.0.2 from the desired IPs" in conflict.message
    assert not section_changes(p, "partner.example.net")


def test_conflict_on_a_foreign_ipv6() -> None:
    c = config(default(ip=A, bind=True), domain("partner.example.net", ipv6="::1", bind=True))
    p = plan(c, A, "::1")
    assert [x.subject for x in p.conflicts] == ["::1"]


def test_unbound_foreign_domain_on_requested_ip_is_a_note() -> None:
    c = config(default(ip=A, bind=True), domain("partner.example.net", B, bind=False))
    p = plan(c, A, B)
    assert p.conflicts == ()
    assert any(
        n.startswith(f"partner.example.net also holds {B} (unbound)")
        and "as whichever domain owns it" in n
        and "rather than mail-2.example.com" in n
        for n in p.notes
    )
    assert not section_changes(p, "partner.example.net")


@pytest.mark.parametrize(
    ("bind", "expected"),
    [
        (True, "is bound to 127.0.0.9, which is not a desired IP: MDaemon keeps listening there"),
        (False, "holds 127.0.0.9 unbound: WorldClient/WebAdmin with blank bind lists"),
    ],
)
def test_foreign_domains_on_other_ips_are_noted(bind: bool, expected: str) -> None:
    c = config(default(ip=A, bind=True), domain("partner.example.net", "127.0.0.9", bind=bind))
    p = plan(c, A)
    assert p.changes == ()
    assert p.conflicts == ()
    assert any(expected in n for n in p.notes)


def test_foreign_lookalikes_are_never_touched() -> None:
    lookalikes = (
        "mail-02.example.com",
        "mail-1.example.com",
        "mail-2.example.org",
        "mail.example.com",
    )
    c = config(default(ip=A, bind=True), *(domain(n, bind=False) for n in lookalikes))
    p = plan(c, A, B)
    assert {ch.section for ch in p.changes} == {"mail-2.example.com"}


def test_duplicate_sections_are_a_conflict() -> None:
    c = config(
        default(ip=A, bind=True),
        bound("mail-2.example.com", B),
        domain("MAIL-2.example.com", C, bind=True),
    )
    p = make_plan(c, parse_desired("example.com", [A, B]))
    assert [x.subject for x in p.conflicts] == ["MAIL-2.example.com"]
    assert "appears twice (also as mail-2.example.com)" in p.conflicts[0].message
    assert p.changes == ()


def test_ipv6_only_and_dual_stack() -> None:
    p = plan(config(default(bind=False)), f"{A}+::1", "2001:db8::2", f"{C}+2001:db8::3")
    assert sets(p) == [
        (INI, "Domain", "DomainIP", None, A),
        (INI, "Domain", "DomainIP6", None, "::1"),
        (INI, "Domain", "BindToDomainIP", "No", "Yes"),
        (DAT, "mail-2.example.com", "IP6", None, "2001:db8::2"),
        (DAT, "mail-2.example.com", "Bind", None, "Yes"),
        (DAT, "mail-2.example.com", "FQDN", None, "mail-2.example.com"),
        (DAT, "mail-3.example.com", "IP", None, C),
        (DAT, "mail-3.example.com", "IP6", None, "2001:db8::3"),
        (DAT, "mail-3.example.com", "Bind", None, "Yes"),
        (DAT, "mail-3.example.com", "FQDN", None, "mail-3.example.com"),
    ]
    assert p.assignments[1].slot == Slot(v6=IPv6Address("2001:db8::2"))
    assert DnsRecord("mail-2.example.com", "AAAA", "2001:db8::2") in p.dns
    assert (
        DnsRecord(IPv6Address("2001:db8::3").reverse_pointer, "PTR", "mail-3.example.com") in p.dns
    )
    assert (
        DnsRecord(
            "1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.ip6.arpa",
            "PTR",
            "example.com",
        )
        in p.dns
    )


def test_dual_stack_to_v4_only_clears_ipv6() -> None:
    c = config(
        default(ip=A, bind=True),
        domain("mail-2.example.com", B, ipv6="2001:db8::2", bind=True, fqdn="mail-2.example.com"),
    )
    p = plan(c, A, B)
    assert sets(p) == [(DAT, "mail-2.example.com", "IP6", "2001:db8::2", "")]
    assert "2001:db8::2 dropped from the desired IPs" in p.changes[0].reason
    assert notes(p)["mail-2.example.com"] == "rebound from 127.0.0.2+2001:db8::2"


def test_ipv6_match_keeps_the_name() -> None:
    c = config(
        default(ip=A, bind=True),
        domain("mail-2.example.com", ipv6="2001:db8::2", bind=True, fqdn="mail-2.example.com"),
        domain("mail-3.example.com", B, bind=True, fqdn="mail-3.example.com"),
    )
    p = plan(c, A, f"{B}+2001:db8::3", f"{C}+2001:db8::2")
    assert notes(p) == {
        "example.com": "unchanged",
        "mail-3.example.com": f"rebound from {B}",
        "mail-2.example.com": "rebound from 2001:db8::2",
    }


def test_v6_only_default_slot_clears_the_default_ipv4() -> None:
    p = plan(current(), "::1", A, B, C)
    assert sets(p)[:2] == [
        (INI, "Domain", "DomainIP", A, ""),
        (INI, "Domain", "DomainIP6", None, "::1"),
    ]
    assert p.changes[0].reason == f"{A} moves to mail-4.example.com: clear it from example.com"


@pytest.mark.parametrize(
    ("ips", "keys", "expected"),
    [
        (
            ("::1",),
            "default",
            "slot 1 (::1) has IPv6 address ::1, but the layout has no IPv6 key for the Default "
            "Domain (MDaemon.ini [Domain])",
        ),
        (
            (A, "2001:db8::2"),
            "domains",
            "slot 2 (2001:db8::2) has IPv6 address 2001:db8::2, but the layout has no IPv6 key "
            "for secondary domains (Domains.dat)",
        ),
    ],
)
def test_layout_without_ipv6_key(ips: tuple[str, ...], keys: str, expected: str) -> None:
    c = config()
    if keys == "default":
        c = replace(c, default_keys=replace(DEFAULT_KEYS, ipv6=None))
    else:
        c = replace(c, domain_keys=replace(DOMAIN_KEYS, ipv6=None))
    with pytest.raises(PlanError) as exc:
        make_plan(c, parse_desired("example.com", ips))
    assert expected in str(exc.value)


def test_layout_without_fqdn_key_writes_none() -> None:
    c = config(domain_keys=replace(DOMAIN_KEYS, fqdn=None))
    p = plan(c, A, B)
    assert [ch.key for ch in p.changes] == ["DomainIP", "BindToDomainIP", "IP", "Bind"]


def test_layout_with_one_shared_section_is_refused() -> None:
    c = config(domain_keys=replace(DOMAIN_KEYS, section="Domains"))
    with pytest.raises(LayoutError, match=r"section \[Domains\] of Domains.dat"):
        make_plan(c, parse_desired("example.com", [A]))


@pytest.mark.parametrize(
    ("pattern", "names"),
    [
        ("mail-{n}.{domain}", ["mail-2.example.com", "mail-3.example.com"]),
        ("smtp{n}.{domain}", ["smtp2.example.com", "smtp3.example.com"]),
        ("{n}.mx.{domain}", ["2.mx.example.com", "3.mx.example.com"]),
        ("out-{n}.example.net", ["out-2.example.net", "out-3.example.net"]),
    ],
)
def test_pattern_variants(pattern: str, names: list[str]) -> None:
    c = config(default(ip=A, bind=True), bound("mail-2.example.com", B))
    p = plan(c, A, C, D, pattern=pattern)
    assert [a.domain for a in p.assignments if not a.is_default][:2] == names
    if pattern != "mail-{n}.{domain}":  # the old mail-2 is foreign to this pattern: noted only
        assert not section_changes(p, "mail-2.example.com")
        assert any("mail-2.example.com is bound to 127.0.0.2" in n for n in p.notes)


def test_default_domain_named_otherwise() -> None:
    c = config(default("corp.local", ip=A, bind=True, fqdn="mx.corp.local"))
    p = plan(c, A, B)
    assert any(
        "The Default Domain is corp.local, not example.com" in n and "never renames" in n
        for n in p.notes
    )
    assert [(ch.section, ch.key) for ch in p.changes if ch.file == INI] == []
    assert p.dns[0] == DnsRecord("corp.local", "A", A)  # default layout here has no FQDN key


def test_default_domain_fqdn_names_its_records() -> None:
    keys = replace(DEFAULT_KEYS, fqdn="FQDN")
    d = domain("example.com", A, bind=True, fqdn="mx.example.com", keys=keys, is_default=True)
    p = plan(config(d, default_keys=keys), A)
    assert p.dns == (
        DnsRecord("mx.example.com", "A", A),
        DnsRecord("1.0.0.127.in-addr.arpa", "PTR", "mx.example.com"),
    )
    assert p.changes == ()  # the Default Domain's FQDN is never written


def test_inputs_and_desired_are_carried() -> None:
    inputs = (InputFile("MDaemon.ini", "ab" * 32), InputFile("Domains.dat", ""))
    c = replace(current(), inputs=inputs)
    p = plan(c, A)
    assert p.inputs == inputs
    assert p.desired.slots == (Slot(v4=IPv4Address(A)),)


def test_bound_leftover_without_address_is_unbound() -> None:
    c = config(default(ip=A, bind=True), domain("mail-2.example.com", bind=True))
    p = plan(c, A)
    assert sets(p) == [(DAT, "mail-2.example.com", "Bind", "Yes", "No")]
    assert p.changes[0].reason == "mail-2.example.com binds no desired IP: unbind it"
    assert "mail-2.example.com" not in notes(p)  # nothing it held to show
