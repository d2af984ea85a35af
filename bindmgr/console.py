"""The terminal edge: where output goes, whether to colour it, progress bars and prompts.

Commands print only through a `Console`; tests pass their own streams. Colour follows `--color`,
then NO_COLOR, FORCE_COLOR and TERM=dumb, then whether stdout is a terminal that shows it
(`color_rule`, `terminal_colors`); progress goes to stderr on a TTY.
`-q` (`quiet`) drops the words on stdout, the notes and the progress, never a document asked for
(`output` with a format other than text) nor an error; `-v` (`verbosity`) adds what was read and
how long each stage took, on stderr only, so stdout stays the report.
Errors and notes are escaped here (reports are escaped by their renderers).
Writing never fails on a character the stream cannot encode (`safe_stream`), nor on a stream
that went away.
"""

from __future__ import annotations

import io
import os
import signal
import sys
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from enum import StrEnum
from functools import cached_property
from types import FrameType
from typing import TextIO

from bindmgr.report.wording import safe

# Signals that mean "nobody is there to answer any more": the terminal hung up, or the process
# is asked to stop; on Windows Ctrl-Break (SIGBREAK), which would otherwise end the process at
# once. Windows has no SIGHUP: closing a console window sends CTRL_CLOSE_EVENT, which ends the
# process a few seconds later whatever a handler does (docs/apply.md says what then remains).
_HANGUPS = tuple(
    getattr(signal, name) for name in ("SIGHUP", "SIGTERM", "SIGBREAK") if hasattr(signal, name)
)


