"""`python -m bindmgr` and the `bindmgr` console script: start the CLI, never with a traceback.

The CLI is imported inside the guard: a Ctrl-C while its modules load (before `main` has its own
handler) prints one line and exits 130. Nothing else belongs here.
"""

from __future__ import annotations

import sys


def _say(line: str) -> None:
    try:
        sys.stderr.write(line + "\n")
        sys.stderr.flush()
    except (OSError, ValueError, AttributeError):  # no stderr (closed, or a windowless start)
        pass


def run() -> int:
    """The entry point: import the CLI and run it on sys.argv."""
    try:
        from bindmgr.cli import main  # noqa: PLC0415 (inside the guard on purpose)
    except KeyboardInterrupt:
        _say("error: interrupted while starting; nothing was changed")
        return 130
    try:
        return main()
    except KeyboardInterrupt:  # before main's own handler was reached, or while it reported
        _say("error: interrupted")
        return 130


if __name__ == "__main__":
    raise SystemExit(run())
