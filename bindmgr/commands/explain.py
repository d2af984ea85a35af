"""`bindmgr explain [CODE]`: what an MDaemon event-log code means and which command finds why."""

from __future__ import annotations

from bindmgr.check.events import explain, list_events
from bindmgr.console import Console
from bindmgr.errors import ExitCode


def run(*, code: int | None, console: Console) -> ExitCode:
    console.print(list_events() if code is None else explain(code))
    return ExitCode.OK
