from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import psutil
import pytest

from bindmgr.apply.lock import LOCK_NAME, AppLock, read_lock
from bindmgr.errors import LockError
from tests.support.safety import env, read_only_bind


class FakeClock:
    """Monotonic clock that only moves when the lock sleeps."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        assert len(self.sleeps) < 10_000  # a lock that never gives up fails here
        self.sleeps.append(seconds)
        self.now += seconds


def write_lock(app: Path, **fields: object) -> Path:
    body = {
        "pid": os.getpid(),
        "host": socket.gethostname(),
        "time": time.time() - 120,
        "command": "bindmgr apply",
        "create_time": psutil.Process().create_time(),
        "token": "f" * 16,
    }
    body.update(fields)
    path = app / LOCK_NAME
    path.write_text(json.dumps(body))
    return path


def dead_pid() -> int:
    """The pid of a process that has exited and been reaped."""
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait(timeout=30)
    return proc.pid


def test_lock_file_says_who_and_is_removed(tmp_path: Path) -> None:
    with AppLock(tmp_path, command="bindmgr apply", timeout=0) as lock:
        d = json.loads((tmp_path / LOCK_NAME).read_text())
        assert d["pid"] == os.getpid()
        assert d["host"] == socket.gethostname()
        assert d["command"] == "bindmgr apply"
        assert abs(d["time"] - time.time()) < 60
        assert d["create_time"] == pytest.approx(psutil.Process().create_time())
        assert lock.still_held()
        info = read_lock(tmp_path)
        assert info is not None
        assert info.pid == os.getpid()
    assert not (tmp_path / LOCK_NAME).exists()
    assert read_lock(tmp_path) is None
    assert not LOCK_NAME.upper().endswith(".SEM")


def test_second_holder_waits_bounded_then_names_the_holder(tmp_path: Path) -> None:
    fake = FakeClock()
    with AppLock(tmp_path, command="bindmgr apply --plan p.json", timeout=0):
        waiter = AppLock(
            tmp_path,
            command="bindmgr rollback",
            timeout=2.0,
            poll=0.25,
            clock=fake.clock,
            sleep=fake.sleep,
        )
        with pytest.raises(LockError) as err:
            waiter.acquire()
    msg = str(err.value)
    assert f"pid {os.getpid()}" in msg
    assert socket.gethostname() in msg
    assert "'bindmgr apply --plan p.json'" in msg
    assert "since" in msg
    assert "UTC" in msg
    assert "waited 2 s" in msg
    assert str(tmp_path / LOCK_NAME) in msg
    assert sum(fake.sleeps) == pytest.approx(2.0)
    assert len(fake.sleeps) == 8


def test_zero_timeout_does_not_sleep(tmp_path: Path) -> None:
    fake = FakeClock()
    write_lock(tmp_path)
    with pytest.raises(LockError):
        AppLock(tmp_path, command="x", timeout=0, clock=fake.clock, sleep=fake.sleep).acquire()
    assert fake.sleeps == []


def test_waiter_gets_the_lock_once_it_is_released(tmp_path: Path) -> None:
    path = write_lock(tmp_path)
    fake = FakeClock()

    def sleep(seconds: float) -> None:
        fake.sleep(seconds)
        if len(fake.sleeps) == 3:
            path.unlink()  # the holder finishes

    with AppLock(tmp_path, command="x", timeout=10, poll=0.5, clock=fake.clock, sleep=sleep):
        assert len(fake.sleeps) == 3


def test_lock_of_a_dead_process_is_taken_over(tmp_path: Path) -> None:
    write_lock(tmp_path, pid=dead_pid(), create_time=None)
    said: list[str] = []
    with AppLock(tmp_path, command="bindmgr apply", timeout=0, on_message=said.append) as lock:
        assert lock.still_held()
    assert len(said) == 1
    assert "no longer running; taking it over" in said[0]
    assert not list(tmp_path.glob("*.break"))


def test_reused_pid_is_recognised_by_its_start_time(tmp_path: Path) -> None:
    # Our own pid is alive, but started later than the lock's holder: a reused pid.
    write_lock(tmp_path, create_time=psutil.Process().create_time() - 3600)
    said: list[str] = []
    with AppLock(tmp_path, command="x", timeout=0, on_message=said.append):
        pass
    assert "taking it over" in said[0]


def test_lock_from_another_host_is_never_stolen(tmp_path: Path) -> None:
    path = write_lock(tmp_path, host="mail-other", pid=dead_pid())
    before = path.read_bytes()
    with pytest.raises(LockError) as err:
        AppLock(tmp_path, command="x", timeout=0).acquire()
    msg = str(err.value)
    assert "host mail-other" in msg
    assert "another host" in msg
    assert "does not take" in msg
    assert "delete" in msg
    assert str(path) in msg
    assert path.read_bytes() == before


def test_unreadable_lock_waits_while_fresh_and_is_taken_over_when_old(tmp_path: Path) -> None:
    path = tmp_path / LOCK_NAME
    path.write_bytes(b"")
    with pytest.raises(LockError, match="content unreadable"):
        AppLock(tmp_path, command="x", timeout=0).acquire()
    old = time.time() - 120
    os.utime(path, (old, old))
    said: list[str] = []
    with AppLock(tmp_path, command="x", timeout=0, on_message=said.append):
        pass
    assert "unreadable" in said[0]
    assert "taking it over" in said[0]


def test_release_never_deletes_someone_elses_lock(tmp_path: Path) -> None:
    said: list[str] = []
    lock = AppLock(tmp_path, command="x", timeout=0, on_message=said.append)
    lock.acquire()
    path = write_lock(tmp_path, token="0" * 16)
    assert not lock.still_held()
    lock.release()
    assert path.exists()
    assert "no longer ours" in said[0]


def test_abandoned_break_marker_expires(tmp_path: Path) -> None:
    write_lock(tmp_path, pid=dead_pid(), create_time=None)
    # A breaker killed mid-takeover left markers for every possible identity: simulate with an
    # old marker for the lock's actual identity.
    lock = AppLock(tmp_path, command="x", timeout=0)
    _raw, ident = lock._read_raw()
    marker = tmp_path / f"{LOCK_NAME}.{ident}.break"
    marker.write_bytes(b"")
    old = time.time() - 120
    os.utime(marker, (old, old))
    with AppLock(tmp_path, command="x", timeout=0):
        pass
    assert not marker.exists()


RACER = """
import os, sys, time
from pathlib import Path
from bindmgr.apply.lock import AppLock
app = Path(sys.argv[1])
collisions = 0
time.sleep(max(0.0, float(sys.argv[3]) - time.time()))  # all start together: they race to break
for _ in range(int(sys.argv[2])):
    with AppLock(app, command="racer", timeout=60, poll=0.005):
        try:
            fd = os.open(app / "holder", os.O_CREAT | os.O_EXCL | os.O_WRONLY)
            os.close(fd)
        except FileExistsError:
            collisions += 1
            continue
        time.sleep(0.002)
        os.unlink(app / "holder")
