"""MDaemon's configuration read through a layout.

Scanned INI files in, a typed `Config` out: every value passes a `validate` typed view, so a bad
IP or port is reported with file, section, key and line. Pure: reading files is `appdir`'s.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from operator import itemgetter

from validate import ValidateError, Validator, VdtValueError

from bindmgr.errors import InputError
from bindmgr.ini.codec import folded
from bindmgr.ini.file import IniFile
from bindmgr.model import (
    Config,
    Domain,
    DomainKeys,
    InputFile,
    Listener,
    Location,
    Problem,
)
from bindmgr.read.layout import Layout
from bindmgr.read.weblists import read_bind_list


def _ipv4(value: object) -> ipaddress.IPv4Address | None:
    text = str(value)
    if text == "":
        return None
    try:
        return ipaddress.IPv4Address(text)
    except ValueError:
        raise VdtValueError(text) from None


def _ipv6(value: object) -> ipaddress.IPv6Address | None:
    text = str(value)
    if text == "":
        return None
    try:
        return ipaddress.IPv6Address(text)
    except ValueError:
        raise VdtValueError(text) from None


def profile_int(text: str) -> int | None:
    """The number GetPrivateProfileInt returns for a value as GetPrivateProfileString returns
    it; None when Windows versions disagree.

    Windows skips leading blanks and control characters, takes one optional sign and then ASCII
    digits up to the first other character: `2_5` is 2, `25abc` is 25, `abc` is 0, `+25` is 25.
    A `0x` prefix is hexadecimal for some versions of the profile API and 0 for others: None.
    Overflow is not wrapped (callers refuse numbers out of their range).
    """
    i, end = 0, len(text)
    while i < end and text[i] <= " ":
        i += 1
    sign = 1
    if i < end and text[i] in "+-":
        sign = -1 if text[i] == "-" else 1
        i += 1
    if text[i : i + 2] in ("0x", "0X"):
        return None
    start = i
    while i < end and "0" <= text[i] <= "9":
        i += 1
    return sign * int(text[start:i]) if i > start else 0


def _is_plain(text: str) -> bool:
    return text.isascii() and text.isdigit()


def _port(value: object, low: str = "1", high: str = "65535") -> int:
    text = str(value)
    number = profile_int(text)
    if number is None:
        raise ValidateError(
            f'the value "{text}" is hexadecimal, which some versions of the Windows profile '
            "API read and others read as 0, so what MDaemon listens on is unknown"
        )
    if not int(low) <= number <= int(high):
        raise ValidateError(
            f'the value "{text}" reads as {number}, which is not a port from {low} to {high}'
        )
    return number


_VALIDATOR = Validator({"ipv4": _ipv4, "ipv6": _ipv6, "port": _port})
_EXPECTED = {
    "ipv4": "a dotted IPv4 address such as 203.0.113.10, or nothing",
    "ipv6": "an IPv6 address such as 2001:db8::10, or nothing",
    "boolean": "Yes or No",
    "port": "a port number from 1 to 65535 in plain digits",
}


@dataclass(frozen=True, slots=True)
class KeyPresence:
    """Whether a layout key was found in MDaemon's files (for `inspect`)."""

    what: str  # e.g. "Default Domain IP", "SMTP port", "secondary domains: Bind"
    location: Location  # line is None when missing
    found: int  # how many places hold it (1/0 for single keys; domains that have it)
    total: int = 1


@dataclass(frozen=True, slots=True)
class ConfigView:
    config: Config
    presence: tuple[KeyPresence, ...]


