"""One lock per App folder: `bindmgr.apply.lock`, created exclusively, holding who took it and when.

Waits a bounded time for another holder, takes over a lock whose process is dead on this host,
never steals one from another host. It locks only bindmgr against bindmgr (MDaemon ignores it).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import errno
import hashlib
import json
import math
import os
import secrets
import socket
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import TypeVar

import psutil

from bindmgr.apply import faultpoint
from bindmgr.errors import LockError, WriteError

LOCK_NAME = "bindmgr.apply.lock"  # never *.SEM: MDaemon acts on semaphore files in \App\
UNREADABLE_GRACE = 30.0  # seconds an empty/garbled lock file is given before it counts as stale

# Windows: a file that another process has open without FILE_SHARE_DELETE cannot be deleted
# (ERROR_SHARING_VIOLATION, 32), and a deleted file whose last handle is still open cannot be
# opened or created until it closes (ERROR_ACCESS_DENIED, 5: "delete pending"). Between bindmgr
# processes that lasts one read of the lock file (this module reads it sharing delete), so
# those errors are retried for up to TRANSIENT_RETRY seconds.
TRANSIENT_WINERRORS = (5, 32)
TRANSIENT_RETRY = 2.0

Clock = Callable[[], float]
_T = TypeVar("_T")
Sleep = Callable[[float], None]
Message = Callable[[str], None]


@dataclass(frozen=True, slots=True)
class LockInfo:
    """What a lock file says: the holder's pid (and its start time), host, time and command."""

    pid: int
    host: str
    time: float  # epoch seconds when the lock was taken
    command: str
    create_time: float | None  # the holder's process start time (pid-reuse check)
    token: str  # random, tells this holder's lock file from a later one

    def describe(self) -> str:
        try:
            stamp = dt.datetime.fromtimestamp(self.time, dt.UTC)
            when = stamp.strftime("%Y-%m-%d %H:%M:%S UTC")
        except (OverflowError, ValueError, OSError):  # NaN, 1e300: only shown, never trusted
            when = f"an impossible time ({self.time!r})"
        return f"'{self.command}' (pid {self.pid} on host {self.host}) since {when}"


def _process_alive(pid: int, create_time: float | None) -> bool:
    """Is `pid` on this host still the process that took the lock?"""
    try:
        proc = psutil.Process(pid)
        if proc.status() == psutil.STATUS_ZOMBIE:
            return False
        return create_time is None or abs(proc.create_time() - create_time) < 1.0
    except psutil.NoSuchProcess:
        return False
    except psutil.AccessDenied:  # cannot look: assume it is alive (never steal on a guess)
        return True


def _own_create_time() -> float | None:
    try:
        return psutil.Process(os.getpid()).create_time()
    except psutil.Error:  # pragma: no cover - psutil can always see its own process
        return None


