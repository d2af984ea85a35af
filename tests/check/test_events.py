"""MDaemon's event-log table and `bindmgr explain`: every published code, plain wrapped text,
unknown codes refused with the known range, and the bind-failure wording the check hints use.

Goldens: `BINDMGR_REGOLD=1 .venv/bin/pytest tests/report/test_events.py`.
"""

from __future__ import annotations

import re
from ipaddress import IPv4Address, IPv6Address, ip_address
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bindmgr.check import events, hints
from bindmgr.check.events import (
    EVENTS,
    KNOWN_CODES,
    UnknownEventError,
    event_for_bind_failure,
    explain,
    list_events,
    lookup,
)
from bindmgr.errors import BindmgrError, InputError
from bindmgr.model import Listener, ProbeStatus, Proto
from tests.support.goldens import assert_golden

# The published list (shared/reference/mdaemon.md): code -> category.
PUBLISHED = {
    500: "EvODBC",
    501: "EvRFC",
    502: "EvNetwork",
    503: "EvNetwork",
    504: "EvDNS",
    505: "EvDatabase",
    506: "EvSecurity",
    507: "EvDLL",
    508: "EvProcess",
    509: "EvDLL",
    510: "EvDLL",
    511: "EvDLL",
    512: "EvDLL",
    513: "EvProcess",
    514: "EvProcess",
    515: "EvProcess",
    521: "EvSecurity",
    522: "EvRFC",
    523: "EvRFC",
    524: "EvSecurity",
    525: "EvProcess",
    527: "EvProcess",
    528: "EvDLL",
    529: "EvRFC",
    530: "EvProcess",
    531: "EvProcess",
    532: "EvDLL",
    533: "EvProcess",
}
NETWORK = {
    502: "bindmgr inspect",
    503: "bindmgr check",
    504: "bindmgr check --dns",
    528: "bindmgr inspect",
}
REFERENCE = Path(__file__).resolve().parents[3] / "shared" / "reference" / "mdaemon.md"
ROW = re.compile(r"^\| (\d{3}) \| (.+) \| (Ev\w+) \|$")


def test_every_published_code_and_nothing_else() -> None:
    assert {code: e.category for code, e in EVENTS.items()} == PUBLISHED
    assert all(code == e.code for code, e in EVENTS.items())
    assert list(EVENTS) == sorted(EVENTS)


@pytest.mark.skipif(not REFERENCE.exists(), reason=f"{REFERENCE} is not beside this clone")
def test_texts_match_the_reference_word_for_word() -> None:
    rows = [ROW.match(line) for line in REFERENCE.read_text(encoding="utf-8").splitlines()]
    published = {int(m[1]): (m[2], m[3]) for m in rows if m}
    assert {c: (e.text, e.category) for c, e in EVENTS.items()} == published


def test_the_table_is_read_only() -> None:
    with pytest.raises(TypeError):
        EVENTS[999] = EVENTS[503]  # type: ignore[index]


@pytest.mark.parametrize(("code", "command"), NETWORK.items())
def test_network_events_say_what_finds_the_culprit(code: int, command: str) -> None:
    event = EVENTS[code]
    assert event.meaning
    assert event.causes
    assert event.find is not None
    assert f"`{command}`" in event.find
    assert f"`{command}`" in explain(code)


@pytest.mark.parametrize("code", [502, 503, 504, 525, 528, 533])
def test_explain_goldens(code: int) -> None:
    assert_golden("events", f"explain-{code}.txt", explain(code))


def test_list_golden() -> None:
    assert_golden("events", "list.txt", list_events())


@pytest.mark.parametrize("code", list(PUBLISHED))
def test_explain_is_plain_wrapped_text(code: int) -> None:
    text = explain(code)
    assert text.endswith("\n")
    assert not text.endswith("\n\n")
    assert text.isascii()
    assert "\x1b" not in text
    lines = text.splitlines()
    assert all(len(line) <= events.WIDTH for line in lines), max(lines, key=len)
    assert all(line == line.rstrip() for line in lines)
    assert lines[0] == f"Event {code} ({PUBLISHED[code]})"
    # MDaemon's own text survives the wrapping word for word.
    assert " ".join(" ".join(lines[1:]).split()).count(" ".join(EVENTS[code].text.split())) == 1


def test_a_command_is_never_split_across_lines() -> None:
    for code in EVENTS:
        for line in explain(code).splitlines():
            assert line.count("`") % 2 == 0, line


def test_list_has_one_entry_per_code_and_stays_narrow() -> None:
    lines = list_events().splitlines()
    assert [int(line[:3]) for line in lines if line[:3].isdigit()] == list(EVENTS)
    assert all(len(line) <= events.WIDTH for line in lines)


def test_known_codes_range() -> None:
    assert KNOWN_CODES == "500-515, 521-525, 527-533"


@pytest.mark.parametrize(
    ("codes", "expected"),
    [((), ""), ((5,), "5"), ((1, 2, 3), "1-3"), ((3, 1, 7, 2, 9, 8), "1-3, 7-9"), ((1, 3), "1, 3")],
)
def test_ranges(codes: tuple[int, ...], expected: str) -> None:
    assert events._ranges(codes) == expected


@given(st.integers().filter(lambda c: c not in PUBLISHED))
def test_unknown_codes_name_the_known_range(code: int) -> None:
    with pytest.raises(UnknownEventError) as caught:
        explain(code)
    error = caught.value
    assert isinstance(error, LookupError)
    assert isinstance(error, InputError)
    assert isinstance(error, BindmgrError)
    assert error.code == code
    assert f"event {code} " in error.message
    assert error.hint is not None
    assert KNOWN_CODES in error.hint
    with pytest.raises(LookupError):
        lookup(code)
    assert EVENTS.get(code) is None


def test_lookup_finds_a_known_code() -> None:
    assert lookup(503) is EVENTS[503]


@pytest.mark.parametrize(
    ("label", "ip", "port", "expected"),
    [
        (
            "SMTP",
            "203.0.113.7",
            25,
            "MDaemon would log event 503: SMTP 203.0.113.7:25 could not be initialized",
        ),
        (
            "IMAP SSL",
            "2001:db8::7",
            993,
            "MDaemon would log event 503: IMAP SSL [2001:db8::7]:993 could not be initialized",
        ),
        (
            "Minger",
            "0.0.0.0",
            4069,
            "MDaemon would log event 503: Minger 0.0.0.0:4069 could not be initialized",
        ),
    ],
)
def test_bind_failure_wording(label: str, ip: str, port: int, expected: str) -> None:
    assert event_for_bind_failure(label, ip_address(ip), port) == expected


addresses = st.one_of(
    st.builds(IPv4Address, st.integers(0, 2**32 - 1)),
    st.builds(IPv6Address, st.integers(0, 2**128 - 1)),
    st.sampled_from([IPv6Address("fe80::1%eth0"), IPv6Address("::ffff:192.0.2.1")]),
)


@given(
    label=st.text(min_size=1, max_size=20),
    service=st.text(min_size=1, max_size=10),
    ip=addresses,
    port=st.integers(0, 65535),
    proto=st.sampled_from(Proto),
)
def test_bind_failure_matches_hints_exactly(
    label: str, service: str, ip: IPv4Address | IPv6Address, port: int, proto: Proto
) -> None:
    """The check's event text is this table's wording."""
    listener = Listener(service, label, port, proto)
    assert hints.event_text(ProbeStatus.IN_USE, ip, listener) == event_for_bind_failure(
        label, ip, port
    )
