"""MDaemon's event-log codes in one table, and the words bindmgr says about them.

Every code of MDaemon's published list with its text and category; the networking ones also say
what they mean, their likely causes and which bindmgr command finds the culprit. Pure: values in,
strings out; nothing here opens a file or a socket or reads the host.
"""

from __future__ import annotations

import textwrap
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from types import MappingProxyType

from bindmgr.errors import InputError
from bindmgr.model import IPAddress

WIDTH = 100  # `bindmgr explain` wraps its text to this many columns
ALERT_PREFIX = "**** ALERT ****"  # what MDaemon writes before every entry of this list
BIND_FAILURE = 503  # "%s %s:%d could not be initialized": a service could not bind IP:port
_NBSP = "\u00a0"  # keeps a `command` on one line while wrapping

_NOT_NETWORK = "bindmgr has no command for this event: it is not about IP bindings or ports."
_DLL = "A file of MDaemon's installation could not be loaded: repair or reinstall MDaemon."


@dataclass(frozen=True, slots=True)
class Event:
    """One code of MDaemon's published list; `meaning`, `causes` and `find` where bindmgr helps."""

    code: int
    category: str  # MDaemon's event category, e.g. "EvNetwork"
    text: str  # MDaemon's wording; %s and %d are filled in by MDaemon
    meaning: str | None = None  # what it says, in plain words
    causes: tuple[str, ...] = ()  # likely causes, most likely first
    find: str | None = None  # which bindmgr command finds the culprit, and how


def _table(events: Iterable[Event]) -> Mapping[int, Event]:
    table: dict[int, Event] = {}
    for event in events:
        assert event.code not in table, f"event {event.code} is listed twice"
        table[event.code] = event
    return MappingProxyType(dict(sorted(table.items())))


