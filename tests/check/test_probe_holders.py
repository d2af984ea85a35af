"""No false `ok`, whatever options the holder of a port used: every combination of SO_REUSEADDR,
SO_REUSEPORT, bound or listening, on an address or the wildcard, against a probe of the same
address, another one and the wildcard. The oracle is a real server that sets no option: when it
cannot bind (and listen), the check must not say `ok`; when it can, the check must say so.

Wildcard binds run in a network namespace of their own (unshare -n), so that 0.0.0.0 is the
test's alone; without one, only the loopback addresses are tried.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.apply import cli, make_site, stop_child, wait_line
from tests.support.probe import in_netns, netns_available, run_child

pytestmark = pytest.mark.skipif(sys.platform != "linux", reason="Linux socket semantics")

MATRIX = """
import itertools, json, socket, sys
from ipaddress import ip_address
from bindmgr.check import hostinfo, probe
from bindmgr.model import Listener, Proto

wildcard = sys.argv[1] == "1"
A, B, ANY = "127.0.0.61", "127.0.0.62", "0.0.0.0"
OPTIONS = {
    "none": [],
    "reuseaddr": [socket.SO_REUSEADDR],
    "reuseport": [socket.SO_REUSEPORT],
    "both": [socket.SO_REUSEADDR, socket.SO_REUSEPORT],
}
holders = [A, ANY] if wildcard else [A]
probes = [A, B, ANY] if wildcard else [A, B]
hosts = hostinfo.host_addresses()
rows = []
for proto, opts, listening, held, probed in itertools.product(
    ("tcp", "udp"), OPTIONS, (False, True), holders, probes
):
    if proto == "udp" and listening:
        continue
    kind = socket.SOCK_STREAM if proto == "tcp" else socket.SOCK_DGRAM
    with socket.socket(socket.AF_INET, kind) as holder:
        for option in OPTIONS[opts]:
            holder.setsockopt(socket.SOL_SOCKET, option, 1)
        holder.bind((held, 0))
        port = holder.getsockname()[1]
        if listening:
            holder.listen(8)
        listener = (
            Listener("smtp", "SMTP", port)
            if proto == "tcp"
            else Listener("minger", "Minger", port, Proto.UDP)
        )
        (result,) = probe.run_check(
            [ip_address(probed)], [listener],
            host_addresses=hosts, listener_table=hostinfo.listening_sockets,
        )
        with socket.socket(socket.AF_INET, kind) as server:  # a server that sets no option
            try:
                server.bind((probed, port))
                if proto == "tcp":
                    server.listen(8)
                plain = True
            except OSError:
                plain = False
    rows.append([proto, opts, listening, held, probed, result.status.value, plain])
print(json.dumps(rows))
"""


def test_no_false_ok_for_any_holder_options() -> None:
    why_not = netns_available()
    wildcard = why_not is None
    done = run_child(MATRIX, "1" if wildcard else "0", prefix=in_netns() if wildcard else ())
    assert done.returncode == 0, done.stderr
    rows = json.loads(done.stdout)
    assert len(rows) == (72 if wildcard else 32)
    false_ok = [r for r in rows if r[5] == "ok" and not r[6]]
    assert false_ok == [], false_ok
    too_strict = [r for r in rows if r[5] != "ok" and r[6]]
    assert too_strict == [], too_strict
    # the case that used to pass: bound, not listening, SO_REUSEADDR, TCP
    bound_reuse = [r for r in rows if r[:3] == ["tcp", "reuseaddr", False] and r[3] == r[4]]
    assert bound_reuse
    assert all(r[5] == "in_use" for r in bound_reuse)
    if why_not is not None:
        pytest.skip(f"loopback addresses only, the wildcard needs a namespace: {why_not}")


RENAMED = (
    "import socket, sys\n"
    "s = socket.socket(); s.bind((sys.argv[1], int(sys.argv[2]))); s.listen(8)\n"
    "print('listening', flush=True)\n"
    "sys.stdin.read()\n"
)


def test_check_fails_on_a_renamed_interpreter_holding_the_smtp_port(tmp_path: Path) -> None:
    site = make_site(tmp_path / "site")
    fake = tmp_path / "bin" / "MDaemon.exe"
    fake.parent.mkdir()
    fake.symlink_to(Path(sys.executable).resolve())
    ip, port = site.ips[0], site.ports["smtp"]
    proc = subprocess.Popen(
        [str(fake), "-c", RENAMED, ip, str(port)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert wait_line(proc) == "listening"
        done = cli(
            "check", "--app-dir", str(site.app), "--layout", str(site.layout),
            "--domain", "example.com", "--ip", ip,
        )  # fmt: skip
    finally:
        stop_child(proc)
    assert done.code == 3, done.text
    assert "MDaemon.exe" in done.out
    assert "not one of MDaemon's own executables" in done.out
    assert f"inside {site.mdaemon.resolve()}" in done.out
