"""Pure planning of the multi-IP trick: a `Config` and a `Desired` in, a `Plan` out.

Slot 1 binds the Default Domain, every further slot a `mail-N` secondary domain; only domains
the pattern names are ever changed. No files, no sockets, no printing.
"""

from __future__ import annotations

from dataclasses import dataclass
from ipaddress import IPv4Address, IPv6Address

from bindmgr.errors import LayoutError, PlanError
from bindmgr.model import (
    Action,
    Assignment,
    Change,
    Config,
    Conflict,
    Desired,
    DnsRecord,
    Domain,
    DomainKeys,
    IPAddress,
    Plan,
    Slot,
)
from bindmgr.plan.names import FIRST_N, NamePattern, compile_pattern
from bindmgr.plan.weblists import keep_in_step

LOGIN_NOTE = (
    "Users must log in with their full e-mail address (user@{domain}): on an IP shared by "
    "several domains MDaemon cannot tell from the address which domain a bare user name means."
)
RESTART_NOTE = (
    "MDaemon opens its listening sockets at start-up: restart it (e.g. RESTART.SEM in the App "
    "folder) after applying these changes."
)


@dataclass(frozen=True, slots=True)
class _Target:
    """One domain that binds one slot after the plan."""

    index: int  # 1-based slot number
    slot: Slot
    name: str  # as MDaemon spells it (the section name for secondary domains)
    n: int | None  # None for the Default Domain
    current: Domain | None  # None for a new domain
    how: str  # "default", "kept", "reused" or "new"


def _yes_no(flag: bool) -> str:
    return "Yes" if flag else "No"


def _v6(domain: Domain | None, keys: DomainKeys) -> IPv6Address | None:
    return domain.ipv6 if domain is not None and keys.ipv6 is not None else None


def _joined(addresses: tuple[IPAddress, ...]) -> str:
    return "+".join(str(a) for a in addresses)


