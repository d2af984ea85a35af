"""SIGKILL at every fault point of `bindmgr apply`'s write path, through the CLI in a child process.

After each kill every file holds either its old or its new bytes (never a mix), a backup with the
old bytes exists whenever a new version is in place, and the next bindmgr takes the dead
process's lock over and recovers: by rollback to the killed run's backup, or by a new plan.
"""

from __future__ import annotations

import shutil
import signal
import sys
from pathlib import Path

import pytest

from bindmgr.apply import faultpoint
from bindmgr.apply.backup import BACKED_UP, list_backups
from bindmgr.apply.lock import LOCK_NAME
from tests.support.apply import FILES, Run, Site, cli, cli_proc, make_site

# Every step `apply` reaches, in the order it reaches them first; the counts are enumerated
# from a real run below, so a new step in the write path fails test_every_step_is_covered.
STEPS = (
    "lock.acquired",
    "write.temp_written",
    "write.fsynced",
    "write.before_replace",
    "write.replaced",
    "write.dir_fsynced",
    "backup.copied",
    "backup.manifest",
    "commit.verified",
    "lock.before_release",
)
AT_LEAST = 3  # kills per step: every time it is reached, and its first time again up to this
# Windows kills each write step only where it writes an App file: the 4th and 5th replace (the
# two backup copies and the manifest come first; test_every_step_is_covered pins the 6).
WRITE_STEPS = {s for s in STEPS if s.startswith("write.")}
APP_FILE_WRITES = (4, 5)
TAKEOVER = "which is no longer running; taking it over"


def apply_plan_of(site: Site, where: Path, n_ips: int = 3) -> Path:
    plan = where / "plan.json"
    made = site.plan(plan, site.ips[:n_ips])
    assert made.code == 2, made.text
    return plan


@pytest.fixture(scope="module")
def reached(tmp_path_factory: pytest.TempPathFactory) -> dict[str, int]:
    """How many times one apply of the test plan reaches each fault point."""
    where = tmp_path_factory.mktemp("enumerate")
    site = make_site(where / "site")
    plan = apply_plan_of(site, where)
    faultpoint.reset()
    try:
        done = cli("apply", str(plan))
        counts = faultpoint.counts()
    finally:
        faultpoint.reset()
    assert done.code == 0, done.text
    return counts


def test_every_step_is_covered(reached: dict[str, int]) -> None:
    assert set(reached) == set(STEPS)
    # 2 backup copies + the manifest + 2 INI files + the manifest marked "written"
    assert reached["write.replaced"] == 6


def new_versions(site: Site, plan: Path, where: Path) -> dict[str, bytes]:
    """The files as the plan leaves them: the same plan applied to an untouched copy."""
    shutil.copytree(site.mdaemon, where)
    done = cli("apply", str(plan), "--app-dir", str(where / "App"), "--allow-elsewhere")
    assert done.code == 0, done.text
    return {rel: (where / rel).read_bytes() for rel in FILES}


def assert_old_or_new(site: Site, old: dict[str, bytes], new: dict[str, bytes]) -> None:
    now = site.files()
    for rel in FILES:
        assert now[rel] in (old[rel], new[rel]), f"{rel} is neither the old nor the new version"
    backups = list_backups(site.backups)
    for rel in FILES:
        if now[rel] != old[rel]:
            name = rel.removeprefix("App/")
            assert any(b.read_old(name) == old[rel] for b in backups), f"no backup of {rel}"


# How the fault point's kill shows: SIGKILL on POSIX; Windows has none, so faultpoint._die ends
# the process with os._exit(137), skipping every finally and flush, as a kill would.
KILLED = -signal.SIGKILL if hasattr(signal, "SIGKILL") else 137


def kill_and_recover(where: Path, step: str, nth: int, via_rollback: bool) -> None:
    site = make_site(where / "site")
    plan = apply_plan_of(site, where)
    old = site.files()
    new = new_versions(site, plan, where / "reference")
    assert all(new[rel] != old[rel] for rel in FILES[:2])

    killed = cli_proc("apply", str(plan), extra_env={faultpoint.ENV_VAR: f"{step}:{nth}"})

    assert killed.code == KILLED, killed.text
    assert (site.app / LOCK_NAME).exists()  # the dead process's lock stays behind
    assert_old_or_new(site, old, new)

    backups = list_backups(site.backups)
    lockers: list[Run] = []  # the runs that took the App folder's lock, in order
    if backups and (via_rollback or site.files() == new):
        [mine] = backups
        back = cli("rollback", "--app-dir", str(site.app), "--to", mine.path.name)
        assert back.code == 0, back.text
        if mine.state == BACKED_UP:
            assert "was interrupted" in back.err
        lockers.append(back)
        assert site.files() == old
    replan = site.plan(where / "replan.json", site.ips[:3])
    assert replan.code == 2, replan.text
    done = cli("apply", str(where / "replan.json"))
    assert done.code == 0, done.text
    lockers.append(done)

    assert site.files() == new
    assert TAKEOVER in lockers[0].err
    assert all(TAKEOVER not in run.err for run in lockers[1:])
    assert not (site.app / LOCK_NAME).exists()
    assert not site.leftover_temps()
    folders = sorted(p.name for p in site.backups.iterdir())
    assert folders == sorted(b.path.name for b in list_backups(site.backups))


@pytest.mark.slow
@pytest.mark.parametrize("step", STEPS)
def test_sigkill_at_every_step_leaves_old_or_new_and_recovers(
    tmp_path: Path, reached: dict[str, int], step: str
) -> None:
    runs = list(range(1, reached[step] + 1))
    runs += [1] * (AT_LEAST - len(runs))
    if sys.platform == "win32":  # a child process takes seconds under Wine: the App files only
        runs = [n for n in APP_FILE_WRITES if n <= reached[step]] if step in WRITE_STEPS else [1]
    for k, nth in enumerate(runs):
        kill_and_recover(tmp_path / f"run{k}", step, nth, via_rollback=k % 2 == 0)
