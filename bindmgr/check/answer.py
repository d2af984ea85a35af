"""What a service's greeting says, for `bindmgr verify`: pure values and one `classify` call.

Values in (a Target and the Greeting the edge read from it), an Answer out: no sockets, no event
loop, no clock (a Greeting carries the time it was read). Which listener speaks what and how a
greeting reads is protocol.py's; the verdict is this module's, and
classify()'s docstring states its rules. greeting.py does the I/O and nothing else.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum
from typing import Final

from bindmgr.check.cert import CertError, parse_cert
from bindmgr.check.events import BIND_FAILURE, event_for_missing_listener
from bindmgr.check.protocol import (
    MAX_GREETING,
    Kind,
    Seen,
    greeting_end,
    protocol_of,
    read_greeting,
)
from bindmgr.model import IPAddress, Listener, Proto

_HOST_NAME: Final = re.compile(r"[A-Za-z0-9_](?:[A-Za-z0-9_.-]*[A-Za-z0-9_.])?")


@dataclass(frozen=True, slots=True)
class Target:
    """One connection to make: a listener on an address, and what its greeting should show."""

    ip: IPAddress
    port: int
    service: str  # layout id, e.g. "smtp"
    label: str  # e.g. "SMTP"
    kind: Kind
    tls: bool
    expected_name: str | None = None  # host name of the domain that owns `ip`
    removed: bool = False  # the plan took this address away: MDaemon must not answer here

    def __post_init__(self) -> None:
        if not 1 <= self.port <= 65535:
            raise ValueError(f"port {self.port} is out of range")
        if self.ip.is_unspecified:
            raise ValueError(f"{self.ip} cannot be connected to; give the host's addresses")
        if self.expected_name is not None and not _HOST_NAME.fullmatch(self.expected_name):
            raise ValueError(f"{self.expected_name!r} is not a host name")

    @property
    def address(self) -> str:
        host = f"[{self.ip}]" if self.ip.version == 6 else str(self.ip)
        return f"{host}:{self.port}"


def targets_for(
    bound: Mapping[IPAddress, str | None],
    listeners: Sequence[Listener],
    *,
    removed: Iterable[IPAddress] = (),
) -> tuple[Target, ...]:
    """Every checkable (address, TCP listener): the bound addresses with the host name their
    greetings must show, then the removed ones. UDP listeners and those protocol_of() does not
    know are left out (the caller can list them with protocol_of)."""
    checkable = [
        (lst, proto)
        for lst in listeners
        if lst.proto is Proto.TCP and (proto := protocol_of(lst.service, lst.port)) is not None
    ]
    rows = [(ip, name, False) for ip, name in bound.items()]
    rows += [(ip, None, True) for ip in dict.fromkeys(removed) if ip not in bound]
    return tuple(
        Target(ip, lst.port, lst.service, lst.label, proto.kind, proto.tls, name, gone)
        for ip, name, gone in rows
        for lst, proto in checkable
    )


def http_request(target: Target) -> bytes:
    """The one request sent to a web listener: HEAD / with the host name MDaemon serves there."""
    host = target.expected_name or (f"[{target.ip}]" if target.ip.version == 6 else str(target.ip))
    if target.port != (443 if target.tls else 80):
        host = f"{host}:{target.port}"
    return f"HEAD / HTTP/1.0\r\nHost: {host}\r\nUser-Agent: bindmgr-verify\r\n\r\n".encode("ascii")


class Failure(StrEnum):
    """Why the edge got no greeting."""

    REFUSED = "refused"
    TIMEOUT = "timeout"
    CLOSED = "closed"  # reset or closed by the server
    UNREACHABLE = "unreachable"  # no route, address not on any host
    TLS = "tls"  # the TLS handshake (or a TLS record) failed


class Phase(StrEnum):
    """How far a connection got."""

    QUEUED = "queued"  # waiting for a free connection slot
    CONNECT = "connect"
    HANDSHAKE = "tls_handshake"
    GREETING = "greeting"


@dataclass(frozen=True, slots=True)
class Greeting:
    """The raw outcome of one connection, as the edge saw it: no interpretation yet."""

    data: bytes = b""  # what the server sent, at most MAX_GREETING bytes
    failure: Failure | None = None
    phase: Phase = Phase.GREETING  # where it stopped; GREETING when the greeting came
    detail: str = ""  # errno name, TLS reason, which timeout
    cert: bytes | None = None  # DER of the server's certificate (TLS targets)
    at: datetime | None = None  # when the connection was made (aware, UTC)


class Status(StrEnum):
    ANSWERED = "answered"
    WRONG_DOMAIN = "wrong_domain"
    NOT_MDAEMON = "not_mdaemon"
    STILL_ON_OLD_IP = "still_on_old_ip"
    REFUSED = "refused"
    TIMEOUT = "timeout"
    TLS_ERROR = "tls_error"
    CLOSED = "closed"
    UNREACHABLE = "unreachable"
    NOT_LOCAL = "not_local"  # the address is not on this host: nothing was sent to it


@dataclass(frozen=True, slots=True)
class Answer:
    """The verdict on one target. `passed`: what the plan wants is what was seen."""

    target: Target
    status: Status
    passed: bool
    detail: str
    hint: str | None = None  # the next step, for an answer that did not pass
    warnings: tuple[str, ...] = ()
    seen_name: str | None = None  # the host name an SMTP greeting gave
    greeting: str = ""  # the greeting's first line, printable
    event: str | None = None  # the MDaemon event this failure likely left in its log
    event_code: int | None = None  # that event's code (`bindmgr explain CODE`)


_FAILURE_STATUS: Final[Mapping[Failure, Status]] = {
    Failure.REFUSED: Status.REFUSED,
    Failure.TIMEOUT: Status.TIMEOUT,
    Failure.CLOSED: Status.CLOSED,
    Failure.UNREACHABLE: Status.UNREACHABLE,
    Failure.TLS: Status.TLS_ERROR,
}
_DURING: Final[Mapping[Phase, str]] = {
    Phase.QUEUED: "before it started (waiting for a free connection slot)",
    Phase.CONNECT: "while connecting",
    Phase.HANDSHAKE: "during the TLS handshake",
    Phase.GREETING: "while waiting for the greeting",
}
_UNPRINTABLE: Final = re.compile(r"[\x00-\x1f\x7f-\x9f]")
_SHOWN: Final = 120  # characters of a greeting line shown in a detail


def _printable(line: str) -> str:
    line = _UNPRINTABLE.sub(lambda m: f"\\x{ord(m[0]):02x}", line)
    return line if len(line) <= _SHOWN else f"{line[:_SHOWN]}..."


def _fold(name: str) -> str:
    return name.rstrip(".").casefold()


def _cert_warnings(target: Target, greeting: Greeting) -> list[str]:
    if greeting.cert is None:
        return ["the server sent no certificate"]
    try:
        info = parse_cert(greeting.cert)
    except CertError as exc:
        return [f"the certificate could not be read ({exc})"]
    out: list[str] = []
    if greeting.at is not None and greeting.at > info.not_after:
        out.append(f"the certificate expired on {info.not_after:%Y-%m-%d %H:%M} UTC")
    if greeting.at is not None and greeting.at < info.not_before:
        out.append(f"the certificate is not valid before {info.not_before:%Y-%m-%d %H:%M} UTC")
    name = target.expected_name
    if name is not None and not info.matches(name):
        names = ", ".join(info.names) or "no host name"
        out.append(f"the certificate is for {names}, not {name}")
    return out


def _failed(target: Target, greeting: Greeting, failure: Failure) -> Answer:
    status = _FAILURE_STATUS[failure]
    during, why = _DURING[greeting.phase], f" ({greeting.detail})" if greeting.detail else ""
    where = target.address
    if failure is Failure.REFUSED:
        detail = f"connection refused{why}: nothing listens on {where}"
        hint = "is MDaemon running, restarted since the change, and this service enabled?"
    elif failure is Failure.TIMEOUT:
        detail = f"timed out {during}{why}"
        hint = {
            Phase.QUEUED: "allow the whole run more time, or more connections at once",
            Phase.CONNECT: f"a firewall may drop connections to {where}",
        }.get(
            greeting.phase,
            f"something accepts connections on {where} but does not answer as {target.label}: "
            "see which program listens there",
        )
    elif failure is Failure.CLOSED:
        detail = f"the server closed the connection {during}{why}"
        hint = f"see MDaemon's {target.label} log for why it dropped the connection"
    elif failure is Failure.UNREACHABLE:
        detail = f"{target.ip} cannot be reached{why}"
        hint = f"check that {target.ip} is on one of the host's interfaces"
    else:
        detail = f"TLS failed {during}{why}"
        hint = f"is {target.port} the SSL port of {target.label}, with a certificate set up?"
    if target.removed:
        if failure is Failure.TLS:
            return Answer(
                target, status, True, detail, None, ("cannot tell whether MDaemon answered",)
            )
        return Answer(target, status, True, f"{detail}, as planned: this address was removed")
    if greeting.data:
        shown = _printable(greeting.data.decode("utf-8", "replace").splitlines()[0])
        detail = f"{detail}, after '{shown}'"
    return Answer(target, status, False, detail, hint)


def _verdict(
    target: Target, seen: Seen, warnings: list[str]
) -> tuple[Status, bool, str, str | None]:
    """Status, passed, detail and hint for a greeting read as its protocol; adds warnings."""
    shown = seen.what or f"'{_printable(seen.line)}'"
    where = target.address
    if not seen.speaks or seen.mdaemon is False:
        what = "does not speak" if not seen.speaks else "is not MDaemon's"
        detail = f"the answer on {where} {what} {target.label}: {shown}"
        if target.removed:
            return Status.NOT_MDAEMON, True, f"{detail}; this address was removed", None
        hint = f"stop or move the program that listens on {where}, then restart MDaemon"
        if seen.speaks and target.kind is not Kind.HTTP:
            hint = f"{hint}; if it is MDaemon with a customised greeting, this check cannot tell"
        return Status.NOT_MDAEMON, False, detail, hint
    if seen.mdaemon is None:
        warnings.append(f"cannot tell whether MDaemon answered ({shown})")
    if seen.rejection:
        refusal = "the web server answers with an error" if seen.what else "the greeting refuses"
        warnings.append(f"{refusal}: {shown}")
    if target.removed:
        detail = f"MDaemon still answers on {where}, an address the plan removed"
        hint = f"restart MDaemon (RESTART.SEM) so that it lets go of {target.ip}"
        return Status.STILL_ON_OLD_IP, False, detail, hint
    expected = target.expected_name
    if (
        target.kind is Kind.SMTP
        and expected is not None
        and (seen.name is None or _fold(seen.name) != _fold(expected))
    ):
        detail = f"the greeting names {seen.name or 'no host'}, not {expected}"
        hint = (
            f"MDaemon answers {target.ip} as another domain: check which domain has this IP "
            "and its FQDN, then restart MDaemon"
        )
        return Status.WRONG_DOMAIN, False, detail, hint
    return Status.ANSWERED, True, f"{target.label} answers: {shown}", None


# Failures that mean MDaemon's listener is not on ip:port: nothing listens there, another program
# does, or the address is not on this host. MDaemon logs 503 ("%s %s:%d could not be
# initialized") when a listener cannot bind at its start. A timeout (a firewall, a hung server),
# a TLS failure or a wrong domain say nothing of a bind, and a passed answer needs no event.
_BIND_FAILED: Final = frozenset(
    {Status.REFUSED, Status.CLOSED, Status.NOT_MDAEMON, Status.UNREACHABLE, Status.NOT_LOCAL}
)


def _with_event(answer: Answer) -> Answer:
    """`answer` with the event MDaemon likely logged for it, where one fits."""
    target = answer.target
    if answer.passed or target.removed or answer.status not in _BIND_FAILED:
        return answer
    text = event_for_missing_listener(target.label or target.service, target.ip, target.port)
    return replace(answer, event=text, event_code=BIND_FAILURE)


def not_local(target: Target) -> Answer:
    """A bound address this host does not have: MDaemon cannot listen there, and bindmgr does
    not connect to addresses of other hosts."""
    return _with_event(_not_local(target))


def _not_local(target: Target) -> Answer:
    return Answer(
        target,
        Status.NOT_LOCAL,
        False,
        f"{target.ip} is not an address of this host: nothing was sent to it",
        f"add {target.ip} to one of the host's interfaces, or plan without it",
    )


def classify(target: Target, greeting: Greeting) -> Answer:
    """The verdict on one greeting. The rules (tests/check/test_answer.py has them as tables):

    - no greeting: refused, timeout, closed, unreachable or tls_error, from the edge's failure;
      an accepted connection closed before any byte is `closed`;
    - SMTP/MSA/ODMR: `220`, `4xx` or `5xx` lines (continuations allowed); POP3: `+OK`/`-ERR`;
      IMAP: `* OK`/`* PREAUTH`/`* BYE`; HTTP: a status line. Anything else is `not_mdaemon`;
    - MDaemon is recognised by the word "MDaemon" in a mail greeting (MDaemon lets an admin
      customise the greeting: then this check says not_mdaemon, and the detail shows why), and
      by MDaemon/WDaemon/WorldClient/WebAdmin in an HTTP Server or Location header. An HTTP
      answer without a Server header cannot be told apart: it is taken as MDaemon's, warned;
    - on a removed address, MDaemon answering (or a web server that cannot be told apart) is
      `still_on_old_ip`; anything else passes, a tls_error with a warning;
    - an SMTP greeting must give the expected host name as its first word (case and a final
      dot aside), else `wrong_domain` with the name seen; POP3 and IMAP names are not checked;
    - warnings, never failures: a rejecting greeting, an incomplete or cut greeting, an HTTP
      5xx, and on TLS ports a certificate that is expired, not yet valid, for other names or
      unreadable;
    - a failure that means MDaemon's listener is not there (refused, closed, not_mdaemon,
      unreachable, not_local) carries event 503, which MDaemon likely logged at its start.
    """
    return _with_event(_classify(target, greeting))


def _classify(target: Target, greeting: Greeting) -> Answer:
    if greeting.failure is not None:
        return _failed(target, greeting, greeting.failure)
    data = greeting.data
    if not data:
        closed = Greeting(failure=Failure.CLOSED, detail="no greeting was sent")
        return _failed(target, closed, Failure.CLOSED)
    end = greeting_end(target.kind, data)
    text = data[: len(data) if end is None else end].decode("utf-8", "replace")
    seen = read_greeting(target.kind, text)
    first = _printable(seen.line)
    warnings: list[str] = []
    if end is None:
        warnings.append(
            f"the greeting is longer than {MAX_GREETING} bytes; only its start was read"
            if len(data) >= MAX_GREETING
            else "the server stopped before the end of its greeting"
        )
    status, passed, detail, hint = _verdict(target, seen, warnings)
    if passed and target.tls and not target.removed:
        warnings.extend(_cert_warnings(target, greeting))
    return Answer(target, status, passed, detail, hint, tuple(warnings), seen.name, first)
