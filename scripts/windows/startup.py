"""Start-up time of a bindmgr command, measured inside Windows (Wine's own start is not in it).

    python.exe startup.py RUNS BINDMGR APP_DIR

Runs `BINDMGR --version` and `BINDMGR inspect --app-dir APP_DIR` RUNS times each, interleaved,
with its output on pipes, and prints the fastest and the median wall time of each. A .cmd runs
through cmd.exe. Reads only; used by scripts/test-windows for the Windows bundle.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import time


def main(argv: list[str]) -> int:
    if len(argv) != 3:
        print(__doc__, file=sys.stderr)
        return 2
    runs, command, app = int(argv[0]), argv[1], argv[2]
    prefix = (
        [os.environ.get("COMSPEC", "cmd.exe"), "/c"] if command.lower().endswith(".cmd") else []
    )
    cases = {"--version": ["--version"], "inspect": ["inspect", "--app-dir", app]}
    times: dict[str, list[float]] = {name: [] for name in cases}
    for _ in range(runs):
        for name, args in cases.items():
            start = time.perf_counter()
            done = subprocess.run(
                [*prefix, command, *args], capture_output=True, timeout=120, check=False
            )
            times[name].append(time.perf_counter() - start)
            if done.returncode != 0:
                print(f"{command} {name}: exit {done.returncode}", file=sys.stderr)
                return 1
    for name, seen in times.items():
        print(
            f"start-up: {name}: fastest {min(seen):.2f} s, median {statistics.median(seen):.2f} s "
            f"({runs} runs)"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
