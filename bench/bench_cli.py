"""Benchmark: `bindmgr inspect` and `bindmgr plan` end to end against ConfigObj's parse alone.

Builds a temporary App folder with thousands of secondary domains and times, in one run, the
ConfigObj parse of its domain file (the baseline), the INI layer's parse, and the two commands
as subprocesses (interpreter start included). Prints a Markdown table; binds nothing.
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import io
import os
import pstats
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from configobj import ConfigObj
from genapp import bound_ip, make_mixed_domains_file

from bindmgr import cli
from bindmgr.ini.file import IniFile
from bindmgr.read.layout import templates_dir

ROOT = Path(__file__).resolve().parent.parent
DOMAIN = "example.com"


def make_app_folder(path: Path, n_domains: int) -> Path:
    """An MDaemon folder under `path`: the shipped sample with a mixed n-domain Domains.dat.

    MDaemon.ini, WorldClient.ini and WebAdmin.ini are the sample's. Returns the App folder.
    """
    root = path / "MDaemon"
    shutil.copytree(templates_dir() / "MDaemon", root)
    app = root / "App"
    (app / "Domains.dat").write_bytes(make_mixed_domains_file(n_domains))
    return app


def configobj_variant(data: bytes) -> bytes:
    """The same file as ConfigObj can parse it: `;` comment lines become `#` ones."""
    return b"\r\n".join(
        b"#" + line[1:] if line.startswith(b";") else line for line in data.split(b"\r\n")
    )


def configobj_parse(data: bytes) -> ConfigObj:
    lines = data.decode("cp1252").splitlines()
    return ConfigObj(lines, list_values=False, interpolation=False)


def plan_ips(count: int) -> list[str]:
    """`count` loopback addresses 127.88.0.1 ... in order (plan binds nothing)."""
    return [bound_ip(n) for n in range(1, count + 1)]


@dataclass(frozen=True, slots=True)
class Case:
    label: str
    run: Callable[[], object]
    target: float | None = None  # the speed-up over the baseline the issues ask for (at least)


def child_env(pycache: Path | None) -> dict[str, str]:
    """The environment of the timed subprocesses.

    With `pycache`, bytecode is cached there (as in an installed bindmgr, whose .pyc files pip
    writes), even when PYTHONDONTWRITEBYTECODE is set here; without, every module is compiled
    from source on every start.
    """
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTHONPYCACHE")}
    if pycache is None:
        env["PYTHONDONTWRITEBYTECODE"] = "1"
    else:
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        env["PYTHONPYCACHEPREFIX"] = str(pycache)
    return env


def command(args: Sequence[str], expect: int, env: dict[str, str]) -> Callable[[], object]:
    """A callable that runs `python ARGS` from the project root and checks its exit status."""
    argv = [sys.executable, *args]

    def run() -> object:
        done = subprocess.run(argv, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, check=False)
        code = done.returncode
        if code != expect:
            raise SystemExit(f"{' '.join(argv)} exited {code}, expected {expect}")
        return code

    return run


def measure(cases: Sequence[Case], runs: int) -> dict[str, list[float]]:
    """Wall-clock seconds per case: one warm-up each, then `runs` rounds with the cases
    interleaved, so that a load change on the machine hits every case alike."""
    for case in cases:
        case.run()  # bytecode caches, page cache
    times: dict[str, list[float]] = {case.label: [] for case in cases}
    for _ in range(runs):
        for case in cases:
            gc.collect()
            start = time.perf_counter()
            case.run()
            times[case.label].append(time.perf_counter() - start)
    return times


def table(cases: Sequence[Case], times: dict[str, list[float]]) -> list[str]:
    base = statistics.median(times[cases[0].label])
    rows = [
        "| measurement | median ms | min ms | ConfigObj parse / this | target | met |",
        "|---|---:|---:|---:|---:|---|",
    ]
    for case in cases:
        median = statistics.median(times[case.label])
        speedup = base / median
        target, met = "", ""
        if case.target is not None:
            op = ">=" if case.target > 1 else ">"
            target = f"{op} {case.target:.1f}x"
            ok = speedup >= case.target if case.target > 1 else speedup > case.target
            met = "yes" if ok else "**no**"
        rows.append(
            f"| {case.label} | {median * 1000:.1f} | {min(times[case.label]) * 1000:.1f}"
            f" | {speedup:.2f}x | {target} | {met} |"
        )
    return rows


def in_process(argv: Sequence[str]) -> Callable[[], object]:
    """A callable that runs `bindmgr ARGV` in this process (imports already paid)."""
    return lambda: cli.main(argv, stdout=io.StringIO(), stderr=io.StringIO())


def hot_functions(argv: Sequence[str], count: int) -> list[str]:
    """The `count` bindmgr functions with the most cumulative time in one in-process run."""
    profile = cProfile.Profile()
    profile.runcall(in_process(argv))
    stats = pstats.Stats(profile).stats  # type: ignore[attr-defined]
    rows = [
        (cum, calls, f"{Path(file).name}:{line}({name})")
        for (file, line, name), (_, calls, _, cum, _) in stats.items()
        if f"{os.sep}bindmgr{os.sep}" in file and name not in {"main", "<module>"}
    ]
    rows.sort(reverse=True)
    return [f"| {where} | {calls} | {cum * 1000:.1f} |" for cum, calls, where in rows[:count]]


def import_times(runs: int, count: int, env: dict[str, str]) -> tuple[float, list[str]]:
    """Total and the `count` largest self times of `import bindmgr.cli` (best of `runs`)."""
    best: dict[str, tuple[int, int]] = {}
    for _ in range(runs):
        err = subprocess.run(
            [sys.executable, "-X", "importtime", "-c", "import bindmgr.cli"],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            check=True,
        ).stderr
        for line in err.splitlines()[1:]:
            own, total, name = line.removeprefix("import time:").split("|")
            name = name.strip()
            old = best.get(name, (1 << 62, 1 << 62))
            best[name] = (min(old[0], int(own)), min(old[1], int(total)))
    ranked = sorted(best.items(), key=lambda item: -item[1][0])[:count]
    rows = [f"| {name} | {own / 1000:.1f} | {total / 1000:.1f} |" for name, (own, total) in ranked]
    return best["bindmgr.cli"][1] / 1e6, rows


def breakdown(
    inspect_argv: list[str], plan_argv: list[str], runs: int, env: dict[str, str]
) -> list[str]:
    """Where (c) and (d) spend their time: imports, then the work after the imports."""
    total, imports = import_times(runs, 15, env)
    out = [
        f"\n`import bindmgr.cli`: {total * 1000:.1f} ms (best of {runs});"
        " largest self times (`python -X importtime`):\n",
        "| module | self ms | cumulative ms |",
        "|---|---:|---:|",
        *imports,
    ]
    for label, argv in (("inspect", inspect_argv), ("plan", plan_argv)):
        run = in_process(argv)
        run()
        times = []
        for _ in range(runs):
            start = time.perf_counter()
            run()
            times.append(time.perf_counter() - start)
        out += [
            f"\n`bindmgr {label}` in process, after the imports: median"
            f" {statistics.median(times) * 1000:.1f} ms; cProfile, one run:\n",
            "| function | calls | cumulative ms (profiled) |",
            "|---|---:|---:|",
            *hot_functions(argv, 12),
        ]
    return out


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--domains", type=int, default=2000, help="secondary domains (2000)")
    parser.add_argument("--ips", type=int, default=64, help="IPs to plan (64)")
    parser.add_argument("--runs", type=int, default=9, help="timed runs per measurement (9)")
    parser.add_argument(
        "--no-bytecode-cache",
        action="store_true",
        help="compile every module on every start (as with PYTHONDONTWRITEBYTECODE=1)",
    )
    parser.add_argument(
        "--breakdown", action="store_true", help="also show import times and hot functions"
    )
    args = parser.parse_args(argv)
    if args.domains < 33 or not 1 <= args.ips <= 1000 or args.runs < 1:
        parser.error("need --domains >= 33, 1 <= --ips <= 1000 and --runs >= 1")

    with tempfile.TemporaryDirectory(prefix="bindmgr-bench-") as tmp:
        app = make_app_folder(Path(tmp), args.domains)
        env = child_env(None if args.no_bytecode_cache else Path(tmp) / "pycache")
        data = (app / "Domains.dat").read_bytes()
        variant = configobj_variant(data)
        # Both readers must see the same values before their speed means anything.
        ini, cfg = IniFile.from_bytes(data, "Domains.dat"), configobj_parse(variant)
        assert ini.sections() == list(cfg.sections)
        assert all(ini.items(s) == list(cfg[s].items()) for s in cfg.sections)

        ips = [arg for ip in plan_ips(args.ips) for arg in ("--ip", ip)]
        inspect_args = ["-m", "bindmgr", "inspect", "--app-dir", str(app)]
        plan_args = ["-m", "bindmgr", "plan", "--app-dir", str(app), "--domain", DOMAIN, *ips]

        def ini_read_all() -> object:
            ini = IniFile.from_bytes(data, "Domains.dat")
            return [ini.items(section) for section in ini.sections()]

        cases = [
            Case(
                "(a) ConfigObj(lines, list_values=False, interpolation=False), baseline",
                lambda: configobj_parse(variant),
            ),
            Case("(b) IniFile.from_bytes", lambda: IniFile.from_bytes(data, "Domains.dat"), 3.0),
            Case("(b2) IniFile.from_bytes + items() of every section", ini_read_all),
            Case("(c) `bindmgr inspect`, end to end", command(inspect_args, 0, env), 1.0),
            Case(
                f"(d) `bindmgr plan` with {args.ips} IPs, end to end",
                command(plan_args, 2, env),
                1.0,
            ),
            Case("(e) `python -c pass`: interpreter start", command(["-c", "pass"], 0, env)),
            Case(
                "(f) `python -c 'import bindmgr.cli'`",
                command(["-c", "import bindmgr.cli"], 0, env),
            ),
        ]
        times = measure(cases, args.runs)
        lines = data.count(b"\n")
        details = (
            breakdown(inspect_args[2:], plan_args[2:], args.runs, env) if args.breakdown else []
        )

    print(
        f"{args.domains} secondary domains ({lines} lines, {len(data)} bytes, CRLF,"
        f" cp1252); plan with {args.ips} IPs; wall clock, median of {args.runs} interleaved runs;"
        f" (a), (b) in process, (c)-(f) as subprocesses (interpreter start included,"
        f" bytecode {'compiled on every start' if args.no_bytecode_cache else 'cached'});"
        f" Python {sys.version.split()[0]}, {os.cpu_count()} CPUs\n"
    )
    print("\n".join(table(cases, times) + details))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
