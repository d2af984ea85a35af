"""What bindmgr reads is a regular file of bounded size: folders, FIFOs, devices and sockets are
refused before a byte is read, and no file is read past its cap (docs/security.md)."""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from bindmgr.errors import InputError, LayoutError
from bindmgr.read import appdir
from bindmgr.read.appdir import load_app, read_capped, read_layout, read_text
from tests.support.apply import CHILD_TIMEOUT
from tests.support.safety import env as child_env
from tests.support.sample import copy_sample

LAYOUT = read_layout()
CHILD_MEMORY = 1024 * 1024 * 1024  # address space of a child bindmgr: far more than it needs
posix_only = pytest.mark.skipif(sys.platform == "win32", reason="FIFOs and /dev need POSIX")


FIFO_DEADLINE = 10.0  # seconds after which a reader stuck on the FIFO is released with EOF


def bounded_cli(*argv: str | Path) -> subprocess.CompletedProcess[str]:
    """`python -m bindmgr argv` in a child bounded in time and address space, so that reading
    a FIFO or a device for ever fails the test instead of stalling or exhausting the host."""

    def limit() -> None:  # pragma: no cover - runs in the child
        import resource  # noqa: PLC0415 - POSIX only

        resource.setrlimit(resource.RLIMIT_AS, (CHILD_MEMORY, CHILD_MEMORY))

    return subprocess.run(
        [sys.executable, "-m", "bindmgr", *map(str, argv)],
        env=child_env(),
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=CHILD_TIMEOUT,
        check=False,
        preexec_fn=limit,
    )


@pytest.fixture
def make_fifo() -> Iterator[Callable[[Path], Path]]:
    """Makes FIFOs nobody writes to: opening one without O_NONBLOCK, and reading it, wait for
    ever. So that a reader that does wait (a regression) fails instead of hanging the run, a
    watchdog opens each write end after FIFO_DEADLINE and closes it at once: the reader sees EOF.
    """
    if not hasattr(os, "mkfifo"):
        pytest.skip("no FIFOs here")
    done = threading.Event()
    made: list[Path] = []

    def release() -> None:
        if done.wait(FIFO_DEADLINE):
            return
        for path in made:
            with contextlib.suppress(OSError):  # ENXIO: nobody is reading after all
                os.close(os.open(path, os.O_WRONLY | os.O_NONBLOCK))

    def make(path: Path) -> Path:
        os.mkfifo(path)
        made.append(path)
        return path

    watchdog = threading.Thread(target=release, daemon=True)
    watchdog.start()
    yield make
    done.set()
    watchdog.join(timeout=FIFO_DEADLINE)


@pytest.fixture
def fifo(tmp_path: Path, make_fifo: Callable[[Path], Path]) -> Path:
    return make_fifo(tmp_path / "pipe")


@posix_only
def test_a_fifo_is_refused_without_waiting(fifo: Path) -> None:
    with pytest.raises(InputError, match=r"pipe: it is a named pipe \(FIFO\), not a regular"):
        read_capped(fifo, cap=100)


@posix_only
@pytest.mark.parametrize("device", ["/dev/zero", "/dev/null", "/dev/urandom"])
def test_a_device_is_refused(device: str) -> None:
    if not Path(device).exists():
        pytest.skip(f"no {device}")
    with pytest.raises(InputError, match="it is a character device, not a regular file"):
        read_capped(Path(device), cap=100)


def test_a_folder_is_refused(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="it is a folder, not a regular file"):
        read_capped(tmp_path, cap=100)


@posix_only
@pytest.mark.skipif(not hasattr(socket, "AF_UNIX"), reason="no Unix sockets")
def test_a_socket_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "s"
    with socket.socket(socket.AF_UNIX) as server:
        try:
            server.bind(str(path))
        except OSError as exc:  # a path too long for sun_path
            pytest.skip(str(exc))
        with pytest.raises(InputError, match="it is a socket"):
            read_capped(path, cap=100)


@pytest.mark.skipif(
    sys.platform == "win32",
    reason="symbolic links cannot be made on C: under Wine (docs/windows.md); on Windows they "
    "need SeCreateSymbolicLinkPrivilege; confinement itself is tested by the path rules",
)
def test_a_symlink_to_a_regular_file_is_read(tmp_path: Path) -> None:
    target = tmp_path / "t.ini"
    target.write_bytes(b"x=1\n")
    try:
        (tmp_path / "link.ini").symlink_to(target)
    except OSError as exc:
        pytest.skip(str(exc))
    assert read_capped(tmp_path / "link.ini", cap=100) == b"x=1\n"


