"""The performance table: every workload of docs/performance.md beside its peer, in one run.

`bench/run-all [--runs N] [--only GROUP ...] [--no-write]` builds its App folders in a temporary
directory, times each group's cases interleaved (subprocesses from the project root, bytecode
cached, medians; peak memory from wait4), prints the table and writes it into
docs/performance.md between its markers, with the machine, the load average and the date.
Binds and connects only to loopback addresses it owns (127.77.x.y: check; 127.88.x.y:
plan/apply; 127.99.x.y: verify's greeters, its own subprocess, stopped at the end). Needs root
(MDaemon's ports below 1024) and nmap.
"""

from __future__ import annotations

import argparse
import datetime
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from genapp import bound_ip
from measure import (
    ROOT,
    BenchError,
    Case,
    child_env,
    cpu_model,
    interleave,
    load,
    python,
    versions,
)

DOC = ROOT / "docs" / "performance.md"
BEGIN = "<!-- bench/run-all: begin (this section is written by bench/run-all) -->"
END = "<!-- bench/run-all: end -->"
TCP_PORTS = "25,110,143,366,465,587,993,995,3000,80,443,1000"  # the sample's TCP listeners
CONFIGOBJ = (
    "import sys\nfrom configobj import ConfigObj\n"
    "ConfigObj(open(sys.argv[1], encoding='cp1252').read().splitlines(),"
    " list_values=False, interpolation=False)"
)
GREETER_START = 300.0  # seconds the greeters may take to start listening


@dataclass
class Row:
    workload: str
    ours: Case
    peer: Case
    target: float  # ours / peer at most
    memory: str = ""  # the memory figure and its target, where the table asks for one
    memory_ok: bool = True

    def cells(self) -> str:
        ratio = self.ours.ms / self.peer.ms
        met = ratio <= self.target and self.memory_ok
        return (
            f"| {self.workload} | {self.ours.ms:.0f} | {self.ours.cpu_ms:.0f} "
            f"| {self.peer.label} | {self.peer.ms:.0f} | {self.peer.cpu_ms:.0f} "
            f"| {ratio:.2f}x | <= {self.target:g}x{self.memory and ', ' + self.memory} "
            f"| {'yes' if met else '**no**'} |"
        )


def check_ips(n: int) -> list[str]:
    return [f"127.77.{i // 250}.{i % 250 + 1}" for i in range(n)]


def ip_args(ips: Sequence[str]) -> list[str]:
    return [arg for ip in ips for arg in ("--ip", ip)]


def nmap(targets: Path, ports: str = TCP_PORTS) -> list[str]:
    return ["nmap", "-sT", "-Pn", "-n", "-p", ports, "-iL", str(targets), "-oN", "-"]


def bindmgr(*args: str) -> list[str]:
    return python("-m", "bindmgr", *args)


# Written by a child process: the peak memory of a child (wait4's ru_maxrss) counts the pages
# of the process it was started from (Linux records the old address space's high-water mark
# at exec), so the run must never hold a generated file's lines itself.
GENERATE = (
    "import sys; sys.path.insert(0, sys.argv[1]); from genapp import make_mixed_domains_file; "
    "data = make_mixed_domains_file(int(sys.argv[2])); "
    "open(sys.argv[3], 'wb').write(data); "
    "lines = data.split(b'\\r\\n'); "
    "open(sys.argv[4], 'wb').write(b'\\r\\n'.join("
    "b'#' + ln[1:] if ln.startswith(b';') else ln for ln in lines))"
)


def app_folder(where: Path, domains: int | None) -> Path:
    """The shipped sample, with a generated mixed Domains.dat of `domains` sections (and in
    `where`, `co.ini`: the same file as ConfigObj accepts it, `;` comments made `#` ones)."""
    shutil.copytree(ROOT / "templates" / "MDaemon", where / "MDaemon")
    app = where / "MDaemon" / "App"
    if domains is not None:
        argv = [str(ROOT / "bench"), str(domains), str(app / "Domains.dat"), str(where / "co.ini")]
        subprocess.run(python("-c", GENERATE, *argv), check=True, timeout=600)
    return app