class AppLock:
    """Context manager holding `<app_dir>/bindmgr.apply.lock`.

    `timeout`: seconds to wait for another holder (0 = do not wait). `poll`: seconds between
    looks. `clock`/`sleep`/`hostname` are seams (tests pass a fake clock that `sleep` advances).
    `on_message` hears about locks taken over from dead processes.
    """

    def __init__(
        self,
        app_dir: Path,
        *,
        command: str,
        timeout: float,
        poll: float = 0.1,
        on_message: Message | None = None,
        clock: Clock = time.monotonic,
        sleep: Sleep = time.sleep,
        hostname: str | None = None,
    ) -> None:
        self.path = Path(app_dir) / LOCK_NAME
        self.command = command
        self.timeout = max(0.0, timeout)
        self.poll = max(0.001, poll)
        self._say = on_message or (lambda _msg: None)
        self._clock = clock
        self._sleep = sleep
        self.host = hostname if hostname is not None else socket.gethostname()
        self.info: LockInfo | None = None

    def __enter__(self) -> AppLock:
        self.acquire()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.release()

    def acquire(self) -> LockInfo:
        """Take the lock, waiting up to `timeout` seconds; LockError says who holds it."""
        deadline = self._clock() + self.timeout
        while True:
            info = self._try_create()
            if info is not None:
                self.info = info
                return info
            raw, ident = self._read_raw()
            if raw is not None and self._stale(raw):
                self._break(ident)
                continue
            if self._clock() >= deadline:
                raise self._busy_error(raw)
            self._sleep(min(self.poll, max(0.0, deadline - self._clock())))

    def release(self) -> None:
        """Delete the lock file if it is still ours (never someone else's)."""
        info, self.info = self.info, None
        if info is None:
            return
        faultpoint.reached("lock.before_release")
        try:  # the work is done: a lock that cannot be removed is said, never a failure
            raw, _ident = self._read_raw()
            held = _parse(raw) if raw is not None else None
            if held is None or held.token != info.token:
                self._say(f"the lock {self.path} is no longer ours (now {raw!r}); left it as it is")
                return
            _retry_transient(lambda: _unlink_if_there(self.path))
        except (OSError, LockError) as exc:
            self._say(
                f"could not remove the lock file {self.path} ({exc}); the next bindmgr takes it "
                "over once this process has exited"
            )

    def still_held(self) -> bool:
        """True when the lock file still carries this holder's token."""
        raw, _ident = self._read_raw()
        held = _parse(raw) if raw is not None else None
        return self.info is not None and held is not None and held.token == self.info.token

    # -- internals ---------------------------------------------------------------------------

    def _try_create(self) -> LockInfo | None:
        info = LockInfo(
            pid=os.getpid(),
            host=self.host,
            time=time.time(),
            command=self.command,
            create_time=_own_create_time(),
            token=secrets.token_hex(8),
        )
        body = json.dumps(
            {
                "pid": info.pid,
                "host": info.host,
                "time": info.time,
                "command": info.command,
                "create_time": info.create_time,
                "token": info.token,
            }
        ).encode()
        # O_CREAT|O_EXCL is CREATE_NEW on Windows: exclusive there too. The file is closed at
        # once; a lock file deleted while a reader still has it open refuses the create for
        # that moment on Windows (see TRANSIENT_WINERRORS).
        try:
            fd = _retry_transient(
                lambda: os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
            )
        except FileExistsError:
            return None
        except OSError as exc:
            raise self._cannot_create(exc) from exc
        try:
            try:
                os.write(fd, body)
                os.fsync(fd)
            finally:
                os.close(fd)
        except OSError as exc:  # e.g. a full disk: leave no empty lock file behind
            with contextlib.suppress(OSError):
                os.unlink(self.path)
            raise self._cannot_create(exc) from exc
        faultpoint.reached("lock.acquired")
        return info

    def _cannot_create(self, exc: OSError) -> WriteError:
        code = errno.errorcode.get(exc.errno or 0, str(exc.errno))
        return WriteError(
            f"cannot create the lock file {self.path}: {exc.strerror or exc} [{code}]; nothing "
            "was changed, the originals are intact",
            hint="make the App folder writable for this user (Administrator on Windows), free "
            "disk space if it is full, and rerun",
        )

    def _read_raw(self) -> tuple[bytes | None, str]:
        """The lock file's bytes and an identity (bytes + inode + mtime) for the takeover."""
        try:
            raw, st = _retry_transient(lambda: _read_sharing_delete(self.path))
        except FileNotFoundError:
            return None, ""
        except OSError as exc:
            raise self._unusable(exc) from exc
        ident = hashlib.sha256(raw + f"|{st.st_ino}|{st.st_mtime_ns}".encode()).hexdigest()
        return raw, ident[:16]

    def _stale(self, raw: bytes) -> bool:
        info = _parse(raw)
        if info is None:  # being written right now, or its writer died mid-write
            try:
                age = time.time() - os.stat(self.path).st_mtime
            except FileNotFoundError:
                return False
            if age < UNREADABLE_GRACE:
                return False
            self._say(
                f"the lock file {self.path} is unreadable ({raw[:60]!r}) and {age:.0f} s "
                "old; taking it over"
            )
            return True
        if info.host != self.host:
            return False  # cannot see processes on another host: never steal
        if _process_alive(info.pid, info.create_time):
            return False
        self._say(
            f"the lock {self.path} was left by {info.describe()}, which is no longer running; "
            "taking it over"
        )
        return True

    def _break(self, ident: str) -> None:
        """Remove the stale lock file `ident`, racing safely with other processes doing so.

        Only the process that creates `bindmgr.lock.<ident>.break` (exclusively) may delete the
        lock, and only if the lock file is still `ident`: a slower breaker that saw the same stale
        lock finds a new identity and leaves the new holder's file alone.
        """
        marker = self.path.with_name(f"{LOCK_NAME}.{ident}.break")
        try:
            fd = os.open(marker, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
        except FileExistsError:
            with contextlib.suppress(OSError):
                # A breaker killed within these few lines leaves its marker; it expires.
                if time.time() - os.stat(marker).st_mtime > UNREADABLE_GRACE:
                    os.unlink(marker)
            return
        try:
            os.close(fd)
            _raw, now = self._read_raw()
            if now == ident:  # a delete still refused after the retries: the caller looks again
                with contextlib.suppress(OSError):
                    _retry_transient(lambda: _unlink_if_there(self.path))
        finally:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(marker)

    def _unusable(self, exc: OSError) -> LockError:
        # A folder (IsADirectoryError on POSIX, PermissionError on Windows) is never removed:
        # bindmgr deletes only lock files it can read as its own.
        if self.path.is_dir():
            return LockError(
                f"{self.path} is a folder, not bindmgr's lock file; nothing was changed",
                hint="if no bindmgr is running, remove that folder and rerun",
            )
        code = errno.errorcode.get(exc.errno or 0, str(exc.errno))
        return LockError(
            f"cannot read the lock file {self.path}: {exc.strerror or exc} [{code}]; nothing "
            "was changed",
            hint="run bindmgr as the account that runs it normally (Administrator/root), or "
            f"if no bindmgr is running, delete {self.path} and rerun",
        )

    def _busy_error(self, raw: bytes | None) -> LockError:
        info = _parse(raw) if raw is not None else None
        waited = f"waited {self.timeout:g} s"
        if info is None:
            return LockError(
                f"the App folder is locked by {self.path} (content unreadable: {raw!r}); {waited}",
                hint=f"if no bindmgr is running, delete {self.path} and rerun",
            )
        if info.host != self.host:
            return LockError(
                f"the App folder is locked by {info.describe()}, another host; bindmgr cannot "
                f"check processes there and does not take the lock over; {waited}",
                hint=f"wait for it to finish; if no bindmgr runs on {info.host}, delete "
                f"{self.path} and rerun",
            )
        return LockError(
            f"the App folder is locked by {info.describe()}; {waited}",
            hint=f"wait for it to finish and rerun (or pass a longer lock timeout); if that "
            f"process is not bindmgr, delete {self.path}",
        )


MAX_PID = 2**32  # Windows pids are DWORDs; Linux's pid_max is at most 2**22


def _retry_transient(action: Callable[[], _T]) -> _T:
    """`action()`, again while Windows reports a transient sharing conflict (bounded)."""
    deadline = time.monotonic() + TRANSIENT_RETRY
    while True:
        try:
            return action()
        except OSError as exc:
            transient = sys.platform == "win32" and getattr(exc, "winerror", None) in (
                TRANSIENT_WINERRORS
            )
            if not transient or time.monotonic() >= deadline:
                raise
        time.sleep(0.01)


def _unlink_if_there(path: Path) -> None:
    with contextlib.suppress(FileNotFoundError):
        os.unlink(path)


def _read_sharing_delete(path: Path) -> tuple[bytes, os.stat_result]:
    """A file's bytes and stat. On Windows it is opened with FILE_SHARE_DELETE, so that the
    holder can delete the lock while a waiter reads it (Python's open() does not share delete)."""
    if sys.platform == "win32":  # pragma: no cover - Windows
        import _winapi  # noqa: PLC0415
        import msvcrt  # noqa: PLC0415

        share_all = 0x1 | 0x2 | 0x4  # FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE
        handle = _winapi.CreateFile(
            str(path), _winapi.GENERIC_READ, share_all, 0, _winapi.OPEN_EXISTING, 0, 0
        )
        fd = msvcrt.open_osfhandle(handle, os.O_RDONLY)
    else:
        fd = os.open(path, os.O_RDONLY)
    with open(fd, "rb") as f:
        return f.read(), os.fstat(f.fileno())


def _parse(raw: bytes) -> LockInfo | None:
    """What a lock file says; None when bindmgr cannot have written it (unreadable).

    A pid must be an integer a process can have; anything else makes the file unreadable (taken
    over once old). The time is only shown. A start time that is not a finite number counts as
    unknown, so the pid alone decides: never a reason to take a live holder's lock.
    """
    try:
        d = json.loads(raw.decode("utf-8"))
        pid = d["pid"]
        if type(pid) is not int or not 0 < pid < MAX_PID:
            return None
        ct = d.get("create_time")
        start = float(ct) if isinstance(ct, int | float) and not isinstance(ct, bool) else None
        return LockInfo(
            pid=pid,
            host=str(d["host"]),
            time=float(d["time"]),
            command=str(d["command"]),
            create_time=start if start is not None and math.isfinite(start) else None,
            token=str(d.get("token", "")),
        )
    except (ValueError, KeyError, TypeError, AttributeError, OverflowError):
        return None


def read_lock(app_dir: Path) -> LockInfo | None:
    """Who holds `app_dir`'s lock (None when free or unreadable); for `status`-style commands."""
    try:
        raw, _st = _read_sharing_delete(Path(app_dir) / LOCK_NAME)
    except OSError:  # absent, a folder, unreadable: nobody this can name
        return None
    return _parse(raw)
