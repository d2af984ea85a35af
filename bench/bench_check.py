"""Benchmark of `bindmgr check`: per-pair cost in process, and end to end against nmap -sT.

Binds only loopback addresses 127.77.x.y (where nothing listens) and connects nowhere else.
Prints Markdown tables; run as `.venv/bin/python bench/bench_check.py [--runs N] [--breakdown]`.
Every figure is the median of interleaved runs; ratios compare figures of the same run.
"""

from __future__ import annotations

import argparse
import io
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from ipaddress import IPv4Address, IPv4Network
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bindmgr.check import hostinfo  # noqa: E402 (after the path fix above)
from bindmgr.check.hostinfo import HostAddresses  # noqa: E402
from bindmgr.check.probe import run_check  # noqa: E402
from bindmgr.model import Listener, Proto  # noqa: E402

SIZES = (1, 16, 64, 256)
TCP_PORTS = (25, 110, 143, 366, 465, 587, 993, 995, 3000, 80, 443, 1000)
UDP_PORTS = (4069,)
# Ports below 1024 need root; elsewhere the whole set moves up so that it stays bindable.
OFFSET = 0 if not hasattr(os, "geteuid") or os.geteuid() == 0 else 40000
LOOPBACK = HostAddresses(frozenset(), (IPv4Network("127.0.0.0/8"),))
TARGET_PER_PAIR = 1.3  # bindmgr per pair at most 1.3x the plain loop (the target)
IN_PROCESS_BUDGET = 0.5  # seconds per size and case: small sizes get more runs than --runs


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


def interleaved(runs: int, cases: Sequence[Callable[[], object]]) -> list[list[float]]:
    """Seconds per run of each case, the cases alternating (their order rotating each round)
    so that a load change on the machine hits every case alike. One warm-up each first."""
    for case in cases:
        case()
    times: list[list[float]] = [[] for _ in cases]
    for round_no in range(runs):
        for k in range(len(cases)):
            i = (k + round_no) % len(cases)
            start = time.perf_counter()
            cases[i]()
            times[i].append(time.perf_counter() - start)
    return times


def fit(xs: Sequence[float], ys: Sequence[float]) -> tuple[float, float]:
    """Least-squares (intercept, slope) of ys over xs."""
    slope, intercept = statistics.linear_regression(xs, ys)
    return intercept, slope


def child_env(pycache: Path) -> dict[str, str]:
    """The timed subprocesses cache bytecode in a private folder, as an installed bindmgr has
    its .pyc files, even where PYTHONDONTWRITEBYTECODE is set (it is on the test host)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTHONPYCACHE")}
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env["PYTHONPYCACHEPREFIX"] = str(pycache)
    return env


def command(cmd: Sequence[str], env: dict[str, str], expect: int | None) -> Callable[[], object]:
    def run() -> object:
        done = subprocess.run(
            cmd, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, check=False
        )
        if expect is not None and done.returncode != expect:
            raise SystemExit(f"{' '.join(cmd[:6])} ... exited {done.returncode}: {done.stderr!r}")
        return done.returncode

    return run


SCRIPT = """
import sys
from ipaddress import ip_address
from bindmgr.check import hostinfo
from bindmgr.model import Listener, Proto
from bindmgr.check.probe import run_check
offset, tcp_ports, udp_ports, *ips = sys.argv[1:]
pairs = [Listener(p, p, int(p) + int(offset)) for p in tcp_ports.split(",")]
pairs += [Listener(p, p, int(p) + int(offset), Proto.UDP) for p in udp_ports.split(",")]
run_check([ip_address(a) for a in ips], pairs, host_addresses=hostinfo.host_addresses(),
          listener_table=hostinfo.listening_sockets)
