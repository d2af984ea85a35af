"""Crash and load tests: SIGKILL at every fault point of commit and restore, and ten processes
applying at once. Real processes, real files; every process started here is waited for."""

from __future__ import annotations

import itertools
import json
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from bindmgr.apply import faultpoint
from bindmgr.apply.backup import list_backups, load_backup
from bindmgr.apply.lock import LOCK_NAME
from bindmgr.apply.safewrite import file_sha256
from bindmgr.apply.transaction import commit, restore
from bindmgr.model import sha256_bytes
from tests.support.safety import NEW_A, NEW_B, OLD_A, OLD_B, env, leftovers

pytestmark = pytest.mark.skipif(
    sys.platform == "win32",
    reason="SIGKILL is POSIX; Windows' kill (os._exit(137)) is tested through the CLI "
    "(tests/commands/test_apply_faults_cli.py)",
)

A, B = "MDaemon.ini", "Domains.dat"
NAMES = (A, B)
REPEATS = 5

# Every step the write path reaches, and how often, for a two-file commit and its restore.
# test_fault_points_are_all_enumerated keeps these tables equal to what the code really does.
WRITE_STEPS = (
    "write.temp_written",
    "write.fsynced",
    "write.before_replace",
    "write.replaced",
    "write.dir_fsynced",
)
COMMIT_COUNTS = {
    "lock.acquired": 1,
    "backup.copied": 2,
    "backup.manifest": 1,
    "commit.verified": 1,
    "lock.before_release": 1,
} | dict.fromkeys(WRITE_STEPS, 6)
RESTORE_COUNTS = {"restore.start": 1, "restore.checked": 1} | COMMIT_COUNTS


def points(counts: dict[str, int]) -> list[str]:
    return [f"{step}:{n}" for step, total in counts.items() for n in range(1, total + 1)]


DRIVER = """
import sys
from pathlib import Path
from bindmgr.apply import transaction
from bindmgr.apply.backup import load_backup
from bindmgr.model import sha256_bytes
app, mode, arg = Path(sys.argv[1]), sys.argv[2], sys.argv[3]
names = ("MDaemon.ini", "Domains.dat")
if mode == "commit":
    new = {"MDaemon.ini": (app.parent / "new_a").read_bytes(),
           "Domains.dat": (app.parent / "new_b").read_bytes()}
    exp = {n: sha256_bytes((app / n).read_bytes()) for n in new}
    transaction.commit(app, new, expected=exp, lock_timeout=5, meta={"driver": 1})
else:
    transaction.restore(app, load_backup(Path(arg)), allowed=names, lock_timeout=5)
print("finished")
"""


def fresh_app(where: Path) -> Path:
    app = where / "App"
    app.mkdir(parents=True)
    (app / A).write_bytes(OLD_A)
    (app / B).write_bytes(OLD_B)
    (where / "new_a").write_bytes(NEW_A)
    (where / "new_b").write_bytes(NEW_B)
    return app


def run_drivers(apps: list[Path], mode: str, args: list[str], fault: str) -> list[int]:
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", DRIVER, str(app), mode, arg],
            env={**env(), "BINDMGR_FAULT": fault},
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for app, arg in zip(apps, args, strict=True)
    ]
    try:
        for p in procs:
            _out, err = p.communicate(timeout=60)
            assert p.returncode == -signal.SIGKILL, (fault, p.returncode, err)
    finally:
        for p in procs:
            p.kill()
            p.wait()
    return [p.returncode for p in procs]


def state(app: Path) -> tuple[str, str]:
    """'old' or 'new' for each file; anything else (a torn or mixed file) fails the test."""
    names = {
        sha256_bytes(OLD_A): "old",
        sha256_bytes(NEW_A): "new",
        sha256_bytes(OLD_B): "old",
        sha256_bytes(NEW_B): "new",
    }
    a, b = file_sha256(app / A), file_sha256(app / B)
    assert a in names, f"{app / A} is neither the old nor the new version"
    assert b in names, f"{app / B} is neither the old nor the new version"
    assert (app / A).read_bytes() in (OLD_A, NEW_A)
    assert (app / B).read_bytes() in (OLD_B, NEW_B)
    return names[a], names[b]


