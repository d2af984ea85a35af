"""Benchmark: IniFile parsing a 2,000-domain file against ConfigObj on the same content.

Generates the file in a temporary directory, times each variant (median of several runs, all in
this one process) and prints a Markdown table. stdlib + configobj only; asserts nothing on time.
"""

from __future__ import annotations

import argparse
import gc
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from configobj import ConfigObj
from genapp import DOMAIN_KEYS, domain_name, make_domains_file

from bindmgr.ini.file import IniFile


def median_seconds(run: Callable[[], object], runs: int) -> float:
    times = []
    for _ in range(runs):
        gc.collect()
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def configobj_parse(data: bytes) -> ConfigObj:
    lines = data.decode("cp1252").splitlines()
    return ConfigObj(lines, list_values=False, interpolation=False)


def ini_read_all(data: bytes) -> IniFile:
    ini = IniFile.from_bytes(data, "Domains.dat")
    for section in ini.sections():
        ini.items(section)
    _ = ini.problems
    return ini


def ini_edit_all(data: bytes, n: int) -> bytes:
    ini = IniFile.from_bytes(data, "Domains.dat")
    for i in range(1, n + 1):
        ini.set(domain_name(i), "IP", f"192.168.{i // 256 % 256}.{i % 256}")
    return ini.to_bytes()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--domains", type=int, default=2000)
    parser.add_argument("--runs", type=int, default=9)
    args = parser.parse_args(argv)
    n, runs = args.domains, args.runs

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "Domains.dat"
        path.write_bytes(make_domains_file(n))
        data = path.read_bytes()

    # Both readers must see the same values before their speed means anything.
    ini, cfg = IniFile.from_bytes(data), configobj_parse(data)
    assert ini.sections() == list(cfg.sections)
    assert all(ini.get(s, k) == cfg[s][k] for s in cfg.sections for k in DOMAIN_KEYS)
    assert IniFile.from_bytes(data).to_bytes() == data

    base = median_seconds(lambda: configobj_parse(data), runs)
    rows = [
        ("ConfigObj(lines, list_values=False, interpolation=False)", base),
        ("IniFile.from_bytes", median_seconds(lambda: IniFile.from_bytes(data), runs)),
        ("IniFile.from_bytes + items() of every section + problems",
         median_seconds(lambda: ini_read_all(data), runs)),
        (f"IniFile.from_bytes + set IP in all {n} sections + to_bytes",
         median_seconds(lambda: ini_edit_all(data, n), runs)),
    ]  # fmt: skip
    lines = data.count(b"\n")
    print(f"{n} domain sections, {lines} lines, {len(data)} bytes, CRLF, cp1252; ", end="")
    print(f"median of {runs} runs; Python {sys.version.split()[0]}\n")
    print("| operation | ms | ConfigObj parse / this |")
    print("|---|---:|---:|")
    for label, seconds in rows:
        print(f"| {label} | {seconds * 1000:.1f} | {base / seconds:.1f}x |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
