"""The errno table and the words, as pure calls: including the Windows paths Linux cannot make."""

from __future__ import annotations

import errno

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bindmgr.check.hints import event_text
from bindmgr.check.hostinfo import ListeningSocket
from bindmgr.check.verdict import (
    BOUND,
    ERRNO_STATUS,
    MDAEMON_PROCESSES,
    ListenerIndex,
    Results,
    classify,
    needs_table,
)
from bindmgr.model import Holder, ProbeResult, ProbeStatus, Proto
from tests.support.probe import ip, tcp, udp

EMPTY = ListenerIndex(())


def row(
    addr: str, port: int, pid: int | None = 900, name: str | None = "svc.exe"
) -> ListeningSocket:
    return ListeningSocket(ip(addr), port, Proto.TCP, pid, name, None)


@pytest.mark.parametrize(
    ("code", "status"),
    [
        (errno.EADDRINUSE, ProbeStatus.IN_USE),
        (10048, ProbeStatus.IN_USE),
        (errno.EADDRNOTAVAIL, ProbeStatus.NOT_LOCAL),
        (10049, ProbeStatus.NOT_LOCAL),
        (errno.EACCES, ProbeStatus.DENIED),
        (10013, ProbeStatus.DENIED),
        (errno.ENETDOWN, ProbeStatus.ERROR),
        (None, ProbeStatus.ERROR),
    ],
)
def test_errno_table_without_a_holder(code: int | None, status: ProbeStatus) -> None:
    result = classify(ip("10.0.0.1"), tcp(25), code, local=True, table=EMPTY, windows=True)
    assert result.status is status
    assert result.errno == code
    assert result.event == "MDaemon would log event 503: SMTP 10.0.0.1:25 could not be initialized"
    assert result.hint


def test_the_table_lists_every_documented_errno_once() -> None:
    assert ERRNO_STATUS[10048] is ProbeStatus.IN_USE
    assert ERRNO_STATUS[10049] is ProbeStatus.NOT_LOCAL
    assert ERRNO_STATUS[10013] is ProbeStatus.DENIED
    assert ProbeStatus.OK not in ERRNO_STATUS.values()


def test_wsaeacces_with_a_holder_is_in_use_exclusive_holder() -> None:
    """Windows: WSAEACCES when another process holds the port with SO_EXCLUSIVEADDRUSE."""
    table = ListenerIndex((row("10.0.0.1", 25, 1234, "smtpd.exe"),))
    result = classify(ip("10.0.0.1"), tcp(25), 10013, local=True, table=table, windows=True)
    assert result.status is ProbeStatus.IN_USE
    assert result.holder == Holder(1234, "smtpd.exe", None)
    assert result.hint == "stop smtpd.exe (pid 1234) or move it off 10.0.0.1:25"


def test_windows_denied_hint_names_excluded_ranges_and_administrator() -> None:
    result = classify(ip("10.0.0.1"), udp(4069), 10013, local=True, table=EMPTY, windows=True)
    assert result.status is ProbeStatus.DENIED
    assert result.hint is not None
    assert "Administrator" in result.hint
    assert "netsh interface ipv4 show excludedportrange protocol=udp" in result.hint
    posix = classify(ip("10.0.0.1"), tcp(25), errno.EACCES, local=True, table=EMPTY, windows=False)
    assert posix.hint is not None
    assert "root" in posix.hint


@pytest.mark.parametrize("wild", ["0.0.0.0", "::"])
def test_http_sys_holds_port_80(wild: str) -> None:
    table = ListenerIndex((row(wild, 80, 4, "System"),))
    code = errno.EADDRINUSE if wild == "::" else 10048
    result = classify(ip("10.0.0.1"), tcp(80, "WorldClient"), code, local=True, table=table)
    assert result.status is ProbeStatus.IN_USE_WILDCARD
    assert result.hint is not None
    assert "HTTP.sys driver (PID 4, System)" in result.hint
    assert "netsh http show servicestate" in result.hint