EVENTS: Mapping[int, Event] = _table(
    (
        Event(
            500,
            "EvODBC",
            "ODBC DSN %s for list %s could not be opened; message to list was not sent to ODBC "
            "members",
            meaning="A mailing list's ODBC data source could not be opened, so the list's ODBC "
            "members did not get the message.",
        ),
        Event(
            501,
            "EvRFC",
            "RFC 2822 states that you MUST define a %s alias",
            meaning="An alias the RFC requires (the %s, such as postmaster) is not defined.",
        ),
        Event(
            502,
            "EvNetwork",
            "Network subsystem failure, WINSOCK.DLL not loaded",
            meaning="Windows Sockets could not be loaded, so MDaemon cannot open any socket at "
            "all: no listener starts and no mail goes out.",
            causes=(
                "MDaemon started before Windows had brought its network stack up (a service "
                "started too early at boot)",
                "a damaged Winsock catalogue (a removed VPN client or security product left a "
                "layered provider behind); `netsh winsock reset` and a reboot repair it",
            ),
            find="`bindmgr inspect` lists the addresses this host has: none at all means the "
            "network stack is down, not MDaemon's bindings.",
        ),
        Event(
            BIND_FAILURE,
            "EvNetwork",
            "%s %s:%d could not be initialized",
            meaning="A service could not open its listening socket: the first %s is the service "
            "(SMTP, POP3, IMAP, ...), then the IP address and the port it could not bind.",
            causes=(
                "another program already listens on that IP:port, or on every address of that "
                "port (IIS or HTTP.sys on 80/443, another mail server on 25, a second MDaemon)",
                "the IP is not on any interface of this host: a domain still binds an address "
                "that was removed or moved",
                "Windows refuses the port: it lies in an excluded port range (Hyper-V, WinNAT, "
                "Docker) or another program holds it with SO_EXCLUSIVEADDRUSE",
            ),
            find="`bindmgr check` binds every IP:port MDaemon opens and names the process that "
            "holds each busy one; `bindmgr inspect` lists configured addresses that are not on "
            "this host.",
        ),
        Event(
            504,
            "EvDNS",
            "DNS server IP address is blank; please provide a DNS server IP",
            meaning="MDaemon's DNS server setting is empty, so it cannot look up MX records and "
            "cannot deliver mail to other domains.",
            causes=(
                "the DNS server field in MDaemon's DNS settings was never filled in or was cleared",
                "MDaemon takes its DNS servers from Windows and Windows had none when MDaemon "
                "started (no adapter up yet, or one without DNS servers)",
            ),
            find="`bindmgr check --dns` checks MDaemon's DNS server setting.",
        ),
        Event(
            505,
            "EvDatabase",
            "MDaemon's database connection failed so MDaemon was forced to refuse a mail session",
        ),
        Event(506, "EvSecurity", "%s tried to send a message as %s without proper authentication"),
        Event(
            507,
            "EvDLL",
            "MDaemon could not start because NTUtil.dll could not be loaded, err:%d",
            meaning=_DLL,
        ),
        Event(508, "EvProcess", "LDaemon LDAP server could not be started"),
        Event(
            509,
            "EvDLL",
            "MDaemon could not start because CFilter.dll could not be loaded",
            meaning=_DLL,
        ),
        Event(
            510,
            "EvDLL",
            "MDaemon could not start because MDUser.dll, MDUserODBC.dll, or MDUserLDAP.dll could "
            "not be loaded",
            meaning=_DLL,
        ),
        Event(
            511,
            "EvDLL",
            "MDaemon could not start because MDCalendar.dll could not be loaded",
            meaning=_DLL,
        ),
        Event(
            512,
            "EvDLL",
            "MDaemon could not start because MDList.dll could not be loaded",
            meaning=_DLL,
        ),
        Event(513, "EvProcess", "Failed to start process %s (FailPoint: %d, Error: %d/%d)"),
        Event(
            514,
            "EvProcess",
            "Failed to start process CFENGINE.EXE; mail can be queued but not delivered "
            "(FailPoint: %d, Error: %d/%d)",
        ),
        Event(
            515,
            "EvProcess",
            "Failed to start process %s as user '%s' on '%s'; started as default user instead; "
            "(FailPoint: %d, Error: %d/%d)",
        ),
        Event(521, "EvSecurity", "%s gave false logon/password to POP server; user: %s"),
        Event(
            522,
            "EvRFC",
            "The '[Special] RefuseNULLReturnPath' option is set to YES in MDaemon.ini; this is an "
            "RFC violation",
        ),
        Event(
            523,
            "EvRFC",
            "RFC does not require that HELO or MAIL identification match to the sending server "
            "yet MDaemon is configured to refuse mail in these cases (Reverse Lookup properties)",
        ),
        Event(
            524,
            "EvSecurity",
            "$AVLONGPRODUCTNAME$ subscription/trial has expired; contact %s for renewal "
            "instructions",
        ),
        Event(
            525,
            "EvProcess",
            "WorldClient was expected to be running but wasn't; restart attempt was %s",
            meaning="The webmail server (WorldClient) had stopped; MDaemon tried to restart it "
            "and says whether that worked.",
            causes=(
                "WorldClient's port is taken by another web server (IIS or HTTP.sys on 80 or "
                "443, another program on 3000), so it stops as soon as it starts",
            ),
            find="`bindmgr check` binds WorldClient's ports on every bound IP and names the "
            "process that holds a busy one.",
        ),
        Event(
            527,
            "EvProcess",
            "Spam Filter did not respond within expected time limit; CFEngine may have stopped "
            "responding; it will be stopped and restarted",
            causes=(
                "the spam filter is overloaded or hung",
                "a firewall or security product filters loopback or MDSpamD.exe: MDaemon's "
                "parts talk to each other over localhost",
            ),
            find="`bindmgr firewall` writes rules that leave loopback and MDaemon's own "
            "traffic alone.",
        ),
        Event(
            528,
            "EvDLL",
            "MDaemon requires an installed and enabled Network Interface Card; software can not "
            "load",
            meaning="MDaemon found no installed and enabled network adapter when it started, so "
            "it did not load.",
            causes=(
                "every network adapter is disabled, unplugged or has no address yet (MDaemon "
                "started before DHCP or the adapter was ready)",
                "the adapter's driver is missing after an update or a move to new hardware or a "
                "new virtual machine",
            ),
            find="`bindmgr inspect` lists the addresses this host has and the configured "
            "addresses that are not on it.",
        ),
        Event(
            529,
            "EvRFC",
            "RFC 2142 states that you MUST define an %s alias",
            meaning="An alias the RFC requires (the %s, such as abuse or postmaster) is not "
            "defined.",
        ),
        Event(
            530,
            "EvProcess",
            "Attempt to logon and impersonate user '%s' on domain %s failed (Thread ID: %d, "
            "Error: %d)",
        ),
        Event(
            531,
            "EvProcess",
            "AntiVirus did not respond within expected time limit; CFEngine may have stopped "
            "responding; it will be stopped and restarted",
            causes=(
                "the virus scanner is overloaded or hung",
                "a firewall or security product filters loopback: MDaemon's parts talk to each "
                "other over localhost",
            ),
            find="`bindmgr firewall` writes rules that leave loopback and MDaemon's own "
            "traffic alone.",
        ),
        Event(
            532,
            "EvDLL",
            "MDaemon could not load HashCash.dll. HashCash stamps can not be minted",
            meaning=_DLL,
        ),
        Event(
            533,
            "EvProcess",
            "MDaemon could not start MDSpamD.exe. AntiSpam services will not be possible",
            causes=(
                "a software firewall or security product blocks MDSpamD.exe, which must be let "
                "through like MDaemon.exe, WorldClient.exe, WebAdmin.exe and AVUpdate.exe",
            ),
        ),
    )
)


