"""classify() and its protocol knowledge as pure calls, table by table: no sockets, no loop."""

from __future__ import annotations

import ssl
from datetime import UTC, datetime, timedelta
from ipaddress import IPv4Address, ip_address

import pytest
import trustme

from bindmgr.check.answer import (
    Answer,
    Failure,
    Greeting,
    Phase,
    Status,
    Target,
    classify,
    http_request,
    targets_for,
)
from bindmgr.check.protocol import MAX_GREETING, Kind, Protocol, greeting_end, protocol_of
from bindmgr.model import Listener, Proto
from bindmgr.read.layout import default_layout_path, parse_layout

NAME = "mail-2.example.com"
NOW = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)
SMTP_OK = b"220 mail-2.example.com ESMTP MDaemon 25.0.1; Fri, 01 May 2026 12:00:00 +0000\r\n"


def target(
    service: str = "smtp",
    *,
    port: int | None = None,
    name: str | None = NAME,
    removed: bool = False,
    ip: str = "10.0.0.2",
) -> Target:
    defaults = {"smtp": 25, "smtps": 465, "pop3": 110, "imap": 143, "webmail": 3000}
    proto = protocol_of(service, port or defaults.get(service, 1))
    assert proto is not None
    number = port or defaults[service]
    return Target(ip_address(ip), number, service, service.upper(), *proto, name, removed)


# ---------------------------------------------------------------- which listener speaks what


@pytest.mark.parametrize(
    ("service", "port", "expected"),
    [
        ("smtp", 25, Protocol(Kind.SMTP, False)),
        ("msa", 587, Protocol(Kind.SMTP, False)),
        ("odmr", 366, Protocol(Kind.SMTP, False)),
        ("smtps", 465, Protocol(Kind.SMTP, True)),
        ("pop3", 110, Protocol(Kind.POP3, False)),
        ("pop3s", 995, Protocol(Kind.POP3, True)),
        ("imap", 143, Protocol(Kind.IMAP, False)),
        ("imaps", 993, Protocol(Kind.IMAP, True)),
        ("webmail", 3000, Protocol(Kind.HTTP, False)),
        ("webmail_http", 80, Protocol(Kind.HTTP, False)),
        ("webmail_https", 443, Protocol(Kind.HTTP, True)),
        ("webadmin", 1000, Protocol(Kind.HTTP, False)),
        ("SMTP", 2525, Protocol(Kind.SMTP, False)),  # the id wins over the port
        ("imaps", 143, Protocol(Kind.IMAP, True)),
        ("remoteadmin", 444, Protocol(Kind.HTTP, True)),  # unknown id: MDaemon's default port
        ("submission", 587, Protocol(Kind.SMTP, False)),
        ("minger", 4069, None),
        ("custom", 8080, None),
    ],
)
def test_protocol_of(service: str, port: int, expected: Protocol | None) -> None:
    assert protocol_of(service, port) == expected


def test_the_shipped_layout_ids_are_all_known_except_minger() -> None:
    path = default_layout_path()
    layout = parse_layout(path.read_text(encoding="utf-8"), str(path))
    unknown = {lst.service for lst in layout.listeners if protocol_of(lst.service, 0) is None}
    assert unknown == {"minger"}


def test_targets_for_orders_by_address_then_listener_and_leaves_out_udp_and_unknown() -> None:
    listeners = [
        Listener("smtp", "SMTP", 25),
        Listener("minger", "Minger", 4069, Proto.UDP),
        Listener("custom", "Custom", 8080),
        Listener("imaps", "IMAP SSL", 993),
    ]
    a, b, c = IPv4Address("10.0.0.1"), IPv4Address("10.0.0.2"), IPv4Address("10.0.0.3")
    got = targets_for({a: "mail.example.com", b: None}, listeners, removed=[c, a, c])
    assert [(str(t.ip), t.port, t.expected_name, t.removed) for t in got] == [
        ("10.0.0.1", 25, "mail.example.com", False),
        ("10.0.0.1", 993, "mail.example.com", False),
        ("10.0.0.2", 25, None, False),
        ("10.0.0.2", 993, None, False),
        ("10.0.0.3", 25, None, True),
        ("10.0.0.3", 993, None, True),
    ]
    assert got[1] == Target(a, 993, "imaps", "IMAP SSL", Kind.IMAP, True, "mail.example.com")


