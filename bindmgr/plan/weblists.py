"""The web servers' own bind lists beside the plan: kept in step with it, and where they narrow
the listeners they govern (what `check` and `verify` probe).

A blank list, or one with `*`, listens on every domain IP and is left alone; a list of loopback
addresses only (a reverse proxy in front) is left alone and said so; otherwise an address the
plan takes from the binding leaves the list and one it adds joins it. Pure: values in, values out.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass, replace

from bindmgr.model import BindList, Change, Config, Conflict, IPAddress, Listener
from bindmgr.read.weblists import entry_text, joined


def _listing(ips: Iterable[IPAddress]) -> str:
    return ", ".join(str(ip) for ip in ips)


@dataclass(frozen=True, slots=True)
class Kept:
    """What keeping the lists in step adds to a plan."""

    changes: tuple[Change, ...] = ()
    notes: tuple[str, ...] = ()
    conflicts: tuple[Conflict, ...] = ()


def keep_in_step(
    lists: Sequence[BindList], before: Collection[IPAddress], after: Sequence[IPAddress]
) -> Kept:
    """Edit each list that narrows: `before` is what the domains bind now, `after` what they
    bind once the plan is written (in plan order)."""
    removed = {ip for ip in before if ip not in after}
    added = [ip for ip in dict.fromkeys(after) if ip not in before]
    changes: list[Change] = []
    notes: list[str] = []
    conflicts: list[Conflict] = []
    for bind_list in lists:
        if not bind_list.narrows:
            continue
        label, where = bind_list.label, bind_list.where
        raw = bind_list.raw or ""
        if bind_list.loopback_only:
            notes.append(
                f"{label}'s bind list ({where}: {raw}) names loopback addresses only (a reverse "
                f"proxy in front, as is common): bindmgr leaves it alone, and {label} keeps "
                "listening there only."
            )
            continue
        entries = bind_list.entries
        kept = [e for e in entries if e.ip not in removed]
        dropped = list(dict.fromkeys(e.ip for e in entries if e.ip in removed))
        have = {e.ip for e in entries}
        joining = [ip for ip in added if ip not in have]
        foreign = [
            e.ip for e in kept if e.ip is not None and not e.ip.is_loopback and e.ip not in after
        ]
        if foreign:
            notes.append(
                f"{label}'s bind list ({where}) names {_listing(dict.fromkeys(foreign))}, which "
                f"no domain binds after this plan: bindmgr keeps them there ({label} goes on "
                "listening on them, or fails to if the host lacks them); remove them in MDaemon "
                "if they are not wanted."
            )
        if not dropped and not joining:
            continue
        if not kept and not joining:
            conflicts.append(
                Conflict(
                    f"{label} bind list",
                    f"the plan takes {_listing(dropped)} from the binding, every address of "
                    f"{label}'s bind list ({where}: {raw}); an empty list would make {label} "
                    "listen on every domain IP: set the list in MDaemon to the addresses "
                    f"{label} should listen on (or blank it for every domain IP), then rerun",
                )
            )
            continue
        ports = {e.port for e in entries}
        port = next(iter(ports)) if len(ports) == 1 else None
        value = joined([*(e.text for e in kept), *(entry_text(ip, port) for ip in joining)], raw)
        why = []
        if joining:
            why.append(f"{_listing(joining)} joins the binding: add it")
        if dropped:
            why.append(f"{_listing(dropped)} leaves the binding: remove it")
        reason = f"{label}'s bind list keeps in step: " + "; ".join(why)
        changes.append(Change(where.file, where.section, where.key, bind_list.raw, value, reason))
    return Kept(tuple(changes), tuple(notes), tuple(conflicts))


@dataclass(frozen=True, slots=True)
class Narrowed:
    """A bind list that narrows its listeners: the (address, listener) pairs they listen on."""

    bind_list: BindList
    listeners: tuple[Listener, ...]  # the governed listeners of the layout, the main one first
    pairs: tuple[tuple[IPAddress, Listener], ...]

    def note(self, pairs: Sequence[tuple[IPAddress, Listener]] | None = None) -> str:
        """Which listeners the list narrows, and to what (`pairs`: those checked)."""
        shown = self.pairs if pairs is None else pairs
        names = ", ".join(lst.label or lst.service for lst in self.listeners)
        bl = self.bind_list
        where = f"{bl.label}'s bind list ({bl.where}: {bl.raw})"
        if not shown:
            return f"{names} not checked: {where} names none of the addresses checked"
        at = ", ".join(f"{entry_text(ip, lst.port)} {lst.label}" for ip, lst in shown)
        return f"{names} checked only where {where} lets them listen: {at}"


def narrowings(config: Config) -> tuple[Narrowed, ...]:
    """Every list that narrows, with its pairs. An `IP` entry is every governed listener on IP;
    an `IP:port` entry is one socket: the governed listener on that port, or the main one moved
    to that port when none has it."""
    found: list[Narrowed] = []
    for bind_list in config.bind_lists:
        governed = tuple(
            lst
            for service in bind_list.services
            for lst in config.listeners
            if lst.service == service
        )
        if not bind_list.narrows or not governed:
            continue
        pairs: dict[tuple[IPAddress, str, int], tuple[IPAddress, Listener]] = {}
        for entry in bind_list.entries:
            assert entry.ip is not None  # a list that narrows has no `*`
            if entry.port is None:
                chosen = list(governed)
            else:
                same = [lst for lst in governed if lst.port == entry.port]
                chosen = same[:1] or [replace(governed[0], port=entry.port)]
            for lst in chosen:
                pairs.setdefault((entry.ip, lst.service, lst.port), (entry.ip, lst))
        found.append(Narrowed(bind_list, governed, tuple(pairs.values())))
    return tuple(found)


def narrowed_services(found: Iterable[Narrowed]) -> frozenset[str]:
    return frozenset(lst.service for n in found for lst in n.listeners)


ProbeGroup = tuple[tuple[IPAddress, ...], tuple[Listener, ...]]


def probe_groups(
    ips: Sequence[IPAddress], config: Config, *, within: Collection[IPAddress] | None = None
) -> tuple[tuple[ProbeGroup, ...], tuple[str, ...]]:
    """What a bind check probes: `ips` x the listeners no list narrows, then each narrowed pair
    (only those on `within`, when given); and a note per narrowing list."""
    found = narrowings(config)
    narrowed = narrowed_services(found)
    groups: list[ProbeGroup] = [
        (tuple(ips), tuple(lst for lst in config.listeners if lst.service not in narrowed))
    ]
    notes: list[str] = []
    for item in found:
        pairs = [p for p in item.pairs if within is None or p[0] in within]
        notes.append(item.note(pairs))
        by_ip: dict[IPAddress, list[Listener]] = {}
        for ip, lst in pairs:
            by_ip.setdefault(ip, []).append(lst)
        groups += [((ip,), tuple(listeners)) for ip, listeners in by_ip.items()]
    return tuple(g for g in groups if g[0] and g[1]), tuple(notes)
