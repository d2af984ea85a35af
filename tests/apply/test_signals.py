"""Ctrl-C, SIGTERM and SIGHUP at every fault point of a two-file commit and of its restore.

A child runs the real commit; at the chosen fault point it pauses (BINDMGR_FAULT_ACTION=pause),
the test sends it a real signal, then lets it go on. Whatever the point and the signal, the
files end all old or all new, and the manifest says which: `written` for all new, `reverted`
(or no backup at all) for all old. The next run then works.
"""

from __future__ import annotations

import select
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from bindmgr.apply.backup import REVERTED, WRITTEN, list_backups, load_backup
from bindmgr.apply.lock import LOCK_NAME
from bindmgr.apply.safewrite import file_sha256
from bindmgr.apply.transaction import commit, restore
from bindmgr.model import sha256_bytes
from tests.apply.test_faults import COMMIT_COUNTS, RESTORE_COUNTS, fresh_app, points, state
from tests.support.apply import make_site
from tests.support.safety import NEW_A, NEW_B, OLD_A, OLD_B, env, leftovers

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")

A, B = "MDaemon.ini", "Domains.dat"
NAMES = (A, B)

DRIVER = """
import sys
from pathlib import Path
from bindmgr.apply import transaction
from bindmgr.apply.backup import load_backup
from bindmgr.model import sha256_bytes
app, mode, arg = Path(sys.argv[1]), sys.argv[2], sys.argv[3]
names = ("MDaemon.ini", "Domains.dat")
try:
    if mode == "commit":
        new = {"MDaemon.ini": (app.parent / "new_a").read_bytes(),
               "Domains.dat": (app.parent / "new_b").read_bytes()}
        exp = {n: sha256_bytes((app / n).read_bytes()) for n in new}
        transaction.commit(app, new, expected=exp, lock_timeout=5)
    else:
        transaction.restore(app, load_backup(Path(arg)), allowed=names, lock_timeout=5)
    print("finished")
except KeyboardInterrupt:
    print("interrupted")
"""


