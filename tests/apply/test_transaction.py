from __future__ import annotations

import json
import os
import shutil
import stat
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from bindmgr.apply.backup import BACKED_UP, REVERTED, WRITTEN, list_backups, load_backup
from bindmgr.apply.lock import LOCK_NAME, AppLock
from bindmgr.apply.safewrite import file_sha256
from bindmgr.apply.transaction import CommitResult, commit, restore
from bindmgr.errors import FileChangedError, LockError, StalePlanError, UsageError, WriteError
from bindmgr.model import sha256_bytes
from tests.support.acl import assert_kept_permissions
from tests.support.safety import (
    NEW_A,
    NEW_B,
    OLD_A,
    OLD_B,
    fill_disk,
    is_root,
    leftovers,
    mount_tmpfs,
    needs_symlinks,
    read_only_bind,
    run_as_nobody,
)

A, B = "MDaemon.ini", "Domains.dat"
NAMES = (A, B, "New.ini")  # what a rollback may restore here (the layout's files)


def make_app(where: Path, a: bytes = OLD_A, b: bytes = OLD_B) -> Path:
    where.mkdir(parents=True, exist_ok=True)
    (where / A).write_bytes(a)
    (where / B).write_bytes(b)
    (where / A).chmod(0o640)
    (where / B).chmod(0o600)
    return where


def planned(app: Path, *names: str) -> dict[str, str]:
    return {n: file_sha256(app / n) for n in names or (A, B)}


def apply_new(app: Path, **kw: object) -> CommitResult:
    return commit(app, {A: NEW_A, B: NEW_B}, expected=planned(app), lock_timeout=0, **kw)  # type: ignore[arg-type]


def backups(app: Path) -> list[Path]:
    return [b.path for b in list_backups(app / "bindmgr-backups")]


def test_commit_writes_backs_up_and_records(tmp_path: Path) -> None:
    app = make_app(tmp_path / "App", b=NEW_B)  # B already holds its new bytes
    said: list[str] = []
    seen: list[tuple[str, bytes]] = []
    res = commit(
        app,
        {A: NEW_A, B: NEW_B},
        expected=planned(app),
        verify=lambda name, data: seen.append((name, data)),
        lock_timeout=0,
        meta={"summary": "bind 10.0.0.1"},
        on_message=said.append,
    )
    assert res.written == (A,)
    assert res.unchanged == (B,)
    assert res.changed
    assert (app / A).read_bytes() == NEW_A
    assert seen == [(A, NEW_A)]
    assert res.backup is not None
    b = load_backup(res.backup.path)
    assert b == res.backup
    assert b.state == WRITTEN
    assert b.meta == {"summary": "bind 10.0.0.1"}
    assert [f.name for f in b.files] == [A]
    assert b.file(A).old_sha256 == sha256_bytes(OLD_A)
    assert b.file(A).new_sha256 == sha256_bytes(NEW_A)
    assert b.read_old(A) == OLD_A
    assert not (app / LOCK_NAME).exists()
    assert leftovers(app) == []
    assert said == []


def test_equal_bytes_is_a_no_op_and_apply_twice_too(tmp_path: Path) -> None:
    app = make_app(tmp_path / "App")
    before = {n: (app / n).stat() for n in (A, B)}
    res = commit(app, {A: OLD_A, B: OLD_B}, expected=planned(app), lock_timeout=0)
    assert res == CommitResult(written=(), unchanged=(A, B), backup=None, pruned=())
    for n in (A, B):
        st = (app / n).stat()
        assert (st.st_ino, st.st_mtime_ns) == (before[n].st_ino, before[n].st_mtime_ns)
    assert not (app / "bindmgr-backups").exists()
    apply_new(app)
    assert apply_new(app).backup is None
    assert len(backups(app)) == 1


