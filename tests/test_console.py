"""The terminal edge: colour only on a TTY without NO_COLOR, progress only on a TTY, prompts
that give up after their deadline."""

from __future__ import annotations

import io
import os
import signal
import sys
from collections.abc import Iterator

import pytest

from bindmgr.console import Console, Typed, _edit, hangups, safe_stream, terminal_colors


class Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_colour_needs_a_tty_and_no_no_color() -> None:
    def shown(stream: object) -> bool:
        return True

    assert Console(out=Tty(), env={}, show_colors=shown).color
    assert not Console(out=Tty(), env={"NO_COLOR": "1"}, show_colors=shown).color
    assert not Console(out=io.StringIO(), env={}, show_colors=shown).color


# (--color, environment, stdout a terminal, the terminal shows colour) -> coloured
COLOUR_RULES = [
    ("auto", {}, True, True, True),
    ("auto", {}, False, True, False),  # a pipe or a file
    ("auto", {}, True, False, False),  # a console that cannot show it
    ("auto", {"NO_COLOR": "1"}, True, True, False),
    ("auto", {"NO_COLOR": ""}, True, True, True),  # set but empty counts as unset
    ("auto", {"FORCE_COLOR": "1"}, False, True, True),
    ("auto", {"FORCE_COLOR": "1"}, True, False, True),
    ("auto", {"FORCE_COLOR": ""}, False, True, False),
    ("auto", {"NO_COLOR": "1", "FORCE_COLOR": "1"}, True, True, False),  # NO_COLOR first
    ("auto", {"TERM": "dumb"}, True, True, False),
    ("auto", {"TERM": "dumb", "FORCE_COLOR": "1"}, True, True, True),
    ("auto", {"TERM": "xterm-256color"}, True, True, True),
    ("always", {}, False, False, True),
    ("always", {"NO_COLOR": "1", "TERM": "dumb"}, False, True, True),  # the option wins
    ("never", {}, True, True, False),
    ("never", {"FORCE_COLOR": "1"}, True, True, False),
]


@pytest.mark.parametrize(("choice", "env", "tty", "shows", "coloured"), COLOUR_RULES)
def test_colour_rules(
    choice: str, env: dict[str, str], tty: bool, shows: bool, coloured: bool
) -> None:
    asked: list[object] = []

    def show_colors(stream: object) -> bool:
        asked.append(stream)
        return shows

    out = Tty() if tty else io.StringIO()
    console = Console(out=out, env=env, color_choice=choice, show_colors=show_colors)
    assert console.color is coloured
    assert console.color is coloured
    assert len(asked) <= 1  # decided once: the console mode is set at most once
    assert asked in ([], [out])
    if tty and choice != "never" and "NO_COLOR" not in env and env.get("TERM") != "dumb":
        assert asked == [out]  # a terminal that may be coloured is asked to show it


def test_terminal_colors_elsewhere_than_windows_is_a_given() -> None:
    assert terminal_colors(Tty(), platform="linux")
    assert not terminal_colors(Tty(), platform="win32")  # a StringIO is no Windows console


@pytest.mark.skipif(sys.platform != "win32", reason="Windows consoles only")
def test_a_pipe_is_no_console_so_windows_shows_no_colour(
    pipe: tuple[io.TextIOWrapper, int],
) -> None:
    _, write_fd = pipe
    with os.fdopen(os.dup(write_fd), "w") as stream:
        assert terminal_colors(stream) is False  # GetConsoleMode fails on a pipe


def test_errors_and_notes_go_to_stderr() -> None:
    out, err = io.StringIO(), io.StringIO()
    console = Console(out=out, err=err)
    console.error("it broke", "do this")
    console.error("no hint", None)
    console.note("working")
    console.print("report")
    assert out.getvalue() == "report\n"
    assert err.getvalue() == "error: it broke\nhint: do this\nerror: no hint\nbindmgr: working\n"


def test_progress_is_drawn_on_a_tty_only_and_throttled() -> None:
    assert Console(err=io.StringIO()).progress("checking") is None
    ticks = iter([0.0, 0.01, 0.5, 0.6])
    err = Tty()
    draw = Console(err=err, clock=lambda: next(ticks)).progress("checking", minimum=10)
    assert draw is not None
    draw(1, 5)  # below the minimum: silent
    assert err.getvalue() == ""
    draw(1, 100)
    draw(2, 100)  # 10 ms later: throttled
    draw(50, 100)
    draw(100, 100)
    lines = err.getvalue().split("\r")[1:]
    assert [line.split("] ")[1] for line in lines] == ["1/100", "50/100", "100/100\n"]
    assert "[###############---------------]" in lines[1]


