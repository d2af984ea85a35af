"""`bindmgr inspect`: what MDaemon's files say, where each value comes from, what the host has."""

from __future__ import annotations

from bindmgr.commands.inputs import Where, open_app
from bindmgr.console import Console
from bindmgr.errors import ExitCode
from bindmgr.report.inspection import inspect, render_json, render_text


def run(*, where: Where, fmt: str, console: Console) -> ExitCode:
    # hostinfo (netifaces, psutil) is imported here: `plan` without --check never needs it, and
    # loading it at start-up costs tens of milliseconds (bench/bench_cli.py).
    from bindmgr.check import hostinfo  # noqa: PLC0415 (lazy on purpose)

    app = open_app(where, console)
    host = hostinfo.host_addresses()
    ordered = sorted(host.addresses, key=lambda a: (a.version, a.packed))
    found = inspect(
        app.view.config,
        app.view.presence,
        app_dir=str(app.app_dir),
        layout=app.layout.source,
        host_addresses=ordered,
        is_local=host.__contains__,
        codepage=(app.codepage.number, app.codepage.source),
    )
    console.print(render_json(found) if fmt == "json" else render_text(found))
    return ExitCode.OK