class _Planner:
    """Holds the inputs of one make_plan call while the plan is assembled."""

    def __init__(self, config: Config, desired: Desired, names: NamePattern) -> None:
        self.config = config
        self.desired = desired
        self.names = names
        self.dk = config.default_keys
        self.sk = config.domain_keys
        self.notes: list[str] = []
        self.conflicts: list[Conflict] = []
        self.owned: dict[int, Domain] = {}
        self.foreign: list[Domain] = []
        self.owner: dict[IPAddress, str] = {}  # desired address -> name of the domain binding it

    # -- classification -------------------------------------------------------------------

    def classify(self) -> None:
        default = self.config.default
        seen: dict[str, Domain] = {default.name.casefold(): default}
        for domain in self.config.domains:
            first = seen.get(domain.name.casefold())
            if first is not None:
                self.conflicts.append(
                    Conflict(
                        domain.name,
                        f"domain {domain.name} appears twice (also as {first.name}); MDaemon may "
                        f"read either: remove one in {self.sk.file} and rerun",
                    )
                )
                continue
            seen[domain.name.casefold()] = domain
            n = self.names.number(domain.name)
            if n is None:
                self.foreign.append(domain)
            else:
                self.owned[n] = domain
        n = self.names.number(default.name)
        if n is not None:
            self.notes.append(
                f"The Default Domain {default.name} is named like the pattern; "
                f"it keeps slot 1 and n={n} is not used for a secondary domain."
            )
        if default.name.casefold() != self.desired.domain.casefold():
            self.notes.append(
                f"The Default Domain is {default.name}, not {self.desired.domain}: it binds slot 1 "
                f"under its own name (bindmgr never renames it); the pattern's names are under "
                f"{self.desired.domain}."
            )

    def check_layout(self) -> None:
        for index, slot in enumerate(self.desired.slots, start=1):
            keys = self.dk if index == 1 else self.sk
            if slot.v6 is None or keys.ipv6 is not None:
                continue
            whose = (
                f"the Default Domain ({keys.file} [{keys.section}])"
                if index == 1
                else f"secondary domains ({keys.file})"
            )
            raise PlanError(
                f"slot {index} ({slot}) has IPv6 address {slot.v6}, but the layout has no IPv6 "
                f"key for {whose}, so it cannot be written",
                hint="add the IPv6 key to the layout"
                + (", or move the IPv6 address to a later slot" if index == 1 else ""),
            )

    # -- assignment ---------------------------------------------------------------------

    def assign(self) -> tuple[list[_Target], list[int]]:
        """Targets for every slot and the owned n left without one (to unbind)."""
        slots = self.desired.slots
        default = self.config.default
        targets = [_Target(1, slots[0], default.name, None, default, "default")]
        # 1. An address that stays keeps its name: match slots to owned domains holding them.
        ranked: list[tuple[tuple[int, int, bool, int, int], int, int]] = []
        for index, slot in enumerate(slots[1:], start=2):
            for n, domain in self.owned.items():
                v4 = slot.v4 is not None and domain.ip == slot.v4
                v6 = slot.v6 is not None and _v6(domain, self.sk) == slot.v6
                if v4 or v6:
                    ranked.append(((-(v4 + v6), -v4, not domain.bind, n, index), index, n))
        matched: dict[int, int] = {}
        for _, index, n in sorted(ranked):
            if index not in matched and n not in matched.values():
                matched[index] = n
        free = sorted(set(self.owned) - set(matched.values()))
        existing = {d.name.casefold() for d in self.config.all_domains()}
        next_n = FIRST_N
        for index, slot in enumerate(slots[1:], start=2):
            if index in matched:
                n, how = matched[index], "kept"
            elif free:  # 2. a replaced address reuses the lowest freed name
                n, how = free.pop(0), "reused"
            else:  # 3. a new name: the smallest n whose name no domain has
                while self.names.name(next_n).casefold() in existing:
                    next_n += 1
                n, how = next_n, "new"
                next_n += 1
            current = self.owned.get(n)
            name = current.name if current is not None else self.names.name(n)
            targets.append(_Target(index, slot, name, n, current, how))
        for target in targets:
            for ip in target.slot.addresses():
                self.owner[ip] = target.name
        return targets, free

    # -- changes ------------------------------------------------------------------------

    def _address_changes(
        self, keys: DomainKeys, section: str, current: Domain | None, want: Slot | None, why: str
    ) -> list[Change]:
        """IP/IPv6 changes bringing `current` to `want` (None: clear both)."""
        name = section if current is None else current.name
        pairs: list[tuple[str | None, IPAddress | None, IPAddress | None]] = [
            (keys.ip, current.ip if current else None, want.v4 if want else None),
            (keys.ipv6, _v6(current, keys), want.v6 if want else None),
        ]
        changes = []
        for key, have, wanted in pairs:
            if key is None or have == wanted:
                continue
            old = current.raw_value(key) if current is not None else None
            if wanted is not None:
                changes.append(Change(keys.file, section, key, old, str(wanted), why))
                continue
            assert have is not None  # have != wanted and wanted is None
            reason = self._clear_reason(have, name)
            changes.append(Change(keys.file, section, key, old, "", reason))
        return changes

    def _clear_reason(self, ip: IPAddress, name: str) -> str:
        owner = self.owner.get(ip)
        if owner is not None:
            return f"{ip} moves to {owner}: clear it from {name}"
        return (
            f"{ip} dropped from the desired IPs: clear it from {name} (WorldClient/WebAdmin "
            "with blank bind lists listen on every IP a domain holds)"
        )

    def bind_changes(self, target: _Target) -> list[Change]:
        keys = self.dk if target.n is None else self.sk
        section = (keys.section or target.name) if target.n is None else target.name
        cur = target.current
        what = "the Default Domain " if target.n is None else ""
        why = f"slot {target.index} ({target.slot}) binds {what}{target.name}"
        changes = self._address_changes(keys, section, cur, target.slot, why)
        if cur is None or not cur.bind:
            old = cur.raw_value(keys.bind) if cur is not None else None
            changes.append(Change(keys.file, section, keys.bind, old, _yes_no(True), why))
        if target.n is not None and keys.fqdn is not None:
            have = cur.fqdn if cur is not None else None
            if have is None or have.casefold() != target.name.casefold():
                old = cur.raw_value(keys.fqdn) if cur is not None else None
                reason = f"slot {target.index} ({target.slot}): {target.name}'s FQDN is its name"
                changes.append(Change(keys.file, section, keys.fqdn, old, target.name, reason))
        return changes

    def unbind_changes(self, domain: Domain) -> list[Change]:
        keys, section = self.sk, domain.name
        held = tuple(a for a in (domain.ip, _v6(domain, keys)) if a is not None)
        if self.desired.prune and not domain.other_keys:
            reason = (
                f"{section} binds no desired IP and holds only bindmgr's keys: delete it (prune)"
            )
            return [Change(keys.file, section, None, None, None, reason, Action.DELETE_SECTION)]
        if self.desired.prune:
            self.notes.append(
                f"{section} is not deleted although prune was asked: its section also holds "
                f"{', '.join(domain.other_keys)}; remove those in MDaemon first if the domain "
                "is unused."
            )
        else:
            self.notes.append(f"{section} is left unbound; plan with prune to delete it.")
        changes = self._address_changes(keys, section, domain, None, "")
        if domain.bind:
            dropped = [a for a in held if a not in self.owner]
            if dropped:
                why = f"{_joined(tuple(dropped))} dropped from the desired IPs: unbind {section}"
            elif held:
                why = f"{_joined(held)} moved to other domains: unbind {section}"
            else:
                why = f"{section} binds no desired IP: unbind it"
            old = domain.raw_value(keys.bind)
            changes.append(Change(keys.file, section, keys.bind, old, _yes_no(False), why))
        return changes

    def bound_before_after(self) -> tuple[list[IPAddress], list[IPAddress]]:
        """What the domains bind now, and once the plan is written (the desired addresses, then
        those of bound domains bindmgr does not manage)."""
        before = [
            a
            for d in self.config.all_domains()
            if d.bind
            for a in (d.ip, _v6(d, self.dk if d.is_default else self.sk))
            if a is not None
        ]
        kept = [a for d in self.foreign if d.bind for a in (d.ip, _v6(d, self.sk)) if a]
        return before, [*self.desired.addresses(), *kept]

    # -- report parts -------------------------------------------------------------------

    def check_foreign(self) -> None:
        for domain in self.foreign:
            for ip in (domain.ip, _v6(domain, self.sk)):
                if ip is None:
                    continue
                owner = self.owner.get(ip)
                if owner is not None and domain.bind:
                    self.conflicts.append(
                        Conflict(
                            str(ip),
                            f"{ip} is already bound to {domain.name} ({self.sk.file} "
                            f"[{domain.name}]), a domain bindmgr does not manage and never "
                            f"changes: unbind {domain.name} or give it another IP in MDaemon, "
                            f"or remove {ip} from the desired IPs, then rerun",
                        )
                    )
                elif owner is not None:
                    self.notes.append(
                        f"{domain.name} also holds {ip} (unbound): MDaemon answers connections "
                        f"on {ip} as whichever domain owns it, so they may greet as "
                        f"{domain.name} rather than {owner}; clear its IP in MDaemon to avoid that."
                    )
                elif domain.bind:
                    self.notes.append(
                        f"{domain.name} is bound to {ip}, which is not a desired IP: MDaemon keeps "
                        f"listening there (bindmgr does not change {domain.name})."
                    )
                else:
                    self.notes.append(
                        f"{domain.name} holds {ip} unbound: WorldClient/WebAdmin with blank bind "
                        "lists may still listen on it."
                    )

    def dns(self, targets: list[_Target]) -> list[DnsRecord]:
        records: list[DnsRecord] = []
        for target in targets:
            name = target.name
            if target.n is None and self.dk.fqdn is not None and self.config.default.fqdn:
                name = self.config.default.fqdn
            for ip in target.slot.addresses():
                rtype = "A" if isinstance(ip, IPv4Address) else "AAAA"
                records.append(DnsRecord(name, rtype, str(ip)))
            records.extend(
                DnsRecord(ip.reverse_pointer, "PTR", name) for ip in target.slot.addresses()
            )
        return records