print(collisions)
"""


# Fewer rounds on Windows: there (and ten times over under Wine) every process start and file
# operation is slower, and the race is the takeover at the start.
ROUNDS = "6" if sys.platform == "win32" else "15"


def test_racing_takeovers_of_a_stale_lock_never_give_two_holders(tmp_path: Path) -> None:
    write_lock(tmp_path, pid=dead_pid(), create_time=None)
    start = str(time.time() + 1.5)
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", RACER, str(tmp_path), ROUNDS, start],
            env=env(),
            stdout=subprocess.PIPE,
            text=True,
        )
        for _ in range(8)
    ]
    try:
        outs = [p.communicate(timeout=120)[0] for p in procs]
    finally:
        for p in procs:
            p.kill()
            p.wait()
    assert [p.returncode for p in procs] == [0] * 8
    assert [int(o) for o in outs] == [0] * 8
    assert sorted(os.listdir(tmp_path)) == []


def test_a_lock_that_cannot_be_removed_is_said_never_raised(tmp_path: Path) -> None:
    """The work under the lock is done by then: a leftover lock is the next run's takeover."""
    app = tmp_path / "App"
    app.mkdir()
    said: list[str] = []
    lock = AppLock(app, command="bindmgr apply", timeout=0, on_message=said.append)
    lock.acquire()
    with read_only_bind(app, app):  # the folder turns read-only under the holder (EROFS)
        lock.release()
    assert len(said) == 1
    assert f"could not remove the lock file {app / LOCK_NAME}" in said[0]
    assert "the next bindmgr takes it over once this process has exited" in said[0]
    assert read_lock(app) is not None
    (app / LOCK_NAME).unlink()


windows_sharing = pytest.mark.skipif(
    sys.platform != "win32", reason="only Windows refuses to delete a file that is open"
)


@windows_sharing
def test_release_waits_out_a_reader_that_does_not_share_delete(tmp_path: Path) -> None:
    """Python's open() shares no delete: another bindmgr reading the lock blocks its removal."""
    said: list[str] = []
    lock = AppLock(tmp_path, command="bindmgr apply", timeout=0, on_message=said.append)
    lock.acquire()
    reader = open(tmp_path / LOCK_NAME, "rb")  # noqa: SIM115 - closed by the timer below
    closer = threading.Timer(0.3, reader.close)
    closer.start()
    try:
        lock.release()
    finally:
        closer.join(timeout=10)
        reader.close()
    assert said == []
    assert not (tmp_path / LOCK_NAME).exists()


@windows_sharing
def test_release_outlasted_by_a_reader_leaves_the_lock_and_says_so(tmp_path: Path) -> None:
    said: list[str] = []
    lock = AppLock(tmp_path, command="bindmgr apply", timeout=0, on_message=said.append)
    lock.acquire()
    with open(tmp_path / LOCK_NAME, "rb"):
        lock.release()
    assert len(said) == 1
    assert "could not remove the lock file" in said[0]
    (tmp_path / LOCK_NAME).unlink()
