from __future__ import annotations

import json
import os
import shutil
import stat
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from bindmgr.apply.safewrite import (
    ANY,
    file_sha256,
    leftover_temps,
    remove_file,
    replace_file,
    temp_name,
)
from bindmgr.errors import FileChangedError, WriteError
from bindmgr.model import sha256_bytes
from tests.support.acl import dacl, set_dacl, set_hidden, windows_acls
from tests.support.safety import (
    fill_disk,
    is_root,
    leftovers,
    mount_tmpfs,
    needs_symlinks,
    posix_modes,
    python,
    read_only_bind,
    run_as_nobody,
)

OLD = b"[Special]\r\nBind=No\r\n"
NEW = b"[Special]\r\nBind=Yes\r\n"


@pytest.fixture
def public_dir() -> Iterator[Path]:
    """A folder `nobody` can reach (pytest's tmp_path sits under a 0700 folder of root's)."""
    d = Path(tempfile.mkdtemp(prefix="bindmgr-test-", dir="/tmp"))
    d.chmod(0o755)
    try:
        yield d
    finally:
        shutil.rmtree(d)


def make(path: Path, data: bytes = OLD, mode: int = 0o640) -> Path:
    path.write_bytes(data)
    path.chmod(mode)
    return path


def test_replaces_bytes(tmp_path: Path) -> None:
    f = make(tmp_path / "MDaemon.ini", mode=0o640)
    assert replace_file(f, NEW, expected_sha256=sha256_bytes(OLD)) is True
    assert f.read_bytes() == NEW
    assert leftovers(tmp_path) == []


@posix_modes
def test_keeps_mode(tmp_path: Path) -> None:
    f = make(tmp_path / "MDaemon.ini", mode=0o640)
    replace_file(f, NEW, expected_sha256=sha256_bytes(OLD))
    assert stat.S_IMODE(f.stat().st_mode) == 0o640


@windows_acls
def test_windows_keeps_the_access_list_and_attributes(tmp_path: Path) -> None:
    """The temp file would inherit the folder's list (and Everyone may read the folder); it
    gets the original's instead, and its hidden attribute, before it replaces it."""
    f = make(tmp_path / "MDaemon.ini")
    set_dacl(f, "D:P(A;;FA;;;SY)(A;;FA;;;BA)(A;;FA;;;OW)")  # SYSTEM, Administrators, owner
    set_hidden(f)
    before = dacl(f)
    assert "WD" not in before  # Everyone is not in it
    assert replace_file(f, NEW, expected_sha256=sha256_bytes(OLD)) is True
    assert f.read_bytes() == NEW
    assert dacl(f) == before
    assert f.stat().st_file_attributes & stat.FILE_ATTRIBUTE_HIDDEN  # type: ignore[attr-defined]
    assert leftovers(tmp_path) == []


@pytest.mark.skipif(not is_root(), reason="chown to another uid needs root (POSIX owners)")
def test_keeps_owner_and_group(tmp_path: Path) -> None:
    f = make(tmp_path / "MDaemon.ini", mode=0o604)
    os.chown(f, 1234, 5678)
    replace_file(f, NEW, expected_sha256=ANY)
    st = f.stat()
    assert (st.st_uid, st.st_gid, stat.S_IMODE(st.st_mode)) == (1234, 5678, 0o604)


def test_equal_bytes_is_a_no_op(tmp_path: Path) -> None:
    f = make(tmp_path / "MDaemon.ini")
    before = f.stat()
    assert replace_file(f, OLD, expected_sha256=sha256_bytes(OLD)) is False
    after = f.stat()
    assert (after.st_ino, after.st_mtime_ns) == (before.st_ino, before.st_mtime_ns)
    assert leftovers(tmp_path) == []


def test_stale_hash_refused_and_names_file(tmp_path: Path) -> None:
    f = make(tmp_path / "MDaemon.ini")
    with pytest.raises(FileChangedError, match=r"MDaemon\.ini changed while bindmgr was writing"):
        replace_file(f, NEW, expected_sha256=sha256_bytes(b"something else"))
    assert f.read_bytes() == OLD
    assert leftovers(tmp_path) == []


@posix_modes
def test_new_file_gets_0600(tmp_path: Path) -> None:
    f = tmp_path / "Domains.dat"
    assert replace_file(f, NEW, expected_sha256=None) is True
    assert stat.S_IMODE(f.stat().st_mode) == 0o600


