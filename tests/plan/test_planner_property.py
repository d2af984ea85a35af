"""Properties of make_plan over random configs: idempotence and "never touch what is not ours".

The configs are written to real INI bytes and read back through the shipped layout, and "apply"
is the real writer: plan -> edit the bytes -> read them again -> plan again is empty.
"""

from __future__ import annotations

from ipaddress import IPv4Address, IPv6Address

from hypothesis import given, settings
from hypothesis import strategies as st

from bindmgr.model import Action, Config, Desired, Domain, Slot
from bindmgr.plan.names import compile_pattern
from bindmgr.plan.planner import make_plan
from tests.support.plan import SHIPPED, applied, domain_facts, read_back, write_config

DEFAULT_KEYS = SHIPPED.default_keys
DOMAIN_KEYS = SHIPPED.domain_keys

V4 = [IPv4Address(f"127.0.0.{i}") for i in range(1, 8)]
V6 = [IPv6Address(f"2001:db8::{i}") for i in range(1, 5)]
PATTERNS = ["mail-{n}.{domain}", "smtp{n}.{domain}"]
FOREIGN = ["partner.example.net", "mail-02.example.com", "mail-1.example.com", "mail-2.example.org"]
DEFAULT_NAMES = ["example.com", "Example.COM", "corp.test", "mail-2.example.com"]
OTHER_KEYS = ["MaxUsers", "EnableAntiVirus"]


def _case(draw: st.DrawFn, name: str) -> str:
    return name.upper() if draw(st.booleans()) else name


@st.composite
def domains(draw: st.DrawFn, name: str, *, is_default: bool = False) -> Domain:
    keys = DEFAULT_KEYS if is_default else DOMAIN_KEYS
    ip = draw(st.none() | st.sampled_from(V4))
    ipv6 = draw(st.none() | st.sampled_from(V6))
    bind = draw(st.booleans())
    fqdn = None if is_default else draw(st.sampled_from([None, name, name.upper(), "x.test"]))
    raw: list[tuple[str, str]] = []
    if ip is not None:
        raw.append((keys.ip, str(ip)))
    elif draw(st.booleans()):
        raw.append((keys.ip, ""))  # a blank value reads as "no address"
    raw.append((keys.bind, draw(st.sampled_from(["Yes", "yes"] if bind else ["No", "NO"]))))
    if ipv6 is not None and keys.ipv6 is not None:
        raw.append((keys.ipv6, str(ipv6)))
    else:
        ipv6 = None
    if fqdn is not None and keys.fqdn is not None:
        raw.append((keys.fqdn, fqdn))
    other = () if is_default else tuple(draw(st.lists(st.sampled_from(OTHER_KEYS), unique=True)))
    return Domain(name, ip, ipv6, bind, fqdn, is_default, tuple(raw), other)


@st.composite
def configs(draw: st.DrawFn) -> Config:
    default_name = draw(
        st.sampled_from(["example.com", "Example.COM", "corp.test", "mail-2.example.com"])
    )
    names = [f"mail-{n}.example.com" for n in range(2, 7)] + [
        f"smtp{n}.example.com" for n in (2, 3)
    ]
    chosen = draw(st.lists(st.sampled_from(names + FOREIGN), unique=True, max_size=7))
    secondary = [draw(domains(_case(draw, name))) for name in chosen]
    return Config(
        default=draw(domains(default_name, is_default=True)),
        domains=tuple(draw(st.permutations(secondary))),
        listeners=(),
        default_keys=DEFAULT_KEYS,
        domain_keys=DOMAIN_KEYS,
    )


@st.composite
def desireds(draw: st.DrawFn) -> Desired:
    v4 = draw(st.lists(st.sampled_from(V4), unique=True, max_size=5))
    v6 = draw(st.lists(st.sampled_from(V6), unique=True, max_size=3))
    slots: list[Slot] = [Slot(v4=a) for a in v4]
    for address in v6:  # each IPv6 address joins an IPv4 slot or stands alone
        index = draw(st.integers(0, len(slots)))
        if index < len(slots) and slots[index].v6 is None:
            slots[index] = Slot(v4=slots[index].v4, v6=address)
        else:
            slots.append(Slot(v6=address))
    if not slots:
        slots.append(Slot(v4=V4[0]))
    return Desired(
        domain="example.com",
        slots=tuple(draw(st.permutations(slots))),
        pattern=draw(st.sampled_from(PATTERNS)),
        prune=draw(st.booleans()),
    )


@settings(max_examples=300, deadline=None)
@given(configs(), desireds())
def test_plan_touches_only_its_own_domains_and_is_idempotent(drawn: Config, d: Desired) -> None:
    c = read_back(write_config(drawn, SHIPPED), SHIPPED)
    assert domain_facts(c) == domain_facts(drawn)  # the files hold exactly the drawn config
    p = make_plan(c, d)
    names = compile_pattern(d.pattern, d.domain)
    foreign = {x.name.casefold() for x in c.domains if names.number(x.name) is None}
    seen_n: list[int] = []
    for change in p.changes:
        if change.file == DEFAULT_KEYS.file:
            assert change.section == DEFAULT_KEYS.section
            assert change.key in DEFAULT_KEYS.managed()
            assert change.action is Action.SET
            assert not seen_n, "Default Domain changes come first"
            continue
        assert change.file == DOMAIN_KEYS.file
        assert change.section.casefold() not in foreign
        n = names.number(change.section)
        assert n is not None
        assert not seen_n or seen_n[-1] <= n, "changes are ordered by n"
        seen_n.append(n)
        if change.action is Action.DELETE_SECTION:
            old = next(x for x in c.domains if x.name == change.section)
            assert d.prune
            assert not old.other_keys
        else:
            assert change.key in DOMAIN_KEYS.managed()

    assert make_plan(c, d) == p  # deterministic
    if p.conflicts:
        return
    after = applied(c, p, SHIPPED)
    again = make_plan(after, d)
    assert again.changes == ()
    assert [(a.domain, a.slot) for a in again.assignments] == [
        (a.domain, a.slot) for a in p.assignments if a.note not in ("unbound", "deleted (prune)")
    ]
    assert all(a.note == "unchanged" for a in again.assignments)
    # after applying, each slot is bound by exactly its domain, and no domain of ours holds more
    by_name = {x.name.casefold(): x for x in after.all_domains()}
    for a in again.assignments:
        got = by_name[a.domain.casefold()]
        assert got.bind
        assert (got.ip, got.ipv6) == (a.slot.v4, a.slot.v6)
    for x in after.domains:
        if names.number(x.name) is not None and x.name not in {a.domain for a in again.assignments}:
            assert (x.ip, x.ipv6, x.bind) == (None, None, False)
    # foreign domains read back exactly as before
    assert [x for x in after.domains if x.name.casefold() in foreign] == [
        x for x in c.domains if x.name.casefold() in foreign
    ]
