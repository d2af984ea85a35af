"""What MDaemon should answer once a binding is in place: the name it greets with on each address.

MDaemon answers a connection as the domain bound to the address it arrived on, with that
domain's host name: its FQDN, else the Default Domain's FQDN, else the Default Domain's name.
Pure: a `Config` (as the files read, or as they will read once a plan is written) in, values out.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Mapping

from bindmgr.model import Change, Config, DomainKeys, IPAddress


def greeting_names(config: Config) -> dict[IPAddress, str]:
    """Every bound address -> the host name MDaemon greets with there, in domain order."""
    fallback = config.default.fqdn or config.default.name
    names: dict[IPAddress, str] = {}
    for domain in config.all_domains():
        if not domain.bind:
            continue
        for ip in domain.addresses():
            names.setdefault(ip, domain.fqdn or fallback)
    return names


def removed_addresses(
    changes: Iterable[Change], keys: Iterable[DomainKeys], still: Mapping[IPAddress, object]
) -> tuple[IPAddress, ...]:
    """Addresses a plan's changes took away: old values of address keys not bound any more."""
    address_keys = {k.casefold() for dk in keys for k in (dk.ip, dk.ipv6) if k is not None}
    found: dict[IPAddress, None] = {}
    for change in changes:
        if change.key is None or change.key.casefold() not in address_keys or not change.old:
            continue
        try:
            ip = ipaddress.ip_address(change.old.strip())
        except ValueError:
            continue
        if ip not in still:
            found[ip] = None
    return tuple(found)