def read_config(
    files: Mapping[str, IniFile], layout: Layout, inputs: Sequence[InputFile] = ()
) -> ConfigView:
    """Read the Default Domain, the secondary domains and the listener ports through `layout`.

    `files` maps a path relative to the App folder to its scanned file; a file the layout names
    that is absent from `files` is treated as missing (its values take the layout's defaults).
    """
    typed = _TypedView(files)
    dk = layout.default_keys
    presence: list[KeyPresence] = []
    main = files.get(dk.file)
    section = dk.section or ""
    _check_shape(main, dk.file, section, layout)
    default_checks = {
        "Default Domain name": (layout.default_name_key, "string"),
        "Default Domain FQDN": (dk.fqdn, "string"),
        "Default Domain IP": (dk.ip, "ipv4"),
        "Default Domain IPv6": (dk.ipv6, "ipv6"),
        "Default Domain restrict flag": (dk.bind, "boolean"),
    }
    for what, (key, check) in default_checks.items():
        if key is None:
            continue
        typed.want(dk.file, section, key, check)
        line = main.line_of(section, key) if main is not None else None
        found = main is not None and main.get(section, key) is not None
        presence.append(KeyPresence(what, Location(dk.file, section, key, line), int(found)))

    domains = _read_domains(typed, files, layout, presence)

    for spec in layout.listeners:
        if spec.file is not None and spec.section is not None and spec.key is not None:
            typed.want(spec.file, spec.section, spec.key, "port(1, 65535)")
            ini = files.get(spec.file)
            line = ini.line_of(spec.section, spec.key) if ini is not None else None
            found = ini is not None and ini.get(spec.section, spec.key) not in (None, "")
            loc = Location(spec.file, spec.section, spec.key, line)
            presence.append(KeyPresence(f"{spec.label} port", loc, int(found)))

    values = typed.validate()
    bind_lists = tuple(read_bind_list(files, spec) for spec in layout.bind_lists)
    for bl in bind_lists:
        presence.append(KeyPresence(f"{bl.label} bind list", bl.where, int(bl.raw is not None)))
    default_name = str(values.get((dk.file, section, layout.default_name_key)) or "")
    default_entries = main.section_entries(section) if main is not None else {}
    default_values = {k: values.get((dk.file, section, k)) for k in dk.managed()}
    raw, other = _Managed(dk.managed()).split(default_entries)
    default = _domain(default_values, dk, section, raw, other, is_default=True, name=default_name)
    listeners = []
    numbers: list[Problem] = []
    for spec in layout.listeners:
        port, source = spec.port, None
        if spec.file is not None and spec.section is not None and spec.key is not None:
            read = values.get((spec.file, spec.section, spec.key))
            if isinstance(read, int):
                ini = files[spec.file]
                line = ini.line_of(spec.section, spec.key)
                port, source = read, Location(spec.file, spec.section, spec.key, line)
                text = ini.get(spec.section, spec.key) or ""
                if not _is_plain(text):
                    numbers.append(_number_problem(source, text, read))
        listeners.append(Listener(spec.service, spec.label, port, spec.proto, source))
    config = Config(
        default=default,
        domains=domains,
        listeners=tuple(listeners),
        default_keys=dk,
        domain_keys=layout.domain_keys,
        inputs=tuple(inputs),
        problems=(*(p for ini in files.values() for p in ini.problems), *numbers),
        bind_lists=bind_lists,
    )
    return ConfigView(config, tuple(presence))


def _number_problem(where: Location, raw: str, number: int) -> Problem:
    return Problem(
        where.file,
        where.line,
        f"[{where.section}] {where.key}={raw!r} is not a plain number: MDaemon reads it as "
        f"{number} (the profile API reads a leading decimal number and ignores the rest); "
        f"write {number} to say so",
    )


def _check_shape(main: IniFile | None, file: str, section: str, layout: Layout) -> None:
    """Refuse a file that does not look like MDaemon's: the layout's Default Domain section and
    its name key (with a name in it) are what every MDaemon.ini holds. Without them the file is
    damaged, empty or another file, and a plan would append a new section to it."""
    hint = (
        f"check --app-dir and the layout's [default_domain] section ({layout.source}); "
        "bindmgr reads and writes no file it does not recognise"
    )
    name_key = layout.default_name_key
    if main is None or not main.has_section(section):
        first = f"; the first problem in it: {main.problems[0]}" if main and main.problems else ""
        raise InputError(
            f"{file} has no [{section}] section, so it does not look like MDaemon's {file} "
            f"(the layout reads the Default Domain there){first}",
            hint=hint,
        )
    value = main.get(section, name_key)
    if value is None:
        raise InputError(
            f"{file} [{section}] has no {name_key} key: MDaemon keeps the Default Domain's "
            "name there, so this does not look like MDaemon's file",
            hint=hint,
        )
    if not value.strip():
        where = Location(file, section, name_key, main.line_of(section, name_key))
        raise InputError(f"{where} is empty: MDaemon always names its Default Domain", hint=hint)


