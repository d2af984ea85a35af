"""The layout: where each MDaemon setting lives (file, section, key, type, default).

A layout is a ConfigObj INI validated by the configspec below; it is bindmgr's own file, never
one of MDaemon's. This module parses text into a frozen `Layout`; it does not read MDaemon's files.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from configobj import ConfigObj, ConfigObjError, flatten_errors, get_extra_values
from validate import ValidateError, Validator, VdtValueError

from bindmgr.errors import LayoutError
from bindmgr.ini.codepage import SUPPORTED, supported_text
from bindmgr.model import DomainKeys, Proto
from bindmgr.read.ownini import listed, tame_lines

LAYOUT_SPEC = """
version = integer(min=1, max=1, default=1)
codepage = codepage(default=None)
[files]
mdaemon = relpath()
domains = relpath()
__many__ = relpath()
[default_domain]
file = file_id(default=mdaemon)
section = ini_name()
name = ini_name()
fqdn = ini_name(optional=True, default="")
ip = ini_name()
ipv6 = ini_name(optional=True, default="")
restrict = ini_name()
[domains]
file = file_id(default=domains)
ip = ini_name(default=IP)
bind = ini_name(default=Bind)
fqdn = ini_name(optional=True, default="")
ipv6 = ini_name(optional=True, default="")
[listeners]
[[__many__]]
label = string(min=1, max=40)
port = integer(min=1, max=65535)
proto = option(tcp, udp, default=tcp)
file = file_id(optional=True, default="")
section = ini_name(optional=True, default="")
key = ini_name(optional=True, default="")
[bind_lists]
[[__many__]]
label = string(min=1, max=40)
file = file_id()
section = ini_name()
key = ini_name(optional=True, default="")
listeners = force_list(default=list())
"""

_FILE_ID = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")


def _ini_name(value: object, optional: str = "False") -> str:
    """A name that can stand in an INI file as a section or key without changing its syntax."""
    text = str(value)
    if text == "" and optional == "True":
        return ""
    unsafe = any(c in "[]=" or ord(c) < 0x20 or c == "\x7f" for c in text)
    if not text or unsafe or text != text.strip() or text.startswith(";"):
        raise VdtValueError(text)
    return text


def _file_id(value: object, optional: str = "False") -> str:
    text = str(value)
    if text == "" and optional == "True":
        return ""
    if not _FILE_ID.match(text):
        raise VdtValueError(text)
    return text


_APP = "\x00app"  # the App folder in `confined_parts`: its real name is not known here
# Names Windows opens as devices in any folder, with any extension (NUL.ini is the null device).
_DEVICES = re.compile(
    r"(?:CON|PRN|AUX|NUL|CONIN\$|CONOUT\$|COM[0-9\u00b9\u00b2\u00b3]|LPT[0-9\u00b9\u00b2\u00b3])"
    r"(?:\..*)?\Z",
    re.IGNORECASE,
)


def confined_parts(text: str) -> tuple[str, ...]:
    """The parts of path `text` (relative to the App folder) below the MDaemon folder, casefolded,
    the App folder itself as a placeholder; two paths with equal parts name one file.

    Raises ValidateError for a path that is absolute, names a drive, a stream or a device, or
    leaves the MDaemon folder (the App folder's parent) at any step; `/` and `\\` both separate.
    """
    if text[:1] in "/\\" or ":" in text:
        raise ValidateError(
            f"{text!r} is an absolute path, or names a drive or a stream; paths here are "
            "relative to the App folder"
        )
    parts = [_APP]
    for part in re.split(r"[/\\]", text):
        if part in ("", "."):
            continue
        if part == "..":
            if not parts:
                raise ValidateError(f"{text!r} leaves the MDaemon folder (the App folder's parent)")
            parts.pop()
            continue
        if part[-1] in ". ":
            raise ValidateError(
                f"{text!r}: {part!r} ends in a dot or a space, which Windows drops, so it names "
                "another file there"
            )
        if _DEVICES.match(part):
            raise ValidateError(f"{text!r}: {part!r} is a device name on Windows, not a file")
        parts.append(part.casefold())
    if parts in ([], [_APP]):
        raise ValidateError(f"{text!r} names a folder (the App folder or its parent), not a file")
    return tuple(parts)


def _relpath(value: object) -> str:
    text = str(value)
    if not text or any(c in text for c in '\x00\r\n*?"<>|') or any(ord(c) < 0x20 for c in text):
        raise VdtValueError(text)
    confined_parts(text)
    return text


def _codepage(value: object) -> int:
    """The ANSI code page of MDaemon's files where bindmgr cannot ask Windows (a copy)."""
    text = str(value).strip()
    if not text.isdigit() or int(text) not in SUPPORTED:
        raise VdtValueError(text)
    return int(text)


_VALIDATOR = Validator(
    {"ini_name": _ini_name, "file_id": _file_id, "relpath": _relpath, "codepage": _codepage}
)

_HINTS = {
    "ini_name": "a section or key name without [ ] = or a leading ;",
    "file_id": "the name of an entry in [files]",
    "relpath": "a path relative to the App folder that stays inside the MDaemon folder, "
    "such as Domains.dat or ../WorldClient/WorldClient.ini",
    "codepage": f"a Windows ANSI code page: {supported_text()}",
}


@dataclass(frozen=True, slots=True)
class ListenerSpec:
    """A listener as the layout describes it; the port is read from file/section/key if set."""

    service: str
    label: str
    port: int
    proto: Proto
    file: str | None = None  # path relative to the App folder
    section: str | None = None
    key: str | None = None


@dataclass(frozen=True, slots=True)
class BindListSpec:
    """Where a web server keeps its own bind list, and the listeners (layout ids) it governs."""

    name: str
    label: str
    file: str  # path relative to the App folder
    section: str
    key: str
    services: tuple[str, ...]  # the main listener first


@dataclass(frozen=True, slots=True)
class Layout:
    source: str
    files: tuple[tuple[str, str], ...]  # (id, path relative to the App folder)
    default_keys: DomainKeys  # section is set; bind = the restrict flag
    default_name_key: str
    domain_keys: DomainKeys  # section is None: one section per domain
    listeners: tuple[ListenerSpec, ...]
    file_lines: tuple[tuple[str, str], ...] = ()  # (path, "layout.ini:12 [files] domains")
    codepage: int | None = None  # the files' ANSI code page, for a copy read off the server
    bind_lists: tuple[BindListSpec, ...] = ()  # with a key name only (empty key: no such list)

    def named_at(self, path: str) -> str:
        """Where the layout names `path`: its source, line, section and id."""
        return next((where for p, where in self.file_lines if p == path), self.source)

    def file_paths(self) -> tuple[str, ...]:
        """Every file the layout names, each once, in layout order."""
        return tuple(dict.fromkeys(path for _, path in self.files))

    def required_files(self) -> tuple[str, ...]:
        """Files without which bindmgr must not plan: the Default Domain's and the domain file."""
        return tuple(dict.fromkeys((self.default_keys.file, self.domain_keys.file)))


def templates_dir() -> Path:
    """The shipped data folder: inside the installed package, or beside it in a checkout.

    Found from this file's path (what importlib.resources returns for a package on disk,
    without importing it at every start)."""
    package = Path(__file__).resolve().parent.parent
    packaged = package / "templates"
    return packaged if packaged.is_dir() else package.parent / "templates"


def default_layout_path() -> Path:
    return templates_dir() / "layout.ini"


def parse_layout(text: str, source: str) -> Layout:
    """Parse and validate layout text; every error names the source, the line and the key.
    A leading UTF-8 BOM is ignored; each line is checked first (`ownini.tame_lines`)."""
    hint = "fix that line; docs/layout.md shows the format"
    lines = tame_lines(text, source, what="the layout", depth=2, hint=hint, error=LayoutError)
    spec = ConfigObj(LAYOUT_SPEC.splitlines(), _inspec=True, list_values=False)
    try:
        conf = ConfigObj(lines, configspec=spec, interpolation=False, file_error=False)
    except ConfigObjError as exc:
        line = getattr(exc, "line_number", None)
        raise LayoutError(
            f"{source}:{line}: the layout is not valid ConfigObj INI ({exc})", hint=hint
        ) from exc
    result = conf.validate(_VALIDATOR, preserve_errors=True)
    problems: list[str] = []
    if result is not True:
        for sections, key, error in flatten_errors(conf, result):
            where = _where(source, lines, sections, key)
            if key is None:
                problems.append(f"{where}: the section is missing")
            elif error is False:
                problems.append(f"{where}: the key is missing")
            else:
                problems.append(f"{where}: {_explain(error, spec, sections, key)}")
    for sections, name in get_extra_values(conf):
        problems.append(f"{_where(source, lines, list(sections), name)}: unknown key or section")
    if problems:
        raise LayoutError(
            "the layout is invalid:\n  " + listed(problems),
            hint="fix the layout (docs/layout.md lists every key) and rerun",
        )
    return _build(conf, source, lines)


def _explain(error: object, spec: ConfigObj, sections: Sequence[str], key: str) -> str:
    check = spec
    for name in sections:
        check = check[name] if name in check else check["__many__"]
    check_text = str(check.get(key, check.get("__many__", "")))
    kind = check_text.split("(", 1)[0]
    expected = _HINTS.get(kind, check_text)
    message = str(error).rstrip(".") if isinstance(error, ValidateError) else str(error)
    return f"{message}; expected {expected}"


def _where(source: str, lines: Sequence[str], sections: Sequence[str], key: str | None) -> str:
    """`source:line [a] [[b]] key`, with the line found by a light scan of the text."""
    depth, found, line_no = 0, 0, None
    for number, raw in enumerate(lines, 1):
        stripped = raw.strip()
        header = re.match(r"(\[+)\s*([^\]]*?)\s*\]+", stripped)
        if header:
            depth = len(header.group(1))
            if depth <= len(sections) and header.group(2) == sections[depth - 1]:
                found = depth
                if key is None and found == len(sections):
                    line_no = number
                    break
            elif depth <= found:
                found = depth - 1
            continue
        in_place = key is not None and found == len(sections) == depth
        if in_place and stripped.partition("=")[0].strip() == key and "=" in stripped:
            line_no = number
            break
    path = " ".join(f"{'[' * (i + 1)}{s}{']' * (i + 1)}" for i, s in enumerate(sections))
    where = f"{source}:{line_no}" if line_no else source
    return " ".join(part for part in (where, path, key) if part)


def _build(conf: ConfigObj, source: str, lines: Sequence[str]) -> Layout:
    files: dict[str, str] = dict(conf["files"])
    named = {file_id: _where(source, lines, ["files"], file_id) for file_id in files}
    first: dict[tuple[str, ...], str] = {}
    for file_id, path in files.items():
        other = first.setdefault(confined_parts(path), file_id)
        if other != file_id:
            raise LayoutError(
                f"{named[file_id]} and {named[other]} name the same file "
                f"({path!r} and {files[other]!r}; names are compared as Windows does: without "
                "regard to case, '.' and '..' followed)",
                hint=f"name each file once in [files] and use the id {other} wherever {file_id} "
                "is used",
            )

    def path_of(file_id: str, sections: Sequence[str]) -> str:
        if file_id not in files:
            names = ", ".join(files)
            raise LayoutError(
                f"{_where(source, lines, sections, 'file')}: '{file_id}' names no entry in [files]",
                hint=f"add it to [files] or use one of: {names}",
            )
        return files[file_id]

    dd = conf["default_domain"]
    default_keys = DomainKeys(
        file=path_of(dd["file"], ["default_domain"]),
        section=dd["section"],
        ip=dd["ip"],
        bind=dd["restrict"],
        ipv6=dd["ipv6"] or None,
        fqdn=dd["fqdn"] or None,
    )
    dm = conf["domains"]
    domain_keys = DomainKeys(
        file=path_of(dm["file"], ["domains"]),
        section=None,
        ip=dm["ip"],
        bind=dm["bind"],
        ipv6=dm["ipv6"] or None,
        fqdn=dm["fqdn"] or None,
    )
    listeners: list[ListenerSpec] = []
    for service, entry in conf["listeners"].items():
        placed = (entry["file"], entry["section"], entry["key"])
        if any(placed) and not all(placed):
            raise LayoutError(
                f"{_where(source, lines, ['listeners', service], None)}: file, section and key "
                "go together",
                hint="set all three to read the port from MDaemon's files, or none to use `port`",
            )
        listeners.append(
            ListenerSpec(
                service=service,
                label=entry["label"],
                port=entry["port"],
                proto=Proto(entry["proto"]),
                file=path_of(entry["file"], ["listeners", service]) if entry["file"] else None,
                section=entry["section"] or None,
                key=entry["key"] or None,
            )
        )
    return Layout(
        bind_lists=_bind_lists(conf, source, lines, listeners, path_of),
        source=source,
        files=tuple(files.items()),
        default_keys=default_keys,
        default_name_key=dd["name"],
        domain_keys=domain_keys,
        listeners=tuple(listeners),
        file_lines=tuple((path, named[file_id]) for file_id, path in files.items()),
        codepage=conf["codepage"],
    )


def _bind_lists(
    conf: ConfigObj,
    source: str,
    lines: Sequence[str],
    listeners: Sequence[ListenerSpec],
    path_of: Callable[[str, Sequence[str]], str],
) -> tuple[BindListSpec, ...]:
    """[bind_lists]: each list's listeners are those it names, else those read from its file."""
    known = {spec.service: spec for spec in listeners}
    taken: dict[str, str] = {}
    found: list[BindListSpec] = []
    for name, entry in conf["bind_lists"].items():
        at = ["bind_lists", name]
        path = path_of(entry["file"], at)
        services = [str(s) for s in entry["listeners"]] or [
            spec.service for spec in listeners if spec.file == path
        ]
        for service in services:
            if service not in known:
                raise LayoutError(
                    f"{_where(source, lines, at, 'listeners')}: {service!r} names no listener "
                    "in [listeners]",
                    hint=f"name listeners of [listeners]: {', '.join(known)}",
                )
            other = taken.setdefault(service, name)
            if other != name:
                raise LayoutError(
                    f"{_where(source, lines, at, 'listeners')}: listener {service} is already "
                    f"governed by bind list {other}",
                    hint="name each listener in one bind list only",
                )
        if entry["key"]:
            found.append(
                BindListSpec(
                    name, entry["label"], path, entry["section"], entry["key"], tuple(services)
                )
            )
    return tuple(found)
