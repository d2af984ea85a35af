"""The desired state: parsed from the command line's strings or from the bindings file, validated.

Slots (`IP` or `IPv4+IPv6`, or a range or block of addresses that gives one slot each), base
domain, name pattern. The bindings file is a small ConfigObj
INI reviewed in pull requests, checked by a configspec; every error names the file, the line and
the key. Pure: strings in, `Slot`/`Desired` out, `PlanError` naming the value for anything
unusable; knows nothing about MDaemon's files. Every `Desired` that enters bindmgr from outside
(command line, bindings file, saved plan) passes `validate_desired` once, here or at its reader.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence
from ipaddress import IPv4Address, IPv4Network, IPv6Address, IPv6Network

from configobj import ConfigObj, ConfigObjError, flatten_errors, get_extra_values
from validate import ValidateError, Validator, VdtValueError

from bindmgr.errors import InputError, PlanError
from bindmgr.model import DEFAULT_PATTERN, Desired, IPAddress, Slot
from bindmgr.plan.names import NamePattern, check_dns_name, compile_pattern
from bindmgr.read.ownini import listed, tame_lines

SLOT_SYNTAX = "IP or IPv4+IPv6, e.g. 10.0.0.2 or 10.0.0.2+2001:db8::2"
RANGE_SYNTAX = "a range 10.0.0.2-20 or 10.0.0.2-10.0.0.20, or a block 10.0.0.0/28"
MAX_EXPANSION = 4096  # addresses one range or block may give; more is almost surely a typo
_THIS_NETWORK = IPv4Network("0.0.0.0/8")


def check_address(ip: IPAddress, what: str) -> None:
    """Raise PlanError for an address MDaemon cannot usefully bind (loopback is allowed)."""
    bad = f"{what}: {ip} cannot be bound"
    if isinstance(ip, IPv6Address) and ip.scope_id is not None:
        raise PlanError(
            f"{bad}: it carries a zone (%{ip.scope_id}) that MDaemon's domain settings cannot hold",
            hint="give the address without its %zone: a global, unique-local or loopback "
            "IPv6 address",
        )
    if ip.is_loopback:
        return
    if ip.is_unspecified:
        raise PlanError(
            f"{bad}: it is the unspecified address (every address)",
            hint="name the host's own addresses one by one",
        )
    if ip.is_multicast:
        raise PlanError(f"{bad}: it is a multicast address", hint="give a unicast address")
    if isinstance(ip, IPv4Address):
        if ip == IPv4Address("255.255.255.255"):
            raise PlanError(
                f"{bad}: it is the limited broadcast address", hint="give a unicast address"
            )
        if ip in _THIS_NETWORK:
            raise PlanError(
                f"{bad}: 0.0.0.0/8 means 'this network', not a host address",
                hint="give one of the host's own addresses",
            )
        if ip.is_reserved:
            raise PlanError(
                f"{bad}: it is in the reserved range 240.0.0.0/4", hint="give a unicast address"
            )
        return
    if ip.ipv4_mapped is not None:
        raise PlanError(
            f"{bad}: it is an IPv4-mapped IPv6 address", hint=f"write it as {ip.ipv4_mapped}"
        )
    if ip.is_link_local:
        raise PlanError(
            f"{bad}: link-local IPv6 addresses need a zone to be bound",
            hint="give a global or unique-local IPv6 address",
        )
    if ip.is_reserved:
        raise PlanError(f"{bad}: it is in a reserved IPv6 range", hint="give a unicast address")


def parse_slot(text: str) -> Slot:
    """Parse one slot: `IP` or `IPv4+IPv6` (dual-stack on one name; either order accepted)."""
    parts = [p.strip() for p in text.strip().split("+")]
    if len(parts) > 2 or not all(parts):
        raise PlanError(f"slot {text!r} is malformed", hint=f"write {SLOT_SYNTAX}")
    v4: IPv4Address | None = None
    v6: IPv6Address | None = None
    for part in parts:
        if "%" in part:
            raise PlanError(
                f"slot {text!r}: {part!r} carries a zone (%{part.partition('%')[2]}) that "
                "MDaemon's domain settings cannot hold",
                hint="give the address without its %zone: a global, unique-local or loopback "
                "IPv6 address",
            )
        try:
            ip = ipaddress.ip_address(part)
        except ValueError:
            raise PlanError(
                f"slot {text!r}: {part!r} is not an IP address", hint=f"write {SLOT_SYNTAX}"
            ) from None
        check_address(ip, f"slot {text!r}")
        if isinstance(ip, IPv4Address):
            if v4 is not None:
                raise PlanError(
                    f"slot {text!r} has two IPv4 addresses; a slot is one IPv4 and/or one IPv6",
                    hint="give each IPv4 address its own slot",
                )
            v4 = ip
        else:
            if v6 is not None:
                raise PlanError(
                    f"slot {text!r} has two IPv6 addresses; a slot is one IPv4 and/or one IPv6",
                    hint="give each IPv6 address its own slot",
                )
            v6 = ip
    return Slot(v4=v4, v6=v6)


def _expansion_error(text: str, what: str) -> PlanError:
    return PlanError(f"slot {text!r}: {what}", hint=f"write {SLOT_SYNTAX}, or {RANGE_SYNTAX}")


def _too_many(text: str, count: int) -> PlanError:
    return PlanError(
        f"slot {text!r} covers {count:,} addresses; bindmgr expands at most "
        f"{MAX_EXPANSION:,} from one range or block",
        hint="give a narrower range, or several --ip",
    )


def _block(text: str) -> list[IPAddress]:
    """The host addresses of a CIDR block, as `ipaddress` counts them (IPv4: without the
    network and broadcast addresses, except in a /31 or /32)."""
    try:
        net: IPv4Network | IPv6Network = ipaddress.ip_network(text)
    except ValueError as exc:
        if "host bits set" in str(exc):
            base = ipaddress.ip_network(text, strict=False)
            raise _expansion_error(text, f"has host bits set; the block is {base}") from None
        raise _expansion_error(text, "is not an address block") from None
    if net.num_addresses > MAX_EXPANSION + 2:
        raise _too_many(text, net.num_addresses)
    return list(net.hosts())


def _range(text: str) -> list[IPAddress]:
    """FIRST-LAST, LAST a whole address or (IPv4) the last byte alone: 127.0.1.1-254."""
    first_text, _, last_text = (part.strip() for part in text.partition("-"))
    try:
        first = ipaddress.ip_address(first_text)
    except ValueError:
        raise _expansion_error(text, f"{first_text!r} is not an IP address") from None
    last: IPAddress
    try:
        if first.version == 4 and last_text.isdigit() and int(last_text) <= 255:
            last = IPv4Address(int(first) & ~0xFF | int(last_text))
        else:
            last = ipaddress.ip_address(last_text)
    except ValueError:
        raise _expansion_error(text, f"{last_text!r} is not an IP address") from None
    if last.version != first.version or last < first:  # type: ignore[operator]
        raise _expansion_error(text, f"{last} does not come after {first}")
    count = int(last) - int(first) + 1
    if count > MAX_EXPANSION:
        raise _too_many(text, count)
    cls = type(first)
    return [cls(n) for n in range(int(first), int(last) + 1)]


def parse_slots(texts: Sequence[str]) -> tuple[Slot, ...]:
    """Every slot the texts give, in order: a slot each, a range or block one per address."""
    slots: list[Slot] = []
    for text in texts:
        stripped = text.strip()
        if "+" in stripped or not ("/" in stripped or "-" in stripped):
            slots.append(parse_slot(text))
            continue
        ips = _block(stripped) if "/" in stripped else _range(stripped)
        for ip in ips:
            check_address(ip, f"slot {text!r}")
            slots.append(Slot(v4=ip) if isinstance(ip, IPv4Address) else Slot(v6=ip))
    return tuple(slots)


def validate_desired(desired: Desired) -> NamePattern:
    """Check a Desired built anywhere (CLI, tests, a saved plan); return its compiled pattern."""
    check_dns_name(desired.domain, "base domain")
    if not desired.slots:
        raise PlanError(
            "no IP addresses given",
            hint="name at least one: slot 1 binds the Default Domain, "
            "each further one a mail-N domain",
        )
    seen: dict[IPAddress, int] = {}
    for index, slot in enumerate(desired.slots, start=1):
        for ip in slot.addresses():
            check_address(ip, f"slot {index} ({slot})")
            if ip in seen:
                raise PlanError(
                    f"{ip} is given twice (slots {seen[ip]} and {index})",
                    hint="each address may be bound by one domain only",
                )
            seen[ip] = index
    return compile_pattern(desired.pattern, desired.domain)


def parse_desired(
    domain: str,
    ips: Sequence[str],
    *,
    pattern: str = DEFAULT_PATTERN,
    prune: bool = False,
) -> Desired:
    """Build and validate the desired state from user input; the base domain is lowercased."""
    if isinstance(ips, str):
        raise TypeError("ips must be a sequence of slot strings, not one string")
    name = domain.strip()
    check_dns_name(name, "base domain")
    desired = Desired(
        domain=name.lower(),
        slots=parse_slots(ips),
        pattern=pattern,
        prune=prune,
    )
    validate_desired(desired)
    return desired


BINDINGS_SPEC = f"""
domain = string(min=1)
ips = slot_list(min=1)
pattern = string(min=1, default="{DEFAULT_PATTERN}")
prune = boolean(default=False)
"""

EXAMPLE = """\
# bindings.ini: what MDaemon should listen on (reviewed in pull requests)
domain = example.com
# slot 1 binds the Default Domain; each further slot a mail-N domain.
# IPv4+IPv6 puts both addresses on one name (dual stack).
ips = 203.0.113.10, 203.0.113.11, 203.0.113.12+2001:db8::12
"""


def _slot_list(value: object, min: str = "1") -> list[str]:
    items = value if isinstance(value, list) else [value]
    texts = [str(item).strip() for item in items]
    if len(texts) < int(min) or any(not t for t in texts):
        raise VdtValueError(str(value))
    try:
        parse_slots(texts)
    except PlanError as exc:
        raise ValidateError(exc.message) from None
    return texts


_VALIDATOR = Validator({"slot_list": _slot_list})


def _line_of(lines: list[str], key: str) -> int | None:
    for number, line in enumerate(lines, 1):
        name, sep, _ = line.partition("=")
        if sep and name.strip() == key:
            return number
    return None


def parse_bindings(text: str, source: str) -> Desired:
    """The desired state of a bindings file's text (a leading UTF-8 BOM is ignored)."""
    hint = f"fix {source} (docs/cli.md shows an example) and rerun"
    lines = tame_lines(text, source, what="the bindings file", depth=0, hint=hint)
    spec = ConfigObj(BINDINGS_SPEC.splitlines(), _inspec=True, list_values=False)
    try:
        conf = ConfigObj(lines, configspec=spec, interpolation=False)
    except ConfigObjError as exc:
        line = getattr(exc, "line_number", None)
        raise InputError(f"{source}:{line}: not a valid bindings file ({exc})", hint=hint) from exc
    result = conf.validate(_VALIDATOR, preserve_errors=True)
    problems = []
    if result is not True:
        for _, key, error in flatten_errors(conf, result):
            where = f"{source}:{_line_of(lines, key)}" if _line_of(lines, key) else source
            if error is False:
                problems.append(f"{source}: {key} is missing")
            elif key == "ips":
                problems.append(f"{where}: ips: {str(error).rstrip('.')} (each is {SLOT_SYNTAX})")
            else:
                problems.append(f"{where}: {key}: {str(error).rstrip('.')}")
    problems += [f"{source}: unknown key {name!r}" for _, name in get_extra_values(conf)]
    if problems:
        raise InputError("the bindings file is invalid:\n  " + listed(problems), hint=hint)
    try:
        return parse_desired(
            conf["domain"], conf["ips"], pattern=conf["pattern"], prune=conf["prune"]
        )
    except PlanError as exc:
        raise PlanError(f"{source}: {exc.message}", hint=exc.hint) from None
