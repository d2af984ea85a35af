"""Config fixtures for the planner tests, built from model values, and the real round trip.

`write_config` puts a Config into INI bytes and `read_back` reads them through a layout, so the
tests can "apply" a plan with the real writer (`apply_changes`) and plan again.
"""

from __future__ import annotations

import dataclasses
from ipaddress import IPv4Address, IPv6Address, ip_address

from bindmgr.apply.edit import apply_changes
from bindmgr.ini.file import IniFile
from bindmgr.model import Change, Config, Domain, DomainKeys, Plan
from bindmgr.read.config import read_config
from bindmgr.read.layout import Layout, default_layout_path, parse_layout

DEFAULT_KEYS = DomainKeys(
    file="MDaemon.ini", section="Domain", ip="DomainIP", bind="BindToDomainIP", ipv6="DomainIP6"
)
DOMAIN_KEYS = DomainKeys(
    file="Domains.dat", section=None, ip="IP", bind="Bind", ipv6="IP6", fqdn="FQDN"
)
SHIPPED = parse_layout(default_layout_path().read_text("utf-8"), "layout.ini")
# The shipped layout with the keys these fixtures use.
LAYOUT = dataclasses.replace(SHIPPED, default_keys=DEFAULT_KEYS, domain_keys=DOMAIN_KEYS)


def write_config(c: Config, layout: Layout = LAYOUT) -> dict[str, bytes]:
    """The INI files that hold `c`, as MDaemon would keep them (the reader's inverse)."""
    dk, sk = layout.default_keys, layout.domain_keys
    main = [f"[{dk.section}]", f"{layout.default_name_key}={c.default.name}"]
    main += [f"{key}={value}" for key, value in c.default.raw]
    domains: list[str] = []
    for x in c.domains:
        domains.append(f"[{x.name}]")
        domains += [f"{key}={value}" for key, value in x.raw]
        domains += [f"{key}=1" for key in x.other_keys]

    def text(lines: list[str]) -> bytes:
        return "".join(f"{line}\r\n" for line in lines).encode("cp1252")

    return {dk.file: text(main), sk.file: text(domains)}


def read_back(files: dict[str, bytes], layout: Layout = LAYOUT) -> Config:
    scanned = {name: IniFile.from_bytes(data, name) for name, data in files.items()}
    return read_config(scanned, layout).config


def domain_facts(c: Config) -> list[tuple[object, ...]]:
    """What the planner reads of each domain, in order (listeners and inputs left out)."""
    return [(x.name, x.ip, x.ipv6, x.bind, x.fqdn, x.raw, x.other_keys) for x in c.all_domains()]


def applied(c: Config, plan: Plan, layout: Layout | None = None) -> Config:
    """`c` after `plan` is applied by the real writer and the files are read again.

    The layout is the shipped one with `c`'s own keys unless one is given.
    """
    if layout is None:
        layout = dataclasses.replace(
            SHIPPED, default_keys=c.default_keys, domain_keys=c.domain_keys
        )
    files = write_config(c, layout)
    assert domain_facts(read_back(files, layout)) == domain_facts(c), "not a config files hold"
    return read_back(files | apply_changes(files, plan.changes), layout)


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