def test_the_cap_is_exact(tmp_path: Path) -> None:
    path = tmp_path / "f"
    path.write_bytes(b"a" * 100)
    assert read_capped(path, cap=100) == b"a" * 100
    path.write_bytes(b"a" * 101)
    with pytest.raises(InputError, match="it is 101 bytes, more than the 100 bytes bindmgr reads"):
        read_capped(path, cap=100)


def test_a_missing_file_is_left_to_the_caller(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        read_capped(tmp_path / "nope", cap=100)


def test_the_documented_caps() -> None:
    assert appdir.MDAEMON_FILE_CAP == 64 * 1024 * 1024
    assert appdir.OWN_FILE_CAP == 4 * 1024 * 1024
    assert appdir.PLAN_CAP == 64 * 1024 * 1024
    docs = (Path(__file__).resolve().parents[2] / "docs" / "reliability.md").read_text("utf-8")
    assert "| 64 MiB each |" in docs
    assert "| 4 MiB each |" in docs


def test_own_files_over_their_cap_are_refused(tmp_path: Path) -> None:
    big = tmp_path / "big.ini"
    with big.open("wb") as f:
        f.truncate(appdir.OWN_FILE_CAP + 1)  # sparse: no 4 MiB written
    with pytest.raises(LayoutError, match=r"it is 4\.0 MiB, more than the 4\.0 MiB"):
        read_layout(big)
    with pytest.raises(InputError, match=r"more than the 4\.0 MiB"):
        read_text(big, "the bindings file", hint="h")


def test_an_mdaemon_file_over_its_cap_is_refused_naming_the_layout_line(tmp_path: Path) -> None:
    app, _ = copy_sample(tmp_path)
    with (app / "Domains.dat").open("r+b") as f:
        f.truncate(appdir.MDAEMON_FILE_CAP + 1)
    with pytest.raises(InputError) as exc:
        load_app(app, LAYOUT)
    assert "Domains.dat" in str(exc.value)
    assert "[files] domains" in str(exc.value)
    assert "more than the 64.0 MiB" in str(exc.value)


@posix_only
def test_an_mdaemon_file_that_is_a_fifo_is_refused(
    tmp_path: Path, make_fifo: Callable[[Path], Path]
) -> None:
    app, _ = copy_sample(tmp_path)
    (app / "Domains.dat").unlink()
    make_fifo(app / "Domains.dat")
    with pytest.raises(InputError, match=r"named pipe \(FIFO\)"):
        load_app(app, LAYOUT)


@posix_only
def test_an_mdaemon_file_linked_to_a_device_is_refused(tmp_path: Path) -> None:
    """/dev/zero is outside the MDaemon folder: the link is refused before its type matters.
    Run in a bounded child: a reader that followed the link would never stop."""
    app, _ = copy_sample(tmp_path)
    (app / "Domains.dat").unlink()
    (app / "Domains.dat").symlink_to("/dev/zero")
    done = bounded_cli("inspect", "--app-dir", app)
    assert done.returncode == 1, done.stderr
    assert "outside the MDaemon folder" in done.stderr


@posix_only
@pytest.mark.parametrize("option", ["--bindings", "--layout", "--plan"])
@pytest.mark.parametrize("special", ["fifo", "/dev/zero"])
def test_cli_refuses_special_files_for_its_own_inputs(
    tmp_path: Path, fifo: Path, option: str, special: str
) -> None:
    app, _ = copy_sample(tmp_path)
    path = fifo if special == "fifo" else Path(special)
    if not path.exists():
        pytest.skip(f"no {path}")
    desired = ["--domain", "example.com", "--ip", "127.0.0.1"]
    if option == "--bindings":
        argv: list[str | Path] = ["plan", "--bindings", path]
    elif option == "--layout":
        argv = ["plan", "--layout", path, *desired]
    else:
        argv = ["check", "--plan", path]
    done = bounded_cli(*argv, "--app-dir", app)
    assert done.returncode == 1, done.stderr
    kind = "named pipe (FIFO)" if special == "fifo" else "character device"
    assert f"it is a {kind}, not a regular file" in done.stderr
    assert "hint: " in done.stderr
    assert "Traceback" not in done.stderr


def test_a_file_that_grows_past_its_cap_while_read_is_refused() -> None:
    """/proc files are regular files that say they are empty and hold more: like a file that
    grows between the size check and the read."""
    status = Path("/proc/self/status")
    if not status.is_file() or status.stat().st_size != 0:
        pytest.skip("no /proc here")
    with pytest.raises(InputError, match="it grew past the 100 bytes bindmgr reads of it"):
        read_capped(status, cap=100)
