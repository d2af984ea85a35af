"""`bindmgr inspect`: what MDaemon's files say, where each value comes from, what the host has.

`inspection` computes it (the API's too); `run` renders it.
"""

from __future__ import annotations

from bindmgr.commands.inputs import Where, open_app
from bindmgr.console import Console
from bindmgr.errors import ExitCode
from bindmgr.read.appdir import App
from bindmgr.report.inspection import Inspection, inspect, render_json_pieces, render_text


def inspection(app: App) -> Inspection:
    """What `inspect` shows of an App folder as read."""
    # hostinfo (netifaces, psutil) is imported here: `plan` without --check never needs it, and
    # loading it at start-up costs tens of milliseconds (bench/bench_cli.py).
    from bindmgr.check import hostinfo  # noqa: PLC0415 (lazy on purpose)

    host = hostinfo.host_addresses()
    ordered = sorted(host.addresses, key=lambda a: (a.version, a.packed))
    return inspect(
        app.view.config,
        app.view.presence,
        app_dir=str(app.app_dir),
        layout=app.layout.source,
        host_addresses=ordered,
        is_local=host.__contains__,
        codepage=(app.codepage.number, app.codepage.source),
    )


def run(*, where: Where, fmt: str, console: Console) -> ExitCode:
    found = inspection(open_app(where, console))
    if fmt == "json":
        for piece in render_json_pieces(found):  # never the whole document at once
            console.document(piece)
    else:
        console.output(render_text(found), fmt)
    return ExitCode.OK
