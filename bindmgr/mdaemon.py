"""MDaemon's configuration read through a layout, and a plan's changes applied in memory.

Scanned INI files in, a typed `Config` out: every value passes a `validate` typed view, so a bad
IP or port is reported with file, section, key and line. Pure: reading files is `appdir`'s.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from validate import ValidateError, Validator, VdtValueError

from bindmgr.errors import InputError
from bindmgr.inifile import IniFile
from bindmgr.layout import Layout
from bindmgr.model import (
    Action,
    Change,
    Config,
    Domain,
    DomainKeys,
    InputFile,
    Listener,
    Location,
)


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


_VALIDATOR = Validator({"ipv4": _ipv4, "ipv6": _ipv6})
_EXPECTED = {
    "ipv4": "a dotted IPv4 address such as 203.0.113.10, or nothing",
    "ipv6": "an IPv6 address such as 2001:db8::10, or nothing",
    "boolean": "Yes or No",
    "integer": "a port number from 1 to 65535",
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

    domain_sections = _domain_sections(files.get(layout.domain_keys.file), layout)
    domain_checks = list(_domain_checks(layout.domain_keys))
    counts = [0] * len(domain_checks)  # domains holding each key
    for name in domain_sections:
        for i, (key, check) in enumerate(domain_checks):
            if typed.want(layout.domain_keys.file, name, key, check) is not None:
                counts[i] += 1
    for (key, _), count in zip(domain_checks, counts, strict=True):
        loc = Location(layout.domain_keys.file, "<each domain>", key)
        presence.append(KeyPresence(f"secondary domains: {key}", loc, count, len(domain_sections)))

    for spec in layout.listeners:
        if spec.file is not None and spec.section is not None and spec.key is not None:
            typed.want(spec.file, spec.section, spec.key, "integer(1, 65535)")
            ini = files.get(spec.file)
            line = ini.line_of(spec.section, spec.key) if ini is not None else None
            found = ini is not None and ini.get(spec.section, spec.key) not in (None, "")
            loc = Location(spec.file, spec.section, spec.key, line)
            presence.append(KeyPresence(f"{spec.label} port", loc, int(found)))

    values = typed.validate()
    default_name = str(values.get((dk.file, section, layout.default_name_key)) or "")
    default_managed = {k.casefold() for k in dk.managed()}
    default = _domain(
        values, dk, section, is_default=True, ini=main, managed=default_managed, name=default_name
    )
    dfile = files.get(layout.domain_keys.file)
    managed = {k.casefold() for k in layout.domain_keys.managed()}
    domains = tuple(
        _domain(values, layout.domain_keys, name, is_default=False, ini=dfile, managed=managed)
        for name in domain_sections
    )
    listeners = []
    for spec in layout.listeners:
        port, source = spec.port, None
        if spec.file is not None and spec.section is not None and spec.key is not None:
            read = values.get((spec.file, spec.section, spec.key))
            if isinstance(read, int):
                ini = files[spec.file]
                line = ini.line_of(spec.section, spec.key)
                port, source = read, Location(spec.file, spec.section, spec.key, line)
        listeners.append(Listener(spec.service, spec.label, port, spec.proto, source))
    config = Config(
        default=default,
        domains=domains,
        listeners=tuple(listeners),
        default_keys=dk,
        domain_keys=layout.domain_keys,
        inputs=tuple(inputs),
        problems=tuple(p for ini in files.values() for p in ini.problems),
    )
    return ConfigView(config, tuple(presence))


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


def _domain(
    values: Mapping[tuple[str, str, str], object],
    keys: DomainKeys,
    section: str,
    *,
    is_default: bool,
    ini: IniFile | None,
    managed: set[str],
    name: str | None = None,
) -> Domain:
    raw: list[tuple[str, str]] = []
    other: list[str] = []
    if ini is not None:
        for key, value in ini.items(section):  # [] when the section is absent
            if key.casefold() in managed:
                raw.append((key, value))
            else:
                other.append(key)

    def get(key: str | None) -> object:
        return None if key is None else values.get((keys.file, section, key))

    ip, ipv6, bind, fqdn = get(keys.ip), get(keys.ipv6), get(keys.bind), get(keys.fqdn)
    return Domain(
        name=section if name is None else name,
        ip=ip if isinstance(ip, ipaddress.IPv4Address) else None,
        ipv6=ipv6 if isinstance(ipv6, ipaddress.IPv6Address) else None,
        bind=bind is True,
        fqdn=fqdn if isinstance(fqdn, str) and fqdn else None,
        is_default=is_default,
        raw=tuple(raw),
        other_keys=() if is_default else tuple(other),
    )


class _TypedView:
    """Collects (file, section, key, check) and converts the raw values with `validate`.

    Each value goes through `Validator.check` directly, as ConfigObj's own validate() would call
    it, without building ConfigObj trees first: with thousands of domains those trees cost more
    than reading the files. The few distinct (check, value) pairs are converted once each.
    """

    def __init__(self, files: Mapping[str, IniFile]) -> None:
        self._files = files
        self._wanted: dict[tuple[str, str, str], tuple[str, str | None]] = {}

    def want(self, file: str, section: str, key: str, check: str) -> str | None:
        """Ask for a key to be checked; returns its raw value (None when it is absent)."""
        ini = self._files.get(file)
        raw = ini.get(section, key) if ini is not None else None
        self._wanted[(file, section, key)] = (check, raw)
        return raw

    def validate(self) -> dict[tuple[str, str, str], object]:
        values: dict[tuple[str, str, str], object] = {}
        errors: list[tuple[str, str, str, ValidateError]] = []
        converted: dict[tuple[str, str], object] = {}  # results are immutable: safe to share
        for (file, section, key), (check, raw) in self._wanted.items():
            if raw is None or (raw == "" and check.startswith("integer")):
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
            check = self._wanted[(file, section, key)][0].split("(", 1)[0]
            line = self._files[file].line_of(section, key)
            where = Location(file, section, key, line)
            message = str(error).rstrip(".")
            lines.append(f"{where}: {message}; expected {_EXPECTED.get(check, check)}")
        return sorted(lines)


def apply_changes(originals: Mapping[str, bytes], changes: Sequence[Change]) -> dict[str, bytes]:
    """The bytes of each file after the changes, for every file a change touches.

    `originals` maps the relative name to the bytes read (b"" for a file that does not exist
    yet). Each file is re-scanned from its bytes, so the result does not depend on earlier edits.
    """
    by_file: dict[str, list[Change]] = {}
    for change in changes:
        by_file.setdefault(change.file, []).append(change)
    result: dict[str, bytes] = {}
    for name, edits in by_file.items():
        ini = IniFile.from_bytes(originals.get(name, b""), name)
        for change in edits:
            if change.action is Action.DELETE_SECTION:
                ini.delete_section(change.section)
            elif change.action is Action.DELETE_KEY and change.key is not None:
                ini.delete(change.section, change.key)
            elif change.key is not None and change.new is not None:
                ini.set(change.section, change.key, change.new)
        result[name] = ini.to_bytes()
    return result