def test_new_file_needs_empty_expected(tmp_path: Path) -> None:
    f = tmp_path / "Domains.dat"
    assert replace_file(f, NEW, expected_sha256=None) is True
    with pytest.raises(FileChangedError, match="expected absent"):
        replace_file(f, OLD, expected_sha256=None)
    assert file_sha256(tmp_path / "missing") is None


def test_temp_name_never_a_semaphore(tmp_path: Path) -> None:
    t = temp_name(tmp_path / "RESTART.SEM")
    assert t.parent == tmp_path
    assert t.name.startswith(".RESTART.SEM.bindmgr-")
    assert t.name.endswith(".tmp")
    assert not t.name.upper().endswith(".SEM")


def test_recheck_just_before_replace_catches_a_late_change(tmp_path: Path) -> None:
    # A real concurrent edit at the worst moment: an audit hook rewrites the original when
    # replace_file opens it for reading the second time (its last look). No production code is
    # patched.
    f = make(tmp_path / "MDaemon.ini")
    code = """
import os, sys, json
from pathlib import Path
from bindmgr import errors
from bindmgr.apply import safewrite
target = sys.argv[1]
fd = os.open(target, os.O_WRONLY)
seen = []
def hook(event, args):
    reading = args[1] == "r" or (args[1] is None and not args[2] & (os.O_WRONLY | os.O_RDWR))
    if event == "open" and str(args[0]) == target and reading:
        seen.append(1)
        if len(seen) == 2:
            os.lseek(fd, 0, os.SEEK_SET)  # os.pwrite is POSIX
            os.write(fd, b"EDITED BY SOMEONE ELSE")
sys.addaudithook(hook)
try:
    safewrite.replace_file(Path(target), b"new bytes", expected_sha256=safewrite.ANY)
    print(json.dumps("replaced"))
except errors.FileChangedError as e:
    print(json.dumps(str(e)))
"""
    out = python(code, str(f))
    assert out.returncode == 0, out.stderr
    assert "changed while bindmgr was writing it" in json.loads(out.stdout)
    assert f.read_bytes().startswith(b"EDITED BY SOMEONE ELSE")
    assert leftovers(tmp_path) == []


@needs_symlinks
def test_symlink_is_written_through_and_stays_a_link(tmp_path: Path) -> None:
    real_dir = tmp_path / "real"
    real_dir.mkdir()
    target = make(real_dir / "MDaemon.ini", mode=0o600)
    link = tmp_path / "MDaemon.ini"
    link.symlink_to(Path("real") / "MDaemon.ini")
    assert replace_file(link, NEW, expected_sha256=sha256_bytes(OLD)) is True
    assert link.is_symlink()
    assert os.readlink(link) == str(Path("real") / "MDaemon.ini")
    assert target.read_bytes() == NEW
    if sys.platform != "win32":  # the target's mode, not the link's (Windows: its DACL)
        assert stat.S_IMODE(target.stat().st_mode) == 0o600
    assert leftovers(real_dir) == []
    assert leftovers(tmp_path) == []


@needs_symlinks
def test_dangling_symlink_refused(tmp_path: Path) -> None:
    link = tmp_path / "MDaemon.ini"
    link.symlink_to(tmp_path / "nowhere.ini")
    with pytest.raises(WriteError, match="does not exist; the link is left as it is"):
        replace_file(link, NEW, expected_sha256=ANY)
    assert link.is_symlink()
    assert not (tmp_path / "nowhere.ini").exists()


def test_leftover_temps_found_only_for_that_file(tmp_path: Path) -> None:
    f = make(tmp_path / "a.ini")
    mine = tmp_path / ".a.ini.bindmgr-0123456789ab.tmp"
    mine.write_bytes(b"x")
    (tmp_path / ".b.ini.bindmgr-0123456789ab.tmp").write_bytes(b"x")
    assert leftover_temps(f) == [mine]


def test_remove_file(tmp_path: Path) -> None:
    f = make(tmp_path / "new.ini")
    with pytest.raises(FileChangedError):
        remove_file(f, expected_sha256="0" * 64)
    assert f.exists()
    assert remove_file(f, expected_sha256=sha256_bytes(OLD)) is True
    assert not f.exists()
    assert remove_file(f, expected_sha256=None) is False


