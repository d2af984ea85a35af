"""A layout file written from a detection: the base layout with the detected names put in.

Pure: a `Detection` and the base `Layout` in, the text of a layout file out, which
`parse_layout` accepts. Every entry says what was detected and how sure; an ambiguous or
unknown setting keeps the base layout's value and its comment says so: nothing is guessed.
"""

from __future__ import annotations

import re
from pathlib import PurePosixPath

from bindmgr.read.clues import SETTINGS
from bindmgr.read.detect import Ambiguity, Detection, Proposal, Unknown, describe
from bindmgr.read.layout import Layout

# A layout value written as it is; anything else is quoted (ConfigObj reads `#` and `,` itself).
_PLAIN = re.compile(r"[A-Za-z0-9_.:/\\@+-]+(?: [A-Za-z0-9_.:/\\@+-]+)*\Z")
_KEPT = "kept the default"
_BIND_GROUPS = {"webmail": "webmail", "webadmin": "webadmin"}  # main listener -> detect's group


def _value(text: str) -> str:
    if _PLAIN.match(text):
        return text
    return f"'{text}'" if '"' in text else f'"{text}"'


def _usable(name: str | None) -> bool:
    """Can the name stand in a layout (read/layout's ini_name rules, and quotable)?"""
    if name is None:
        return True
    bad = any(c in "[]=" or ord(c) < 0x20 or c == "\x7f" for c in name)
    both = '"' in name and "'" in name
    return bool(name) and not bad and not both and name == name.strip() and name[0] != ";"


def _usable_path(path: str) -> bool:
    """Can the path stand in [files] (read/layout's relpath rules, and quotable)?"""
    return not any(c in path for c in '\x00\r\n*?"<>|') and _usable(path.replace("=", ""))


def _same(a: str, b: str) -> bool:
    """Paths in a layout are Windows paths: `/` or `\\`, any case."""
    return a.replace("\\", "/").casefold() == b.replace("\\", "/").casefold()


class _Files:
    """The [files] ids. A setting that stays in its file keeps that file's id; one that moved
    takes the id of an entry that already names its new path, else its old id when no other
    setting still uses it, else a new id made from the file's name."""

    def __init__(self, base: Layout) -> None:
        self.paths = dict(base.files)
        self.held: set[str] = set()

    def id_of(self, path: str | None) -> str | None:
        return next((i for i, p in self.paths.items() if path and _same(p, path)), None)

    def assign(self, wanted: dict[str, tuple[str | None, str]]) -> dict[str, str]:
        """{setting: id} for {setting: (its path in the base layout, its path now)}."""
        ids: dict[str, str] = {}
        for setting, (old, new) in wanted.items():  # the settings that stay, first
            if old is not None and _same(old, new):
                ids[setting] = self._hold(self.id_of(old) or self._new(new), new)
        for setting, (old, new) in wanted.items():
            if setting not in ids:
                same, mine = self.id_of(new), self.id_of(old)
                free = mine if mine is not None and mine not in self.held else None
                ids[setting] = self._hold(same or free or self._new(new), new)
        return ids

    def _hold(self, file_id: str, path: str) -> str:
        self.paths[file_id] = path
        self.held.add(file_id)
        return file_id

    def _new(self, path: str) -> str:
        stem = re.sub(r"[^a-z0-9_]", "_", PurePosixPath(path.replace("\\", "/")).stem.lower())
        stem = stem if stem[:1].isalpha() or stem[:1] == "_" else f"f_{stem}"
        file_id, n = stem, 1
        while file_id in self.paths:
            n += 1
            file_id = f"{stem}_{n}"
        return file_id

    def lines(self) -> list[str]:
        keep = self.held | {"mdaemon", "domains"}  # the two the layout format requires
        return [f"{i} = {_value(p)}" for i, p in self.paths.items() if i in keep]


def _note(detection: Detection, setting: str) -> tuple[Proposal | None, str]:
    """The proposal to use (None: keep the default) and the comment that says why."""
    label = SETTINGS[setting]
    found = detection.outcome(setting)
    if isinstance(found, Proposal):
        if not (_usable(found.section) and _usable(found.key) and _usable_path(found.file)):
            return (
                None,
                f"# {label}: found at {describe(found)}, a name a layout cannot hold; {_KEPT}",
            )
        others = "".join(f"\n# {' ' * len(label)}  or: {describe(c)}" for c in found.alternatives)
        return found, f"# {label}: detected ({found.confidence.value}): {describe(found)}{others}"
    if isinstance(found, Ambiguity):
        where = "".join(f"\n#   candidate: {describe(c)}" for c in found.candidates)
        return None, f"# {label}: AMBIGUOUS, {found.reason}; {_KEPT}, choose one:{where}"
    why = found.reason if isinstance(found, Unknown) else "not looked for"
    return None, f"# {label}: not detected ({why}); {_KEPT}"


