"""Timing helpers for bench/run_all.py: subprocesses timed with their peak memory, interleaved.

A `Case` is one command line (with an optional untimed set-up before each run); `interleave`
runs every case of a group once per round, the order rotating, so that a load change on the
machine hits each case alike; figures are medians. Every subprocess is waited for (and killed
after `TIMEOUT`), so nothing outlives a measurement. Binds, connects and writes nothing itself.
"""

from __future__ import annotations

import os
import platform
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TIMEOUT = 120.0  # seconds one timed run may take before it is killed and the bench stops


@dataclass
class Case:
    """One command to time: `argv` from the project root, the exit status it must end with."""

    label: str
    argv: Sequence[str]
    expect: int = 0
    setup: Callable[[], None] | None = None  # run (untimed) before every run
    seconds: list[float] = field(default_factory=list)
    peak_kb: list[int] = field(default_factory=list)
    cpu: list[float] = field(default_factory=list)  # user + system seconds

    @property
    def ms(self) -> float:
        return statistics.median(self.seconds) * 1e3

    @property
    def cpu_ms(self) -> float:
        return statistics.median(self.cpu) * 1e3

    @property
    def peak_mb(self) -> float:
        return statistics.median(self.peak_kb) / 1024


class BenchError(RuntimeError):
    pass


def child_env(pycache: Path) -> dict[str, str]:
    """Bytecode cached in a private folder, as an installed bindmgr has its .pyc files, even
    where PYTHONDONTWRITEBYTECODE is set (it is on the test host)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTHONPYCACHE")}
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env["PYTHONPYCACHEPREFIX"] = str(pycache)
    env["PYTHONPATH"] = str(ROOT)
    return env


def run_once(case: Case, env: dict[str, str]) -> tuple[float, int, float]:
    """(wall seconds, peak RSS in KB, CPU seconds) of one run; BenchError on a wrong exit
    status."""
    if case.setup is not None:
        case.setup()
    start = time.perf_counter()
    proc = subprocess.Popen(
        case.argv,
        cwd=ROOT,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    deadline = start + TIMEOUT
    status = rusage = None
    while True:  # bounded by TIMEOUT
        pid, status, rusage = os.wait4(proc.pid, os.WNOHANG)
        if pid:
            break
        if time.perf_counter() > deadline:
            proc.kill()
            proc.wait()
            raise BenchError(f"{case.label}: still running after {TIMEOUT:.0f} s, killed")
        time.sleep(0.0005)
    elapsed = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    err = proc.stderr.read() if proc.stderr else b""
    if proc.stderr:
        proc.stderr.close()
    if proc.returncode != case.expect:
        raise BenchError(
            f"{case.label}: exited {proc.returncode}, expected {case.expect}: "
            f"{err.decode(errors='replace')[-800:]}"
        )
    return elapsed, rusage.ru_maxrss, rusage.ru_utime + rusage.ru_stime


def interleave(cases: Sequence[Case], runs: int, env: dict[str, str]) -> None:
    """One warm-up run of each case, then `runs` rounds, the order rotating every round."""
    for case in cases:
        run_once(case, env)
    for round_no in range(runs):
        for k in range(len(cases)):
            case = cases[(k + round_no) % len(cases)]
            seconds, peak, cpu = run_once(case, env)
            case.seconds.append(seconds)
            case.peak_kb.append(peak)
            case.cpu.append(cpu)


def python(*args: str) -> list[str]:
    return [sys.executable, *args]


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def load() -> str:
    return " ".join(f"{x:.1f}" for x in os.getloadavg())


def versions() -> str:
    import configobj  # noqa: PLC0415
    import psutil  # noqa: PLC0415

    nmap = "absent"
    try:
        done = subprocess.run(
            ["nmap", "--version"], capture_output=True, text=True, check=False, timeout=10
        )
        nmap = done.stdout.split()[2] if done.returncode == 0 else "absent"
    except OSError:
        pass
    return (
        f"Python {platform.python_version()}, configobj {configobj.__version__}, "
        f"psutil {psutil.__version__}, nmap {nmap}, Linux {platform.release()}"
    )