@needs_symlinks
def test_remove_file_never_deletes_a_link(tmp_path: Path) -> None:
    link = tmp_path / "link.ini"
    link.symlink_to(make(tmp_path / "t.ini"))
    with pytest.raises(WriteError, match="does not delete links"):
        remove_file(link, expected_sha256=ANY)
    assert link.is_symlink()


def test_full_disk_on_a_small_tmpfs(tmp_path: Path) -> None:
    with mount_tmpfs(tmp_path / "small", "64k") as disk:
        f = make(disk / "MDaemon.ini", data=OLD * 100)  # ~2 KB
        fill_disk(disk / "filler")
        big = NEW * 2000  # ~44 KB: cannot fit
        with pytest.raises(WriteError) as err:
            replace_file(f, big, expected_sha256=sha256_bytes(OLD * 100))
        msg = str(err.value)
        assert str(f) in msg
        assert "ENOSPC" in msg
        assert "the original is intact" in msg
        assert "free some disk space" in msg
        assert f.read_bytes() == OLD * 100
        assert leftovers(disk) == []


@pytest.mark.skipif(sys.platform == "win32", reason="RLIMIT_FSIZE (the resource module) is POSIX")
def test_file_size_limit_gives_a_clear_error(tmp_path: Path) -> None:
    # Works without mount rights: RLIMIT_FSIZE makes the kernel refuse the write (EFBIG).
    f = make(tmp_path / "MDaemon.ini")
    code = """
import json, resource, signal, sys
from pathlib import Path
from bindmgr import errors
from bindmgr.apply import safewrite
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
resource.setrlimit(resource.RLIMIT_FSIZE, (4096, 4096))
try:
    safewrite.replace_file(Path(sys.argv[1]), b"x" * 100000, expected_sha256=safewrite.ANY)
except errors.WriteError as e:
    print(json.dumps(str(e)))
"""
    out = python(code, str(f))
    assert out.returncode == 0, out.stderr
    msg = json.loads(out.stdout)
    assert "EFBIG" in msg
    assert "the original is intact" in msg
    assert str(f) in msg
    assert f.read_bytes() == OLD
    assert leftovers(tmp_path) == []


def test_read_only_mount(tmp_path: Path) -> None:
    src = tmp_path / "src"
    src.mkdir()
    make(src / "MDaemon.ini")
    with read_only_bind(src, tmp_path / "ro") as ro:
        with pytest.raises(WriteError) as err:
            replace_file(ro / "MDaemon.ini", NEW, expected_sha256=sha256_bytes(OLD))
        msg = str(err.value)
        assert "EROFS" in msg
        assert "read-only" in msg
        assert "the original is intact" in msg
    assert (src / "MDaemon.ini").read_bytes() == OLD
    assert leftovers(src) == []


@pytest.mark.skipif(not is_root(), reason="a child that drops from root to nobody (setuid)")
def test_folder_not_writable_for_a_non_root_user(public_dir: Path) -> None:
    f = make(public_dir / "MDaemon.ini", mode=0o666)  # the file is writable, its folder is not
    os.chown(f, 65534, 65534)  # and nobody's own: no owner would change
    public_dir.chmod(0o555)
    try:
        out = run_as_nobody(
            f"safewrite.replace_file(Path({str(f)!r}), b'new', expected_sha256=safewrite.ANY)"
        )
    finally:
        public_dir.chmod(0o755)
    assert out.returncode == 0, out.stderr
    res = json.loads(out.stdout)
    assert res["type"] == "WriteError"
    assert "EACCES" in res["msg"]
    assert "the original is intact" in res["msg"]
    assert f.read_bytes() == OLD
    assert leftovers(public_dir) == []


@pytest.mark.skipif(not is_root(), reason="a child that drops from root to nobody (setuid)")
def test_non_root_writer_never_widens_group_access(public_dir: Path) -> None:
    # nobody may write the file and its folder, but cannot give the new file the group 5678:
    # the group bits are dropped rather than handed to nobody's own group.
    f = make(public_dir / "MDaemon.ini", mode=0o660)
    os.chown(f, 65534, 5678)
    os.chown(public_dir, 65534, 65534)
    out = run_as_nobody(
        f"safewrite.replace_file(Path({str(f)!r}), b'new', expected_sha256=safewrite.ANY)"
    )
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout) == {"ok": True}
    st = f.stat()
    assert f.read_bytes() == b"new"
    assert st.st_uid == 65534
    assert stat.S_IMODE(st.st_mode) == 0o600
