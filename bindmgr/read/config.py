"""MDaemon's configuration read through a layout.

Scanned INI files in, a typed `Config` out: every value passes a `validate` typed view, so a bad
IP or port is reported with file, section, key and line. Pure: reading files is `appdir`'s.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from validate import ValidateError, Validator, VdtValueError

from bindmgr.errors import InputError
from bindmgr.ini.codec import folded
from bindmgr.ini.file import IniFile
from bindmgr.model import (
    BindList,
    Config,
    Domain,
    DomainKeys,
    InputFile,
    Listener,
    Location,
    Problem,
)
from bindmgr.read.layout import BindListSpec, Layout
from bindmgr.read.weblists import parse_bind_list


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

    domain_entries = _want_domains(typed, files, layout, presence)

    for spec in layout.listeners:
        if spec.file is not None and spec.section is not None and spec.key is not None:
            typed.want(spec.file, spec.section, spec.key, "port(1, 65535)")
            ini = files.get(spec.file)
            line = ini.line_of(spec.section, spec.key) if ini is not None else None
            found = ini is not None and ini.get(spec.section, spec.key) not in (None, "")
            loc = Location(spec.file, spec.section, spec.key, line)
            presence.append(KeyPresence(f"{spec.label} port", loc, int(found)))

    values = typed.validate()
    bind_lists = tuple(_bind_list(files, spec, presence) for spec in layout.bind_lists)
    default_name = str(values.get((dk.file, section, layout.default_name_key)) or "")
    default_entries = main.section_entries(section) if main is not None else {}
    default = _domain(
        values,
        dk,
        section,
        is_default=True,
        entries=default_entries,
        managed=_Managed(dk.managed()),
        name=default_name,
    )
    managed = _Managed(layout.domain_keys.managed())
    domains = tuple(
        _domain(values, layout.domain_keys, n, is_default=False, entries=e, managed=managed)
        for n, e in domain_entries.items()
    )
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
                raw = ini.get(spec.section, spec.key) or ""
                if not _is_plain(raw):
                    numbers.append(_number_problem(source, raw, read))
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


def _bind_list(
    files: Mapping[str, IniFile], spec: BindListSpec, presence: list[KeyPresence]
) -> BindList:
    ini = files.get(spec.file)
    raw = ini.get(spec.section, spec.key) if ini is not None else None
    line = ini.line_of(spec.section, spec.key) if ini is not None else None
    where = Location(spec.file, spec.section, spec.key, line)
    presence.append(KeyPresence(f"{spec.label} bind list", where, int(raw is not None)))
    entries = () if raw is None else parse_bind_list(raw, where)
    return BindList(spec.name, spec.label, where, raw, entries, spec.services)


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


def _want_domains(
    typed: _TypedView, files: Mapping[str, IniFile], layout: Layout, presence: list[KeyPresence]
) -> dict[str, Mapping[str, tuple[str, str]]]:
    """Ask for every secondary domain's keys; the sections' entries by name, in file order."""
    dname, dfile = layout.domain_keys.file, files.get(layout.domain_keys.file)
    domain_sections = _domain_sections(dfile, layout)
    domain_checks = [(key, check, folded(key)) for key, check in _domain_checks(layout.domain_keys)]
    counts = [0] * len(domain_checks)  # domains holding each key
    domain_entries = {}
    wanted = typed.wanted  # filled directly: thousands of domains times four keys
    for name in domain_sections:
        assert dfile is not None  # domain_sections is empty without the file
        entries = dfile.section_entries(name)  # one lookup per domain, not one per key
        domain_entries[name] = entries
        for i, (key, check, fkey) in enumerate(domain_checks):
            entry = entries.get(fkey)
            if entry is not None:
                counts[i] += 1
            wanted[(dname, name, key)] = (check, None if entry is None else entry[1])
    for (key, _, _), count in zip(domain_checks, counts, strict=True):
        loc = Location(dname, "<each domain>", key)
        presence.append(KeyPresence(f"secondary domains: {key}", loc, count, len(domain_sections)))
    return domain_entries


def _domain_checks(keys: DomainKeys) -> Iterable[tuple[str, str]]:
    yield keys.ip, "ipv4"
    yield keys.bind, "boolean"
    if keys.ipv6 is not None:
        yield keys.ipv6, "ipv6"
    if keys.fqdn is not None:
        yield keys.fqdn, "string"


def _domain_sections(ini: IniFile | None, layout: Layout) -> list[str]:
    if ini is None:
        return []
    sections = ini.sections()
    dk = layout.default_keys
    if dk.file == layout.domain_keys.file and dk.section is not None:
        sections = [s for s in sections if s.casefold() != dk.section.casefold()]
    return sections


class _Managed:
    """Splits a section's keys into those the layout manages (compared casefolded) and the
    others, remembering each spelling: thousands of domains spell the same few keys alike."""

    def __init__(self, managed: Iterable[str]) -> None:
        self._managed = {k.casefold() for k in managed}
        self._known: dict[str, bool] = {}

    def split(
        self, entries: Mapping[str, tuple[str, str]]
    ) -> tuple[tuple[tuple[str, str], ...], tuple[str, ...]]:
        """((key, value) of the managed keys, names of the other keys), in file order."""
        known, raw, other = self._known, [], []
        for entry in entries.values():
            found = known.get(entry[0])
            if found is None:
                found = known[entry[0]] = entry[0].casefold() in self._managed
            if found:
                raw.append(entry)
            else:
                other.append(entry[0])
        return tuple(raw), tuple(other)


def _domain(
    values: Mapping[tuple[str, str, str], object],
    keys: DomainKeys,
    section: str,
    *,
    is_default: bool,
    entries: Mapping[str, tuple[str, str]],
    managed: _Managed,
    name: str | None = None,
) -> Domain:
    raw, other = managed.split(entries)  # entries are empty when the section is absent
    file = keys.file
    ip = values.get((file, section, keys.ip))
    ipv6 = None if keys.ipv6 is None else values.get((file, section, keys.ipv6))
    bind = values.get((file, section, keys.bind))
    fqdn = None if keys.fqdn is None else values.get((file, section, keys.fqdn))
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
    """

    def __init__(self, files: Mapping[str, IniFile]) -> None:
        self._files = files
        # (file, section, key) -> (check, raw value or None when absent); a later want wins
        self.wanted: dict[tuple[str, str, str], tuple[str, str | None]] = {}

    def want(self, file: str, section: str, key: str, check: str) -> str | None:
        """Ask for a key to be checked; returns its raw value (None when it is absent)."""
        ini = self._files.get(file)
        raw = ini.get(section, key) if ini is not None else None
        self.wanted[(file, section, key)] = (check, raw)
        return raw

    def validate(self) -> dict[tuple[str, str, str], object]:
        values: dict[tuple[str, str, str], object] = {}
        errors: list[tuple[str, str, str, ValidateError]] = []
        converted: dict[tuple[str, str], object] = {}  # results are immutable: safe to share
        for (file, section, key), (check, raw) in self.wanted.items():
            if raw is None or (raw == "" and check.startswith("port")):
                continue  # absent (or a blank port): the layout's default applies
            try:
                value = converted[(check, raw)]
            except KeyError:
                try:
                    value = converted[(check, raw)] = _VALIDATOR.check(check, raw)
                except ValidateError as exc:
                    errors.append((file, section, key, exc))
                    continue
            values[(file, section, key)] = value
        if errors:
            raise InputError(
                "MDaemon's files hold values bindmgr cannot use:\n  "
                + "\n  ".join(self._explain(errors)),
                hint="correct them in MDaemon (or in the file, with MDaemon stopped) and rerun",
            )
        return values

    def _explain(self, errors: Iterable[tuple[str, str, str, ValidateError]]) -> list[str]:
        lines = []
        for file, section, key, error in errors:
            check = self.wanted[(file, section, key)][0].split("(", 1)[0]
            line = self._files[file].line_of(section, key)
            where = Location(file, section, key, line)
            message = str(error).rstrip(".")
            lines.append(f"{where}: {message}; expected {_EXPECTED.get(check, check)}")
        return sorted(lines)