def _read_domains(
    typed: _TypedView, files: Mapping[str, IniFile], layout: Layout, presence: list[KeyPresence]
) -> tuple[Domain, ...]:
    """Every secondary domain, in file order, its values converted by `typed` (which keeps
    the errors). Each section is read, split and converted as it is passed and nothing of it is
    kept but its `Domain`: a domain file of 100,000 sections holds no per-key objects."""
    keys = layout.domain_keys
    dname, dfile = keys.file, files.get(keys.file)
    checks = [(key, check, folded(key)) for key, check in _domain_checks(keys)]
    counts = [0] * len(checks)  # domains holding each key
    dk = layout.default_keys
    skip = dk.section.casefold() if dk.file == dname and dk.section is not None else None
    managed = _Managed(keys.managed())
    convert = typed.convert
    domains: list[Domain] = []
    for name, entries in () if dfile is None else dfile.read_sections():
        if skip is not None and name.casefold() == skip:
            continue
        values: dict[str, object] = {}
        for i, (key, check, fkey) in enumerate(checks):
            entry = entries.get(fkey)
            if entry is not None:
                counts[i] += 1
                values[key] = convert(dname, name, key, check, entry[1])
        raw, other = managed.split(entries)
        domains.append(_domain(values, keys, name, raw, other, is_default=False))
    for (key, _, _), count in zip(checks, counts, strict=True):
        loc = Location(dname, "<each domain>", key)
        presence.append(KeyPresence(f"secondary domains: {key}", loc, count, len(domains)))
    return tuple(domains)


def _domain_checks(keys: DomainKeys) -> Iterable[tuple[str, str]]:
    yield keys.ip, "ipv4"
    yield keys.bind, "boolean"
    if keys.ipv6 is not None:
        yield keys.ipv6, "ipv6"
    if keys.fqdn is not None:
        yield keys.fqdn, "string"


_FIRST = itemgetter(0)
_SHARED = 4096  # at most this many shapes and managed-key tuples are remembered


class _Managed:
    """Splits a section's keys into those the layout manages (compared casefolded) and the
    others. Thousands of domains have the same keys, spelt alike, in the same order, and most
    the same few managed values: each such shape is split once and equal results are shared
    (one tuple of other keys for all of them), up to `_SHARED` of each."""

    def __init__(self, managed: Iterable[str]) -> None:
        self._managed = {k.casefold() for k in managed}
        self._shapes: dict[tuple[str, ...], tuple[tuple[int, ...], tuple[str, ...]]] = {}
        self._raws: dict[tuple[tuple[str, str], ...], tuple[tuple[str, str], ...]] = {}

    def split(
        self, entries: Mapping[str, tuple[str, str]]
    ) -> tuple[tuple[tuple[str, str], ...], tuple[str, ...]]:
        """((key, value) of the managed keys, names of the other keys), in file order."""
        items = tuple(entries.values())
        names = tuple(map(_FIRST, items))
        shape = self._shapes.get(names)
        if shape is None:
            managed = self._managed
            picked = tuple(i for i, n in enumerate(names) if n.casefold() in managed)
            shape = (picked, tuple(n for n in names if n.casefold() not in managed))
            if len(self._shapes) < _SHARED:
                self._shapes[names] = shape
        raw = tuple(items[i] for i in shape[0])
        shared = self._raws.get(raw)
        if shared is None:
            if len(self._raws) < _SHARED:
                self._raws[raw] = raw
            return raw, shape[1]
        return shared, shape[1]


