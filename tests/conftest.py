"""Shared test guards: every test must close the sockets it opens and finish the tasks it starts.

The guard compares only *socket* descriptors of this process (files, pipes and fixtures of wider
scope are not its business) and the pending tasks of the test's own event loop.
"""

from __future__ import annotations

import asyncio
import gc
import os
import signal
from collections.abc import Iterator

import pytest
from pytest_asyncio import is_async_test

_FD_DIR = "/proc/self/fd"

# A run started in the background by a non-interactive shell (as CI may start it) inherits
# SIGINT ignored, and so would every child a test starts: the tests that send Ctrl-C to bindmgr
# would see it ignored. Handled here, the children start with the default disposition again.
if signal.getsignal(signal.SIGINT) == signal.SIG_IGN:
    signal.signal(signal.SIGINT, signal.default_int_handler)


def socket_fds() -> dict[int, str]:
    """{fd: "socket:[inode]"} of this process; empty where /proc is missing (not Linux)."""
    found: dict[int, str] = {}
    try:
        names = os.listdir(_FD_DIR)
    except OSError:
        return found
    for name in names:
        try:
            target = os.readlink(f"{_FD_DIR}/{name}")
        except OSError:  # closed between listdir and readlink (the listdir fd itself)
            continue
        if target.startswith("socket:"):
            found[int(name)] = target
    return found


def _runner(request: pytest.FixtureRequest) -> asyncio.Runner | None:
    """The asyncio.Runner of an async test, set up now so it outlives this guard."""
    for name in request.fixturenames:
        if name.endswith("_scoped_runner"):  # pytest-asyncio's runner fixtures
            value = request.getfixturevalue(name)
            if isinstance(value, asyncio.Runner):
                return value
    return None


@pytest.fixture(autouse=True)
def no_leaks(request: pytest.FixtureRequest) -> Iterator[None]:
    """Fail a test that leaves a socket open or an asyncio task pending."""
    runner = _runner(request) if is_async_test(request.node) else None
    if is_async_test(request.node) and runner is None:
        pytest.fail("leak guard: cannot find this async test's asyncio.Runner (pytest-asyncio?)")
    before = set(socket_fds().values())
    yield
    if runner is not None:
        loop = runner.get_loop()
        pending = [t for t in asyncio.all_tasks(loop) if not t.done()]
        if pending:
            for task in pending:
                task.cancel()
            pytest.fail(f"test left {len(pending)} asyncio task(s) pending: {pending!r}")
    leaked = {fd: s for fd, s in socket_fds().items() if s not in before}
    if leaked:
        gc.collect()  # an unreferenced socket object closes (and warns) when collected
        leaked = {fd: s for fd, s in socket_fds().items() if s not in before}
    if leaked:  # not closed here: the socket objects that own them would close reused fds later
        pytest.fail(f"test leaked {len(leaked)} socket(s): {sorted(leaked.items())}")
