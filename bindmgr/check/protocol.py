"""What each MDaemon listener speaks, where its greeting ends, and how a greeting reads.

Pure protocol syntax: a listener id or port in, a Kind out; bytes in, the end of the greeting
out; text in, a Seen out (well-formed? from MDaemon?). No verdicts (answer.py makes them) and
no I/O (greeting.py does it).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from enum import StrEnum
from typing import Final, NamedTuple

MAX_GREETING: Final = 4096  # bytes read per connection at most


class Kind(StrEnum):
    SMTP = "smtp"  # SMTP, MSA and ODMR all greet with `220 host ...`
    POP3 = "pop3"
    IMAP = "imap"
    HTTP = "http"  # WorldClient and WebAdmin: HEAD / is sent, the status line and headers read


class Protocol(NamedTuple):
    kind: Kind
    tls: bool  # TLS from the first byte (465, 993, 995, 443), not STARTTLS


# The listener ids of templates/layout.ini, and a few spellings other layouts may use.
SERVICES: Final[Mapping[str, Protocol]] = {
    "smtp": Protocol(Kind.SMTP, False),
    "msa": Protocol(Kind.SMTP, False),
    "odmr": Protocol(Kind.SMTP, False),
    "smtps": Protocol(Kind.SMTP, True),
    "pop3": Protocol(Kind.POP3, False),
    "pop3s": Protocol(Kind.POP3, True),
    "imap": Protocol(Kind.IMAP, False),
    "imaps": Protocol(Kind.IMAP, True),
    "webmail": Protocol(Kind.HTTP, False),
    "webmail_http": Protocol(Kind.HTTP, False),
    "webmail_https": Protocol(Kind.HTTP, True),
    "worldclient": Protocol(Kind.HTTP, False),
    "worldclient_https": Protocol(Kind.HTTP, True),
    "webadmin": Protocol(Kind.HTTP, False),
    "webadmin_https": Protocol(Kind.HTTP, True),
}
# For a listener id not above: MDaemon's default port says what it speaks (mdaemon.md's table).
PORTS: Final[Mapping[int, Protocol]] = {
    25: SERVICES["smtp"],
    587: SERVICES["msa"],
    366: SERVICES["odmr"],
    465: SERVICES["smtps"],
    110: SERVICES["pop3"],
    995: SERVICES["pop3s"],
    143: SERVICES["imap"],
    993: SERVICES["imaps"],
    80: SERVICES["webmail"],
    3000: SERVICES["webmail"],
    1000: SERVICES["webadmin"],
    443: SERVICES["webmail_https"],
    444: SERVICES["webadmin_https"],
}


def protocol_of(service: str, port: int) -> Protocol | None:
    """What a TCP listener speaks: by its layout id, else by its port; None = not checkable."""
    return SERVICES.get(service.casefold()) or PORTS.get(port)


def greeting_end(kind: Kind, data: bytes) -> int | None:
    """Where the greeting in `data` ends (an index into it), or None while more must be read.

    SMTP: after the first line that is not a `NNN-` continuation; POP3, IMAP: after the first
    line; HTTP: after the blank line that ends the headers. A first line that is not the
    protocol's ends the greeting at once: reading on would wait for something that never comes.
    """
    first = data.find(b"\n")
    if first < 0:
        return None
    if kind is Kind.HTTP:
        if not data.startswith(b"HTTP/"):
            return first + 1
        ends = [i + len(sep) for sep in (b"\r\n\r\n", b"\n\n") if (i := data.find(sep)) >= 0]
        return min(ends, default=None)
    if kind is not Kind.SMTP:
        return first + 1
    pos = 0
    while (nl := data.find(b"\n", pos)) >= 0:  # pos grows every pass: bounded by len(data)
        line, pos = data[pos:nl], nl + 1
        if not (line[:3].isdigit() and line[3:4] == b"-"):
            return pos
    return None


_MDAEMON: Final = re.compile(r"\bMDaemon\b", re.IGNORECASE)
# MDaemon's web server calls itself WDaemon; its redirects go to /WorldClient.dll.
_WEB_MDAEMON: Final = re.compile(r"\b(?:MDaemon|WDaemon|WorldClient|WebAdmin)\b", re.IGNORECASE)
_SMTP_LINE: Final = re.compile(r"(\d{3})(?:[ -](.*))?")
_HTTP_STATUS: Final = re.compile(r"HTTP/\d\.\d (\d{3})(?: .*)?")


class Seen(NamedTuple):
    """One greeting read as its protocol: well-formed? from MDaemon (None = cannot tell)?"""

    speaks: bool
    mdaemon: bool | None
    rejection: bool = False  # a well-formed "go away" greeting (SMTP 4xx/5xx, -ERR, * BYE)
    name: str | None = None  # the host name an SMTP greeting gives
    what: str = ""  # a short description for details (HTTP: status and Server)
    line: str = ""  # the greeting's first line


def _smtp(lines: Sequence[str]) -> Seen:
    parsed = [_SMTP_LINE.fullmatch(line) for line in lines]
    first = parsed[0]
    if first is None or not all(parsed) or not (first[1] == "220" or first[1][0] in "45"):
        return Seen(speaks=False, mdaemon=None)
    words = (first[2] or "").split(maxsplit=1)
    return Seen(
        speaks=True,
        mdaemon=any(_MDAEMON.search(line) for line in lines),
        rejection=first[1] != "220",
        name=words[0] if words else None,
    )


def _line_protocol(line: str, ok: tuple[str, ...], no: str) -> Seen:
    upper = line.upper()

    def starts(word: str) -> bool:
        return upper == word or upper.startswith(f"{word} ")

    if not (any(starts(w) for w in ok) or starts(no)):
        return Seen(speaks=False, mdaemon=None)
    return Seen(speaks=True, mdaemon=bool(_MDAEMON.search(line)), rejection=starts(no))


def _http(lines: Sequence[str]) -> Seen:
    status = _HTTP_STATUS.fullmatch(lines[0])
    if status is None:
        return Seen(speaks=False, mdaemon=None)
    headers: dict[str, str] = {}
    for line in lines[1:]:
        key, sep, value = line.partition(":")
        if sep:
            headers.setdefault(key.strip().casefold(), value.strip())
    server, location = headers.get("server"), headers.get("location", "")
    mdaemon = bool(_WEB_MDAEMON.search(f"{server or ''} {location}")) or (
        None if server is None else False
    )
    what = f"HTTP {status[1]}, " + ("no Server header" if server is None else f"Server: {server}")
    return Seen(speaks=True, mdaemon=mdaemon, rejection=status[1][0] == "5", what=what)


def read_greeting(kind: Kind, text: str) -> Seen:
    """A greeting (decoded, cut at its end) read as the protocol `kind`."""
    lines = text.splitlines() or [""]
    if kind is Kind.SMTP:
        seen = _smtp(lines)
    elif kind is Kind.POP3:
        seen = _line_protocol(lines[0], ("+OK",), "-ERR")
    elif kind is Kind.IMAP:
        seen = _line_protocol(lines[0], ("* OK", "* PREAUTH"), "* BYE")
    else:
        seen = _http(lines)
    return seen._replace(line=lines[0])
