"""What the shared test guards (tests/conftest.py) look at: this process's sockets, and every
file operation aimed at a real MDaemon App folder.

Both watch through one audit hook (sys.addaudithook, on every platform and under Wine):
- sockets: every `socket.socket` made in this process is remembered (weakly) with a serial
  number, so a test's leftovers are the ones made after it started and still open. Linux also
  has /proc/self/fd, which sees sockets made outside Python's socket class too.
- real App folders: C:\\MDaemon\\App on Windows and the folder MDAEMON_APP named when the tests
  started are forbidden: an open, listing, creation, removal, rename or copy there raises
  `ForbiddenFolder` and is recorded, so the test fails even if the code under test swallowed it.
A stat (os.stat, Path.is_dir) raises no audit event and is not seen; it changes nothing.
"""

from __future__ import annotations

import contextlib
import os
import sys
import threading
import weakref
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from bindmgr.read.appdir import ENV_VAR, WINDOWS_DEFAULT

_FD_DIR = "/proc/self/fd"


def socket_fds() -> dict[int, str] | None:
    """{fd: "socket:[inode]"} of this process; None off Linux (Wine shows Linux's /proc on Z:,
    but its descriptors are the Wine process's, not sockets of this Windows process)."""
    if sys.platform != "linux":
        return None
    found: dict[int, str] = {}
    try:
        names = os.listdir(_FD_DIR)
    except OSError:
        return None
    for name in names:
        try:
            target = os.readlink(f"{_FD_DIR}/{name}")
        except OSError:  # closed between listdir and readlink (the listdir fd itself)
            continue
        if target.startswith("socket:"):
            found[int(name)] = target
    return found


class ForbiddenFolder(BaseException):
    """A test reached a real MDaemon App folder. A BaseException, like KeyboardInterrupt: no
    handler of bindmgr's (the CLI's last resort catches Exception) may swallow it."""


# Audit events whose arguments at these positions are paths (os.replace raises "os.rename").
_PATH_EVENTS: dict[str, tuple[int, ...]] = {
    "open": (0,),
    "os.listdir": (0,),
    "os.scandir": (0,),
    "os.mkdir": (0,),
    "os.remove": (0,),
    "os.rmdir": (0,),
    "os.rename": (0, 1),
    "os.chmod": (0,),
    "os.utime": (0,),
    "os.truncate": (0,),
    "os.link": (0, 1),
    "os.symlink": (0, 1),
    "os.chdir": (0,),
    "shutil.copyfile": (0, 1),
    "shutil.copytree": (0, 1),
    "shutil.rmtree": (0,),
    "shutil.move": (0, 1),
}


def _normal(path: str) -> str:
    return os.path.normcase(os.path.abspath(path)).rstrip("\\/")


class _Watch:
    def __init__(self) -> None:
        self._lock = threading.RLock()
        self._sockets: weakref.WeakKeyDictionary[Any, int] = weakref.WeakKeyDictionary()
        self._serial = 0
        self.roots: set[str] = set()
        self.touched: list[str] = []

    # -- sockets -------------------------------------------------------------------------

    def serial(self) -> int:
        with self._lock:
            return self._serial

    def open_sockets_since(self, serial: int) -> list[Any]:
        """Sockets made after `serial` that are still open, in the order they were made."""
        with self._lock:
            made = list(self._sockets.items())
        return [s for s, n in sorted(made, key=lambda sn: sn[1]) if n > serial and _is_open(s)]

    # -- folders ---------------------------------------------------------------------------

    def forbidden(self, path: str) -> str | None:
        """The forbidden root `path` lies in, if any."""
        if not self.roots:
            return None
        p = _normal(path)
        for root in self.roots:
            if p == root or p.startswith(root + os.sep):
                return root
        return None

    def hook(self, event: str, args: tuple[Any, ...]) -> None:
        if event == "socket.__new__":
            with self._lock:
                self._serial += 1
                with contextlib.suppress(TypeError):  # a bare _socket.socket has no weakref
                    self._sockets[args[0]] = self._serial
            return
        positions = _PATH_EVENTS.get(event)
        if positions is None or not self.roots:
            return
        for i in positions:
            arg = args[i] if i < len(args) else None
            if isinstance(arg, str | bytes | os.PathLike):
                path = os.fsdecode(os.fspath(arg))
                if self.forbidden(path) is not None:
                    what = f"{event} {path}"
                    self.touched.append(what)
                    raise ForbiddenFolder(f"a test reached a real MDaemon App folder: {what}")


def _is_open(sock: Any) -> bool:
    try:
        return bool(sock.fileno() != -1)
    except (OSError, ValueError):
        return False


def real_roots(env: dict[str, str] | os._Environ[str], platform: str) -> Iterable[str]:
    if platform == "win32":
        yield WINDOWS_DEFAULT
    if env.get(ENV_VAR):  # a developer's own MDaemon folder, named before the guard replaced it
        yield env[ENV_VAR]


WATCH = _Watch()
WATCH.roots.update(_normal(r) for r in real_roots(os.environ, sys.platform))
sys.addaudithook(WATCH.hook)  # once per process: this module is imported once


@contextlib.contextmanager
def also_forbidden(root: Path) -> Iterator[list[str]]:
    """Forbid `root` too for the duration (the guard's own test); yields what was touched
    there, which is then forgiven."""
    normal = _normal(str(root))
    before = len(WATCH.touched)
    WATCH.roots.add(normal)
    try:
        yield WATCH.touched
    finally:
        WATCH.roots.discard(normal)
        del WATCH.touched[before:]