def test_fault_points_are_all_enumerated(tmp_path: Path) -> None:
    app = fresh_app(tmp_path)
    faultpoint.reset()
    res = commit(
        app,
        {A: NEW_A, B: NEW_B},
        expected={A: sha256_bytes(OLD_A), B: sha256_bytes(OLD_B)},
        lock_timeout=0,
    )
    assert faultpoint.counts() == COMMIT_COUNTS
    assert res.backup is not None
    faultpoint.reset()
    restore(app, res.backup, allowed=NAMES, lock_timeout=0)
    assert faultpoint.counts() == RESTORE_COUNTS
    assert len(points(COMMIT_COUNTS)) == 36
    assert len(points(RESTORE_COUNTS)) == 38


@pytest.mark.slow
@pytest.mark.parametrize("fault", points(COMMIT_COUNTS))
def test_kill_during_commit(tmp_path: Path, fault: str) -> None:
    apps = [fresh_app(tmp_path / f"run{i}") for i in range(REPEATS)]
    run_drivers(apps, "commit", ["-"] * REPEATS, fault)
    for app in apps:
        a, b = state(app)
        found = list_backups(app / "bindmgr-backups")
        if "new" in (a, b):  # new bytes in place: a complete backup of the old ones exists
            assert found, f"{fault}: new version in place without a backup"
            assert found[0].read_old(A) == OLD_A
            assert found[0].read_old(B) == OLD_B
        said: list[str] = []
        if "new" in (a, b):  # roll the interrupted apply back, taking over the dead lock
            restore(app, found[0], allowed=NAMES, lock_timeout=0, on_message=said.append)
            assert state(app) == ("old", "old")
        exp = {A: file_sha256(app / A), B: file_sha256(app / B)}
        commit(app, {A: NEW_A, B: NEW_B}, expected=exp, lock_timeout=0, on_message=said.append)
        assert state(app) == ("new", "new")
        assert "taking it over" in said[0]  # the killed process's lock
        assert not (app / LOCK_NAME).exists()
        assert leftovers(app) == []


@pytest.mark.slow
@pytest.mark.parametrize("fault", points(RESTORE_COUNTS))
def test_kill_during_restore(tmp_path: Path, fault: str) -> None:
    apps = [fresh_app(tmp_path / f"run{i}") for i in range(REPEATS)]
    applied = []
    for app in apps:
        res = commit(
            app,
            {A: NEW_A, B: NEW_B},
            expected={A: sha256_bytes(OLD_A), B: sha256_bytes(OLD_B)},
            lock_timeout=0,
        )
        assert res.backup is not None
        applied.append(res.backup.path)
    run_drivers(apps, "restore", [str(p) for p in applied], fault)
    for app, backup_path in zip(apps, applied, strict=True):
        a, b = state(app)
        if "old" in (a, b):  # restored bytes in place: the restore's own backup exists
            newest = list_backups(app / "bindmgr-backups")[0]
            assert newest.kind == "restore"
            assert newest.read_old(A) == NEW_A
            assert newest.read_old(B) == NEW_B
        said: list[str] = []
        restore(
            app, load_backup(backup_path), allowed=NAMES, lock_timeout=0, on_message=said.append
        )
        assert state(app) == ("old", "old")
        if fault != "restore.start:1":  # killed before taking the lock: nothing to take over
            assert "taking it over" in said[0]
        assert not (app / LOCK_NAME).exists()
        assert leftovers(app) == []