def _isatty(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


class Reply(StrEnum):
    """What came back from a yes/no question."""

    YES = "yes"
    NO = "no"  # any other answer, or the input ended
    TIMEOUT = "timeout"


WIDTH = 100  # columns of a report that does not go to a terminal
MIN_WIDTH = 40  # a report never wraps narrower, however narrow the terminal says it is

# Windows consoles show ANSI escapes as text (`←[1m`) unless virtual terminal processing is on
# for the screen buffer (Windows 10 1511 and later; it stays on for the console afterwards).
ENABLE_VIRTUAL_TERMINAL_PROCESSING = 0x0004


def terminal_colors(stream: TextIO, platform: str = sys.platform) -> bool:
    """Make the terminal `stream` writes to show ANSI colour: True when it does. Unix terminals
    do; a Windows console does once virtual terminal processing is on, which this turns on
    (False when it is not a console, or the console cannot: then bindmgr writes no colour)."""
    if platform != "win32":
        return True
    return _windows_terminal_colors(stream)


def color_rule(choice: str, env: Mapping[str, str]) -> bool | None:
    """Colour on (True) or off (False) by `--color` and the environment, or None: it depends on
    the terminal. In this order: `--color always|never`; NO_COLOR set and not empty: off
    (https://no-color.org); FORCE_COLOR set and not empty: on (https://force-color.org);
    TERM=dumb: off. The order is CPython's own (its `_colorize`)."""
    if choice != "auto":
        return choice == "always"
    if env.get("NO_COLOR"):
        return False
    if env.get("FORCE_COLOR"):
        return True
    if env.get("TERM") == "dumb":
        return False
    return None


@dataclass
class Console:
    out: TextIO = field(default_factory=lambda: sys.stdout)
    err: TextIO = field(default_factory=lambda: sys.stderr)
    inp: TextIO | None = field(default_factory=lambda: sys.stdin)
    env: Mapping[str, str] = field(default_factory=dict)
    clock: Callable[[], float] = time.monotonic
    color_choice: str = "auto"  # --color: auto, always or never
    # Makes the terminal show ANSI colour, False where it cannot (a seam for the tests).
    show_colors: Callable[[TextIO], bool] = terminal_colors
    quiet: bool = False  # -q: only documents asked for (and errors) are written
    verbosity: int = 0  # -v: 1 what was read, what is missing, stage timings; -vv: every key

    def __post_init__(self) -> None:
        self.out = safe_stream(self.out, self.env)
        self.err = safe_stream(self.err, self.env)

    @cached_property
    def color(self) -> bool:
        """Whether reports on stdout are coloured: `color_rule`, else when stdout is a terminal
        that shows colour. Decided once; on a Windows console this turns colour on first."""
        decided = color_rule(self.color_choice, self.env)
        if decided is False:
            return False
        shows = _isatty(self.out) and self.show_colors(self.out)
        return decided is True or shows

    @property
    def interactive(self) -> bool:
        return self.inp is not None and _isatty(self.inp) and _isatty(self.err)

    @property
    def width(self) -> int:
        """The columns text reports wrap at: the terminal's (COLUMNS first, as the shells set
        it) when stdout is one, else WIDTH (a pipe or a file has no width of its own)."""
        if not _isatty(self.out):
            return WIDTH
        columns = self.env.get("COLUMNS", "")
        if columns.isdigit() and int(columns) > 0:
            return max(int(columns), MIN_WIDTH)
        try:
            return max(os.get_terminal_size(self.out.fileno()).columns, MIN_WIDTH)
        except (AttributeError, OSError, ValueError):
            return WIDTH

    def print(self, text: str = "") -> None:
        """Words for people on stdout (a text report, "Applied ..."); not with -q."""
        if not self.quiet:
            self.document(text)

    def document(self, text: str) -> None:
        """What the user asked for as data (a JSON document, a zone file): written even with -q."""
        _write(self.out, text if text.endswith("\n") else text + "\n")

    def stream(self, text: str) -> None:
        """A piece of a document being written (formats.jsondoc.write_json), as it is; even -q."""
        _write(self.out, text)

    def output(self, text: str, fmt: str) -> None:
        """A command's report in `fmt`: text is words (`print`), any other format a document."""
        if fmt == "text":
            self.print(text)
        else:
            self.document(text)

    def note(self, text: str) -> None:
        """A message about what bindmgr does (stderr, so stdout stays the report); not with -q."""
        if not self.quiet:
            _write(self.err, f"bindmgr: {visible(text)}\n")

    def verbose(self, text: str, level: int = 1) -> None:
        """With -v (`level` 1) or -vv (2): what bindmgr read and did, on stderr."""
        if self.verbosity >= level:
            _write(self.err, f"bindmgr: {visible(text)}\n")

    @contextmanager
    def timed(self, stage: str) -> Iterator[None]:
        """With -v: how long the stage inside took (read, plan, check, write), once it ends."""
        start = self.clock()
        try:
            yield
        finally:
            self.verbose(f"{stage}: {(self.clock() - start) * 1000:.1f} ms")

    def error(self, message: str, hint: str | None) -> None:
        """An error and its hint; text from the files may be in them, so both are escaped."""
        _write(
            self.err, f"error: {visible(message)}\n" + (f"hint: {visible(hint)}\n" if hint else "")
        )

    def ask(self, question: str, *, timeout: float | None = None) -> bool:
        """Ask yes/no on the terminal; False on anything but yes, on EOF or after `timeout`."""
        return self.reply(question, timeout=timeout) is Reply.YES

    def reply(self, question: str, *, timeout: float | None = None) -> Reply:
        """Ask yes/no on the terminal: YES, NO (anything else, or end of input) or TIMEOUT."""
        if self.inp is None:
            return Reply.NO
        _write(self.err, f"{question} [y/N] ")
        line = _readline(self.inp, timeout)
        if line is None:
            _write(self.err, "\n")
            return Reply.TIMEOUT
        return Reply.YES if line.strip().lower() in {"y", "yes"} else Reply.NO

    def progress(self, label: str, *, minimum: int = 200) -> Callable[[int, int], None] | None:
        """A progress callback drawing a bar on stderr, or None when stderr is not a TTY (or
        with -q)."""
        if self.quiet or not _isatty(self.err):
            return None
        last = [float("-inf")]  # the first frame is always drawn

        def draw(done: int, total: int) -> None:
            if total < minimum:
                return
            now = self.clock()
            if done < total and now - last[0] < 0.1:
                return
            last[0] = now
            width = 30
            filled = width * done // max(total, 1)
            bar = "#" * filled + "-" * (width - filled)
            end = "\n" if done >= total else ""
            _write(self.err, f"\r{label} [{bar}] {done}/{total}{end}")

        return draw


def visible(text: str) -> str:
    """`text` with control and invisible characters escaped (ESC, BEL, NUL, C1, bidi overrides:
    `report.wording.safe`), keeping the line breaks bindmgr puts between the lines of a message;
    values from MDaemon's files cannot hold one (a file's lines end there)."""
    return "\n".join(safe(line) for line in text.split("\n"))


def safe_stream(stream: TextIO, env: Mapping[str, str], platform: str = sys.platform) -> TextIO:
    """`stream`, set up so that any text can be written to it.

    Names come from MDaemon's files, and a UTF-16LE file can hold any character. On Windows a
    stream that is not a console (a pipe, or a file: `bindmgr inspect > state.txt`) would be in
    the ANSI code page, so it is switched to UTF-8, which holds them all, unless
    PYTHONIOENCODING chose an encoding; the console itself takes any text already. Elsewhere the
    locale's encoding is kept. Where a character still cannot be encoded, it is written as a
    backslash escape (`\\u4f8b`) instead of failing. Streams other than real text files (a test's
    StringIO) are returned as they are.
    """
    if not isinstance(stream, io.TextIOWrapper):
        return stream
    try:
        if platform == "win32" and not _isatty(stream) and "PYTHONIOENCODING" not in env:
            stream.reconfigure(encoding="utf-8", errors="backslashreplace")
        elif stream.errors == "strict":
            stream.reconfigure(errors="backslashreplace")
    except (OSError, ValueError):  # closed, or already read from: _write still escapes
        pass
    return stream


def _write(stream: TextIO, text: str) -> None:
    """Write and flush; a terminal or pipe that went away must not stop what bindmgr is doing
    (a revert, say): its output is lost, the exit status still tells. A character the stream
    cannot encode is written as a backslash escape."""
    try:
        try:
            stream.write(text)
        except UnicodeEncodeError:
            encoding = getattr(stream, "encoding", None) or "ascii"
            stream.write(text.encode(encoding, "backslashreplace").decode(encoding, "replace"))
        stream.flush()
    except OSError:
        pass


@contextmanager
def hangups(action: str) -> Iterator[None]:
    """Inside: SIGHUP and SIGTERM either raise KeyboardInterrupt (`action="interrupt"`), so a wait
    for an answer ends like ^C, or are ignored (`"ignore"`), so a revert runs to its end."""

    def interrupt(signum: int, frame: FrameType | None) -> None:
        raise KeyboardInterrupt

    handler = interrupt if action == "interrupt" else signal.SIG_IGN
    previous = {sig: signal.signal(sig, handler) for sig in _HANGUPS}
    try:
        yield
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)