def test_stale_input_refused_naming_every_file(tmp_path: Path) -> None:
    app = make_app(tmp_path / "App")
    (app / "WorldClient.ini").write_bytes(b"[WebServer]\r\n")
    exp = planned(app, A, B, "WorldClient.ini")
    (app / A).write_bytes(OLD_A + b"x=1\r\n")  # someone edits after the plan
    (app / "WorldClient.ini").write_bytes(b"edited")  # read by the plan, not written
    with pytest.raises(StalePlanError) as err:
        commit(app, {A: NEW_A, B: NEW_B}, expected=exp, lock_timeout=0)
    msg = str(err.value)
    assert str(app / A) in msg
    assert str(app / "WorldClient.ini") in msg
    assert str(app / B) not in msg
    assert "nothing was written" in msg
    assert (app / B).read_bytes() == OLD_B
    assert not (app / "bindmgr-backups").exists()
    assert not (app / LOCK_NAME).exists()


def test_new_file_allowed_only_when_planned_absent(tmp_path: Path) -> None:
    app = make_app(tmp_path / "App")
    res = commit(app, {"New.ini": b"[x]\r\n"}, expected={"New.ini": None}, lock_timeout=0)
    assert res.written == ("New.ini",)
    with pytest.raises(StalePlanError, match="planned absent"):
        commit(app, {"New.ini": b"[y]\r\n"}, expected={"New.ini": None}, lock_timeout=0)
    assert res.backup is not None
    restore(
        app, res.backup, allowed=NAMES, lock_timeout=0
    )  # the apply created it: rollback removes it
    assert not (app / "New.ini").exists()


def test_bad_arguments(tmp_path: Path) -> None:
    app = make_app(tmp_path / "App")
    with pytest.raises(UsageError, match=r"no planned sha256 for MDaemon\.ini"):
        commit(app, {A: NEW_A}, expected={}, lock_timeout=0)
    with pytest.raises(UsageError, match="name the same file"):
        commit(app, {A: NEW_A, f"./{A}": NEW_A}, expected={A: None, f"./{A}": None}, lock_timeout=0)
    with pytest.raises(UsageError, match="relative"):
        commit(app, {str(app / A): NEW_A}, expected={str(app / A): None}, lock_timeout=0)
    with pytest.raises(UsageError, match="keep must be at least 1"):
        commit(app, {A: NEW_A}, expected=planned(app, A), keep=0, lock_timeout=0)
    assert (app / A).read_bytes() == OLD_A


def test_verify_failure_restores_every_written_file(tmp_path: Path) -> None:
    app = make_app(tmp_path / "App")

    def verify(name: str, data: bytes) -> None:
        if name == B:
            raise ValueError("line 3 of Domains.dat changed unexpectedly")

    with pytest.raises(WriteError) as err:
        commit(app, {A: NEW_A, B: NEW_B}, expected=planned(app), verify=verify, lock_timeout=0)
    msg = str(err.value)
    assert "verification failed" in msg
    assert "line 3 of Domains.dat" in msg
    assert "the 2 file(s) already written were restored" in msg
    assert (app / A).read_bytes() == OLD_A
    assert (app / B).read_bytes() == OLD_B
    (only,) = list_backups(app / "bindmgr-backups")
    assert_kept_permissions(app / A, only.path / A, 0o640)  # the restored file: as before
    assert only.state == REVERTED
    assert not (app / LOCK_NAME).exists()


def test_write_failure_midway_restores_the_first_file(tmp_path: Path) -> None:
    # B is a link into a read-only mount: A gets written, B fails with EROFS, A is put back.
    app = make_app(tmp_path / "App")
    src = make_app(tmp_path / "elsewhere")
    (app / B).unlink()
    with read_only_bind(src, tmp_path / "ro") as ro:
        (app / B).symlink_to(ro / B)
        with pytest.raises(WriteError) as err:
            apply_new(app)
        msg = str(err.value)
        assert "EROFS" in msg
        assert "the 1 file(s) already written were restored" in msg
        assert (app / A).read_bytes() == OLD_A
        assert (ro / B).read_bytes() == OLD_B
        assert leftovers(app) == []