@pytest.fixture
def pipe() -> Iterator[tuple[io.TextIOWrapper, int]]:
    read_fd, write_fd = os.pipe()
    reader = os.fdopen(read_fd, "r")
    try:
        yield reader, write_fd
    finally:
        reader.close()
        os.close(write_fd)


def test_ask_with_deadline_answers(pipe: tuple[io.TextIOWrapper, int]) -> None:
    reader, write_fd = pipe
    os.write(write_fd, b"yes\n")
    err = io.StringIO()
    assert Console(inp=reader, err=err).ask("Keep?", timeout=5)
    assert err.getvalue() == "Keep? [y/N] "


def test_ask_gives_up_after_its_deadline(pipe: tuple[io.TextIOWrapper, int]) -> None:
    reader, _ = pipe
    assert not Console(inp=reader, err=io.StringIO()).ask("Keep?", timeout=0.05)


@pytest.mark.parametrize(("typed", "answer"), [("y\n", True), ("n\n", False), ("", False)])
def test_ask_without_deadline(typed: str, answer: bool) -> None:
    assert Console(inp=io.StringIO(typed), err=io.StringIO()).ask("Go?") is answer
    assert Console(inp=io.StringIO(typed), err=io.StringIO()).ask("Go?", timeout=1) is answer
    assert not Console(inp=None, err=io.StringIO()).ask("Go?")


def test_interactive_needs_tty_in_and_err() -> None:
    assert Console(inp=Tty(), err=Tty()).interactive
    assert not Console(inp=io.StringIO(), err=Tty()).interactive
    assert not Console(inp=None, err=Tty()).interactive


class Gone(io.StringIO):
    def write(self, text: str) -> int:
        raise OSError(5, "Input/output error")


def test_output_to_a_terminal_that_went_away_is_dropped_not_fatal() -> None:
    console = Console(out=Gone(), err=Gone(), inp=io.StringIO("y\n"))
    console.print("report")
    console.note("note")
    console.error("error", "hint")
    assert console.ask("Keep?")


def _deliver(sig: signal.Signals) -> None:
    """Send `sig` to this process; the handler runs before the next bytecode."""
    if sys.platform == "win32":
        signal.raise_signal(sig)  # os.kill(pid, SIGTERM) is TerminateProcess: it ends pytest
    else:
        os.kill(os.getpid(), sig)


@pytest.mark.parametrize(
    "sig",
    [
        pytest.param(
            getattr(signal, "SIGHUP", None),
            id="SIGHUP",
            marks=pytest.mark.skipif(
                not hasattr(signal, "SIGHUP"),
                reason="SIGHUP is POSIX; closing a Windows console is CTRL_CLOSE_EVENT, which "
                "Python maps to no signal",
            ),
        ),
        pytest.param(signal.SIGTERM, id="SIGTERM"),
    ],
)
def test_hangups_interrupt_or_are_ignored_and_handlers_come_back(sig: signal.Signals) -> None:
    before = signal.getsignal(sig)
    with hangups("interrupt"), pytest.raises(KeyboardInterrupt):
        _deliver(sig)
    with hangups("ignore"):
        _deliver(sig)
    assert signal.getsignal(sig) == before


def legacy_stream(encoding: str = "cp1252") -> io.TextIOWrapper:
    """A file-like stream in a code page that lacks most of Unicode (strict, as Python opens
    a redirected stdout on Windows)."""
    return io.TextIOWrapper(io.BytesIO(), encoding=encoding, errors="strict", newline="\n")


def written(stream: io.TextIOWrapper) -> bytes:
    stream.flush()
    buffer = stream.buffer
    assert isinstance(buffer, io.BytesIO)
    return buffer.getvalue()


def test_a_name_outside_the_streams_code_page_is_escaped_not_fatal() -> None:
    out, err = legacy_stream(), legacy_stream()
    console = Console(out=out, err=err, env={"PYTHONIOENCODING": "cp1252"})  # kept on Windows
    console.print("[\u4f8b\u3048.example] caf\u00e9")
    console.error("no [\u4f8b\u3048.example]", None)
    assert written(out) == b"[\\u4f8b\\u3048.example] caf\xe9\n"
    assert written(err) == b"error: no [\\u4f8b\\u3048.example]\n"


def test_on_windows_a_redirected_stream_becomes_utf8() -> None:
    out = safe_stream(legacy_stream(), {}, platform="win32")
    out.write("[\u4f8b\u3048.example]\n")
    assert written(out) == "[\u4f8b\u3048.example]\n".encode()
    # PYTHONIOENCODING chose the encoding: kept, and what it lacks is escaped
    kept = safe_stream(legacy_stream(), {"PYTHONIOENCODING": "cp1252"}, platform="win32")
    kept.write("\u4f8b\n")
    assert written(kept) == b"\\u4f8b\n"
    # elsewhere the locale's encoding stays
    linux = safe_stream(legacy_stream("latin-1"), {}, platform="linux")
    linux.write("\u00e9\u4f8b\n")
    assert written(linux) == b"\xe9\\u4f8b\n"