@dataclass(frozen=True, slots=True)
class Typed:
    """The timed prompt's answer as keys arrive on a Windows console: the text so far, what the
    last key echoes, whether Enter ended it, and whether the next key is the code of a function
    or arrow key (to be ignored)."""

    text: str = ""
    echo: str = ""
    done: bool = False
    code_next: bool = False


def _edit(typed: Typed, char: str) -> Typed:
    """One key, as msvcrt.getwch() returns it, applied to the answer the way a console line
    takes it: Enter ends the answer; Backspace removes the last character and rubs it out; Esc
    clears the line; Ctrl-C raises KeyboardInterrupt; a function or arrow key ("\\x00" or
    "\\xe0", then its code) and other control keys are ignored; a printable character is typed.
    Pure: the polling loop (`_readline_windows`) reads the keys and writes the echo."""
    if typed.code_next:
        return Typed(typed.text)
    if char == "\x03":
        raise KeyboardInterrupt
    if char in ("\r", "\n"):
        return Typed(typed.text, "\n", done=True)
    if char in ("\x00", "\xe0"):
        return Typed(typed.text, code_next=True)
    text, echo = typed.text, ""
    if char == "\b":
        text, echo = text[:-1], "\b \b" if text else ""
    elif char == "\x1b":
        text, echo = "", "\b \b" * len(text)
    elif char.isprintable():
        text, echo = text + char, char
    return Typed(text, echo)


