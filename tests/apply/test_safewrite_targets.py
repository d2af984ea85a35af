"""What replace_file writes onto: only regular files (a device, a pipe, a socket or a folder is
refused and left as it is) and names within NAME_MAX, its own temp name included.

Real device nodes (root), named pipes and sockets; a pipe is read only in a child with a time
limit, so a write that would block on it fails the test instead of hanging it.
"""

from __future__ import annotations

import json
import os
import socket
import stat
import sys
from pathlib import Path

import pytest

from bindmgr.apply.safewrite import (
    ANY,
    leftover_temps,
    read_bytes,
    remove_file,
    replace_file,
    temp_name,
)
from bindmgr.apply.targets import NAME_MAX
from bindmgr.errors import WriteError
from tests.support.apply import make_site
from tests.support.safety import is_root, leftovers, python

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX special files")


def device(where: Path) -> Path:
    """A character device equal to /dev/null (1, 3), made where the test wants it."""
    if not is_root():
        pytest.skip("mknod of a character device needs root")
    os.mknod(where, 0o666 | stat.S_IFCHR, os.makedev(1, 3))
    return where


def assert_refused(path: Path, kind: str, exc: WriteError) -> None:
    assert f"{path}" in exc.message
    assert f"is not a regular file ({kind})" in exc.message
    assert "nothing was written" in exc.message
    assert exc.hint is not None


def test_a_device_node_is_refused_and_stays_a_device(tmp_path: Path) -> None:
    dev = device(tmp_path / "null")
    with pytest.raises(WriteError) as err:
        replace_file(dev, b"new", expected_sha256=ANY)
    assert_refused(dev, "a character device", err.value)
    assert stat.S_ISCHR(dev.lstat().st_mode)
    assert leftovers(tmp_path) == []
    with pytest.raises(WriteError, match="not a regular file"):
        remove_file(dev, expected_sha256=ANY)
    assert stat.S_ISCHR(dev.lstat().st_mode)


def test_a_link_to_a_device_is_refused(tmp_path: Path) -> None:
    dev = device(tmp_path / "null")
    link = tmp_path / "MDaemon.ini"
    link.symlink_to(dev)
    with pytest.raises(WriteError) as err:
        replace_file(link, b"new", expected_sha256=ANY)
    assert_refused(link, "a character device", err.value)  # names the link and its target
    assert f"{link} (a link to {dev})" in err.value.message
    assert link.is_symlink()
    assert stat.S_ISCHR(dev.lstat().st_mode)


def test_a_folder_is_refused(tmp_path: Path) -> None:
    folder = tmp_path / "MDaemon.ini"
    folder.mkdir()
    with pytest.raises(WriteError) as err:
        replace_file(folder, b"new", expected_sha256=ANY)
    assert_refused(folder, "a folder", err.value)
    with pytest.raises(WriteError, match="not a regular file"):
        remove_file(folder, expected_sha256=ANY)
    assert folder.is_dir()


def test_a_socket_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "s"
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
        s.bind(str(path))
        with pytest.raises(WriteError) as err:
            replace_file(path, b"new", expected_sha256=ANY)
    assert_refused(path, "a socket", err.value)
    assert stat.S_ISSOCK(path.lstat().st_mode)


def test_a_named_pipe_is_refused_without_blocking(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    code = """
import json, sys
from pathlib import Path
from bindmgr import errors
from bindmgr.apply import safewrite
try:
    safewrite.replace_file(Path(sys.argv[1]), b"new", expected_sha256=safewrite.ANY)
    print(json.dumps("written"))
except errors.WriteError as e:
    print(json.dumps(e.message))
"""
    out = python(code, str(fifo), timeout=20)
    assert out.returncode == 0, out.stderr
    assert f"{fifo} is not a regular file (a named pipe)" in json.loads(out.stdout)
    assert stat.S_ISFIFO(fifo.lstat().st_mode)
    assert leftovers(tmp_path) == []


def test_reading_a_special_file_is_refused_too(tmp_path: Path) -> None:
    (tmp_path / "d").mkdir()
    with pytest.raises(WriteError, match=r"is not a regular file \(a folder\)"):
        read_bytes(tmp_path / "d")
    assert read_bytes(tmp_path / "absent") is None


@pytest.mark.parametrize("length", [200, 229, 230, 240, 254, 255])
def test_long_names_get_a_temp_name_within_name_max(tmp_path: Path, length: int) -> None:
    target = tmp_path / ("m" * (length - 5) + ".json")
    tmp = temp_name(target)
    assert tmp.parent == tmp_path
    assert len(os.fsencode(tmp.name)) <= NAME_MAX
    assert tmp.name.startswith(".m")
    assert tmp.name.endswith(".tmp")
    assert replace_file(target, b"plan", expected_sha256=None) is True
    assert target.read_bytes() == b"plan"
    assert leftovers(tmp_path) == []
    tmp.write_bytes(b"left by a killed write")
    assert leftover_temps(target) == [tmp]


def test_multibyte_names_are_cut_on_a_character_boundary(tmp_path: Path) -> None:
    target = tmp_path / ("é" * 127)  # 254 bytes in UTF-8
    tmp = temp_name(target)
    assert len(os.fsencode(tmp.name)) <= NAME_MAX
    tmp.name.encode("utf-8")  # no half character (a lone surrogate would fail here)
    other = temp_name(tmp_path / ("é" * 126 + "x"))  # same cut, another file
    assert leftover_temps(target) == []
    other.write_bytes(b"x")
    assert leftover_temps(target) == []  # the hash of the whole name tells them apart
    assert replace_file(target, b"x", expected_sha256=None) is True


def test_a_name_longer_than_name_max_is_a_message(tmp_path: Path) -> None:
    for path in (tmp_path / ("n" * 256), tmp_path / ("d" * 300) / "plan.json"):
        with pytest.raises(WriteError) as err:
            replace_file(path, b"x", expected_sha256=ANY)
        assert "bytes long, more than the 255 a file or folder name may have" in err.value.message
        assert "nothing was written" in err.value.message
        assert err.value.hint == "pick a shorter name and rerun"
    assert list(tmp_path.iterdir()) == []


def test_plan_out_onto_a_device_or_a_too_long_name_is_exit_1(tmp_path: Path) -> None:
    site = make_site(tmp_path / "site")
    dev = device(tmp_path / "null")
    done = site.plan(dev, site.ips[:2])
    assert done.code == 1, done.text
    assert f"error: {dev} is not a regular file (a character device)" in done.err
    assert stat.S_ISCHR(dev.lstat().st_mode)
    for name in ("x" * 256, "y" * 240):
        out = tmp_path / name
        done = site.plan(out, site.ips[:2])
        if len(name) > NAME_MAX:
            assert done.code == 1, done.text
            assert "Traceback" not in done.text
            assert "more than the 255" in done.err
            assert name not in os.listdir(tmp_path)
        else:
            assert done.code == 2, done.text
            assert json.loads(out.read_text())["format_version"] == 3