def test_a_listener_of_pid_0_is_a_socket_without_an_owner() -> None:
    """Windows: pid 0 ("System Idle Process") stands for a closing or orphaned socket."""
    table = ListenerIndex((row("10.0.0.1", 25, 0, None), row("0.0.0.0", 110, 0, None)))
    result = classify(ip("10.0.0.1"), tcp(25), 10048, local=True, table=table, windows=True)
    assert result.status is ProbeStatus.IN_USE
    assert result.holder == Holder(0, None, None)
    assert result.hint is not None
    assert "pid 0 (no living owner)" in result.hint
    assert "retry in a few minutes" in result.hint
    assert "System Idle Process" not in result.hint
    wild = classify(ip("10.0.0.1"), tcp(110), BOUND, local=True, table=table, windows=True)
    assert wild.status is ProbeStatus.IN_USE_WILDCARD
    assert wild.hint is not None
    assert "10.0.0.1:110 is held by a socket Windows lists under pid 0" in wild.hint


def test_specific_bind_next_to_a_wildcard_listener_is_in_use_wildcard() -> None:
    """Windows lets this bind succeed; the listener table still reports the conflict."""
    table = ListenerIndex((row("0.0.0.0", 25), row("::", 110)))
    result = classify(ip("10.0.0.1"), tcp(25), BOUND, local=True, table=table, windows=True)
    assert result.status is ProbeStatus.IN_USE_WILDCARD
    assert result.errno is None
    # a successful IPv4 bind is not blamed on an [::] row (V6ONLY is Windows' default)
    other = classify(ip("10.0.0.1"), tcp(110), BOUND, local=True, table=table, windows=True)
    assert other.status is ProbeStatus.OK
    six = classify(ip("2001:db8::1"), tcp(110), BOUND, local=True, table=table)
    assert six.status is ProbeStatus.IN_USE_WILDCARD
    assert six.event is not None
    assert "[2001:db8::1]:110" in six.event


MD_WIN = "C:\\MDaemon"  # the MDaemon folder: the App folder's parent


def mdaemon_row(name: str | None, exe: str | None, addr: str = "10.0.0.1") -> ListeningSocket:
    return ListeningSocket(ip(addr), 3000, Proto.TCP, 77, name, None, exe)


@pytest.mark.parametrize(
    ("name", "exe"),
    [
        ("MDaemon.exe", "C:\\MDaemon\\App\\MDaemon.exe"),
        ("WORLDCLIENT.EXE", "c:\\mdaemon\\WorldClient\\WorldClient.exe"),  # Windows: any case
        ("webadmin.exe", "C:\\MDaemon\\WebAdmin\\WebAdmin.exe"),
        ("MDSpamD.exe", "C:\\MDaemon\\MDSpamD\\MDSpamD.exe"),
    ],
)
def test_mdaemon_processes_are_held_by_mdaemon(name: str, exe: str) -> None:
    assert name.casefold() in MDAEMON_PROCESSES
    table = ListenerIndex((mdaemon_row(name, exe, "0.0.0.0"),))
    result = classify(
        ip("10.0.0.1"),
        tcp(3000),
        errno.EADDRINUSE,
        local=True,
        table=table,
        windows=True,
        mdaemon_dir=MD_WIN,
    )
    assert result.status is ProbeStatus.HELD_BY_MDAEMON
    assert result.event is None
    assert result.holder == Holder(77, name, None)