def _domain(
    values: Mapping[str, object],
    keys: DomainKeys,
    section: str,
    raw: tuple[tuple[str, str], ...],
    other: tuple[str, ...],
    *,
    is_default: bool,
    name: str | None = None,
) -> Domain:
    """The domain of `section`: `values` holds its managed keys' converted values by key."""
    ip = values.get(keys.ip)
    ipv6 = None if keys.ipv6 is None else values.get(keys.ipv6)
    bind = values.get(keys.bind)
    fqdn = None if keys.fqdn is None else values.get(keys.fqdn)
    return Domain(
        name=section if name is None else name,
        ip=ip if isinstance(ip, ipaddress.IPv4Address) else None,
        ipv6=ipv6 if isinstance(ipv6, ipaddress.IPv6Address) else None,
        bind=bind is True,
        fqdn=fqdn if isinstance(fqdn, str) and fqdn else None,
        is_default=is_default,
        raw=raw,
        other_keys=() if is_default else other,
    )


class _TypedView:
    """Collects (file, section, key, check) and converts the raw values with `validate`.

    Each value goes through `Validator.check` directly, as ConfigObj's own validate() would call
    it, without building ConfigObj trees first: with thousands of domains those trees cost more
    than reading the files. The few distinct (check, value) pairs are converted once each.
    Values are asked for with `want` (converted by `validate`) or converted at once with
    `convert` (the domains, thousands of them: nothing is kept for them here but errors).
    """

    def __init__(self, files: Mapping[str, IniFile]) -> None:
        self._files = files
        # (file, section, key) -> (check, raw value or None when absent); a later want wins
        self.wanted: dict[tuple[str, str, str], tuple[str, str | None]] = {}
        self._converted: dict[str, dict[str, object]] = {}  # check -> raw -> value (immutable)
        self._errors: list[tuple[str, str, str, str, ValidateError]] = []

    def want(self, file: str, section: str, key: str, check: str) -> str | None:
        """Ask for a key to be checked; returns its raw value (None when it is absent)."""
        ini = self._files.get(file)
        raw = ini.get(section, key) if ini is not None else None
        self.wanted[(file, section, key)] = (check, raw)
        return raw

    def convert(self, file: str, section: str, key: str, check: str, raw: str) -> object:
        """The value of a present key now; None when it is wrong (`validate` then raises)."""
        if check == "string":
            return raw  # what validate's is_string returns for any str
        converted = self._converted.setdefault(check, {})
        try:
            return converted[raw]
        except KeyError:
            try:
                value = converted[raw] = _VALIDATOR.check(check, raw)
            except ValidateError as exc:
                self._errors.append((file, section, key, check, exc))
                return None
            return value

    def validate(self) -> dict[tuple[str, str, str], object]:
        """The values asked for with `want`; InputError naming every wrong value, converted ones
        included."""
        values: dict[tuple[str, str, str], object] = {}
        for (file, section, key), (check, raw) in self.wanted.items():
            if raw is None or (raw == "" and check.startswith("port")):
                continue  # absent (or a blank port): the layout's default applies
            values[(file, section, key)] = self.convert(file, section, key, check, raw)
        if self._errors:
            raise InputError(
                "MDaemon's files hold values bindmgr cannot use:\n  "
                + "\n  ".join(self._explain(self._errors)),
                hint="correct them in MDaemon (or in the file, with MDaemon stopped) and rerun",
            )
        return values

    def _explain(self, errors: Iterable[tuple[str, str, str, str, ValidateError]]) -> list[str]:
        lines = []
        for file, section, key, check, error in errors:
            line = self._files[file].line_of(section, key)
            where = Location(file, section, key, line)
            message = str(error).rstrip(".")
            name = check.split("(", 1)[0]
            lines.append(f"{where}: {message}; expected {_EXPECTED.get(name, name)}")
        return sorted(lines)
