"""MDaemon's configuration read through a layout, and a plan's changes applied in memory.

Scanned INI files in, a typed `Config` out: every value passes a ConfigObj/validate typed view, so
a bad IP or port is reported with file, section, key and line. Pure: reading files is `appdir`'s.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from configobj import ConfigObj, flatten_errors
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
    for name in domain_sections:
        for key, check in _domain_checks(layout.domain_keys):
            typed.want(layout.domain_keys.file, name, key, check)
    dfile = files.get(layout.domain_keys.file)
    for key, _ in _domain_checks(layout.domain_keys):
        count = sum(1 for name in domain_sections if dfile and dfile.get(name, key) is not None)
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
    default = _domain(values, dk, section, is_default=True, files=files, name=default_name)
    domains = tuple(
        _domain(values, layout.domain_keys, name, is_default=False, files=files)
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
    files: Mapping[str, IniFile],
    name: str | None = None,
) -> Domain:
    ini = files.get(keys.file)
    managed = {k.casefold() for k in keys.managed()}
    raw: list[tuple[str, str]] = []
    other: list[str] = []
    if ini is not None and ini.has_section(section):
        for key, value in ini.items(section):
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
    """Collects (file, section, key, check) and validates the raw values with ConfigObj."""

    def __init__(self, files: Mapping[str, IniFile]) -> None:
        self._files = files
        self._wanted: dict[tuple[str, str, str], str] = {}

    def want(self, file: str, section: str, key: str, check: str) -> None:
        self._wanted[(file, section, key)] = check

    def validate(self) -> dict[tuple[str, str, str], object]:
        value_tree: dict[str, dict[str, dict[str, str]]] = {}
        spec_tree: dict[str, dict[str, dict[str, str]]] = {}
        for (file, section, key), check in self._wanted.items():
            ini = self._files.get(file)
            raw = ini.get(section, key) if ini is not None else None
            if raw is None or (raw == "" and check.startswith("integer")):
                continue  # absent (or a blank port): the layout's default applies
            value_tree.setdefault(file, {}).setdefault(section, {})[key] = raw
            spec_tree.setdefault(file, {}).setdefault(section, {})[key] = check
        if not value_tree:
            return {}
        spec = ConfigObj(spec_tree, _inspec=True, list_values=False)
        conf = ConfigObj(value_tree, configspec=spec, list_values=False, interpolation=False)
        result = conf.validate(_VALIDATOR, preserve_errors=True)
        if result is not True:
            raise InputError(
                "MDaemon's files hold values bindmgr cannot use:\n  "
                + "\n  ".join(self._explain(flatten_errors(conf, result))),
                hint="correct them in MDaemon (or in the file, with MDaemon stopped) and rerun",
            )
        return {
            (file, section, key): conf[file][section][key]
            for file, sections in value_tree.items()
            for section, keys in sections.items()
            for key in keys
        }

    def _explain(self, errors: Iterable[tuple[list[str], str | None, object]]) -> list[str]:
        lines = []
        for path, key, error in errors:
            if key is None:
                continue
            file, section = path
            check = self._wanted[(file, section, key)].split("(", 1)[0]
            line = self._files[file].line_of(section, key)
            where = Location(file, section, key, line)
            message = str(error).rstrip(".") if isinstance(error, ValidateError) else str(error)
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