@pytest.mark.parametrize(
    ("exe", "why"),
    [
        (
            "C:\\Users\\eve\\MDaemon.exe",
            "runs C:\\Users\\eve\\MDaemon.exe, which is not one of MDaemon's own executables "
            "inside C:\\MDaemon",
        ),
        ("C:\\MDaemon-old\\App\\MDaemon.exe", "inside C:\\MDaemon"),  # a prefix is no parent
        ("C:\\MDaemon\\..\\Temp\\MDaemon.exe", "inside C:\\MDaemon"),
        (
            "C:\\MDaemon\\App\\python.exe",
            "not one of MDaemon's own executables",
        ),  # in the folder, but not MDaemon's
        (None, "bindmgr cannot see its executable"),
    ],
)
def test_only_mdaemons_own_executables_count(exe: str | None, why: str) -> None:
    """A process merely named MDaemon.exe (a renamed interpreter) is in the way like any other."""
    table = ListenerIndex((mdaemon_row("MDaemon.exe", exe),))
    result = classify(
        ip("10.0.0.1"),
        tcp(3000),
        errno.EADDRINUSE,
        local=True,
        table=table,
        windows=True,
        mdaemon_dir=MD_WIN,
    )
    assert result.status is ProbeStatus.IN_USE
    assert result.event is not None
    assert result.hint is not None
    assert result.hint.startswith("stop MDaemon.exe (pid 77)")
    assert why in result.hint


def test_without_an_mdaemon_folder_nothing_is_mdaemon() -> None:
    table = ListenerIndex((mdaemon_row("MDaemon.exe", "C:\\MDaemon\\App\\MDaemon.exe"),))
    result = classify(ip("10.0.0.1"), tcp(3000), errno.EADDRINUSE, local=True, table=table)
    assert result.status is ProbeStatus.IN_USE


def test_posix_paths_are_compared_by_parts_and_case() -> None:
    def status(exe: str) -> ProbeStatus:
        table = ListenerIndex((mdaemon_row("MDaemon.exe", exe),))
        return classify(
            ip("10.0.0.1"),
            tcp(3000),
            errno.EADDRINUSE,
            local=True,
            table=table,
            windows=False,
            mdaemon_dir="/srv/MDaemon",
        ).status

    assert status("/srv/MDaemon/App/MDaemon.exe") is ProbeStatus.HELD_BY_MDAEMON
    assert status("/srv/mdaemon/App/MDaemon.exe") is ProbeStatus.IN_USE  # POSIX: case counts
    assert status("/srv/MDaemonX/App/MDaemon.exe") is ProbeStatus.IN_USE
    assert status("App/MDaemon.exe") is ProbeStatus.IN_USE  # not absolute


def test_hidden_holder_and_unnamed_holder() -> None:
    table = ListenerIndex((row("10.0.0.1", 25, None, None), row("10.0.0.2", 25, 55, None)))
    hidden = classify(ip("10.0.0.1"), tcp(25), errno.EADDRINUSE, local=True, table=table)
    assert hidden.holder == Holder(None, None, None)
    assert hidden.hint is not None
    assert "cannot see" in hidden.hint
    unnamed = classify(ip("10.0.0.2"), tcp(25), errno.EADDRINUSE, local=True, table=table)
    assert unnamed.hint == "stop a process (pid 55) or move it off 10.0.0.2:25"


def test_a_named_row_wins_over_an_anonymous_one() -> None:
    table = ListenerIndex((row("10.0.0.1", 25, None, None), row("10.0.0.1", 25, 8, "x")))
    result = classify(ip("10.0.0.1"), tcp(25), errno.EADDRINUSE, local=True, table=table)
    assert result.holder == Holder(8, "x", None)


def test_not_local_comes_first_whatever_the_kernel_said() -> None:
    for code in (BOUND, errno.EADDRINUSE, errno.EACCES):
        result = classify(ip("203.0.113.9"), tcp(25), code, local=False, table=EMPTY)
        assert result.status is ProbeStatus.NOT_LOCAL
    kernel = classify(ip("10.0.0.1"), tcp(25), errno.EADDRNOTAVAIL, local=True, table=EMPTY)
    assert kernel.status is ProbeStatus.NOT_LOCAL


