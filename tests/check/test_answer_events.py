"""verify's answers carry the MDaemon event a failure likely left in the log, where one fits."""

from __future__ import annotations

from ipaddress import ip_address

import pytest

from bindmgr.check.answer import Failure, Greeting, Phase, Status, Target, classify, not_local
from bindmgr.check.events import BIND_FAILURE, EVENTS
from bindmgr.check.protocol import protocol_of
from bindmgr.report.verification import next_step, render_verify_markdown, render_verify_text


def target(service: str = "smtp", port: int = 25, *, removed: bool = False) -> Target:
    proto = protocol_of(service, port)
    assert proto is not None
    name = None if removed else "mail-2.example.com"
    return Target(ip_address("10.0.0.2"), port, service, "SMTP", *proto, name, removed)


EVENT = (
    "MDaemon likely logged event 503 when it started: SMTP 10.0.0.2:25 could not be "
    "initialized (`bindmgr explain 503` lists the causes)"
)


@pytest.mark.parametrize(
    ("greeting", "status"),
    [
        (Greeting(failure=Failure.REFUSED, phase=Phase.CONNECT), Status.REFUSED),
        (Greeting(failure=Failure.CLOSED), Status.CLOSED),
        (Greeting(), Status.CLOSED),  # accepted, then closed without a byte
        (Greeting(failure=Failure.UNREACHABLE, phase=Phase.CONNECT), Status.UNREACHABLE),
        (Greeting(b"220 mail.other.example Postfix ready\r\n"), Status.NOT_MDAEMON),
    ],
)
def test_a_listener_that_is_not_there_carries_event_503(greeting: Greeting, status: Status) -> None:
    answer = classify(target(), greeting)
    assert (answer.status, answer.passed) == (status, False)
    assert (answer.event, answer.event_code) == (EVENT, BIND_FAILURE)
    assert "could not be initialized" in EVENTS[BIND_FAILURE].text  # the text it fills in


def test_a_bound_address_not_on_this_host_carries_event_503() -> None:
    answer = not_local(target())
    assert (answer.status, answer.event_code) == (Status.NOT_LOCAL, 503)


@pytest.mark.parametrize(
    "greeting",
    [
        Greeting(failure=Failure.TIMEOUT, phase=Phase.CONNECT),  # a firewall: no bind failure
        Greeting(failure=Failure.TLS, phase=Phase.HANDSHAKE),
        Greeting(b"220 mail-9.example.com ESMTP MDaemon 25.0\r\n"),  # wrong_domain
        Greeting(b"220 mail-2.example.com ESMTP MDaemon 25.0\r\n"),  # answered
    ],
)
def test_other_outcomes_carry_no_event(greeting: Greeting) -> None:
    answer = classify(target(), greeting)
    assert (answer.event, answer.event_code) == (None, None)


def test_removed_addresses_carry_no_event() -> None:
    refused = classify(target(removed=True), Greeting(failure=Failure.REFUSED))
    still = classify(target(removed=True), Greeting(b"220 x ESMTP MDaemon 25.0\r\n"))
    assert (refused.passed, refused.event) == (True, None)
    assert (still.status, still.event) == (Status.STILL_ON_OLD_IP, None)
    assert "bindmgr layout detect" in next_step([still])


def test_the_event_is_shown_in_text_and_markdown_and_named_as_the_next_step() -> None:
    answer = classify(target(), Greeting(failure=Failure.REFUSED, phase=Phase.CONNECT))
    text = render_verify_text([answer])
    assert f"      {EVENT}\n      hint: " in text
    assert text.rstrip().endswith(
        "MDaemon's log (and the Windows event log) likely shows event 503 for these: "
        "`bindmgr explain 503` lists the causes."
    )
    markdown = render_verify_markdown([answer])
    assert "likely logged event 503 when it started" in markdown
    assert "bindmgr explain 503" in markdown.splitlines()[-1]