def _readline(stream: TextIO, timeout: float | None) -> str | None:
    """A line ("" at end of input), or None when `timeout` passed first."""
    if timeout is not None:
        if sys.platform == "win32" and _isatty(stream):
            return _readline_windows(timeout)
        if not _ready(stream, timeout):
            return None
    return stream.readline()


def _ready(stream: TextIO, timeout: float) -> bool:
    """Whether a line can be read before the deadline. True for a stream select() cannot wait
    on (one without a descriptor, such as an in-memory one, answers at once)."""
    if sys.platform == "win32":
        return _ready_windows(stream, timeout)
    import select  # noqa: PLC0415 - only timed prompts need it

    try:
        ready, _, _ = select.select([stream], [], [], max(timeout, 0.0))
    except (OSError, ValueError, TypeError):
        return True
    return bool(ready)


if sys.platform == "win32":

    def _windows_terminal_colors(stream: TextIO) -> bool:
        """GetConsoleMode, then SetConsoleMode with ENABLE_VIRTUAL_TERMINAL_PROCESSING added,
        on the console handle behind `stream` (GetStdHandle's for stdout and stderr)."""
        import ctypes  # noqa: PLC0415 - only a coloured run on Windows needs them
        import msvcrt  # noqa: PLC0415
        from ctypes import wintypes  # noqa: PLC0415

        try:
            handle = msvcrt.get_osfhandle(stream.fileno())
        except (AttributeError, OSError, ValueError):
            return False
        kernel32 = ctypes.WinDLL("kernel32", use_last_error=True)
        kernel32.GetConsoleMode.argtypes = (wintypes.HANDLE, ctypes.POINTER(wintypes.DWORD))
        kernel32.SetConsoleMode.argtypes = (wintypes.HANDLE, wintypes.DWORD)
        mode = wintypes.DWORD()
        if not kernel32.GetConsoleMode(handle, ctypes.byref(mode)):
            return False  # not a console: a pipe or a file
        if mode.value & ENABLE_VIRTUAL_TERMINAL_PROCESSING:
            return True
        return bool(
            kernel32.SetConsoleMode(handle, mode.value | ENABLE_VIRTUAL_TERMINAL_PROCESSING)
        )

    def _ready_windows(stream: TextIO, timeout: float) -> bool:
        """select() takes only sockets on Windows: poll a pipe (a redirected stdin) with
        PeekNamedPipe until a byte is there, its writer has gone (the end of input) or the
        deadline passed. A file, or a stream without a descriptor, answers at once."""
        import _winapi  # noqa: PLC0415
        import msvcrt  # noqa: PLC0415

        try:
            handle = msvcrt.get_osfhandle(stream.fileno())
        except (OSError, ValueError, AttributeError):  # io.UnsupportedOperation is an OSError
            return True
        deadline = time.monotonic() + timeout
        while True:
            try:
                available, _left = _winapi.PeekNamedPipe(handle)
            except OSError:  # the writer closed it (readline gives the rest), or not a pipe
                return True
            if available:
                return True
            if time.monotonic() >= deadline:
                return False
            time.sleep(0.05)

    def _readline_windows(timeout: float) -> str | None:
        """A console line with a deadline: select() cannot wait on a Windows console, so poll
        the keyboard with msvcrt (bounded by the deadline). Not exercised by the Linux tests."""
        import msvcrt  # noqa: PLC0415

        deadline = time.monotonic() + timeout
        typed = Typed()
        while time.monotonic() < deadline:
            if msvcrt.kbhit():
                typed = _edit(typed, msvcrt.getwch())
                if typed.echo:
                    _write(sys.stderr, typed.echo)
                if typed.done:
                    return typed.text
            else:
                time.sleep(0.05)
        return None

else:

    def _windows_terminal_colors(stream: TextIO) -> bool:
        return False