def check_group(tmp: Path, runs: int) -> list[Row]:
    app = app_folder(tmp / "check", None)
    rows = []
    sizes = ((1, "text", 2.0, 3), (256, "text", 1.0, 2), (4096, "json", 0.7, 1))
    for n, fmt, target, share in sizes:
        ips = check_ips(n)
        targets = tmp / f"check-{n}.txt"
        targets.write_text("".join(f"{ip}\n" for ip in ips))
        ours = Case(
            f"check {n}",
            bindmgr("check", "--app-dir", str(app), "--domain", "example.com", "--format", fmt)
            + ip_args(ips),
        )
        peer = Case("`nmap -sT -Pn -n`", nmap(targets))
        cases = [ours, peer]
        floor = None
        if n == 1:
            floor = Case("floor", python("-c", FLOOR_CHECK))
            cases.append(floor)
        loop = None
        if n > 1:
            loop = Case(
                "plain bind loop",
                python(str(ROOT / "bench" / "bind_loop.py"), str(targets), TCP_PORTS),
            )
            cases.append(loop)
        interleave(cases, runs * share, ENV)
        label = f"`check`, {n} IP{'s' if n > 1 else ''} x 13 listeners, {fmt}"
        if n == 4096:
            mb = ours.peak_mb
            rows.append(Row(label, ours, peer, target, f"peak {mb:.0f} MB (<= 40)", mb <= 40))
        else:
            rows.append(Row(label, ours, peer, target))
        if floor is not None:
            FLOORS.append(("`check` start + imports (no work)", floor, peer))
        if loop is not None:
            what = f"`check`'s {n * 13:,} binds in a plain Python loop, with its imports"
            FLOORS.append((what, loop, peer))
    return rows


FLOOR_CHECK = (
    "import bindmgr.cli, bindmgr.commands.check, bindmgr.check.probe, bindmgr.check.hostinfo"
)
# What each command imports before it works (the lazy imports included), found with -X importtime.
IMPORTS = {
    "inspect": "import bindmgr.cli, bindmgr.commands.inspect, bindmgr.check.hostinfo\n",
    "plan": "import bindmgr.cli, bindmgr.commands.plan, bindmgr.formats.plan\n",
    "apply": (
        "import bindmgr.cli, bindmgr.commands.apply, bindmgr.check.probe, bindmgr.check.hostinfo\n"
    ),
}
# The least any reader of Domains.dat does (argv[1]): read the bytes, decode them, find every key
# line in one regex pass (each match dropped as the next is found).
SCAN = r"""import collections, re, sys
data = open(sys.argv[1], "rb").read()
keys = re.compile(r"\n([^;\[\r\n=][^=\r\n]*)=([^\r\n]*)")
collections.deque(keys.finditer(data.decode("cp1252")), maxlen=0)
"""
# After SCAN, the least a safe edit writes besides (into the folder argv[2]): a backup and the new
# file, each to a temporary file, synced, renamed into place.
WRITE = r"""import os
for name in ("backup", "Domains.dat"):
    path = os.path.join(sys.argv[2], name)
    with open(path + ".tmp", "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())
    os.replace(path + ".tmp", path)
"""
FLOORS: list[tuple[str, Case, Case]] = []


def floor(command: str, work: Sequence[str] = (), args: Sequence[str] = ()) -> Case:
    """`python -c` of what `command` imports, then `work` (SCAN, WRITE) on `args`."""
    return Case(f"floor {command}", python("-c", IMPORTS[command] + "".join(work), *args))


def domains_group(tmp: Path, runs: int) -> list[Row]:
    ips = ip_args([bound_ip(k) for k in range(1, 65)])
    rows = []
    per_domain: dict[str, tuple[int, float]] = {}
    for n, share, targets in ((2000, 3, (1.0, 0.8)), (100_000, 1, (0.5, 0.4))):
        app = app_folder(tmp / f"domains-{n}", n)
        peer = Case(
            "`python -c` ConfigObj parse",
            python("-c", CONFIGOBJ, str(tmp / f"domains-{n}" / "co.ini")),
        )
        inspect = Case(f"inspect {n}", bindmgr("inspect", "--app-dir", str(app), "--json"))
        plan = Case(
            f"plan {n}",
            bindmgr("plan", "--app-dir", str(app), "--domain", "example.com", *ips),
            expect=2,
        )
        dat = [str(app / "Domains.dat")]
        floors = [
            (f"`{name}` start + imports + one scan, {n:,} domains", floor(name, [SCAN], dat))
            for name in ("inspect", "plan")
        ]
        if n == 2000:
            floors[:0] = [
                (f"`{name}` start + imports (no work)", floor(name)) for name in ("inspect", "plan")
            ]
        cases = [inspect, plan, peer, *(case for _, case in floors)]
        interleave(cases, max(2, runs * share), ENV)
        FLOORS.extend((label, case, peer) for label, case in floors)
        for case in (inspect, plan):
            name = case.label.split()[0]
            if n == 2000:
                per_domain[name] = (n, case.peak_mb)
                label = f"`{name}`{' --json' if name == 'inspect' else ', 64 IPs'}, {n:,} domains"
                rows.append(Row(label, case, peer, targets[name == "plan"]))
            else:
                n0, mb0 = per_domain[name]
                kb = (case.peak_mb - mb0) * 1024 / (n - n0)
                label = f"`{name}`{' --json' if name == 'inspect' else ', 64 IPs'}, {n:,} domains"
                memory = f"{kb:.2f} KB/domain (<= 2)"
                rows.append(Row(label, case, peer, targets[name == "plan"], memory, kb <= 2))
    return rows