def render_layout(detection: Detection, base: Layout) -> str:
    """The layout text: `base` with every usable detected file, section and key put in."""
    dk, mk = base.default_keys, base.domain_keys
    section_use, section_note = _note(detection, "default_domain.section")
    domains_use, domains_note = _note(detection, "files.domains")
    ports = {
        s.service: _note(detection, f"listeners.{s.service}")
        for s in base.listeners
        if f"listeners.{s.service}" in SETTINGS
    }
    wanted: dict[str, tuple[str | None, str]] = {
        "default_domain": (dk.file, dk.file if section_use is None else section_use.file),
        "domains": (mk.file, mk.file if domains_use is None else domains_use.file),
    }
    places: dict[str, tuple[str, str, str]] = {}
    for spec in base.listeners:
        use = ports.get(spec.service, (None, ""))[0]
        if use is not None and use.section is not None and use.key is not None:
            places[spec.service] = (use.file, use.section, use.key)
        elif spec.file is not None and spec.section is not None and spec.key is not None:
            places[spec.service] = (spec.file, spec.section, spec.key)
        if spec.service in places:
            wanted[f"listeners.{spec.service}"] = (spec.file, places[spec.service][0])
    lists: dict[str, tuple[tuple[str, str, str], str]] = {}
    for bl in base.bind_lists:
        group = _BIND_GROUPS.get(bl.services[0] if bl.services else "")
        use, note = _note(detection, f"{group}.bind_list") if group else (None, "")
        place = (bl.file, bl.section, bl.key)
        if use is not None and use.section is not None and use.key is not None:
            place = (use.file, use.section, use.key)
        lists[bl.name] = (place, note)
        wanted[f"bind_lists.{bl.name}"] = (bl.file, place[0])
    files = _Files(base)
    ids = files.assign(wanted)
    section = (dk.section if section_use is None else section_use.section) or ""
    out = [
        "# bindmgr layout written by `bindmgr layout detect` from an MDaemon App folder's files.",
        "# Each entry says what was detected and how sure. An entry marked AMBIGUOUS or",
        "# \"not detected\" keeps the default layout's value: check it in MDaemon's files, then",
        "# use this file with --layout FILE (`bindmgr inspect --layout FILE` shows what it finds).",
        f"# {len(detection.proposals)} settings detected, {len(detection.ambiguous)} ambiguous, "
        f"{len(detection.unknown)} not detected.",
        "version = 1",
        "",
        "[files]",
        *files.lines(),
        "",
        "[default_domain]",
        section_note,
        f"file = {ids['default_domain']}",
        f"section = {_value(section)}",
    ]
    for name, key in (
        ("name", base.default_name_key),
        ("fqdn", dk.fqdn),
        ("ip", dk.ip),
        ("ipv6", dk.ipv6),
        ("restrict", dk.bind),
    ):
        out += _key(detection, f"default_domain.{name}", name, key)
    out += ["", "[domains]", domains_note, f"file = {ids['domains']}"]
    for name, key in (("ip", mk.ip), ("bind", mk.bind), ("fqdn", mk.fqdn), ("ipv6", mk.ipv6)):
        out += _key(detection, f"domains.{name}", name, key)
    out += ["", "[listeners]"]
    for spec in base.listeners:
        out += [f"    [[{spec.service}]]", f"    label = {_value(spec.label)}"]
        if spec.service in ports:
            out += [f"    {line}" for line in ports[spec.service][1].split("\n")]
        if spec.service in places:
            _, section, key = places[spec.service]
            out += [f"    file = {ids[f'listeners.{spec.service}']}"]
            out += [f"    section = {_value(section)}", f"    key = {_value(key)}"]
        out += [f"    port = {spec.port}"]
        out += [f"    proto = {spec.proto.value}"] if spec.proto.value != "tcp" else []
    out += ["", "[bind_lists]"] if base.bind_lists else []
    for bl in base.bind_lists:
        (_, section, key), note = lists[bl.name]
        out += [f"    [[{bl.name}]]", f"    label = {_value(bl.label)}"]
        out += [f"    {line}" for line in note.split("\n") if line]
        out += [f"    file = {ids[f'bind_lists.{bl.name}']}"]
        out += [f"    section = {_value(section)}", f"    key = {_value(key)}"]
        out += [f"    listeners = {', '.join(bl.services)}"] if bl.services else []
    return "\n".join(out) + "\n"


def _key(detection: Detection, setting: str, name: str, default: str | None) -> list[str]:
    """One key line of [default_domain] or [domains], with its comment. A key is proposed only
    with its section or file, whose name it carries: usable whenever theirs is."""
    use, note = _note(detection, setting)
    return [note, f"{name} = {_value((default if use is None else use.key) or '')}"]
