"""CLI smoke test of the Windows lane: every command of the installed `Scripts\\bindmgr.exe`,
or of another bindmgr command such as the Windows bundle's `bindmgr.cmd`.

Run by the lane's Windows interpreter under Wine (scripts/test-windows), on the copy of
templates/MDaemon that the lane put at C:\\MDaemon inside its own WINEPREFIX. It refuses to run
anywhere but Wine: on a real Windows host C:\\MDaemon\\App may be a live MDaemon. Binds only
127.0.0.x. Run as root, as CI does: the sample's listener ports below 1024 need it.

    python.exe smoke.py SAMPLE VERSION [BINDMGR]
SAMPLE: the pristine templates/MDaemon (its bytes are compared after rollback);
VERSION: what `bindmgr --version` must name;
BINDMGR: the command to test (default: Scripts\\bindmgr.exe beside this python.exe; a .cmd
runs through cmd.exe).
"""

from __future__ import annotations

import ctypes
import dataclasses
import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

ROOT = Path(r"C:\MDaemon")
APP = ROOT / "App"  # bindmgr's default App folder on Windows
PLAN = ROOT / "plan.json"
FILES = (
    "App/MDaemon.ini",
    "App/Domains.dat",
    "WorldClient/WorldClient.ini",
    "WebAdmin/WebAdmin.ini",
)
IPS = ("--domain", "example.com", "--ip", "127.0.0.1", "--ip", "127.0.0.2", "--ip", "127.0.0.3")
BINDMGR = [str(Path(sys.executable).parent / "Scripts" / "bindmgr.exe")]
TIMEOUT = 120.0


@dataclasses.dataclass(frozen=True)
class KnownBug:
    """A product bug to be fixed: while it lasts, `status` comes instead of the right one."""

    status: int
    what: str
    seen: Callable[[str], bool]  # does the output show this bug (and not something else)?


# KNOWN BUG (to be fixed in bindmgr): under Wine netifaces lists no loopback address, so
# bindmgr's host address list has no 127.x and every 127.0.0.x pair is `not_local`: check exits
# 3, and apply refuses the plan (exit 3, nothing written). bindmgr is to count the loopback
# network as local; then these steps give their right status, and `bindmgr()` prints a note
# to drop this marker and the --force step in main().
LOOPBACK_NOT_LOCAL = KnownBug(
    status=3,
    what="127.0.0.x reported not_local (netifaces lists no loopback address under Wine)",
    seen=lambda out: "not_local" in out,
)


@dataclasses.dataclass
class Result:
    status: int
    out: str
    err: str
    known: bool = False  # the known bug's status came (and was accepted)


failures: list[str] = []
known_seen: list[str] = []


def is_wine() -> bool:
    """Wine's ntdll exports wine_get_version; Windows' does not."""
    if sys.platform != "win32":
        return False
    return hasattr(ctypes.WinDLL("ntdll"), "wine_get_version")


def bindmgr(
    *args: str,
    expect: int,
    known: KnownBug | None = None,
    check: Callable[[Result], str] | None = None,
) -> Result:
    """Run bindmgr.exe ARGS without a terminal; record a failure unless it exits `expect` (or
    `known.status` with that bug visible in its output) and `check` returns no complaint."""
    shown = " ".join(a if " " not in a else repr(a) for a in args)
    print(f"\n$ bindmgr {shown}", flush=True)
    env = {k: v for k, v in os.environ.items() if k not in ("MDAEMON_APP", "BINDMGR_FAULT")}
    done = subprocess.run(
        [*BINDMGR, *args],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        errors="replace",
        env=env,
        timeout=TIMEOUT,
        check=False,
    )
    result = Result(done.returncode, done.stdout, done.stderr)
    lines = (done.stdout + done.stderr).rstrip().splitlines()
    for line in lines if len(lines) <= 8 else [*lines[:3], "  ...", *lines[-4:]]:
        print(f"  | {line}")
    complaint = ""
    if result.status == expect:
        if known is not None:
            print(f"  note: the known bug did not show ({known.what}): drop its marker")
    elif known is not None and result.status == known.status and known.seen(done.stdout):
        result.known = True
        known_seen.append(f"bindmgr {args[0]}: {known.what}")
        print(f"  KNOWN BUG (exit {result.status} instead of {expect}): {known.what}")
    else:
        complaint = f"exit {result.status}, expected {expect}"
    if not complaint and check is not None:
        complaint = check(result)
    if complaint:
        failures.append(f"bindmgr {shown}: {complaint}")
        print(f"  FAILED: {complaint}")
        if len(lines) > 8:
            print("\n".join(f"  | {line}" for line in lines))
    else:
        print(f"  ok (exit {result.status}{', the known bug' if result.known else ''})")
    return result