def _ranges(codes: Iterable[int]) -> str:
    """500-515, 521-525, 527-533."""
    spans: list[list[int]] = []
    for code in sorted(codes):
        if spans and code == spans[-1][1] + 1:
            spans[-1][1] = code
        else:
            spans.append([code, code])
    return ", ".join(str(a) if a == b else f"{a}-{b}" for a, b in spans)


KNOWN_CODES = _ranges(EVENTS)


class UnknownEventError(InputError, LookupError):
    """A code that is not in MDaemon's published list; the message names the known ones."""

    def __init__(self, code: int) -> None:
        super().__init__(
            f"event {code} is not in MDaemon's published list of event-log codes",
            hint=f"the known codes are {KNOWN_CODES}; `bindmgr explain` with no code lists them",
        )
        self.code = code


def lookup(code: int) -> Event:
    """The event for `code`; UnknownEventError (a LookupError) when MDaemon publishes none."""
    event = EVENTS.get(code)
    if event is None:
        raise UnknownEventError(code)
    return event


def _wrap(text: str, first: str = "", rest: str = "") -> list[str]:
    # Inside `backticks` a space must not break the line: a command stays copyable.
    parts = text.split("`")
    kept = "`".join(p.replace(" ", _NBSP) if i % 2 else p for i, p in enumerate(parts))
    lines = textwrap.wrap(
        kept,
        width=WIDTH,
        initial_indent=first,
        subsequent_indent=rest,
        break_long_words=False,
        break_on_hyphens=False,
    )
    return [line.replace(_NBSP, " ") for line in lines]


def explain(code: int) -> str:
    """The text of `bindmgr explain CODE`: plain text, lines of at most WIDTH columns."""
    event = lookup(code)
    lines = [f"Event {event.code} ({event.category})"]
    lines += _wrap(f"MDaemon logs: {ALERT_PREFIX} {event.text}", rest="  ")
    placeholders = [p for p in ("%s", "%d") if p in event.text]
    if placeholders:
        lines.append(f"  (MDaemon fills in each {' and '.join(placeholders)}.)")
    if event.meaning:
        lines += ["", *_wrap(event.meaning)]
    if event.causes:
        lines += ["", "Likely causes:"]
        for cause in event.causes:
            lines += _wrap(cause, first="  - ", rest="    ")
    lines.append("")
    lines += _wrap(f"Find the culprit: {event.find}" if event.find else _NOT_NETWORK)
    return "\n".join(lines) + "\n"


def list_events() -> str:
    """One line per known code (`bindmgr explain` with no code): code, category, text."""
    lines: list[str] = []
    for event in EVENTS.values():
        lines += _wrap(f"{event.code}  {event.category:<10}  {event.text}", rest=" " * 17)
    return "\n".join(lines) + "\n"


def address(ip: IPAddress, port: int) -> str:
    """203.0.113.7:25, [2001:db8::7]:25 (as bindmgr writes an address everywhere)."""
    return f"[{ip}]:{port}" if ip.version == 6 else f"{ip}:{port}"


def event_for_bind_failure(label: str, ip: IPAddress, port: int) -> str:
    """What MDaemon would log when `label` cannot bind ip:port.

    "MDaemon would log event 503: SMTP 203.0.113.7:25 could not be initialized"; IPv6 addresses
    in brackets. `label` is the service as MDaemon's log names it (the caller falls back to the
    layout id when a listener has no label).
    """
    event = EVENTS[BIND_FAILURE]
    filled = event.text.replace("%s %s:%d", f"{label} {address(ip, port)}", 1)
    return f"MDaemon would log event {event.code}: {filled}"


def event_for_missing_listener(label: str, ip: IPAddress, port: int) -> str:
    """What MDaemon likely logged when `label` is not what answers on ip:port after a restart
    (nothing listens there, another program does, or the address is not on this host).

    "MDaemon likely logged event 503 when it started: SMTP 203.0.113.7:25 could not be
    initialized (`bindmgr explain 503` lists the causes)"."""
    event = EVENTS[BIND_FAILURE]
    filled = event.text.replace("%s %s:%d", f"{label} {address(ip, port)}", 1)
    return (
        f"MDaemon likely logged event {event.code} when it started: {filled} "
        f"(`bindmgr explain {event.code}` lists the causes)"
    )
