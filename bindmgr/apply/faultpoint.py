"""Fault injection for crash tests: `reached(step)` kills the process at a named step.

Inert unless the environment variable BINDMGR_FAULT names the step (`step` or `step:N` for the
Nth time it is reached) AND bindmgr runs from its source tree (a checkout, where the tests
run): an installed bindmgr ignores the variable, so no environment can make it kill itself
halfway through a write. With BINDMGR_FAULT_ACTION=pause it pauses there instead, so that a
test can send a real signal at that very step. It must never do anything else: no logging, no
cleanup.
"""

from __future__ import annotations

import os
import signal
import sys
from pathlib import Path

ENV_VAR = "BINDMGR_FAULT"
# A checkout has the project file two levels up; an installed package (site-packages) has not.
ARMED = (Path(__file__).resolve().parents[2] / "pyproject.toml").is_file()
ACTION_VAR = "BINDMGR_FAULT_ACTION"

_counts: dict[str, int] = {}


def reached(step: str) -> None:
    """Record that the write path reached `step`; die here if BINDMGR_FAULT asks for it.

    `BINDMGR_FAULT=write.replaced` kills at the first time the step is reached,
    `BINDMGR_FAULT=write.replaced:3` at the third. The kill is immediate and uncatchable
    (no `finally`, no atexit), which is what a power cut or `kill -9` looks like to the files.
    """
    count = _counts.get(step, 0) + 1
    _counts[step] = count
    spec = os.environ.get(ENV_VAR)
    if not spec or not ARMED:
        return
    name, sep, nth = spec.rpartition(":")
    if (spec == step and count == 1) or (sep and name == step and nth == str(count)):
        if os.environ.get(ACTION_VAR) == "pause":
            _pause(step)
        else:
            _die()


def counts() -> dict[str, int]:
    """How many times each step was reached in this process (to enumerate the fault points)."""
    return dict(_counts)


def reset() -> None:
    """Forget the counts (a test that enumerates the steps of one run calls this first)."""
    _counts.clear()


def _pause(step: str) -> None:
    """Say so on stderr (one line), then wait for a line or end of file on stdin.

    A signal the test sends meanwhile is handled as if it came at this step: its handler runs
    while the read waits (and the read resumes unless the handler raised).
    """
    os.write(2, f"bindmgr-fault: paused at {step}\n".encode())
    os.read(0, 1)


def _die() -> None:
    if sys.platform == "win32":
        # Windows has no SIGKILL: os.kill(pid, SIGKILL) is not supported there. os._exit skips
        # every `finally`, atexit hook and buffered flush, which is the same as far as the files
        # on disk are concerned (a hard TerminateProcess would be closer; untested on Linux).
        os._exit(137)
    os.kill(os.getpid(), signal.SIGKILL)