@pytest.mark.skipif(not is_root(), reason="chown to another uid needs root (POSIX owners)")
def test_owner_group_and_mode_kept_for_files_and_backups(tmp_path: Path) -> None:
    app = make_app(tmp_path / "App")
    os.chown(app / A, 1234, 5678)
    os.chown(app / B, 4321, 8765)
    (app / B).chmod(0o604)
    want = {n: (1234, 5678, 0o640) if n == A else (4321, 8765, 0o604) for n in (A, B)}

    def perms(p: Path) -> tuple[int, int, int]:
        st = p.stat()
        return st.st_uid, st.st_gid, stat.S_IMODE(st.st_mode)

    res = apply_new(app)
    assert res.backup is not None
    for n in (A, B):
        assert perms(app / n) == want[n]
        assert perms(res.backup.path / n) == want[n]
    assert stat.S_IMODE(res.backup.path.stat().st_mode) == 0o700
    back = restore(app, res.backup, allowed=NAMES, lock_timeout=0)
    assert back.backup is not None
    for n in (A, B):
        assert perms(app / n) == want[n]
        assert perms(back.backup.path / n) == want[n]


@needs_symlinks
def test_symlinked_file_written_through_link_kept(tmp_path: Path) -> None:
    app = make_app(tmp_path / "App")
    real = make_app(tmp_path / "real")
    (app / A).unlink()
    (app / A).symlink_to(real / A)
    res = apply_new(app)
    assert (app / A).is_symlink()
    assert (real / A).read_bytes() == NEW_A
    assert res.backup is not None
    copy = res.backup.path / A
    assert not copy.is_symlink()
    assert copy.read_bytes() == OLD_A
    restore(app, res.backup, allowed=NAMES, lock_timeout=0)
    assert (app / A).is_symlink()
    assert (real / A).read_bytes() == OLD_A


def test_rollback_and_undo_of_the_rollback(tmp_path: Path) -> None:
    app = make_app(tmp_path / "App")
    applied = apply_new(app)
    assert applied.backup is not None
    back = restore(app, applied.backup, allowed=NAMES, lock_timeout=0, meta={"by": "admin"})
    assert back.written == (A, B)
    assert (app / A).read_bytes() == OLD_A
    assert (app / B).read_bytes() == OLD_B
    assert back.backup is not None
    assert back.backup.kind == "restore"
    assert back.backup.meta["restores"] == applied.backup.path.name
    assert back.backup.meta["by"] == "admin"
    assert back.backup.read_old(A) == NEW_A
    again = restore(app, applied.backup, allowed=NAMES, lock_timeout=0)
    assert again.backup is None  # already rolled back: nothing to do
    redo = restore(app, back.backup, allowed=NAMES, lock_timeout=0)
    assert redo.written == (A, B)
    assert (app / A).read_bytes() == NEW_A


def test_restore_refuses_a_file_changed_after_the_apply_unless_forced(tmp_path: Path) -> None:
    app = make_app(tmp_path / "App")
    applied = apply_new(app)
    assert applied.backup is not None
    edited = NEW_B + b"Admin=edit\r\n"
    (app / B).write_bytes(edited)
    with pytest.raises(FileChangedError) as err:
        restore(app, applied.backup, allowed=NAMES, lock_timeout=0)
    assert not isinstance(err.value, StalePlanError)  # no plan is involved in a rollback
    msg = str(err.value)
    assert str(app / B) in msg
    assert "changed after that apply" in msg
    assert "--force" in msg
    assert (app / A).read_bytes() == NEW_A
    assert (app / B).read_bytes() == edited
    said: list[str] = []
    forced = restore(
        app, applied.backup, allowed=NAMES, force=True, lock_timeout=0, on_message=said.append
    )
    assert (app / B).read_bytes() == OLD_B
    assert any("overwriting (forced)" in m for m in said)
    assert forced.backup is not None
    assert forced.backup.read_old(B) == edited  # the admin's edit is backed up, not lost


def test_busy_lock_means_nothing_written(tmp_path: Path) -> None:
    app = make_app(tmp_path / "App")
    with AppLock(app, command="bindmgr apply", timeout=0), pytest.raises(LockError):
        apply_new(app)
    assert (app / A).read_bytes() == OLD_A
    assert not (app / "bindmgr-backups").exists()