def apply_group(tmp: Path, runs: int) -> list[Row]:
    pristine = app_folder(tmp / "apply-pristine", 20_000).parent
    work = tmp / "apply" / "MDaemon"
    ips = ip_args([bound_ip(k) for k in range(1, 4)])

    def fresh() -> None:
        shutil.rmtree(work, ignore_errors=True)
        shutil.copytree(pristine, work)

    fresh()
    app = str(work / "App")
    apply = Case(
        "apply",
        bindmgr("apply", "--app-dir", app, "--domain", "example.com", *ips, "--yes"),
        setup=fresh,
    )
    plan = Case(
        "`plan` on the same folder",
        bindmgr("plan", "--app-dir", app, "--domain", "example.com", *ips),
        expect=2,
        setup=fresh,
    )
    out = tmp / "apply-floor"
    out.mkdir()
    floors = [
        ("`apply` start + imports (no work)", floor("apply")),
        (
            "`apply` start + imports + one scan + two synced writes, 20,000 domains",
            floor("apply", [SCAN, WRITE], [str(pristine / "App" / "Domains.dat"), str(out)]),
        ),
    ]
    interleave([apply, plan, *(case for _, case in floors)], runs, ENV)
    FLOORS.extend((label, case, plan) for label, case in floors)
    return [Row("`apply` (3 IPs), 20,000 domains", apply, plan, 1.5)]


@contextmanager
def greeters(app: Path, ips: Sequence[str], log: Path) -> Iterator[list[str]]:
    """The greeter process for `ips`; yields its target lines; stops it on the way out. Its
    stderr goes to `log` (connections that nmap opens and drops are logged when it stops)."""
    with log.open("wb") as err:
        proc = subprocess.Popen(
            python(str(ROOT / "bench" / "greeters.py"), str(app), "example.com", *ips),
            cwd=ROOT,
            env=ENV,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=err,
            text=True,
        )
    try:
        assert proc.stdout is not None
        lines: list[str] = []
        for _ in range(len(ips) * 64 + 1):  # every line is a target or the end: bounded
            line = proc.stdout.readline().strip()
            if not line or line == "listening":
                break
            lines.append(line)
        if line != "listening":
            raise BenchError(f"the greeters did not start (exit {proc.poll()})")
        yield lines
    finally:
        if proc.stdin is not None:
            proc.stdin.close()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def verify_group(tmp: Path, runs: int) -> list[Row]:
    app = app_folder(tmp / "verify", None)
    ips = [f"127.99.{i // 250}.{i % 250 + 1}" for i in range(256)]
    with greeters(app, ips, tmp / "greeters.log") as lines:
        targets, addresses = tmp / "verify-targets.txt", tmp / "verify-ips.txt"
        targets.write_text("".join(f"{line}\n" for line in lines))
        addresses.write_text("".join(f"{ip}\n" for ip in ips))
        ports = ",".join(dict.fromkeys(line.split()[1] for line in lines))
        ours = Case(
            "verify",
            bindmgr("verify", "--app-dir", str(app), "--domain", "example.com", *ip_args(ips)),
        )
        loop = Case(
            "sequential Python connect-and-read loop",
            python(str(ROOT / "bench" / "connect_loop.py"), str(targets)),
        )
        scan = Case("`nmap -sT -Pn -n`", nmap(addresses, ports))
        floor = Case(
            "bare asyncio client, 64 at once",
            python(str(ROOT / "bench" / "connect_async.py"), str(targets), "64"),
        )
        interleave([ours, loop, scan, floor], runs, ENV)
    FLOORS.append(("`verify`'s greetings read by a bare asyncio client (64 at once)", floor, loop))
    label = f"`verify`, 256 IPs x 12 TCP listeners ({len(lines)} greetings)"
    return [Row(label, ours, loop, 1.0), Row(label, ours, scan, 1.0)]