"""


def cli_args(ips: Sequence[IPv4Address], app: Path) -> list[str]:
    args = ["check", "--app-dir", str(app), "--domain", "example.com", "--format", "json"]
    for ip in ips:
        args += ["--ip", str(ip)]
    return args


def script_cmd(ips: Sequence[IPv4Address]) -> list[str]:
    tcp, udp = ",".join(map(str, TCP_PORTS)), ",".join(map(str, UDP_PORTS))
    return [sys.executable, "-c", SCRIPT, str(OFFSET), tcp, udp, *map(str, ips)]


def nmap_cmd(nmap: str, target_file: Path) -> list[str]:
    ports = ",".join(str(p + OFFSET) for p in TCP_PORTS)
    return [nmap, "-sT", "-Pn", "-n", "-T5", "-p", ports, "-iL", str(target_file), "-oN", "-"]


def in_process_cases(
    ips: Sequence[IPv4Address], pairs: Sequence[Listener]
) -> list[Callable[[], object]]:
    """The plain loop, bindmgr, and bindmgr with no address at all: its fixed cost (event
    loop, table thread, set-up), measured beside the other two."""
    return [
        lambda: plain_loop(ips, pairs),
        lambda: bindmgr_in_process(ips, pairs),
        lambda: bindmgr_in_process((), pairs),
    ]


def per_pair_table(runs: int) -> list[str]:
    pairs = listeners()
    medians: dict[int, tuple[float, float, float]] = {}
    for n in SIZES:
        ips = addresses(n)
        start = time.perf_counter()
        bindmgr_in_process(ips, pairs)
        once = time.perf_counter() - start
        rounds = max(runs, min(2000, int(IN_PROCESS_BUDGET / max(once, 1e-6))))
        times = [statistics.median(t) for t in interleaved(rounds, in_process_cases(ips, pairs))]
        medians[n] = times[0], times[1], times[2]
    counts = [n * len(pairs) for n in SIZES]
    plain_a, plain_b = fit(counts, [medians[n][0] for n in SIZES])
    ours_a, ours_b = fit(counts, [medians[n][1] for n in SIZES])
    fixed_all = [medians[n][2] * 1e3 for n in SIZES]
    rows = [
        f"In process, {len(pairs)} listeners ({len(TCP_PORTS)} TCP + {len(UDP_PORTS)} UDP), "
        f"port offset {OFFSET}, median of at least {runs} interleaved runs per size (more for "
        f"small sizes, {IN_PROCESS_BUDGET:.1f} s per case). Fixed cost: `run_check` with no "
        f"address, timed beside each size ({min(fixed_all):.3f}-{max(fixed_all):.3f} ms). "
        f"Cross-check, least-squares fit of time over pairs: intercept bindmgr "
        f"{ours_a * 1e3:.3f} ms, plain {plain_a * 1e3:.3f} ms; slope bindmgr "
        f"{ours_b * 1e6:.2f} µs/pair, plain {plain_b * 1e6:.2f} µs/pair "
        f"(ratio {ours_b / plain_b:.2f}).\n",
        "| IPs | pairs | plain loop µs/pair | bindmgr µs/pair | ratio | met (<= 1.3x) "
        "| fixed cost ms | bindmgr without it µs/pair | ratio without it | met |",
        "|---:|---:|---:|---:|---:|---|---:|---:|---:|---|",
    ]
    for n, count in zip(SIZES, counts, strict=True):
        plain, ours, fixed = medians[n]
        ratio, bare = ours / plain, (ours - fixed) / plain
        rows.append(
            f"| {n} | {count} | {plain / count * 1e6:.2f} | {ours / count * 1e6:.2f} "
            f"| {ratio:.2f} | {_met(ratio <= TARGET_PER_PAIR)} | {fixed * 1e3:.3f} "
            f"| {(ours - fixed) / count * 1e6:.2f} | {bare:.2f} | {_met(bare <= TARGET_PER_PAIR)} |"
        )
    return rows


def _met(ok: bool) -> str:
    return "yes" if ok else "**no**"


def end_to_end_table(runs: int, tmp: Path, env: dict[str, str]) -> list[str]:
    nmap = shutil.which("nmap")
    app: Path | None = None
    if OFFSET == 0:  # the sample's ports are the listeners: root only
        shutil.copytree(ROOT / "templates" / "MDaemon", tmp / "MDaemon")
        app = tmp / "MDaemon" / "App"
    rows = [
        f"\nEnd to end, subprocesses from the project root, bytecode cached "
        f"(PYTHONPYCACHEPREFIX, warmed once), median of {runs} interleaved runs; "
        f"nmap: {nmap or 'absent (skipped)'}; `bindmgr check`: "
        f"{'--format json' if app else 'needs root (skipped)'}.\n",
        "| IPs | `bindmgr check` ms | run_check script ms | nmap -sT -T5 ms "
        "| check / nmap | met (check faster) |",
        "|---:|---:|---:|---:|---:|---|",
    ]
    for n in SIZES:
        ips = addresses(n)
        cases: list[Callable[[], object]] = [command(script_cmd(ips), env, 0)]
        if app is not None:
            cases.append(command([sys.executable, "-m", "bindmgr", *cli_args(ips, app)], env, 0))
        if nmap is not None:
            targets = tmp / f"targets-{n}.txt"
            targets.write_text("".join(f"{ip}\n" for ip in ips))
            cases.append(command(nmap_cmd(nmap, targets), env, 0))
        times = [statistics.median(t) * 1e3 for t in interleaved(runs, cases)]
        script_ms = times[0]
        cli_ms = times[1] if app is not None else None
        nmap_ms = times[-1] if nmap is not None else None
        cli_cell = f"{cli_ms:.0f}" if cli_ms is not None else "—"
        nmap_cell = f"{nmap_ms:.0f}" if nmap_ms is not None else "—"
        if cli_ms is not None and nmap_ms is not None:
            ratio_cell, met = f"{cli_ms / nmap_ms:.2f}", _met(cli_ms < nmap_ms)
        else:
            ratio_cell, met = "—", "—"
        rows.append(f"| {n} | {cli_cell} | {script_ms:.0f} | {nmap_cell} | {ratio_cell} | {met} |")
    return rows


def median_ms(fn: Callable[[], object], runs: int) -> float:
    fn()
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1e3


def breakdown(runs: int, tmp: Path, env: dict[str, str]) -> list[str]:
    """Where `bindmgr check` with 256 IPs spends its time: start, imports, then the work."""
    from bindmgr import cli  # noqa: PLC0415 (only this part needs the CLI in process)
    from bindmgr.formats.check import dumps_check  # noqa: PLC0415

    ips = addresses(256)
    app = tmp / "MDaemon" / "App"
    imports = "import bindmgr.cli, bindmgr.check.probe, bindmgr.check.hostinfo"
    start_ms, import_ms = (
        statistics.median(t) * 1e3
        for t in interleaved(
            runs,
            [
                command([sys.executable, "-c", "pass"], env, 0),
                command([sys.executable, "-c", imports], env, 0),
            ],
        )
    )
    results = run_check(ips, listeners(), host_addresses=LOOPBACK, listener_table=tuple)
    parts = [
        ("interpreter start (`python -c pass`)", start_ms),
        (f"imports after the start (`{imports}`)", import_ms - start_ms),
        (
            "host addresses (netifaces, psutil.net_if_stats)",
            median_ms(hostinfo.host_addresses, runs),
        ),
        (
            "listener table (psutil.net_connections + names)",
            median_ms(hostinfo.listening_sockets, runs),
        ),
        (
            "run_check, 3,328 pairs, empty table",
            median_ms(
                lambda: run_check(ips, listeners(), host_addresses=LOOPBACK, listener_table=tuple),
                runs,
            ),
        ),
        ("JSON of the results (`dumps_check`)", median_ms(lambda: dumps_check(results), runs)),
    ]
    if OFFSET == 0:
        argv = cli_args(ips, app)
        parts.append(
            (
                "`cli.main(check ...)` in process, all of the above but start and imports",
                median_ms(lambda: cli.main(argv, stdout=io.StringIO(), stderr=io.StringIO()), runs),
            )
        )
    return [
        f"\nBreakdown of `bindmgr check` with 256 IPs (median of {runs}):\n",
        "| part | ms |",
        "|---|---:|",
        *(f"| {label} | {ms:.1f} |" for label, ms in parts),
    ]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        "--runs", "--repeat", type=int, default=15, help="interleaved runs per figure (15)"
    )
    parser.add_argument("--breakdown", action="store_true", help="where the end-to-end time goes")
    args = parser.parse_args(argv)
    if args.runs < 1:
        parser.error("need --runs >= 1")
    print(
        f"Python {sys.version.split()[0]}, {os.cpu_count()} CPUs, "
        f"load average {' '.join(f'{x:.1f}' for x in os.getloadavg())}\n"
    )
    print("\n".join(per_pair_table(args.runs)))
    with tempfile.TemporaryDirectory(prefix="bindmgr-bench-") as tmp:
        env = child_env(Path(tmp) / "pycache")
        print("\n".join(end_to_end_table(args.runs, Path(tmp), env)))
        if args.breakdown:
            print("\n".join(breakdown(args.runs, Path(tmp), env)))
    print(f"\nload average at the end {' '.join(f'{x:.1f}' for x in os.getloadavg())}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
