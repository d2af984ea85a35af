"""Config fixtures for the planner tests, built directly from model values (no files)."""

from __future__ import annotations

from ipaddress import IPv4Address, IPv6Address, ip_address

from bindmgr.model import Change, Config, Domain, DomainKeys, Plan

DEFAULT_KEYS = DomainKeys(
    file="MDaemon.ini", section="Domain", ip="DomainIP", bind="BindToDomainIP", ipv6="DomainIP6"
)
DOMAIN_KEYS = DomainKeys(
    file="Domains.dat", section=None, ip="IP", bind="Bind", ipv6="IP6", fqdn="FQDN"
)


def domain(
    name: str,
    ip: str | None = None,
    *,
    ipv6: str | None = None,
    bind: bool | None = None,
    fqdn: str | None = None,
    other: tuple[str, ...] = (),
    keys: DomainKeys = DOMAIN_KEYS,
    bind_raw: str | None = None,
    is_default: bool = False,
) -> Domain:
    """A domain as the reader would return it; raw holds the managed keys that are given."""
    raw: list[tuple[str, str]] = []
    v4 = IPv4Address(ip) if ip is not None else None
    v6 = IPv6Address(ipv6) if ipv6 is not None else None
    if v4 is not None:
        raw.append((keys.ip, ip or ""))
    if bind is not None or bind_raw is not None:
        raw.append((keys.bind, bind_raw or ("Yes" if bind else "No")))
    if v6 is not None and keys.ipv6 is not None:
        raw.append((keys.ipv6, ipv6 or ""))
    if fqdn is not None and keys.fqdn is not None:
        raw.append((keys.fqdn, fqdn))
    return Domain(
        name=name,
        ip=v4,
        ipv6=v6 if keys.ipv6 is not None else None,
        bind=bool(bind) if bind_raw is None else bind_raw.casefold() == "yes",
        fqdn=fqdn if keys.fqdn is not None else None,
        is_default=is_default,
        raw=tuple(raw),
        other_keys=other,
    )


def config(
    default: Domain | None = None,
    *domains: Domain,
    default_keys: DomainKeys = DEFAULT_KEYS,
    domain_keys: DomainKeys = DOMAIN_KEYS,
) -> Config:
    return Config(
        default=default or domain("example.com", keys=default_keys),
        domains=tuple(domains),
        listeners=(),
        default_keys=default_keys,
        domain_keys=domain_keys,
    )


def default(
    name: str = "example.com",
    ip: str | None = None,
    *,
    bind: bool | None = None,
    bind_raw: str | None = None,
    fqdn: str | None = None,
) -> Domain:
    """The Default Domain (read through DEFAULT_KEYS, which has no FQDN key)."""
    keys = DEFAULT_KEYS
    return domain(name, ip, bind=bind, bind_raw=bind_raw, fqdn=fqdn, keys=keys, is_default=True)


def sets(plan: Plan) -> list[tuple[str, str, str | None, str | None, str | None]]:
    """(file, section, key, old, new) of every change, for compact table assertions."""
    return [(c.file, c.section, c.key, c.old, c.new) for c in plan.changes]


def section_changes(plan: Plan, section: str) -> list[Change]:
    return [c for c in plan.changes if c.section.casefold() == section.casefold()]


def addr(text: str) -> IPv4Address | IPv6Address:
    return ip_address(text)