def test_unspecified_address_is_blocked_by_any_listener_on_the_port() -> None:
    table = ListenerIndex((row("10.0.0.7", 25, 3, "exim"),))
    result = classify(ip("0.0.0.0"), tcp(25), errno.EADDRINUSE, local=True, table=table)
    assert result.status is ProbeStatus.IN_USE
    assert result.hint == "stop exim (pid 3) or move it off 10.0.0.7:25"
    bound = classify(ip("0.0.0.0"), tcp(25), BOUND, local=True, table=table)
    assert bound.status is ProbeStatus.OK


def test_link_local_without_scope_hint() -> None:
    result = classify(ip("fe80::1"), tcp(25), errno.EINVAL, local=True, table=EMPTY)
    assert result.status is ProbeStatus.ERROR
    assert (
        result.hint == "a link-local address needs its interface: write it as fe80::1%<interface>"
    )


def test_ok_has_no_words() -> None:
    result = classify(ip("10.0.0.1"), tcp(25), BOUND, local=True, table=EMPTY)
    assert (result.status, result.event, result.hint, result.holder) == (
        ProbeStatus.OK,
        None,
        None,
        None,
    )
    assert event_text(ProbeStatus.OK, ip("10.0.0.1"), tcp(25)) is None


OUTCOMES = st.sampled_from(
    [BOUND, BOUND, BOUND, errno.EADDRINUSE, errno.EACCES, errno.EADDRNOTAVAIL, errno.EINVAL, None]
)
ADDRESSES = st.sampled_from(["10.0.0.1", "10.0.0.2", "0.0.0.0", "2001:db8::1", "::", "fe80::1"])
TABLE_ROWS = st.lists(
    st.builds(
        ListeningSocket,
        st.sampled_from(["10.0.0.1", "0.0.0.0", "::", "2001:db8::1"]).map(ip),
        st.sampled_from([25, 110, 4069]),
        st.sampled_from(Proto),
        st.sampled_from([None, 4, 77]),
        st.sampled_from([None, "svc.exe", "MDaemon.exe"]),
        st.none(),
        st.sampled_from([None, "/md/App/MDaemon.exe", "/tmp/MDaemon.exe"]),
    ),
    max_size=4,
)


@settings(max_examples=300, deadline=None)
@given(address=ADDRESSES, outcomes=st.lists(OUTCOMES, min_size=3, max_size=3), local=st.booleans(),
       rows=TABLE_ROWS)  # fmt: skip
def test_the_fast_path_gives_what_classify_gives(
    address: str, outcomes: list[int | None], local: bool, rows: list[ListeningSocket]
) -> None:
    """Results.of builds the common `ok` without classify(); every result must be classify's,
    label included (a false `ok` from the fast path would be silent)."""
    pairs = (tcp(25), tcp(110), udp(4069))
    table = ListenerIndex(rows)
    fast = Results(pairs, table, mdaemon_dir="/md", windows=False).of(ip(address), outcomes, local)
    slow = [
        classify(ip(address), lst, res, local=local, table=table, windows=False, mdaemon_dir="/md")
        for lst, res in zip(pairs, outcomes, strict=True)
    ]
    assert fast == slow
    assert [type(r) for r in fast] == [ProbeResult] * 3


def test_needs_table_only_for_failures_the_table_explains() -> None:
    assert not needs_table([])
    assert not needs_table([[BOUND, BOUND], [BOUND]])
    assert not needs_table([[BOUND, errno.EADDRNOTAVAIL, None, errno.ENETDOWN]])
    for code in (errno.EADDRINUSE, 10048, errno.EACCES, errno.EPERM, 10013):
        assert needs_table([[BOUND], [BOUND, code]])
    # every outcome classify() looks up in the table is one of them
    looked_up = {ProbeStatus.IN_USE, ProbeStatus.DENIED}
    assert all(needs_table([[c]]) for c, s in ERRNO_STATUS.items() if s in looked_up)
