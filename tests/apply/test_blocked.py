"""A write Windows refuses: another program holds the file, or it is read-only. The words are
pure (apply/blocked.py); on Windows a real replace is refused and says so."""

from __future__ import annotations

import os
import stat
import sys
from pathlib import Path

import pytest

from bindmgr.apply import blocked
from bindmgr.apply.safewrite import remove_file, replace_file
from bindmgr.errors import WriteError
from bindmgr.model import sha256_bytes
from tests.support.safety import leftovers

INI = r"C:\MDaemon\App\MDaemon.ini"
OLD = b"[Special]\r\nBind=No\r\n"
NEW = b"[Special]\r\nBind=Yes\r\n"

windows_only = pytest.mark.skipif(
    sys.platform != "win32", reason="share modes and the read-only attribute are Windows'"
)


def test_a_sharing_violation_names_the_file_and_says_to_stop_mdaemon() -> None:
    words = blocked.in_use(INI, blocked.SHARING_VIOLATION)
    assert words is not None
    message, hint = words
    assert message == (
        rf"cannot write {INI}: another program has it open (a sharing violation); the original "
        "is intact"
    )
    assert "EXITNOW.SEM" in hint
    assert "stop the MDaemon service" in hint
    assert "close the program that has MDaemon.ini open" in hint
    assert hint.endswith("then rerun")
    assert "Administrator" not in message + hint  # it is not a permission problem


def test_a_lock_violation_is_told_apart_and_other_errors_are_not_in_use() -> None:
    words = blocked.in_use("/srv/App/Domains.dat", blocked.LOCK_VIOLATION)
    assert words is not None
    assert "another program has locked part of it (a lock violation)" in words[0]
    assert "has Domains.dat open" in words[1]
    assert blocked.in_use(INI, 5) is None  # ERROR_ACCESS_DENIED: a real denial
    assert blocked.in_use(INI, None) is None  # not Windows


def test_the_read_only_attribute_is_said_with_how_to_clear_it() -> None:
    message, hint = blocked.read_only(INI)
    assert message.startswith(rf"cannot write {INI}: it has the read-only attribute")
    assert "nothing was written" in message
    assert f'attrib -r "{INI}"' in hint


@windows_only
def test_a_file_held_open_is_not_replaced_and_the_message_says_why(tmp_path: Path) -> None:
    target = tmp_path / "MDaemon.ini"
    target.write_bytes(OLD)
    with open(target, "rb"), pytest.raises(WriteError) as refused:  # shares no delete
        replace_file(target, NEW, expected_sha256=sha256_bytes(OLD))
    assert str(refused.value).startswith(  # MoveFileEx says access denied: it is told apart
        f"cannot write {target}: another program has it open (a sharing violation); the "
        "original is intact"
    )
    assert refused.value.hint is not None
    assert "EXITNOW.SEM" in refused.value.hint
    assert target.read_bytes() == OLD
    assert leftovers(tmp_path) == []


@windows_only
def test_a_read_only_file_is_neither_replaced_nor_removed(tmp_path: Path) -> None:
    """Wine would replace it; Windows refuses: bindmgr checks first, so both say the same."""
    target = tmp_path / "MDaemon.ini"
    target.write_bytes(OLD)
    os.chmod(target, stat.S_IREAD)  # sets FILE_ATTRIBUTE_READONLY
    try:
        with pytest.raises(WriteError, match="it has the read-only attribute"):
            replace_file(target, NEW, expected_sha256=sha256_bytes(OLD))
        with pytest.raises(WriteError, match="it has the read-only attribute"):
            remove_file(target, expected_sha256=sha256_bytes(OLD))
        assert target.read_bytes() == OLD
        assert leftovers(tmp_path) == []
    finally:
        os.chmod(target, stat.S_IREAD | stat.S_IWRITE)