def differs(sample: Path) -> list[str]:
    """The files under C:\\MDaemon whose bytes are not the sample's."""
    return [f for f in FILES if (ROOT / f).read_bytes() != (sample / f).read_bytes()]


def main(argv: list[str]) -> int:
    if len(argv) not in (2, 3):
        print(__doc__, file=sys.stderr)
        return 2
    sample, version = Path(argv[0]), argv[1]
    if len(argv) == 3:
        command = argv[2]
        is_cmd = command.lower().endswith(".cmd")
        BINDMGR[:] = [os.environ.get("COMSPEC", "cmd.exe"), "/c", command] if is_cmd else [command]
    if not is_wine():
        print(r"smoke.py runs only under Wine: C:\MDaemon may be a real MDaemon", file=sys.stderr)
        return 2
    if differs(sample) or (APP / "bindmgr-backups").exists() or PLAN.exists():
        print(f"{ROOT} is not a fresh copy of {sample}", file=sys.stderr)
        return 2

    def version_printed(r: Result) -> str:
        return "" if r.out.strip() == f"bindmgr {version}" else f"printed {r.out.strip()!r}"

    def default_app_and_wheel_layout(r: Result) -> str:
        if f"MDaemon App folder: {APP}" not in r.out:
            return f"the App folder is not the default {APP}"
        return "" if "site-packages" in r.out else "the layout is not the installed wheel's"

    def four_domains(r: Result) -> str:
        return "" if len(json.loads(r.out)["domains"]) == 4 else "not the sample's 4 domains"

    def plan_saved(r: Result) -> str:
        return "" if PLAN.is_file() else f"{PLAN} not written"

    def written(r: Result) -> str:
        if r.known:
            return f"refused, yet changed {differs(sample)}" if differs(sample) else ""
        return "" if differs(sample) else "nothing written"

    def one_apply_backup(r: Result) -> str:
        return "" if r.out.count(" apply ") == 1 else "not exactly one apply backup listed"

    def restored(r: Result) -> str:
        return f"not restored: {differs(sample)}" if differs(sample) else ""

    bindmgr("--version", expect=0, check=version_printed)
    # No --app-dir: the Windows default C:\MDaemon\App. The layout comes from the wheel.
    bindmgr("inspect", expect=0, check=default_app_and_wheel_layout)
    bindmgr("inspect", "--json", "--app-dir", str(APP), expect=0, check=four_domains)
    bindmgr("plan", *IPS, "--out", str(PLAN), expect=2, check=plan_saved)
    bindmgr("check", "--plan", str(PLAN), expect=0, known=LOOPBACK_NOT_LOCAL)
    applied = bindmgr("apply", str(PLAN), expect=0, known=LOOPBACK_NOT_LOCAL, check=written)
    if applied.known:
        # KNOWN BUG (LOOPBACK_NOT_LOCAL): apply refused and wrote nothing. --force writes despite
        # the check so that the rest of the cycle runs; drop this step with the marker.
        bindmgr("apply", str(PLAN), "--force", expect=0, check=written)
    bindmgr("plan", *IPS, expect=0)  # applied: nothing left to change
    bindmgr("rollback", "--list", expect=0, check=one_apply_backup)
    bindmgr("rollback", expect=0, check=restored)
    bindmgr("plan", *IPS, expect=2)  # rolled back: the changes are planned again

    print()
    for note in known_seen:
        print(f"smoke: known bug: {note}")
    for failure in failures:
        print(f"smoke: FAILED: {failure}")
    verdict = "FAILED" if failures else "ok"
    print(f"smoke: {verdict}: {len(failures)} failed, {len(known_seen)} known bug(s) accepted")
    return 1 if failures else 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
