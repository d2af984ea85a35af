"""The terminal edge: colour only on a TTY without NO_COLOR, progress only on a TTY, prompts
that give up after their deadline."""

from __future__ import annotations

import io
import os
import signal
from collections.abc import Iterator

import pytest

from bindmgr.console import Console, hangups, safe_stream


class Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_colour_needs_a_tty_and_no_no_color() -> None:
    assert Console(out=Tty(), env={}).color
    assert not Console(out=Tty(), env={"NO_COLOR": ""}).color
    assert not Console(out=io.StringIO(), env={}).color


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


@pytest.mark.parametrize("sig", [signal.SIGHUP, signal.SIGTERM])
def test_hangups_interrupt_or_are_ignored_and_handlers_come_back(sig: signal.Signals) -> None:
    before = signal.getsignal(sig)
    with hangups("interrupt"), pytest.raises(KeyboardInterrupt):
        os.kill(os.getpid(), sig)  # the handler runs before the next bytecode
    with hangups("ignore"):
        os.kill(os.getpid(), sig)
    assert signal.getsignal(sig) == before


def legacy_stream(encoding: str = "cp1252") -> io.TextIOWrapper:
    """A file-like stream in a code page that lacks most of Unicode (strict, as Python opens
    a redirected stdout on Windows)."""
    return io.TextIOWrapper(io.BytesIO(), encoding=encoding, errors="strict")


def written(stream: io.TextIOWrapper) -> bytes:
    stream.flush()
    buffer = stream.buffer
    assert isinstance(buffer, io.BytesIO)
    return buffer.getvalue()


def test_a_name_outside_the_streams_code_page_is_escaped_not_fatal() -> None:
    out, err = legacy_stream(), legacy_stream()
    console = Console(out=out, err=err)
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
