"""`bindmgr inspect`: what MDaemon's files say, where each value came from, what is missing.

Pure: a read configuration and the host's addresses in, text or JSON out.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
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


def _domain_json(d: Domain) -> dict[str, object]:
    return {
        "name": d.name,
        "default": d.is_default,
        "ip": None if d.ip is None else str(d.ip),
        "ipv6": None if d.ipv6 is None else str(d.ipv6),
        "bind": d.bind,
        "fqdn": d.fqdn,
        "other_keys": list(d.other_keys),
    }


def render_json(ins: Inspection) -> str:
    c = ins.config
    doc = {
        "format_version": INSPECT_FORMAT_VERSION,
        "app_dir": ins.app_dir,
        "layout": ins.layout,
        "codepage": ins.codepage,
        "codepage_source": ins.codepage_source,
        "domains": [_domain_json(d) for d in c.all_domains()],
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
    return dumps_json(doc)
