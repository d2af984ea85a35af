"""Apply a plan's changes to `Config` values in memory: what the config reads back after the writes.

A model of the writer, for planner tests that build `Config` values by hand. It understands
only the keys the layout names and the values the planner writes.
"""

from __future__ import annotations

import ipaddress
from dataclasses import replace
from ipaddress import IPv4Address, IPv6Address

from bindmgr.errors import PlanError
from bindmgr.model import Action, Change, Config, Domain, DomainKeys, Plan

_BOOLS = {"yes": True, "no": False}


def _same(a: str | None, b: str | None) -> bool:
    return a is not None and b is not None and a.casefold() == b.casefold()


def _with_raw(domain: Domain, key: str, value: str | None) -> tuple[tuple[str, str], ...]:
    """The raw pairs with `key` set to `value` (kept in place) or removed (value None)."""
    raw = []
    found = False
    for k, v in domain.raw:
        if _same(k, key):
            if value is not None and not found:
                raw.append((k, value))
            found = True
        else:
            raw.append((k, v))
    if not found and value is not None:
        raw.append((key, value))
    return tuple(raw)


def _apply_key(domain: Domain, keys: DomainKeys, change: Change) -> Domain:
    key = change.key
    if key is None:
        raise PlanError(f"change to {change.file} [{change.section}] has no key: {change.reason}")
    value = change.new if change.action is Action.SET else None
    if change.action is Action.SET and value is None:
        raise PlanError(f"SET of {change.file} [{change.section}] {key} has no value")
    text = (value or "").strip()
    where = f"{change.file} [{change.section}] {key}"
    updated = replace(domain, raw=_with_raw(domain, key, value))
    if _same(key, keys.ip):
        ip = _address(text, where)
        if ip is not None and not isinstance(ip, IPv4Address):
            raise PlanError(f"{where}: {text} is not an IPv4 address")
        return replace(updated, ip=ip)
    if _same(key, keys.ipv6):
        ip6 = _address(text, where)
        if ip6 is not None and not isinstance(ip6, IPv6Address):
            raise PlanError(f"{where}: {text} is not an IPv6 address")
        return replace(updated, ipv6=ip6)
    if _same(key, keys.bind):
        if text and text.casefold() not in _BOOLS:
            raise PlanError(f"{where}: {text!r} is not Yes or No")
        return replace(updated, bind=_BOOLS.get(text.casefold(), False))
    if _same(key, keys.fqdn):
        return replace(updated, fqdn=text or None)
    raise PlanError(f"{where} is not a key the layout manages")


def _address(text: str, where: str) -> IPv4Address | IPv6Address | None:
    try:
        return ipaddress.ip_address(text) if text else None
    except ValueError:
        raise PlanError(f"{where}: {text!r} is not an IP address") from None


def simulate(config: Config, plan: Plan) -> Config:
    """The Config that reading the files back would give after `plan`'s changes are written."""
    default = config.default
    domains = list(config.domains)
    dk, sk = config.default_keys, config.domain_keys
    for change in plan.changes:
        if change.file == dk.file and _same(change.section, dk.section or default.name):
            if change.action is Action.DELETE_SECTION:
                raise PlanError(f"a plan may not delete the Default Domain's [{change.section}]")
            default = _apply_key(default, dk, change)
            continue
        if change.file != sk.file:
            raise PlanError(f"change to {change.file} [{change.section}] matches no domain file")
        index = next((i for i, d in enumerate(domains) if _same(d.name, change.section)), None)
        if change.action is Action.DELETE_SECTION:
            if index is not None:
                del domains[index]
            continue
        if index is None:
            domains.append(Domain(name=change.section))
            index = len(domains) - 1
        domains[index] = _apply_key(domains[index], sk, change)
    return replace(config, default=default, domains=tuple(domains))
