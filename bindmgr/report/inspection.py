"""`bindmgr inspect`: what MDaemon's files say, where each value came from, what is missing.

Pure: a read configuration and the host's addresses in, text or JSON out.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

from bindmgr.formats.jsondoc import dumps_json
from bindmgr.model import Config, Domain, IPAddress
from bindmgr.read.config import KeyPresence
from bindmgr.report.wording import safe

INSPECT_FORMAT_VERSION = 1
DRIFT = (
    "Some layout keys were not found in the files: run `bindmgr layout detect` to see where "
    "they live."
)


@dataclass(frozen=True, slots=True)
class Inspection:
    app_dir: str
    layout: str
    config: Config
    presence: tuple[KeyPresence, ...]
    host_addresses: tuple[IPAddress, ...]
    not_on_host: tuple[tuple[str, IPAddress], ...]  # (domain, address)
    codepage: int = 1252  # the ANSI code page the files were read in
    codepage_source: str = "the default"


def inspect(
    config: Config,
    presence: Sequence[KeyPresence],
    *,
    app_dir: str,
    layout: str,
    host_addresses: Sequence[IPAddress],
    is_local: Callable[[IPAddress], bool],
    codepage: tuple[int, str] = (1252, "the default"),
) -> Inspection:
    """`codepage`: the ANSI code page the files were read in, and where it came from."""
    foreign = tuple(
        (d.name, a) for d in config.all_domains() for a in d.addresses() if not is_local(a)
    )
    return Inspection(
        app_dir, layout, config, tuple(presence), tuple(host_addresses), foreign, *codepage
    )


def _table(rows: Sequence[Sequence[str]], indent: str = "  ") -> list[str]:
    """Rows as aligned columns; every cell escaped (names and values come from the files)."""
    cells = [[safe(cell) for cell in row] for row in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(cells[0]))]
    return [
        indent + "  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip()
        for row in cells
    ]


def _bind_text(domain: Domain) -> str:
    if domain.is_default:
        return "yes (restrict)" if domain.bind else "no (listens on all IPs)"
    return "yes" if domain.bind else "no"


def render_text(ins: Inspection) -> str:
    """The terminal text; everything from the files or the command line passes `safe`."""
    c = ins.config
    out = [
        f"MDaemon App folder: {safe(ins.app_dir)}",
        f"Layout: {safe(ins.layout)}",
        f"ANSI code page: {ins.codepage} ({ins.codepage_source})",
        "",
        "Domains",
    ]
    rows = [["DOMAIN", "IPv4", "IPv6", "BOUND"]]
    for d in c.all_domains():
        name = f"{d.name or '(unnamed)'} (default)" if d.is_default else d.name
        rows.append([name, str(d.ip or "-"), str(d.ipv6 or "-"), _bind_text(d)])
    out += _table(rows)
    out += ["", "Listeners (per bound IP)"]
    rows = [["SERVICE", "PORT", "PROTO", "FROM"]]
    for lst in c.listeners:
        source = str(lst.source) if lst.source else "layout default"
        rows.append([lst.label, str(lst.port), lst.proto.value, source])
    out += _table(rows)
    out += ["", "Layout keys"]
    rows = [["FOUND", "SETTING", "WHERE"]]
    for p in ins.presence:
        found = f"{p.found}/{p.total}" if p.total != 1 else ("found" if p.found else "MISSING")
        rows.append([found, p.what, str(p.location)])
    out += _table(rows)
    if any(p.found == 0 and p.total > 0 for p in ins.presence):
        out += ["", DRIFT]
    out += ["", "Host addresses: " + (", ".join(map(str, ins.host_addresses)) or "none found")]
    if ins.not_on_host:
        out.append("Configured addresses not on this host (MDaemon cannot bind them here):")
        out += [f"  {addr} ({safe(name)})" for name, addr in ins.not_on_host]
    else:
        out.append("Every configured address is on this host.")
    out += ["", "Problems in MDaemon's files" if c.problems else "No problems found in the files."]
    out += [f"  {safe(str(p))}" for p in c.problems]
    return "\n".join(out) + "\n"


def _domain_scalars(d: Domain) -> dict[str, object]:
    """A domain's object in the JSON document but its last member, "other_keys": the list of
    its other keys' names."""
    return {
        "name": d.name,
        "default": d.is_default,
        "ip": None if d.ip is None else str(d.ip),
        "ipv6": None if d.ipv6 is None else str(d.ipv6),
        "bind": d.bind,
        "fqdn": d.fqdn,
    }


