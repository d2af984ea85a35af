"""What a replace does to a file's identity: a hard-linked file is split from its twin (said
before writing), and a run that cannot keep a file's owner refuses before writing anything.

Real hard links; a real non-root writer (a child that drops from root to nobody).
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from bindmgr.apply.backup import list_backups
from bindmgr.apply.transaction import commit, restore
from bindmgr.model import sha256_bytes
from tests.support.safety import NEW_A, NEW_B, OLD_A, OLD_B, is_root, leftovers, run_as_nobody

A, B = "MDaemon.ini", "Domains.dat"
pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX owners and links")


def make_app(where: Path) -> Path:
    where.mkdir(parents=True)
    (where / A).write_bytes(OLD_A)
    (where / B).write_bytes(OLD_B)
    return where


def expected(app: Path) -> dict[str, str | None]:
    return {n: sha256_bytes((app / n).read_bytes()) for n in (A, B)}


def test_a_hard_linked_file_is_written_with_a_warning_first(tmp_path: Path) -> None:
    app = make_app(tmp_path / "App")
    twin = tmp_path / "MDaemon.ini.twin"
    os.link(app / A, twin)
    said: list[str] = []
    res = commit(
        app, {A: NEW_A, B: NEW_B}, expected=expected(app), lock_timeout=0, on_message=said.append
    )
    warning = [m for m in said if "hard link" in m]
    assert len(warning) == 1
    assert f"{app / A} has 2 hard links" in warning[0]
    assert "the other names keep the old bytes" in warning[0]
    assert (app / A).read_bytes() == NEW_A
    assert twin.read_bytes() == OLD_A  # split from its twin, as the warning said
    assert (app / A).stat().st_nlink == 1
    assert res.backup is not None
    said.clear()
    restore(app, res.backup, allowed=(A, B), lock_timeout=0, on_message=said.append)
    assert not any("hard link" in m for m in said)


@pytest.fixture
def public_app() -> Iterator[Path]:
    """An App folder nobody may write, holding root's MDaemon.ini that nobody may write too."""
    d = Path(tempfile.mkdtemp(prefix="bindmgr-test-", dir="/tmp"))
    try:
        d.chmod(0o755)
        app = make_app(d / "App")
        os.chown(app, 65534, 65534)
        os.chown(app / B, 65534, 65534)
        (app / A).chmod(0o666)  # root's, writable for all: still root's after an apply
        yield app
    finally:
        shutil.rmtree(d)


@pytest.mark.skipif(not is_root(), reason="starts a child that drops from root to nobody")
def test_an_owner_the_run_cannot_keep_is_refused_before_writing(public_app: Path) -> None:
    before = {n: (public_app / n).stat() for n in (A, B)}
    body = (
        f"transaction.commit(Path({str(public_app)!r}), "
        f"{{'{A}': {NEW_A!r}, '{B}': {NEW_B!r}}}, expected={expected(public_app)!r}, "
        "lock_timeout=0)"
    )
    out = run_as_nobody(body)
    assert out.returncode == 0, out.stderr
    res = json.loads(out.stdout)
    assert res["type"] == "WriteError"
    assert f"{public_app / A} is owned by uid 0 (root)" in res["msg"]
    assert "this run (uid 65534" in res["msg"]
    assert "nothing was written" in res["msg"]
    assert "run bindmgr as root or as the file's owner (uid 0)" in res["msg"]
    for n in (A, B):  # the refusal came first: not even Domains.dat (nobody's own) changed
        st = (public_app / n).stat()
        assert (st.st_ino, st.st_uid, st.st_mtime_ns) == (
            before[n].st_ino,
            before[n].st_uid,
            before[n].st_mtime_ns,
        )
    assert (public_app / A).read_bytes() == OLD_A
    assert list_backups(public_app / "bindmgr-backups") == []
    assert leftovers(public_app) == []


@pytest.mark.skipif(not is_root(), reason="starts a child that drops from root to nobody")
def test_replace_file_itself_refuses_to_change_an_owner(public_app: Path) -> None:
    target = public_app / A
    out = run_as_nobody(
        f"safewrite.replace_file(Path({str(target)!r}), b'new', expected_sha256=safewrite.ANY)"
    )
    assert out.returncode == 0, out.stderr
    res = json.loads(out.stdout)
    assert res["type"] == "WriteError"
    assert "is owned by uid 0 (root)" in res["msg"]
    assert target.read_bytes() == OLD_A
    assert target.stat().st_uid == 0
    assert leftovers(public_app) == []
    own = public_app / B  # nobody's own file: written as before
    out = run_as_nobody(
        f"safewrite.replace_file(Path({str(own)!r}), b'mine', expected_sha256=safewrite.ANY)"
    )
    assert json.loads(out.stdout) == {"ok": True}
    assert own.read_bytes() == b"mine"
