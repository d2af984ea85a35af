"""Stop signals held back while a commit changes files, so that it ends all old or all new.

Inside `held()`, SIGINT, SIGTERM and SIGHUP (SIGBREAK on Windows) are only recorded; the commit
asks `check()` at its safe points (between two file replacements) and reverts on one. When the
block ends, the first signal is delivered again to the handler it had before: ^C still becomes
KeyboardInterrupt, SIGTERM still ends the process, a signal ignored before stays ignored. No
file, lock or backup knowledge here.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from types import FrameType

_NAMES = ("SIGINT", "SIGTERM", "SIGHUP", "SIGBREAK")
STOP_SIGNALS = tuple(getattr(signal, name) for name in _NAMES if hasattr(signal, name))

_Handler = Callable[[int, FrameType | None], object] | int | None


class Held:
    """What arrived while the signals were held back."""

    def __init__(self) -> None:
        self.received: list[int] = []

    def check(self) -> None:
        """Raise KeyboardInterrupt if a stop signal arrived: the caller reverts (its `except
        BaseException` runs while the signals are still held, so the revert is not cut short)."""
        if self.received:
            raise KeyboardInterrupt


@contextmanager
def held() -> Iterator[Held]:
    """Record SIGINT/SIGTERM/SIGHUP inside; deliver the first again on the way out.

    Only the main thread may set handlers: in another thread nothing is held (such a thread is
    never interrupted by ^C; a SIGTERM still ends the whole process there, untested).
    """
    state = Held()
    if threading.current_thread() is not threading.main_thread():
        yield state
        return

    def record(signum: int, frame: FrameType | None) -> None:
        state.received.append(signum)

    previous: dict[int, _Handler] = {}
    try:
        for sig in STOP_SIGNALS:
            if signal.getsignal(sig) is signal.SIG_IGN:
                continue  # ignored before (e.g. during a revert the caller protects): still so
            previous[sig] = signal.signal(sig, record)
        yield state
    finally:
        for sig, old in previous.items():
            # None: a handler installed outside Python; the default is the closest we can do.
            signal.signal(sig, signal.SIG_DFL if old is None else old)
        if state.received:
            signal.raise_signal(state.received[0])
