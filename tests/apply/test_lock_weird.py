"""Lock files bindmgr never writes: a folder in its place, impossible pids, times and start times.

Each is a LockError with a message (exit 1 from the command line) or, where the holder cannot be
a live bindmgr, the takeover an old unreadable lock gets; never a traceback, never a steal from a
process that may be alive.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from json import loads as json_loads
from pathlib import Path

import pytest

from bindmgr.apply.lock import LOCK_NAME, AppLock, read_lock
from bindmgr.errors import ExitCode, LockError
from tests.apply.test_lock import dead_pid, write_lock
from tests.support.apply import Site, cli, make_site
from tests.support.safety import is_root, run_as_nobody


def age(path: Path, seconds: float) -> None:
    then = time.time() - seconds
    os.utime(path, (then, then))


def test_a_folder_where_the_lock_file_goes_is_refused_and_left_alone(tmp_path: Path) -> None:
    (tmp_path / LOCK_NAME).mkdir()
    age(tmp_path / LOCK_NAME, 3600)
    with pytest.raises(LockError) as err:
        AppLock(tmp_path, command="x", timeout=0).acquire()
    assert err.value.exit_code is ExitCode.ERROR
    assert f"{tmp_path / LOCK_NAME} is a folder, not bindmgr's lock file" in err.value.message
    assert err.value.hint is not None
    assert "remove that folder" in err.value.hint
    assert (tmp_path / LOCK_NAME).is_dir()
    assert read_lock(tmp_path) is None


@pytest.mark.parametrize("pid", [-1, 0, 2**40, True, 12.5, "4242"])
def test_a_pid_no_process_can_have_counts_as_unreadable(tmp_path: Path, pid: object) -> None:
    path = write_lock(tmp_path, pid=pid)
    with pytest.raises(LockError, match="content unreadable"):
        AppLock(tmp_path, command="x", timeout=0).acquire()  # fresh: maybe still being written
    assert path.exists()
    age(path, 120)
    said: list[str] = []
    with AppLock(tmp_path, command="x", timeout=0, on_message=said.append):
        pass
    assert "unreadable" in said[0]
    assert "taking it over" in said[0]


@pytest.mark.parametrize("when", [1e300, float("nan"), float("inf"), -1e20])
def test_an_impossible_time_is_shown_not_fatal(tmp_path: Path, when: float) -> None:
    path = write_lock(tmp_path, time=when)  # held by this (live) process
    with pytest.raises(LockError) as err:
        AppLock(tmp_path, command="x", timeout=0).acquire()
    assert f"since an impossible time ({when!r})" in err.value.message
    assert path.exists()
    write_lock(tmp_path, time=when, pid=dead_pid(), create_time=None)
    said: list[str] = []
    with AppLock(tmp_path, command="x", timeout=0, on_message=said.append):
        pass
    assert "no longer running; taking it over" in said[0]
    assert "impossible time" in said[0]


@pytest.mark.parametrize("start", [float("nan"), float("inf"), "soon"])
def test_an_impossible_start_time_never_lets_a_live_holder_lose_its_lock(
    tmp_path: Path, start: object
) -> None:
    path = write_lock(tmp_path, create_time=start)
    age(path, 3600)
    with pytest.raises(LockError, match=f"pid {os.getpid()}"):
        AppLock(tmp_path, command="x", timeout=0).acquire()
    assert path.exists()


@pytest.mark.skipif(not is_root(), reason="starts a child that drops from root to nobody")
def test_an_unreadable_lock_file_is_a_message() -> None:
    folder = Path(tempfile.mkdtemp(prefix="bindmgr-test-", dir="/tmp"))
    try:
        folder.chmod(0o755)
        write_lock(folder).chmod(0o600)  # root's, and nobody may not read it
        out = run_as_nobody(
            "from bindmgr.apply.lock import AppLock\n"
            f"AppLock(Path({str(folder)!r}), command='x', timeout=0).acquire()"
        )
    finally:
        shutil.rmtree(folder)
    assert out.returncode == 0, out.stderr
    res = json_loads(out.stdout)
    assert res["type"] == "LockError"
    assert "cannot read the lock file" in res["msg"]
    assert "EACCES" in res["msg"]


def test_the_command_line_says_so_and_exits_1(tmp_path: Path) -> None:
    site: Site = make_site(tmp_path / "site")
    plan = tmp_path / "p.json"
    assert site.plan(plan, site.ips[:2]).code == 2
    (site.app / LOCK_NAME).mkdir()
    before = site.tree()
    done = cli("apply", str(plan), "--lock-timeout", "0")
    assert done.code == 1, done.text
    assert "Traceback" not in done.text
    assert "is a folder, not bindmgr's lock file" in done.err
    assert site.tree() == before
    (site.app / LOCK_NAME).rmdir()
    write_lock(site.app, pid=-1, time=float("nan"))
    age(site.app / LOCK_NAME, 120)
    done = cli("apply", str(plan), "--lock-timeout", "0")
    assert done.code == 0, done.text
    assert "taking it over" in done.err