GROUPS: dict[str, Callable[[Path, int], list[Row]]] = {
    "check": check_group,
    "domains": domains_group,
    "apply": apply_group,
    "verify": verify_group,
}
ENV: dict[str, str] = {}


def report(rows: Sequence[Row], runs: int, started: str, load_start: str) -> str:
    when = datetime.datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z")
    head = [
        f"Last run: {when} (started {started}), `bench/run-all --runs {runs}`; "
        f"{os.cpu_count()} CPUs ({cpu_model()}), load average {load_start} at the start and "
        f"{load()} at the end; {versions()}. Medians of interleaved runs (`--runs` per group, "
        "three times that for the 1-IP check, twice for 256 IPs and for 2,000 domains); "
        "subprocesses from the project root with bytecode cached; peak memory is the "
        "child's maximum RSS (wait4). Memory per domain: the rise of the peak from 2,000 "
        "to 100,000 domains, divided by 98,000. CPU: the child's user + system time (on a "
        "loaded machine the steadier figure; the ratio and the targets are wall clock).",
        "",
        "| workload | bindmgr ms | CPU ms | peer, same run | peer ms | CPU ms | ratio | target "
        "| met |",
        "|---|---:|---:|---|---:|---:|---:|---|---|",
        *(row.cells() for row in rows),
    ]
    if FLOORS:
        head += [
            "",
            "Floors, same run: what a command costs before it does anything (`python -c` of "
            "its imports), and the least its work adds (read and decode Domains.dat, one regex "
            "pass over its key lines; apply: also a backup and the new file written, synced; "
            "verify: the same greetings read by a bare asyncio client).",
            "",
            "| floor | ms | CPU ms | peak MB | peer | peer ms | floor / peer |",
            "|---|---:|---:|---:|---|---:|---:|",
            *(
                f"| {label} | {f.ms:.0f} | {f.cpu_ms:.0f} | {f.peak_mb:.0f} | {p.label} "
                f"| {p.ms:.0f} | {f.ms / p.ms:.2f}x |"
                for label, f, p in FLOORS
            ),
        ]
    return "\n".join(head)


def write_doc(text: str) -> None:
    doc = DOC.read_text(encoding="utf-8")
    section = f"{BEGIN}\n{text}\n{END}"
    if BEGIN in doc and END in doc:
        before, rest = doc.split(BEGIN, 1)
        doc = before + section + rest.split(END, 1)[1]
    else:
        doc = doc.rstrip("\n") + "\n\n" + section + "\n"
    DOC.write_text(doc, encoding="utf-8")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=5, help="interleaved runs per group (5)")
    parser.add_argument("--only", nargs="+", choices=sorted(GROUPS), help="run these groups")
    parser.add_argument("--no-write", action="store_true", help="leave docs/performance.md")
    args = parser.parse_args(argv)
    if args.runs < 1:
        parser.error("need --runs >= 1")
    if hasattr(os, "geteuid") and os.geteuid() != 0:
        parser.error("needs root: MDaemon's listeners use ports below 1024")
    if shutil.which("nmap") is None:
        parser.error("needs nmap (apt-get install nmap)")
    started, load_start = datetime.datetime.now().strftime("%H:%M"), load()
    rows: list[Row] = []
    with tempfile.TemporaryDirectory(prefix="bindmgr-bench-") as name:
        tmp = Path(name)
        ENV.update(child_env(tmp / "pycache"))
        for group in args.only or list(GROUPS):
            print(f"{group} ...", file=sys.stderr, flush=True)
            rows += GROUPS[group](tmp, args.runs)
    text = report(rows, args.runs, started, load_start)
    print(text)
    if not args.no_write:
        write_doc(text)
    return 0


if __name__ == "__main__":
    try:
        raise SystemExit(main())
    except BenchError as exc:
        raise SystemExit(f"bench/run-all: {exc}") from None