@pytest.mark.parametrize(
    ("ip", "port", "name", "message"),
    [
        ("0.0.0.0", 25, None, "cannot be connected to"),
        ("::", 25, None, "cannot be connected to"),
        ("10.0.0.1", 0, None, "out of range"),
        ("10.0.0.1", 65536, None, "out of range"),
        ("10.0.0.1", 25, "", "not a host name"),
        ("10.0.0.1", 25, "mail.example.com\r\nX: y", "not a host name"),
        ("10.0.0.1", 25, "two words", "not a host name"),
    ],
)
def test_a_target_is_validated(ip: str, port: int, name: str | None, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        Target(ip_address(ip), port, "smtp", "SMTP", Kind.SMTP, False, name)


@pytest.mark.parametrize(
    ("tgt", "start"),
    [
        (target("webmail", port=80), f"HEAD / HTTP/1.0\r\nHost: {NAME}\r\n"),
        (target("webmail"), f"HEAD / HTTP/1.0\r\nHost: {NAME}:3000\r\n"),
        (target("webmail_https", port=443, name=None), "HEAD / HTTP/1.0\r\nHost: 10.0.0.2\r\n"),
        (target("webmail", name=None, ip="::1"), "HEAD / HTTP/1.0\r\nHost: [::1]:3000\r\n"),
    ],
)
def test_http_request(tgt: Target, start: str) -> None:
    sent = http_request(tgt)
    assert sent.startswith(start.encode())
    assert sent.endswith(b"\r\n\r\n")
    assert sent.count(b"\r\n\r\n") == 1


def test_address() -> None:
    assert target().address == "10.0.0.2:25"
    assert target(ip="::1").address == "[::1]:25"


# ---------------------------------------------------------------- where a greeting ends


@pytest.mark.parametrize(
    ("kind", "data", "end"),
    [
        (Kind.SMTP, b"", None),
        (Kind.SMTP, b"220 mail", None),
        (Kind.SMTP, b"220 mail\r\n", 10),
        (Kind.SMTP, b"220 mail\r\nleftover", 10),
        (Kind.SMTP, b"220-mail\r\n220-more\r\n", None),
        (Kind.SMTP, b"220-mail\r\n220-more\r\n220 end\r\n", 29),
        (Kind.SMTP, b"220\r\n", 5),
        (Kind.SMTP, b"+OK hello\r\n", 11),  # not SMTP: the first line ends it
        (Kind.SMTP, b"abc-def\n", 8),
        (Kind.POP3, b"+OK ready\r\nmore\r\n", 11),
        (Kind.IMAP, b"* OK ready\n", 11),
        (Kind.IMAP, b"* OK rea", None),
        (Kind.HTTP, b"HTTP/1.1 200 OK\r\nServer: x\r\n", None),
        (Kind.HTTP, b"HTTP/1.1 200 OK\r\nServer: x\r\n\r\nbody", 30),
        (Kind.HTTP, b"HTTP/1.0 200 OK\n\n", 17),
        (Kind.HTTP, b"220 smtp here\r\n", 15),  # not HTTP: do not wait for headers
        (Kind.HTTP, b"HTTP/1.1 200", None),
    ],
)
def test_greeting_end(kind: Kind, data: bytes, end: int | None) -> None:
    assert greeting_end(kind, data) == end


# ---------------------------------------------------------------- the verdicts


def greet(data: bytes, **kw: object) -> Greeting:
    return Greeting(data=data, at=NOW, **kw)  # type: ignore[arg-type]


CASES: list[tuple[str, Target, Greeting, Status, bool, str]] = [
    # SMTP, MSA, ODMR
    ("smtp-ok", target(), greet(SMTP_OK), Status.ANSWERED, True, "SMTP answers: '220 mail-2"),
    (
        "smtp-case-and-dot",
        target(name="MAIL-2.example.com."),
        greet(SMTP_OK),
        Status.ANSWERED,
        True,
        "answers",
    ),
    (
        "smtp-multiline",
        target(),
        greet(b"220-mail-2.example.com ESMTP\r\n220-welcome\r\n220 MDaemon 25\r\n"),
        Status.ANSWERED,
        True,
        "answers",
    ),
    (
        "smtp-wrong-name",
        target(),
        greet(b"220 mail-3.example.com ESMTP MDaemon 25.0.1\r\n"),
        Status.WRONG_DOMAIN,
        False,
        "the greeting names mail-3.example.com, not mail-2.example.com",
    ),
    (
        "smtp-no-name",
        target(),
        greet(b"220 \r\n"),
        Status.NOT_MDAEMON,
        False,
        "is not MDaemon's SMTP",
    ),
    (
        "smtp-bare-220-mdaemon",
        target(),
        greet(b"220-\r\n220 MDaemon\r\n"),
        Status.WRONG_DOMAIN,
        False,
        "names no host, not mail-2",
    ),
    ("smtp-no-expected-name", target(name=None), greet(SMTP_OK), Status.ANSWERED, True, "answers"),
    (
        "smtp-postfix",
        target(),
        greet(b"220 mail-2.example.com ESMTP Postfix\r\n"),
        Status.NOT_MDAEMON,
        False,
        "is not MDaemon's SMTP: '220 mail-2.example.com ESMTP Postfix'",
    ),
    (
        "smtp-marker-is-a-word",
        target(),
        greet(b"220 mail-2.example.com ESMTP MDaemonX\r\n"),
        Status.NOT_MDAEMON,
        False,
        "is not MDaemon's",
    ),
    (
        "smtp-speaks-pop",
        target(),
        greet(b"+OK POP3 MDaemon ready\r\n"),
        Status.NOT_MDAEMON,
        False,
        "does not speak SMTP",
    ),
    (
        "smtp-250-is-no-greeting",
        target(),
        greet(b"250 mail-2.example.com MDaemon\r\n"),
        Status.NOT_MDAEMON,
        False,
        "does not speak SMTP",
    ),
    (
        "smtp-continuation-garbage",
        target(),
        greet(b"220-mail-2.example.com MDaemon\r\nhello\r\n"),
        Status.NOT_MDAEMON,
        False,
        "does not speak SMTP",
    ),
    (
        "smtp-binary",
        target(),
        greet(b"\x16\x03\x01\x00\x05hello\n"),
        Status.NOT_MDAEMON,
        False,
        "'\\x16\\x03\\x01\\x00\\x05hello'",
    ),
    # POP3, IMAP
    (
        "pop3-ok",
        target("pop3"),
        greet(b"+OK mail-2.example.com POP MDaemon 25.0.1 ready <MDAEMON-1@mail-2>\r\n"),
        Status.ANSWERED,
        True,
        "POP3 answers",
    ),
    (
        "pop3-other-name-not-checked",
        target("pop3"),
        greet(b"+OK mail-9.example.com POP MDaemon ready\r\n"),
        Status.ANSWERED,
        True,
        "answers",
    ),
    (
        "pop3-dovecot",
        target("pop3"),
        greet(b"+OK Dovecot ready.\r\n"),
        Status.NOT_MDAEMON,
        False,
        "is not MDaemon's POP3",
    ),
    (
        "pop3-speaks-imap",
        target("pop3"),
        greet(b"* OK MDaemon\r\n"),
        Status.NOT_MDAEMON,
        False,
        "does not speak POP3",
    ),
    (
        "pop3-okay-is-not-ok",
        target("pop3"),
        greet(b"+OKAY MDaemon\r\n"),
        Status.NOT_MDAEMON,
        False,
        "does not speak",
    ),
    (
        "imap-ok",
        target("imap"),
        greet(b"* OK mail-2.example.com IMAP4rev1 MDaemon 25.0.1 ready\r\n"),
        Status.ANSWERED,
        True,
        "IMAP answers",
    ),
    (
        "imap-capability-lower-case",
        target("imap"),
        greet(b"* ok [CAPABILITY IMAP4rev1] mdaemon ready\r\n"),
        Status.ANSWERED,
        True,
        "answers",
    ),
    (
        "imap-preauth",
        target("imap"),
        greet(b"* PREAUTH MDaemon\r\n"),
        Status.ANSWERED,
        True,
        "answers",
    ),
    # HTTP
    (
        "http-wdaemon",
        target("webmail"),
        greet(b"HTTP/1.1 302 Found\r\nServer: WDaemon/25.0.1\r\nLocation: /\r\n\r\n"),
        Status.ANSWERED,
        True,
        "WEBMAIL answers: HTTP 302, Server: WDaemon/25.0.1",
    ),
    (
        "http-location-names-worldclient",
        target("webmail"),
        greet(
            b"HTTP/1.1 302 Found\r\nServer: proxy\r\nLocation: /WorldClient.dll?View=Main\r\n\r\n"
        ),
        Status.ANSWERED,
        True,
        "answers",
    ),
    (
        "http-iis",
        target("webmail", port=80),
        greet(b"HTTP/1.1 200 OK\r\nServer: Microsoft-IIS/10.0\r\n\r\n"),
        Status.NOT_MDAEMON,
        False,
        "is not MDaemon's WEBMAIL: HTTP 200, Server: Microsoft-IIS/10.0",
    ),
    (
        "http-speaks-smtp",
        target("webmail"),
        greet(SMTP_OK),
        Status.NOT_MDAEMON,
        False,
        "does not speak WEBMAIL: '220 mail-2",
    ),
    # no greeting
    (
        "refused",
        target(),
        Greeting(failure=Failure.REFUSED, phase=Phase.CONNECT, detail="ECONNREFUSED"),
        Status.REFUSED,
        False,
        "connection refused (ECONNREFUSED): nothing listens on 10.0.0.2:25",
    ),
    (
        "timeout-connect",
        target(),
        Greeting(failure=Failure.TIMEOUT, phase=Phase.CONNECT, detail="3 s per connection"),
        Status.TIMEOUT,
        False,
        "timed out while connecting (3 s per connection)",
    ),
    (
        "timeout-partial",
        target(),
        Greeting(data=b"220-mail-2.example.com\r\n", failure=Failure.TIMEOUT),
        Status.TIMEOUT,
        False,
        "timed out while waiting for the greeting, after '220-mail-2.example.com'",
    ),
    (
        "timeout-queued",
        target(),
        Greeting(failure=Failure.TIMEOUT, phase=Phase.QUEUED),
        Status.TIMEOUT,
        False,
        "before it started",
    ),
    (
        "tls",
        target("smtps"),
        Greeting(failure=Failure.TLS, phase=Phase.HANDSHAKE, detail="WRONG_VERSION_NUMBER"),
        Status.TLS_ERROR,
        False,
        "TLS failed during the TLS handshake (WRONG_VERSION_NUMBER)",
    ),
    (
        "reset",
        target(),
        Greeting(failure=Failure.CLOSED, detail="ECONNRESET"),
        Status.CLOSED,
        False,
        "the server closed the connection while waiting for the greeting (ECONNRESET)",
    ),
    (
        "closed-silently",
        target(),
        greet(b""),
        Status.CLOSED,
        False,
        "closed the connection while waiting for the greeting (no greeting was sent)",
    ),
    (
        "unreachable",
        target(),
        Greeting(failure=Failure.UNREACHABLE, phase=Phase.CONNECT, detail="EHOSTUNREACH"),
        Status.UNREACHABLE,
        False,
        "10.0.0.2 cannot be reached (EHOSTUNREACH)",
    ),
    # removed addresses: MDaemon must be gone, anything else passes
    (
        "removed-mdaemon",
        target(removed=True, name=None),
        greet(SMTP_OK),
        Status.STILL_ON_OLD_IP,
        False,
        "MDaemon still answers on 10.0.0.2:25, an address the plan removed",
    ),
    (
        "removed-mdaemon-other-name",
        target(removed=True, name=None),
        greet(b"220 elsewhere.example ESMTP MDaemon\r\n"),
        Status.STILL_ON_OLD_IP,
        False,
        "still answers",
    ),
    (
        "removed-refused",
        target(removed=True),
        Greeting(failure=Failure.REFUSED, phase=Phase.CONNECT),
        Status.REFUSED,
        True,
        "connection refused: nothing listens on 10.0.0.2:25, as planned",
    ),
    (
        "removed-timeout",
        target(removed=True),
        Greeting(failure=Failure.TIMEOUT, phase=Phase.CONNECT),
        Status.TIMEOUT,
        True,
        "as planned",
    ),
    (
        "removed-other-server",
        target(removed=True),
        greet(b"220 mail-2.example.com ESMTP Postfix\r\n"),
        Status.NOT_MDAEMON,
        True,
        "this address was removed",
    ),
    (
        "removed-web-without-server-header",
        target("webmail", removed=True),
        greet(b"HTTP/1.1 200 OK\r\n\r\n"),
        Status.STILL_ON_OLD_IP,
        False,
        "still answers",
    ),
]


@pytest.mark.parametrize(
    ("tgt", "greeting", "status", "passed", "detail"),
    [case[1:] for case in CASES],
    ids=[case[0] for case in CASES],
)
def test_classify(
    tgt: Target, greeting: Greeting, status: Status, passed: bool, detail: str
) -> None:
    answer = classify(tgt, greeting)
    assert (answer.status, answer.passed) == (status, passed)
    assert detail in answer.detail
    assert answer.target is tgt
    assert (answer.hint is None) is passed, answer.hint


WARNED: list[tuple[str, Target, bytes, Status, str]] = [
    (
        "smtp-rejects",
        target(),
        b"554 mail-2.example.com MDaemon: no service for you\r\n",
        Status.ANSWERED,
        "the greeting refuses: '554 mail-2.example.com",
    ),
    (
        "smtp-421-wrong-name",
        target(),
        b"421 other.example MDaemon busy\r\n",
        Status.WRONG_DOMAIN,
        "the greeting refuses",
    ),
    ("pop3-err", target("pop3"), b"-ERR MDaemon is busy\r\n", Status.ANSWERED, "refuses"),
    ("imap-bye", target("imap"), b"* BYE MDaemon shutting down\r\n", Status.ANSWERED, "refuses"),
    (
        "http-503",
        target("webmail"),
        b"HTTP/1.1 503 Busy\r\nServer: WDaemon/25\r\n\r\n",
        Status.ANSWERED,
        "the web server answers with an error: HTTP 503, Server: WDaemon/25",
    ),
    (
        "http-no-server-header",
        target("webmail"),
        b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n",
        Status.ANSWERED,
        "cannot tell whether MDaemon answered (HTTP 200, no Server header)",
    ),
    (
        "smtp-cut-short",
        target(),
        b"220-mail-2.example.com ESMTP MDaemon\r\n220-more",
        Status.ANSWERED,
        "the server stopped before the end of its greeting",
    ),
    (
        "smtp-too-long",
        target(),
        b"220-mail-2.example.com ESMTP MDaemon\r\n" + b"220-x\r\n" * (MAX_GREETING // 7),
        Status.ANSWERED,
        f"longer than {MAX_GREETING} bytes",
    ),
]


@pytest.mark.parametrize(
    ("tgt", "data", "status", "warning"),
    [case[1:] for case in WARNED],
    ids=[case[0] for case in WARNED],
)
def test_warnings_do_not_fail_an_answer(
    tgt: Target, data: bytes, status: Status, warning: str
) -> None:
    answer = classify(tgt, greet(data[:MAX_GREETING]))
    assert answer.status is status
    assert any(warning in w for w in answer.warnings), answer.warnings


def test_an_answer_records_the_name_seen_and_a_printable_first_line() -> None:
    answer = classify(target(), greet(b"220 mail-3.example.com MDaemon \x1b[31mhi\r\n"))
    assert answer == Answer(
        target(),
        Status.WRONG_DOMAIN,
        False,
        "the greeting names mail-3.example.com, not mail-2.example.com",
        answer.hint,
        (),
        "mail-3.example.com",
        "220 mail-3.example.com MDaemon \\x1b[31mhi",
    )
    long = classify(target(), greet(b"220 " + b"x" * 300 + b"\r\n"))
    assert long.greeting.endswith("...")
    assert len(long.greeting) == 123


# ---------------------------------------------------------------- certificates: warnings only

CA = trustme.CA()


def der(
    *names: str, not_before: datetime | None = None, not_after: datetime | None = None
) -> bytes:
    leaf = CA.issue_cert(*names, not_before=not_before, not_after=not_after)
    return ssl.PEM_cert_to_DER_cert(leaf.cert_chain_pems[0].bytes().decode("ascii"))


GOOD = der(NAME, not_after=NOW + timedelta(days=90))


@pytest.mark.parametrize(
    ("cert", "at", "warnings"),
    [
        (GOOD, NOW, ()),
        (der("*.example.com", not_after=NOW + timedelta(days=1)), NOW, ()),
        (
            der("other.example.net", not_after=NOW + timedelta(days=1)),
            NOW,
            ("the certificate is for other.example.net, not mail-2.example.com",),
        ),
        (
            der(NAME, not_before=NOW - timedelta(days=9), not_after=NOW - timedelta(days=2)),
            NOW,
            ("the certificate expired on 2026-04-29 12:00 UTC",),
        ),
        (
            der(NAME, not_before=NOW + timedelta(hours=1)),
            NOW,
            ("the certificate is not valid before 2026-05-01 13:00 UTC",),
        ),
        (GOOD, None, ()),  # no time recorded: the dates are not judged
        (None, NOW, ("the server sent no certificate",)),
        (b"\x30\x00", NOW, ("the certificate could not be read (its fields are not X.509's)",)),
    ],
    ids=["good", "wildcard", "other-name", "expired", "not-yet-valid", "no-clock", "none", "junk"],
)
def test_certificate_warnings(
    cert: bytes | None, at: datetime | None, warnings: tuple[str, ...]
) -> None:
    greeting = Greeting(data=SMTP_OK.replace(b"220 ", b"220 ", 1), cert=cert, at=at)
    answer = classify(target("smtps"), greeting)
    assert (answer.status, answer.passed, answer.warnings) == (Status.ANSWERED, True, warnings)


def test_certificates_are_not_judged_without_an_expected_name_or_on_removed_addresses() -> None:
    other = der("other.example.net")
    greeting = Greeting(data=SMTP_OK, cert=other, at=NOW)
    assert classify(target("smtps", name=None), greeting).warnings == ()
    gone = classify(target("smtps", removed=True, name=None), greeting)
    assert (gone.status, gone.warnings) == (Status.STILL_ON_OLD_IP, ())


def test_a_tls_error_on_a_removed_address_passes_with_a_warning() -> None:
    answer = classify(
        target("smtps", removed=True), Greeting(failure=Failure.TLS, phase=Phase.HANDSHAKE)
    )
    assert (answer.status, answer.passed) == (Status.TLS_ERROR, True)
    assert answer.warnings == ("cannot tell whether MDaemon answered",)