def signal_at(app: Path, mode: str, arg: str, fault: str, sig: signal.Signals) -> tuple[int, str]:
    """Run the driver paused at `fault`, send it `sig` there, let it go on; (status, stdout)."""
    proc = subprocess.Popen(
        [sys.executable, "-c", DRIVER, str(app), mode, arg],
        env={**env(), "BINDMGR_FAULT": fault, "BINDMGR_FAULT_ACTION": "pause"},
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert proc.stderr is not None
    try:
        ready, _, _ = select.select([proc.stderr], [], [], 30)
        assert ready, f"{fault}: the child never paused"
        line = proc.stderr.readline().decode()
        assert line == f"bindmgr-fault: paused at {fault.rpartition(':')[0]}\n", line
        proc.send_signal(sig)
        out, err = proc.communicate(b"", timeout=60)  # closes stdin: go on
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait(timeout=30)
    assert b"Traceback" not in err, err.decode()
    return proc.returncode, out.decode()


def assert_all_or_nothing(app: Path, new_state: tuple[str, str], kind: str) -> str:
    """All old or all new, and the newest backup of `kind` says which. Returns "old"/"new"."""
    a, b = state(app)
    assert a == b, f"mixed: {A} is {a}, {B} is {b}"
    mine = [x for x in list_backups(app / "bindmgr-backups") if x.kind == kind]
    if (a, b) == new_state:
        assert mine, "changed without a backup"
        assert mine[0].state == WRITTEN
    else:
        assert all(x.state == REVERTED for x in mine), [x.state for x in mine]
    assert leftovers(app) == []
    return a


@pytest.mark.slow
@pytest.mark.parametrize("fault", points(COMMIT_COUNTS))
def test_sigint_during_commit(tmp_path: Path, fault: str) -> None:
    app = fresh_app(tmp_path)
    code, out = signal_at(app, "commit", "-", fault, signal.SIGINT)
    assert code == 0
    ended = assert_all_or_nothing(app, ("new", "new"), "apply")
    assert out == "interrupted\n"
    # Before the lock, ^C stops the run at once; from the backup to the last write it is held
    # back and the run reverts first; once the manifest says "written" the files stay new.
    done = fault == "lock.before_release:1" or (fault.startswith("write.") and fault[-2:] == ":6")
    assert ended == ("new" if done else "old")
    exp = {n: file_sha256(app / n) for n in NAMES}
    commit(app, {A: NEW_A, B: NEW_B}, expected=exp, lock_timeout=0)
    assert state(app) == ("new", "new")
    assert not (app / LOCK_NAME).exists()


@pytest.mark.slow
@pytest.mark.parametrize("fault", points(RESTORE_COUNTS))
def test_sigint_during_restore(tmp_path: Path, fault: str) -> None:
    app = fresh_app(tmp_path)
    applied = commit(
        app, {A: NEW_A, B: NEW_B}, expected={A: sha256_bytes(OLD_A), B: sha256_bytes(OLD_B)}
    )
    assert applied.backup is not None
    code, out = signal_at(app, "restore", str(applied.backup.path), fault, signal.SIGINT)
    assert code == 0
    assert out == "interrupted\n"
    assert_all_or_nothing(app, ("old", "old"), "restore")
    restore(app, load_backup(applied.backup.path), allowed=NAMES, lock_timeout=0)
    assert state(app) == ("old", "old")
    assert not (app / LOCK_NAME).exists()


# The points where a signal used to leave the files mixed: between a replace and its folder
# fsync, and between the two files (SIGTERM and SIGHUP ended the process there at once).
CRITICAL = ("write.replaced:4", "write.dir_fsynced:4", "write.before_replace:5")


@pytest.mark.parametrize("fault", CRITICAL)
@pytest.mark.parametrize(
    "sig", [s for s in (signal.SIGTERM, getattr(signal, "SIGHUP", None), signal.SIGINT) if s]
)
def test_any_stop_signal_between_the_two_files_reverts_then_acts(
    tmp_path: Path, fault: str, sig: signal.Signals
) -> None:
    app = fresh_app(tmp_path)
    code, out = signal_at(app, "commit", "-", fault, sig)
    assert assert_all_or_nothing(app, ("new", "new"), "apply") == "old"
    (only,) = list_backups(app / "bindmgr-backups")
    assert only.state == REVERTED
    if sig is signal.SIGINT:
        assert (code, out) == (0, "interrupted\n")
    else:  # delivered again once the files were back: the process ends as the signal says
        assert code == -sig
        assert out == ""
    assert (app / A).read_bytes() == OLD_A
    assert (app / B).read_bytes() == OLD_B


def test_ctrl_c_between_the_files_of_bindmgr_apply_is_exit_130_and_all_old(tmp_path: Path) -> None:
    site = make_site(tmp_path / "site")
    plan = tmp_path / "plan.json"
    assert site.plan(plan, site.ips[:3]).code == 2
    before = site.files()
    proc = subprocess.Popen(
        [sys.executable, "-m", "bindmgr", "apply", str(plan)],
        env={**env(), "BINDMGR_FAULT": "write.replaced:4", "BINDMGR_FAULT_ACTION": "pause"},
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stderr is not None
    try:
        said = []
        for _ in range(10):  # apply's notes first (the plan's digest), then the pause
            ready, _, _ = select.select([proc.stderr], [], [], 30)
            assert ready, said
            said.append(proc.stderr.readline())
            if said[-1].startswith("bindmgr-fault:"):
                break
        assert said[-1] == "bindmgr-fault: paused at write.replaced\n", said
        proc.send_signal(signal.SIGINT)
        _out, err = proc.communicate("", timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait(timeout=30)
    assert proc.returncode == 130, err
    assert err.splitlines()[-2:] == [
        "error: interrupted",
        "hint: MDaemon's files are either as they were or fully written; docs/reliability.md",
    ]
    assert site.files() == before
    (only,) = list_backups(site.backups)
    assert only.state == REVERTED