def _assignment_note(target: _Target, changed: bool) -> str:
    if target.how == "new":
        return "new domain"
    cur = target.current
    assert cur is not None  # only new targets have no current domain
    before = tuple(a for a in (cur.ip, cur.ipv6) if a is not None)
    if not changed:
        note = "unchanged"
    elif set(before) == set(target.slot.addresses()):
        note = "now bound" if not cur.bind else "FQDN set"
    elif before:
        note = f"rebound from {_joined(before)}"
    else:
        note = "bound"
    return f"reuses the freed name, {note}" if target.how == "reused" else note


def make_plan(config: Config, desired: Desired) -> Plan:
    """Plan the bindings `desired` asks for against `config`; pure, deterministic."""
    names = compile_pattern(desired.pattern, desired.domain)
    if config.domain_keys.section is not None:
        raise LayoutError(
            f"the layout puts every secondary domain in section [{config.domain_keys.section}] "
            f"of {config.domain_keys.file}; bindmgr needs one section per domain",
            hint="set the domain file's section to none in the layout",
        )
    planner = _Planner(config, desired, names)
    planner.check_layout()
    planner.classify()
    targets, leftover = planner.assign()
    planner.check_foreign()

    by_n: dict[int, list[Change]] = {}
    assignments: list[Assignment] = []
    default_changes = planner.bind_changes(targets[0])
    for target in targets:
        changes = default_changes if target.n is None else planner.bind_changes(target)
        if target.n is not None:
            by_n[target.n] = changes
        note = _assignment_note(target, bool(changes))
        assignments.append(Assignment(target.name, target.slot, target.n is None, note))
    for n in leftover:
        domain = planner.owned[n]
        changes = planner.unbind_changes(domain)
        by_n[n] = changes
        held = tuple(a for a in (domain.ip, _v6(domain, config.domain_keys)) if a is not None)
        if held and changes:
            deleted = changes[0].action is Action.DELETE_SECTION
            note = "deleted (prune)" if deleted else "unbound"
            slot = Slot(v4=domain.ip, v6=_v6(domain, config.domain_keys))
            assignments.append(Assignment(domain.name, slot, False, note))
    ordered = [*default_changes, *(c for n in sorted(by_n) for c in by_n[n])]
    kept = keep_in_step(config.bind_lists, *planner.bound_before_after())
    ordered += kept.changes
    planner.notes += kept.notes
    planner.conflicts += kept.conflicts
    if ordered:
        planner.notes.append(RESTART_NOTE)
    planner.notes.append(LOGIN_NOTE.format(domain=desired.domain))
    return Plan(
        desired=desired,
        assignments=tuple(assignments),
        changes=tuple(ordered),
        conflicts=tuple(planner.conflicts),
        notes=tuple(planner.notes),
        dns=tuple(planner.dns(targets)),
        inputs=config.inputs,
    )
