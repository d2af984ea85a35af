"""WorldClient's and Remote Administration's bind lists: a raw value in, its entries out.

Blank: they listen on every IP a domain holds. Otherwise comma-separated entries: `IP`,
`IP:port`, or `*` (every IP, at the default ports; `*:port` at that port). IPv6 entries are a
bare address (`2001:db8::1`, never with a port) or `[2001:db8::1]` / `[2001:db8::1]:3000`.
Blanks around an entry and empty entries (`a,,b`, a trailing comma) are ignored. Pure: text in,
values out; a bad entry is an InputError naming the file, line, value and what to write.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable, Mapping

from bindmgr.errors import InputError
from bindmgr.ini.file import IniFile
from bindmgr.model import BindEntry, BindList, IPAddress, Location
from bindmgr.read.layout import BindListSpec

_BRACKETED = re.compile(r"\[([^\]]*)\](?::(.*))?\Z")
HINT = (
    "write each entry as IP or IP:port (IPv6 as 2001:db8::1 or [2001:db8::1]:3000), separated "
    "by commas, * for every IP, or leave the value blank to listen on every domain IP; correct "
    "it in MDaemon (or in the file, with MDaemon stopped) and rerun"
)


class _Bad(ValueError):
    """What is wrong with one entry (the caller adds where it is)."""


def _port(text: str) -> int:
    if not (text.isascii() and text.isdigit()) or not 1 <= int(text) <= 65535:
        raise _Bad(f"its port {text!r} is not a number from 1 to 65535 in plain digits")
    return int(text)


def _ip(text: str, version: int | None = None) -> IPAddress:
    try:
        ip = ipaddress.ip_address(text)
    except ValueError:
        what = "an IPv6 address" if version == 6 else "an IP address"
        named = re.search("[g-zG-Z]", text)
        looks = " (a host name? MDaemon binds addresses only)" if named else ""
        raise _Bad(f"{text!r} is not {what}{looks}") from None
    if version == 6 and ip.version != 6:
        raise _Bad(f"brackets are for IPv6 addresses; write {text} without them")
    return ip


def parse_entry(text: str) -> BindEntry:
    """One entry (blanks around it already dropped); _Bad says what is wrong."""
    if text == "*":
        return BindEntry(text, None)
    if text.startswith("*:"):
        return BindEntry(text, None, _port(text[2:]))
    if any(c.isspace() for c in text):
        raise _Bad("it holds a blank inside; separate entries with commas")
    bracketed = _BRACKETED.match(text)
    if bracketed:
        ip = _ip(bracketed.group(1), 6)
        port = bracketed.group(2)
        return BindEntry(text, ip, None if port is None else _port(port))
    if text.startswith("["):
        raise _Bad("it opens a [ that no ] closes")
    if text.count(":") >= 2:  # a bare IPv6 address: no port (write [addr]:port for one)
        return BindEntry(text, _ip(text, 6))
    host, colon, port = text.partition(":")
    ip = _ip(host)
    return BindEntry(text, ip, _port(port) if colon else None)


def parse_bind_list(raw: str, where: Location) -> tuple[BindEntry, ...]:
    """The entries of a bind list's value; () for a blank one."""
    entries: list[BindEntry] = []
    for part in raw.split(","):
        text = part.strip()
        if not text:
            continue
        try:
            entries.append(parse_entry(text))
        except _Bad as exc:
            raise InputError(
                f"{where}: the bind list {raw!r} has a bad entry {text!r}: {exc}", hint=HINT
            ) from None
    return tuple(entries)


def entry_text(ip: IPAddress, port: int | None) -> str:
    """An entry as bindmgr writes it: 203.0.113.7, 203.0.113.7:3000, [2001:db8::7]:3000."""
    if port is None:
        return str(ip)
    return f"[{ip}]:{port}" if ip.version == 6 else f"{ip}:{port}"


def separator(raw: str) -> str:
    """How the list separates its entries: ", " when it does so already, else ","."""
    return ", " if re.search(r",\s", raw) else ","


def joined(texts: Iterable[str], raw: str) -> str:
    return separator(raw).join(texts)


def read_bind_list(files: Mapping[str, IniFile], spec: BindListSpec) -> BindList:
    """The bind list `spec` names, read from `files` and parsed (`raw` None: no such key)."""
    ini = files.get(spec.file)
    raw = ini.get(spec.section, spec.key) if ini is not None else None
    line = ini.line_of(spec.section, spec.key) if ini is not None else None
    where = Location(spec.file, spec.section, spec.key, line)
    entries = () if raw is None else parse_bind_list(raw, where)
    return BindList(spec.name, spec.label, where, raw, entries, spec.services)