class Ascii(io.StringIO):
    """A stream that cannot be reconfigured and refuses what ASCII lacks."""

    encoding = "ascii"

    def write(self, text: str) -> int:
        text.encode("ascii")
        return super().write(text)


def test_a_stream_that_cannot_be_reconfigured_gets_escapes() -> None:
    out = Ascii()
    Console(out=out).print("\u4f8b")
    assert out.getvalue() == "\\u4f8b\n"


def keys(typed: str) -> tuple[Typed, str]:
    """The answer after `typed`, key by key as the Windows prompt reads it, and the echo."""
    state, shown = Typed(), ""
    for char in typed:
        assert not state.done, "a key after Enter"
        state = _edit(state, char)
        shown += state.echo
    return state, shown


@pytest.mark.parametrize(
    ("typed", "answer", "shown"),
    [
        ("yes\r", "yes", "yes\n"),
        ("y\n", "y", "y\n"),
        ("\r", "", "\n"),
        ("nx\by\r", "ny", "nx\b \by\n"),  # Backspace edits the answer
        ("\b\by\r", "y", "y\n"),  # nothing to rub out
        ("no\x1byes\r", "yes", "no\b \b\b \byes\n"),  # Esc clears the line
        ("y\xe0Ke\x00;s\r", "yes", "yes\n"),  # arrow and F1 keys: prefix and code ignored
        ("y\x07\tes\r", "yes", "yes\n"),  # other control keys are ignored
        ("\u00ffes\r", "\u00ffes", "\u00ffes\n"),
    ],
)
def test_the_windows_prompt_edits_its_line_key_by_key(typed: str, answer: str, shown: str) -> None:
    state, echo = keys(typed)
    assert state.done
    assert (state.text, echo) == (answer, shown)


def test_the_windows_prompt_without_enter_is_not_done() -> None:
    state, _ = keys("ye")
    assert (state.text, state.done) == ("ye", False)


def test_ctrl_c_at_the_windows_prompt_interrupts() -> None:
    with pytest.raises(KeyboardInterrupt):
        keys("ye\x03")
    assert keys("\x00\x03\r")[0].text == ""  # the key code 3 after a prefix is no Ctrl-C


@pytest.mark.skipif(sys.platform != "win32", reason="SIGBREAK is Windows' Ctrl-Break")
def test_ctrl_break_interrupts_a_wait_and_is_ignored_by_a_revert() -> None:
    sig = signal.SIGBREAK
    before = signal.getsignal(sig)
    with hangups("interrupt"), pytest.raises(KeyboardInterrupt):
        signal.raise_signal(sig)
    with hangups("ignore"):
        signal.raise_signal(sig)
    assert signal.getsignal(sig) == before


def test_width_is_100_off_a_terminal_whatever_columns_says() -> None:
    assert Console(out=io.StringIO(), env={"COLUMNS": "60"}).width == 100


@pytest.mark.skipif(sys.platform == "win32", reason="a pseudo-terminal is POSIX's")
def test_width_is_the_terminals_and_columns_wins() -> None:
    import fcntl  # noqa: PLC0415 - POSIX only
    import struct  # noqa: PLC0415
    import termios  # noqa: PLC0415

    main_fd, tty_fd = os.openpty()
    try:
        fcntl.ioctl(tty_fd, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 72, 0, 0))
        with open(tty_fd, "w", closefd=False) as tty:
            assert Console(out=tty, env={}).width == 72
            assert Console(out=tty, env={"COLUMNS": "150"}).width == 150
            assert Console(out=tty, env={"COLUMNS": "10"}).width == 40  # never narrower
    finally:
        os.close(tty_fd)
        os.close(main_fd)


def test_quiet_keeps_documents_and_errors() -> None:
    out, err = io.StringIO(), io.StringIO()
    console = Console(out=out, err=err, env={}, quiet=True)
    console.print("words")
    console.note("a note")
    console.output("text report", "text")
    console.output('{"a": 1}', "json")
    console.error("bad", "fix it")
    assert out.getvalue() == '{"a": 1}\n'
    assert err.getvalue() == "error: bad\nhint: fix it\n"
    assert console.progress("x") is None


def test_verbose_levels_and_timed_stages_go_to_stderr() -> None:
    out, err = io.StringIO(), io.StringIO()
    ticks = iter([1.0, 1.0125])
    console = Console(out=out, err=err, env={}, verbosity=1, clock=lambda: next(ticks))
    console.verbose("one")
    console.verbose("two", level=2)
    with console.timed("read"):
        pass
    assert out.getvalue() == ""
    assert err.getvalue() == "bindmgr: one\nbindmgr: read: 12.5 ms\n"
