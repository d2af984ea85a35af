"""Benchmark of `bindmgr check`: per-pair cost in process, and end to end against nmap -sT.

Binds only loopback addresses 127.77.x.y (where nothing listens) and connects nowhere else.
Prints one Markdown table; run as `.venv/bin/python bench/bench_check.py [--repeat N]`.
"""

from __future__ import annotations

import argparse
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from ipaddress import IPv4Address, IPv4Network
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bindmgr.hostinfo import HostAddresses  # noqa: E402 (after the path fix above)
from bindmgr.model import Listener, Proto  # noqa: E402
from bindmgr.probe import run_check  # noqa: E402

SIZES = (1, 16, 64, 256)
TCP_PORTS = (25, 110, 143, 366, 465, 587, 993, 995, 3000, 80, 443, 1000)
UDP_PORTS = (4069,)
# Ports below 1024 need root; elsewhere the whole set moves up so that it stays bindable.
OFFSET = 0 if not hasattr(os, "geteuid") or os.geteuid() == 0 else 40000
LOOPBACK = HostAddresses(frozenset(), (IPv4Network("127.0.0.0/8"),))


def addresses(n: int) -> list[IPv4Address]:
    return [IPv4Address(f"127.77.{i // 250}.{i % 250 + 1}") for i in range(n)]


def listeners() -> list[Listener]:
    tcp = [Listener(f"tcp{p}", f"TCP{p}", p + OFFSET, Proto.TCP) for p in TCP_PORTS]
    return tcp + [Listener(f"udp{p}", f"UDP{p}", p + OFFSET, Proto.UDP) for p in UDP_PORTS]


def plain_loop(ips: Sequence[IPv4Address], pairs: Sequence[Listener]) -> int:
    """The baseline: the same syscalls (socket, SO_REUSEADDR for TCP, bind, listen, close)."""
    bound = 0
    for ip in ips:
        host = str(ip)
        for lst in pairs:
            tcp = lst.proto is Proto.TCP
            try:
                with socket.socket(
                    socket.AF_INET, socket.SOCK_STREAM if tcp else socket.SOCK_DGRAM
                ) as sock:
                    if tcp:
                        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                    sock.bind((host, lst.port))
                    if tcp:
                        sock.listen(1)
                bound += 1
            except OSError:
                pass
    return bound


def bindmgr_in_process(ips: Sequence[IPv4Address], pairs: Sequence[Listener]) -> int:
    results = run_check(ips, pairs, host_addresses=LOOPBACK, listener_table=tuple)
    return sum(1 for r in results if r.status.value == "ok")


def best_of(repeat: int, fn: Callable[[], object], budget: float = 0.0) -> float:
    """The fastest of `repeat` runs, or of as many as fit in `budget` seconds if that is more."""
    times: list[float] = []
    deadline = time.perf_counter() + budget
    while len(times) < repeat or (time.perf_counter() < deadline and len(times) < 10_000):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def interleaved(
    repeat: int, first: Callable[[], object], second: Callable[[], object]
) -> tuple[float, float]:
    """Best times of two functions run in alternation, so that host noise hits both alike."""
    a: list[float] = []
    b: list[float] = []
    for _ in range(repeat):
        a.append(best_of(1, first, 0.05))
        b.append(best_of(1, second, 0.05))
    return min(a), min(b)


def timed(cmd: Sequence[str], repeat: int) -> float:
    def once() -> None:
        subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)

    return best_of(repeat, once)


def cli_available() -> bool:
    done = subprocess.run(
        [sys.executable, "-m", "bindmgr", "check", "--help"],
        cwd=ROOT,
        capture_output=True,
        check=False,
    )
    return done.returncode == 0


SCRIPT = """
import sys
from ipaddress import ip_address
from bindmgr import hostinfo
from bindmgr.model import Listener, Proto
from bindmgr.probe import run_check
offset, tcp_ports, udp_ports, *ips = sys.argv[1:]
pairs = [Listener(p, p, int(p) + int(offset)) for p in tcp_ports.split(",")]
pairs += [Listener(p, p, int(p) + int(offset), Proto.UDP) for p in udp_ports.split(",")]
run_check([ip_address(a) for a in ips], pairs, host_addresses=hostinfo.host_addresses(),
          listener_table=hostinfo.listening_sockets)
"""


def end_to_end_cmd(ips: Sequence[IPv4Address], app: Path | None) -> list[str]:
    if app is not None:
        args = [sys.executable, "-m", "bindmgr", "check", "--app-dir", str(app)]
        args += ["--domain", "example.com", "--format", "json"]
        for ip in ips:
            args += ["--ip", str(ip)]
        return args
    tcp, udp = ",".join(map(str, TCP_PORTS)), ",".join(map(str, UDP_PORTS))
    return [sys.executable, "-c", SCRIPT, str(OFFSET), tcp, udp, *map(str, ips)]


def nmap_cmd(nmap: str, target_file: Path) -> list[str]:
    ports = ",".join(str(p + OFFSET) for p in TCP_PORTS)
    return [nmap, "-sT", "-Pn", "-n", "-T5", "-p", ports, "-iL", str(target_file), "-oN", "-"]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=7, help="runs per figure (best is kept)")
    args = parser.parse_args(argv)
    pairs = listeners()
    nmap = shutil.which("nmap")
    with tempfile.TemporaryDirectory(prefix="bindmgr-bench-") as tmp:
        app: Path | None = None
        if cli_available() and OFFSET == 0:  # the sample's ports are the seed's: root only
            shutil.copytree(ROOT / "templates" / "MDaemon", Path(tmp) / "MDaemon")
            app = Path(tmp) / "MDaemon" / "App"
        e2e_name = "`bindmgr check` (CLI)" if app is not None else "CLI absent: script"
        print(
            f"listeners: {len(pairs)} ({len(TCP_PORTS)} TCP + {len(UDP_PORTS)} UDP), "
            f"port offset {OFFSET}, best of {args.repeat} (interleaved); end to end: {e2e_name}, "
            f"nmap: {nmap or 'absent (skipped)'}\n"
        )
        print(
            "| IPs | pairs | plain loop µs/pair | bindmgr µs/pair | ratio | fixed cost ms "
            f"| {e2e_name} ms | run_check script ms | nmap -sT ms |"
        )
        print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
        for n in SIZES:
            ips = addresses(n)
            count = n * len(pairs)
            plain_loop(ips, pairs)  # warm up both
            bindmgr_in_process(ips, pairs)
            plain, ours = interleaved(
                args.repeat,
                lambda ips=ips: plain_loop(ips, pairs),  # type: ignore[misc]
                lambda ips=ips: bindmgr_in_process(ips, pairs),  # type: ignore[misc]
            )
            e2e = timed(end_to_end_cmd(ips, app), max(1, args.repeat // 2))
            script = timed(end_to_end_cmd(ips, None), max(1, args.repeat // 2))
            nmap_ms = "—"
            if nmap is not None:
                targets = Path(tmp) / f"targets-{n}.txt"
                targets.write_text("".join(f"{ip}\n" for ip in ips))
                nmap_ms = f"{timed(nmap_cmd(nmap, targets), max(1, args.repeat // 2)) * 1e3:.0f}"
            print(
                f"| {n} | {count} | {plain / count * 1e6:.1f} | {ours / count * 1e6:.1f} "
                f"| {ours / plain:.2f} | {(ours - plain) * 1e3:.2f} | {e2e * 1e3:.0f} "
                f"| {script * 1e3:.0f} | {nmap_ms} |"
            )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