# The domains array is written by hand with json's C encoder, in the bytes of
# `json.dumps(indent=2)` (property-tested): a domain's object holds an array (other_keys), so
# the generic writer would walk every one of thousands in Python.
CHUNK = 1000  # domains per piece of the document
_ITEM = ",\n      "  # between two members of a domain's object, at its indentation
_MEMBERS = json.JSONEncoder(ensure_ascii=True, allow_nan=False, separators=(_ITEM, ": ")).encode
_KEYS = json.JSONEncoder(ensure_ascii=True, separators=(",\n        ", ": ")).encode  # strings


class _DomainWriter:
    """Writes runs of domains as items of the document's "domains" array; each distinct tuple
    of other keys (most domains share one) is encoded once."""

    def __init__(self) -> None:
        self._keys: dict[tuple[str, ...], str] = {}

    def keys(self, names: tuple[str, ...]) -> str:
        text = self._keys.get(names)
        if text is None:
            text = "[]" if not names else "[\n        " + _KEYS(list(names))[1:-1] + "\n      ]"
            if len(self._keys) < 4096:
                self._keys[names] = text
        return text

    def chunk(self, domains: Sequence[Domain]) -> str:
        """The items for `domains` (at least one), separated by `,` and line breaks, without
        the line break before the first and after the last."""
        # One C call for the scalar members of every domain: `[{a,<i>b},<i>{c}]` where `<i>`
        # is _ITEM; `},<i>{` occurs only between two objects (a separator inside one follows
        # a scalar), so splitting there gives each object's members.
        members = _MEMBERS([_domain_scalars(d) for d in domains])[2:-2].split("}" + _ITEM + "{")
        return ",\n".join(
            f'    {{\n      {m}{_ITEM}"other_keys": {self.keys(d.other_keys)}\n    }}'
            for m, d in zip(members, domains, strict=True)
        )


def render_json(ins: Inspection) -> str:
    return "".join(render_json_pieces(ins))


def render_json_pieces(ins: Inspection, chunk: int = CHUNK) -> Iterator[str]:
    """The JSON document in pieces, each ending with a line break, made as they are taken: the
    domains `chunk` at a time, so that the document of 100,000 domains never exists whole."""
    c = ins.config
    domains = c.all_domains()
    doc = {
        "format_version": INSPECT_FORMAT_VERSION,
        "app_dir": ins.app_dir,
        "layout": ins.layout,
        "codepage": ins.codepage,
        "codepage_source": ins.codepage_source,
        "domains": [],
        "listeners": [
            {
                "service": lst.service,
                "label": lst.label,
                "port": lst.port,
                "proto": lst.proto.value,
                "source": None
                if lst.source is None
                else {
                    "file": lst.source.file,
                    "section": lst.source.section,
                    "key": lst.source.key,
                    "line": lst.source.line,
                },
            }
            for lst in c.listeners
        ],
        "layout_keys": [
            {
                "setting": p.what,
                "file": p.location.file,
                "section": p.location.section,
                "key": p.location.key,
                "line": p.location.line,
                "found": p.found,
                "total": p.total,
            }
            for p in ins.presence
        ],
        "host_addresses": [str(a) for a in ins.host_addresses],
        "not_on_host": [{"domain": n, "ip": str(a)} for n, a in ins.not_on_host],
        "problems": [{"file": p.file, "line": p.line, "message": p.message} for p in c.problems],
        "inputs": [{"file": f.name, "sha256": f.sha256} for f in c.inputs],
    }
    text = dumps_json(doc)
    # The empty array as the document's member: a line break and two blanks before a key
    # occur nowhere else (a string holds no raw line break).
    at = text.index('\n  "domains": []') + len('\n  "domains": [')
    if not domains:
        yield text
        return
    yield text[:at] + "\n"
    writer = _DomainWriter()
    for start in range(0, len(domains), chunk):
        last = start + chunk >= len(domains)
        yield writer.chunk(domains[start : start + chunk]) + ("\n" if last else ",\n")
    yield "  " + text[at:]
