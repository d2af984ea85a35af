"""The shared leak guard (tests/conftest.py) fails leaking tests and lets clean ones pass, with
either way of counting sockets: /proc/self/fd (Linux) or the socket objects (everywhere)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.guards import socket_fds
from tests.support.safety import env

CONFTEST = Path(__file__).with_name("conftest.py")

SAMPLE = """
import asyncio, socket
import pytest

KEPT = []

def test_leaks_a_socket():
    KEPT.append(socket.socket())

def test_closes_its_socket():
    with socket.socket():
        pass

def test_keeps_a_file_open(tmp_path):
    KEPT.append(open(tmp_path / "f", "w"))

@pytest.mark.asyncio
async def test_leaves_a_task():
    KEPT.append(asyncio.get_running_loop().create_task(asyncio.sleep(30)))

@pytest.mark.asyncio
async def test_awaits_its_task():
    await asyncio.create_task(asyncio.sleep(0))
"""

INI = """[pytest]
asyncio_mode = strict
asyncio_default_fixture_loop_scope = function
"""


@pytest.mark.parametrize(
    "counting",
    [
        pytest.param(
            "fds",
            marks=pytest.mark.skipif(
                socket_fds() is None,
                reason="/proc/self/fd is Linux's (Wine shows it, but for the Wine process)",
            ),
        ),
        "objects",
    ],
)
def test_guard_flags_leaked_sockets_and_pending_tasks(tmp_path: Path, counting: str) -> None:
    (tmp_path / "conftest.py").write_text(CONFTEST.read_text())
    (tmp_path / "test_sample.py").write_text(SAMPLE)
    (tmp_path / "pytest.ini").write_text(INI)
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-rA",
            "-p",
            "no:cacheprovider",
            "-W",
            "ignore::pytest.PytestUnraisableExceptionWarning",
            "-W",
            "ignore::ResourceWarning",
        ],
        cwd=tmp_path,
        env={**env(), "BINDMGR_TEST_SOCKETS": counting},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    out = done.stdout
    assert "ERROR test_sample.py::test_leaks_a_socket" in out, out
    assert "test leaked 1 socket(s)" in out
    assert ("socket:[" in out) is (counting == "fds")  # /proc names inodes, objects their repr
    assert "ERROR test_sample.py::test_leaves_a_task" in out
    assert "asyncio task(s) pending" in out
    for clean in ("test_closes_its_socket", "test_keeps_a_file_open", "test_awaits_its_task"):
        assert f"PASSED test_sample.py::{clean}" in out, out
        assert f"ERROR test_sample.py::{clean}" not in out
