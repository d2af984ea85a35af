"""Shared test guards: every test must close the sockets it opens and finish the tasks it starts,
and no test may reach a real MDaemon App folder.

The leak guard compares only *socket*s of this process (files, pipes and fixtures of wider scope
are not its business) and the pending tasks of the test's own event loop. Sockets are counted
from /proc/self/fd on Linux and from the socket objects made during the test elsewhere
(tests/support/guards.py; BINDMGR_TEST_SOCKETS=objects chooses that on Linux too).

The App folder guard points MDAEMON_APP at a fresh empty folder for each test (children inherit
it; in-process `main()` calls get it from tests/support/safety.py `cli_env`), and fails a test
that opened, listed or changed anything in C:\\MDaemon\\App (Windows) or in the folder
MDAEMON_APP named before the tests started. Tests of the default inject their own folder.
"""

from __future__ import annotations

import asyncio
import gc
import os
import signal
from collections.abc import Iterator

import pytest
from hypothesis import settings
from pytest_asyncio import is_async_test

from bindmgr.read.appdir import ENV_VAR
from tests.support.guards import WATCH, socket_fds

# A run started in the background by a non-interactive shell (as CI may start it) inherits
# SIGINT ignored, and so would every child a test starts: the tests that send Ctrl-C to bindmgr
# would see it ignored. Handled here, the children start with the default disposition again.
if signal.getsignal(signal.SIGINT) == signal.SIG_IGN:
    signal.signal(signal.SIGINT, signal.default_int_handler)

# No test asserts a time, Hypothesis' per-example deadline included: on a loaded machine or
# under Wine an example may take seconds, which says nothing about bindmgr (bench/ measures).
settings.register_profile("bindmgr", deadline=None)
settings.load_profile("bindmgr")


def _runner(request: pytest.FixtureRequest) -> asyncio.Runner | None:
    """The asyncio.Runner of an async test, set up now so it outlives this guard."""
    for name in request.fixturenames:
        if name.endswith("_scoped_runner"):  # pytest-asyncio's runner fixtures
            value = request.getfixturevalue(name)
            if isinstance(value, asyncio.Runner):
                return value
    return None


def _by_fd() -> bool:
    return os.environ.get("BINDMGR_TEST_SOCKETS") != "objects" and socket_fds() is not None


def _leaked(before_fds: set[str], serial: int) -> list[str]:
    if _by_fd():
        return [
            f"{fd}: {s}" for fd, s in sorted((socket_fds() or {}).items()) if s not in before_fds
        ]
    return [repr(s) for s in WATCH.open_sockets_since(serial)]


@pytest.fixture(autouse=True)
def no_real_app_folder(
    monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[None]:
    """MDAEMON_APP is a fresh empty folder; touching a real App folder fails the test."""
    monkeypatch.setenv(ENV_VAR, str(tmp_path_factory.mktemp("MDAEMON_APP")))
    before = len(WATCH.touched)
    yield
    touched = WATCH.touched[before:]
    if touched:
        del WATCH.touched[before:]
        pytest.fail(f"test reached a real MDaemon App folder: {touched}")


@pytest.fixture(autouse=True)
def no_leaks(request: pytest.FixtureRequest) -> Iterator[None]:
    """Fail a test that leaves a socket open or an asyncio task pending."""
    runner = _runner(request) if is_async_test(request.node) else None
    if is_async_test(request.node) and runner is None:
        pytest.fail("leak guard: cannot find this async test's asyncio.Runner (pytest-asyncio?)")
    before_fds = set((socket_fds() or {}).values()) if _by_fd() else set()
    serial = WATCH.serial()
    yield
    if runner is not None:
        loop = runner.get_loop()
        pending = [t for t in asyncio.all_tasks(loop) if not t.done()]
        if pending:
            for task in pending:
                task.cancel()
            pytest.fail(f"test left {len(pending)} asyncio task(s) pending: {pending!r}")
    leaked = _leaked(before_fds, serial)
    if leaked:
        gc.collect()  # an unreferenced socket object closes (and warns) when collected
        leaked = _leaked(before_fds, serial)
    if leaked:  # not closed here: the socket objects that own them would close reused fds later
        pytest.fail(f"test leaked {len(leaked)} socket(s): {leaked}")