def test_keep_prunes_old_backups(tmp_path: Path) -> None:
    app = make_app(tmp_path / "App")
    results = []
    for i in range(4):
        results.append(
            commit(
                app, {A: OLD_A + b"n=%d\r\n" % i}, expected=planned(app, A), keep=2, lock_timeout=0
            )
        )
    assert len(backups(app)) == 2
    assert results[3].backup is not None
    assert backups(app)[0] == results[3].backup.path
    assert len(results[2].pruned) == 1


def test_interrupted_apply_is_reported_by_the_next_run(tmp_path: Path) -> None:
    app = make_app(tmp_path / "App")
    applied = apply_new(app)
    assert applied.backup is not None
    manifest = applied.backup.path / "manifest.json"
    d = json.loads(manifest.read_text())
    d["state"] = BACKED_UP
    manifest.write_text(json.dumps(d))
    said: list[str] = []
    commit(app, {A: OLD_A}, expected=planned(app, A), lock_timeout=0, on_message=said.append)
    assert any("was interrupted" in m and str(applied.backup.path) in m for m in said)


def test_full_disk_commit_keeps_the_originals(tmp_path: Path) -> None:
    with mount_tmpfs(tmp_path / "disk", "64k") as disk:
        app = make_app(disk / "App", a=b"[Special]\r\nBind=No\r\n" * 100)
        fill_disk(disk / "filler")
        with pytest.raises(WriteError) as err:
            commit(app, {A: NEW_A * 10, B: NEW_B}, expected=planned(app), lock_timeout=0)
        msg = str(err.value)
        assert "ENOSPC" in msg
        assert "intact" in msg
        assert (app / A).read_bytes() == b"[Special]\r\nBind=No\r\n" * 100
        assert (app / B).read_bytes() == OLD_B
        assert leftovers(app) == []
        assert not (app / LOCK_NAME).exists()
        # room for the lock and the backup, not for the new file: fails at the write itself
        os.truncate(disk / "filler", max(0, (disk / "filler").stat().st_size - 24 * 1024))
        with pytest.raises(WriteError) as err2:
            commit(app, {A: NEW_A * 10, B: NEW_B}, expected=planned(app), lock_timeout=0)
        msg2 = str(err2.value)
        assert f"cannot write {app / A}" in msg2
        assert "ENOSPC" in msg2
        assert "no file was changed" in msg2
        assert (app / A).read_bytes() == b"[Special]\r\nBind=No\r\n" * 100
        assert (app / B).read_bytes() == OLD_B
        assert leftovers(app) == []


def test_read_only_app_folder(tmp_path: Path) -> None:
    src = make_app(tmp_path / "App")
    with read_only_bind(src, tmp_path / "ro") as ro:
        with pytest.raises(WriteError) as err:
            apply_new(ro)
        msg = str(err.value)
        assert "EROFS" in msg
        assert "nothing was changed" in msg
    assert (src / A).read_bytes() == OLD_A


@pytest.fixture
def public_app() -> Iterator[Path]:
    d = Path(tempfile.mkdtemp(prefix="bindmgr-test-", dir="/tmp"))
    d.chmod(0o755)
    try:
        yield make_app(d / "App")
    finally:
        shutil.rmtree(d)


@pytest.mark.skipif(not is_root(), reason="a child that drops from root to nobody (setuid)")
def test_unwritable_app_folder_for_a_non_root_user(public_app: Path) -> None:
    public_app.chmod(0o555)
    exp = planned(public_app)
    body = (
        f"transaction.commit(Path({str(public_app)!r}), {{'{A}': b'new'}}, "
        f"expected={exp!r}, lock_timeout=0)"
    )
    try:
        out = run_as_nobody(body)
    finally:
        public_app.chmod(0o755)
    assert out.returncode == 0, out.stderr
    res = json.loads(out.stdout)
    assert res["type"] == "WriteError"
    assert "EACCES" in res["msg"]
    assert (public_app / A).read_bytes() == OLD_A