CONTENDER = """
import json, sys, time
from pathlib import Path
from bindmgr import errors
from bindmgr.apply import transaction
from bindmgr.model import sha256_bytes
app, me, start, retry = Path(sys.argv[1]), sys.argv[2], float(sys.argv[3]), sys.argv[4] == "1"
names = ("MDaemon.ini", "Domains.dat")
def plan(folder):
    old = {n: (folder / n).read_bytes() for n in names}
    new = {n: old[n] + f"Writer{me}=yes\\r\\n".encode() for n in names}
    return new, {n: sha256_bytes(old[n]) for n in names}
new, exp = plan(app.parent / "initial")  # every process plans against the same initial files
time.sleep(max(0.0, start - time.time()))
outcome, attempts = "stale", 0
for attempts in range(1, 101):
    try:
        transaction.commit(app, new, expected=exp, lock_timeout=60, keep=100)
        outcome = "ok"
        break
    except errors.StalePlanError:
        if not retry:
            break
        new, exp = plan(app)  # re-read, re-hash, re-plan
print(json.dumps({"me": me, "outcome": outcome, "attempts": attempts}))
"""


def contend(app: Path, retry: bool, n: int = 10) -> list[dict[str, object]]:
    initial = app.parent / "initial"
    initial.mkdir()
    for name in (A, B):
        (initial / name).write_bytes((app / name).read_bytes())
    start = str(time.time() + 2.0)
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", CONTENDER, str(app), str(i), start, "1" if retry else "0"],
            env=env(),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for i in range(n)
    ]
    results = []
    try:
        for p in procs:
            out, err = p.communicate(timeout=120)
            assert p.returncode == 0, err
            results.append(json.loads(out))
    finally:
        for p in procs:
            p.kill()
            p.wait()
    return results


def lines(data: bytes, old: bytes) -> list[bytes]:
    assert data.startswith(old), "the original content was lost"
    return data[len(old) :].splitlines()


def test_ten_concurrent_applies_one_wins(tmp_path: Path) -> None:
    app = fresh_app(tmp_path)
    results = contend(app, retry=False)
    winners = [r["me"] for r in results if r["outcome"] == "ok"]
    assert len(winners) == 1
    assert sum(r["outcome"] == "stale" for r in results) == 9
    line = f"Writer{winners[0]}=yes".encode()
    assert lines((app / A).read_bytes(), OLD_A) == [line]  # both files: the same winner
    assert lines((app / B).read_bytes(), OLD_B) == [line]
    (only,) = list_backups(app / "bindmgr-backups")
    assert only.read_old(A) == OLD_A
    assert not (app / LOCK_NAME).exists()


def test_ten_concurrent_applies_that_replan_all_land(tmp_path: Path) -> None:
    app = fresh_app(tmp_path)
    results = contend(app, retry=True)
    assert [r["outcome"] for r in results] == ["ok"] * 10
    want = sorted(f"Writer{i}=yes".encode() for i in range(10))
    got_a = lines((app / A).read_bytes(), OLD_A)
    got_b = lines((app / B).read_bytes(), OLD_B)
    assert sorted(got_a) == want  # none lost, none twice
    assert got_b == got_a  # the same order in both files: never half-applied
    chain = list(reversed(list_backups(app / "bindmgr-backups")))
    assert len(chain) == 10
    for before, after in itertools.pairwise(chain):
        assert before.file(A).new_sha256 == after.file(A).old_sha256
    assert chain[-1].file(A).new_sha256 == file_sha256(app / A)
    assert sum(int(str(r["attempts"])) for r in results) >= 10


def test_an_installed_bindmgr_ignores_the_fault_variable(tmp_path: Path) -> None:
    """Only a source tree arms the fault points: a copy of the package without the project
    around it, as pip installs it, must write through a BINDMGR_FAULT that names a step."""
    site = tmp_path / "site-packages"
    shutil.copytree(Path(faultpoint.__file__).resolve().parents[1], site / "bindmgr")
    app = fresh_app(tmp_path / "x")
    code = (
        "import sys\nfrom bindmgr.apply import faultpoint\n"
        "assert not faultpoint.ARMED\n" + DRIVER.split("import sys", 1)[1]
    )
    child = dict(env(), PYTHONPATH=str(site), BINDMGR_FAULT="write.replaced")
    done = subprocess.run(
        [sys.executable, "-c", code, str(app), "commit", "-"],
        env=child, cwd=tmp_path, capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert (done.returncode, done.stdout.strip()) == (0, "finished"), done.stderr
    assert faultpoint.ARMED  # and this checkout's is armed, or the kill tests would test nothing
