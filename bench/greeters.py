"""Greeters for the verify benchmark: MDaemon-like servers on every planned IP x TCP listener.

`python bench/greeters.py APP DOMAIN IP...` plans DOMAIN with the IPs on the App folder, serves
a greeting (tests/support/fake_mdaemon: aiosmtpd for SMTP, POP3/IMAP greetings, HTTP, TLS where
the port is a TLS one) on each address and port, with the host name verify expects there, then
writes one line per target ("ip port kind tls") to stdout, then "listening", and serves until
its standard input closes or MAX_LIFE seconds pass. Only loopback addresses are accepted.
"""

from __future__ import annotations

import select
import sys
import time
from collections.abc import Sequence
from ipaddress import ip_address
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bindmgr.check.answer import targets_for  # noqa: E402 (after the path fix above)
from bindmgr.commands.verify import expectations  # noqa: E402
from bindmgr.plan.desired import parse_desired  # noqa: E402
from bindmgr.plan.planner import make_plan  # noqa: E402
from bindmgr.read.appdir import load_app, read_layout  # noqa: E402
from tests.support.fake_mdaemon import serve  # noqa: E402
from tests.support.servers import Servers  # noqa: E402

MAX_LIFE = 900.0


def main(argv: Sequence[str]) -> int:
    app_dir, domain, *ips = argv
    if not all(ip_address(ip).is_loopback for ip in ips):
        print("greeters serve loopback addresses only", file=sys.stderr)
        return 1
    app = load_app(Path(app_dir), read_layout(None))
    plan = make_plan(app.view.config, parse_desired(domain, ips))
    bound = expectations(app, plan).bound
    targets = targets_for(dict(bound), app.view.config.listeners)
    with Servers() as servers:
        serve(servers, app.view.config.listeners, {str(ip): name for ip, name in bound.items()})
        out = [f"{t.ip} {t.port} {t.kind.value} {int(t.tls)}" for t in targets]
        print("\n".join([*out, "listening"]), flush=True)
        deadline = time.monotonic() + MAX_LIFE
        while time.monotonic() < deadline:  # until stdin closes: bounded by MAX_LIFE
            ready, _, _ = select.select([sys.stdin], [], [], 1.0)
            if ready and not sys.stdin.buffer.read1(4096):
                break
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
