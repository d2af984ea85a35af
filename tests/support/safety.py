"""Helpers for the file-safety tests: real mounts, a child that drops root, a commit driver.

Every helper that mounts unmounts in a `finally`; every process started is waited for.
"""

from __future__ import annotations

import contextlib
import errno
import functools
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator, Mapping
from pathlib import Path

import pytest

from bindmgr.read.appdir import ENV_VAR

ROOT = Path(__file__).resolve().parents[2]
# MDAEMON_APP outside a test (module fixtures run before the conftest guard sets it): a folder
# that does not exist, so a command without --app-dir fails instead of finding a real one.
NO_APP_FOLDER = str(ROOT / "tests" / "support" / "no App folder outside a test")
NOBODY = 65534

OLD_A = b"[Special]\r\nDomainIP=10.0.0.1\r\nBind=No\r\n" + b"; filler line\r\n" * 200
NEW_A = b"[Special]\r\nDomainIP=10.0.0.1\r\nBind=Yes\r\n" + b"; filler line\r\n" * 200
OLD_B = b"[mail-2.example.com]\r\nIP=10.0.0.2\r\nBind=No\r\n" + b"; more\r\n" * 300
NEW_B = b"[mail-2.example.com]\r\nIP=10.0.0.2\r\nBind=Yes\r\n" + b"; more\r\n" * 300


def env() -> dict[str, str]:
    """A child's environment: this one without BINDMGR_FAULT, with the guard's MDAEMON_APP."""
    e = {k: v for k, v in os.environ.items() if k != "BINDMGR_FAULT"}
    e["PYTHONPATH"] = str(ROOT)
    e.setdefault(ENV_VAR, NO_APP_FOLDER)
    return e


# Without --app-dir and MDAEMON_APP, Windows uses C:\MDaemon\App, which no test may reach.
no_default_app_folder = pytest.mark.skipif(
    sys.platform == "win32",
    reason="Windows falls back to C:\\MDaemon\\App, which no test may reach; that default is "
    "tested with an injected folder (tests/read/test_config.py)",
)


posix_modes = pytest.mark.skipif(
    sys.platform == "win32",
    reason="POSIX permission bits: Windows keeps only the read-only attribute in st_mode; its "
    "access lists are tested instead (test_windows_keeps_the_access_list_and_attributes)",
)


posix_owners = pytest.mark.skipif(
    sys.platform == "win32",
    reason="POSIX owners and modes (os.getuid): Windows has SIDs and access lists, tested by "
    "test_windows_keeps_the_access_list_and_attributes and the backup folder twins",
)


@functools.cache
def symlinks_work() -> bool:
    """Can this process make a symbolic link that leads to its file, in the temp folder the
    tests use? Windows needs SeCreateSymbolicLinkPrivilege or developer mode (WinError 1314
    otherwise); Wine 8 makes none on C: (symlink_to returns, the link does not lead anywhere)."""
    folder = Path(tempfile.mkdtemp(prefix="bindmgr-link-"))
    try:
        (folder / "target").write_bytes(b"x")
        link = folder / "link"
        link.symlink_to(folder / "target")
        return link.is_symlink() and link.read_bytes() == b"x"
    except OSError:
        return False
    finally:
        shutil.rmtree(folder, ignore_errors=True)


needs_symlinks = pytest.mark.skipif(
    not symlinks_work(),
    reason="this process cannot make symbolic links (Windows: SeCreateSymbolicLinkPrivilege or "
    "developer mode; Wine 8 makes none on C:)",
)


def cli_env(given: Mapping[str, str] | None = None) -> dict[str, str]:
    """The environment of an in-process `main()`: only the guard's MDAEMON_APP (a fresh empty
    folder, tests/conftest.py), then what the test gives (MDAEMON_APP="" means unset)."""
    return {ENV_VAR: os.environ.get(ENV_VAR, NO_APP_FOLDER), **(given or {})}


def python(
    code: str, *args: str, extra_env: dict[str, str] | None = None, timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", code, *args],
        env={**env(), **(extra_env or {})},
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def is_root() -> bool:
    return hasattr(os, "geteuid") and os.geteuid() == 0


@contextlib.contextmanager
def mount_tmpfs(where: Path, size: str) -> Iterator[Path]:
    """A fresh tmpfs of `size` at `where` (skips the test when mounting is not permitted)."""
    where.mkdir(parents=True, exist_ok=True)
    if not is_root() or sys.platform != "linux":
        pytest.skip("mounting a small tmpfs needs root on Linux")
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size},mode=0755", "tmpfs", str(where)],
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        pytest.skip(f"mount -t tmpfs not permitted here: {done.stderr.strip()}")
    try:
        yield where
    finally:
        subprocess.run(["umount", "-l", str(where)], check=True)


@contextlib.contextmanager
def read_only_bind(src: Path, where: Path) -> Iterator[Path]:
    """`src` bind-mounted read-only at `where` (skips when bind mounts are not permitted)."""
    where.mkdir(parents=True, exist_ok=True)
    if not is_root() or sys.platform != "linux":
        pytest.skip("a read-only bind mount needs root on Linux")
    done = subprocess.run(
        ["mount", "--bind", str(src), str(where)], capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        pytest.skip(f"mount --bind not permitted here: {done.stderr.strip()}")
    try:
        ro = subprocess.run(
            ["mount", "-o", "remount,bind,ro", str(where)],
            capture_output=True,
            text=True,
            check=False,
        )
        if ro.returncode != 0:
            pytest.skip(f"remount read-only not permitted here: {ro.stderr.strip()}")
        yield where
    finally:
        subprocess.run(["umount", "-l", str(where)], check=True)


# A child process that imports everything as root, then becomes `nobody` (the venv lives under
# /root, which nobody cannot read) and runs the given statements; prints the outcome as JSON.
AS_NOBODY = """
import json, os, sys
from pathlib import Path
from bindmgr import errors
from bindmgr.apply import safewrite
from bindmgr.apply import transaction
os.setgroups([])
os.setgid({uid}); os.setuid({uid})
try:
{body}
    print(json.dumps({{"ok": True}}))
except errors.BindmgrError as e:
    print(json.dumps({{"ok": False, "type": type(e).__name__, "msg": str(e)}}))
"""


def run_as_nobody(body: str) -> subprocess.CompletedProcess[str]:
    indented = "\n".join("    " + line for line in body.strip().splitlines())
    return python(AS_NOBODY.format(uid=NOBODY, body=indented))


def leftovers(folder: Path) -> list[str]:
    return sorted(n for n in os.listdir(folder) if ".bindmgr-" in n and n.endswith(".tmp"))


def fill_disk(filler: Path) -> None:
    """Write `filler` until the file system is full to the last byte (ENOSPC)."""
    fd = os.open(filler, os.O_WRONLY | os.O_CREAT, 0o600)
    try:
        for _ in range(100_000):
            try:
                os.write(fd, b"\0" * 1024)
            except OSError as exc:
                if exc.errno != errno.ENOSPC:
                    raise
                return
        raise AssertionError(f"{filler}: the file system never filled up")
    finally:
        os.close(fd)
