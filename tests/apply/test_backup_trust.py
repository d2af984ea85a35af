"""How far a backup is believed: plain names only, files of the layout only, folders nobody else
can write, and dates in the future not trusted for ordering. Real folders, real owners (root)."""

from __future__ import annotations

import datetime as dt
import json
import os
import sys
from pathlib import Path

import pytest

from bindmgr.apply.backup import MANIFEST, list_backups, load_backup, prune, scan
from bindmgr.apply.transaction import commit, restore
from bindmgr.errors import InputError
from bindmgr.model import sha256_bytes
from tests.support.safety import NEW_A, NEW_B, OLD_A, OLD_B, is_root

A, B = "MDaemon.ini", "Domains.dat"
NAMES = (A, B)


def applied(tmp_path: Path) -> tuple[Path, Path]:
    """An App folder after one apply of both files; (App folder, that apply's backup folder)."""
    app = tmp_path / "App"
    app.mkdir()
    (app / A).write_bytes(OLD_A)
    (app / B).write_bytes(OLD_B)
    res = commit(
        app, {A: NEW_A, B: NEW_B}, expected={A: sha256_bytes(OLD_A), B: sha256_bytes(OLD_B)}
    )
    assert res.backup is not None
    return app, res.backup.path


def edit_manifest(folder: Path, **files: object) -> None:
    """Change the first file entry of a manifest (as someone with write access could)."""
    path = folder / MANIFEST
    d = json.loads(path.read_text())
    d["files"][0].update(files)
    path.write_text(json.dumps(d))


def tree(app: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in app.iterdir() if p.is_file()}


BAD_NAMES = [
    "../../rootonly/victim.conf",
    "../..",
    "/etc/passwd",
    "\\Windows\\win.ini",
    "C:\\MDaemon\\App\\MDaemon.ini",
    "C:MDaemon.ini",
    "\\\\server\\share\\MDaemon.ini",
    "sub/../../x.ini",
    "sub/./MDaemon.ini",
    "a//b.ini",
    "",
    "MDaemon.ini\x00",
    "..",
]


POSIX_MODES = pytest.mark.skipif(
    sys.platform == "win32",
    reason="owner and mode bits are POSIX: on Windows the folders' access lists decide, and "
    "bindmgr does not judge them (docs/security.md); Wine has no access lists to test with",
)


@pytest.mark.parametrize("name", BAD_NAMES)
def test_a_manifest_naming_anything_but_a_plain_name_is_damaged(tmp_path: Path, name: str) -> None:
    _app, folder = applied(tmp_path)
    edit_manifest(folder, name=name)
    with pytest.raises(InputError, match="is refused"):
        load_backup(folder)
    assert list_backups(folder.parent) == []
    ((b, why),) = scan(folder.parent)
    assert b is None
    assert why is not None
    assert f"{folder / MANIFEST} is damaged" in why
    with pytest.raises(InputError):
        load_backup(folder).read_old(name)
    assert prune(folder.parent, 1) == []  # a damaged backup is shown, not deleted


@pytest.mark.parametrize("stored", ["../victim.conf", "a/b", "..", ".", "C:x", "x\\y", ""])
def test_a_stored_copy_must_be_a_plain_file_name(tmp_path: Path, stored: str) -> None:
    _app, folder = applied(tmp_path)
    edit_manifest(folder, stored=stored)
    with pytest.raises(InputError, match="is refused"):
        load_backup(folder)


@pytest.mark.parametrize("name", ["MDaemon.ini", "sub/x.ini", "../WorldClient/WorldClient.ini"])
def test_plain_names_are_accepted(tmp_path: Path, name: str) -> None:
    _app, folder = applied(tmp_path)
    edit_manifest(folder, name=name)
    assert load_backup(folder).files[0].name == name


def test_restore_writes_only_the_files_it_is_allowed(tmp_path: Path) -> None:
    app, folder = applied(tmp_path)
    edit_manifest(folder, name="Other.ini")  # plain, but not a file of the layout
    before = tree(app)
    with pytest.raises(InputError) as err:
        restore(app, load_backup(folder), allowed=NAMES, lock_timeout=0)
    assert "names 'Other.ini', which is not a file of the layout" in err.value.message
    assert "nothing was restored" in err.value.message
    assert err.value.hint is not None
    assert "--layout" in err.value.hint
    assert tree(app) == before
    assert not (app / "Other.ini").exists()
    assert [b.kind for b in list_backups(folder.parent)] == ["apply"]  # no restore was begun


@POSIX_MODES
@pytest.mark.parametrize("mode", [0o777, 0o770, 0o702, 0o1777])
@pytest.mark.parametrize("which", ["root", "folder"])
def test_folders_others_may_write_are_not_trusted(tmp_path: Path, mode: int, which: str) -> None:
    app, folder = applied(tmp_path)
    target = folder.parent if which == "root" else folder
    target.chmod(mode)
    before = tree(app)
    with pytest.raises(InputError) as err:
        restore(app, load_backup(folder), allowed=NAMES, lock_timeout=0)
    assert f"{target} has mode {mode:04o}" in err.value.message
    assert "group or others may write to it" in err.value.message
    assert "nothing was restored or written" in err.value.message
    assert tree(app) == before
    target.chmod(0o755)  # others may read, not write: trusted
    restore(app, load_backup(folder), allowed=NAMES, lock_timeout=0)
    assert tree(app)[A] == OLD_A


@POSIX_MODES
def test_the_root_is_judged_through_a_link(tmp_path: Path) -> None:
    app, folder = applied(tmp_path)
    shared = tmp_path / "shared"
    folder.parent.rename(shared)
    shared.chmod(0o777)
    (app / "bindmgr-backups").symlink_to(shared)
    with pytest.raises(InputError, match="has mode 0777"):
        restore(app, load_backup(shared / folder.name), allowed=NAMES, lock_timeout=0)
    with pytest.raises(InputError, match="has mode 0777"):  # and no new backup goes there
        commit(app, {A: OLD_A}, expected={A: sha256_bytes(NEW_A)}, lock_timeout=0)
    assert (app / A).read_bytes() == NEW_A


@pytest.mark.skipif(not is_root(), reason="chown to another uid needs root")
@pytest.mark.parametrize("which", ["root", "folder"])
def test_folders_of_another_account_are_not_trusted(tmp_path: Path, which: str) -> None:
    app, folder = applied(tmp_path)
    target = folder.parent if which == "root" else folder
    os.chown(target, 65534, 65534)
    with pytest.raises(InputError) as err:
        restore(app, load_backup(folder), allowed=NAMES, lock_timeout=0)
    assert f"{target} is owned by uid 65534 (mode 0700), not by root or uid 0" in err.value.message
    assert (app / A).read_bytes() == NEW_A


def test_a_backup_dated_in_the_future_is_listed_after_the_others(tmp_path: Path) -> None:
    _app, real = applied(tmp_path)
    future = real.parent / "21000101T000000Z"
    future.mkdir(mode=0o700)
    for f in real.iterdir():
        (future / f.name).write_bytes(f.read_bytes())
    d = json.loads((future / MANIFEST).read_text())
    d["created"] = "2100-01-01T00:00:00"  # naive: taken as UTC
    (future / MANIFEST).write_text(json.dumps(d))
    listed = list_backups(real.parent)
    assert [b.path for b in listed] == [real, future]
    now = dt.datetime.now(dt.UTC)
    assert listed[1].in_future(now)
    assert not listed[0].in_future(now)
    later = now + dt.timedelta(days=365 * 80)  # once that time has come, it is the newest
    assert [b.path for b in list_backups(real.parent, now=later)] == [future, real]


def test_scan_names_interrupted_and_damaged_folders(tmp_path: Path) -> None:
    _app, real = applied(tmp_path)
    root = real.parent
    (root / "20000101T000000Z").mkdir()
    (root / "20000102T000000Z").mkdir()
    (root / "20000102T000000Z" / MANIFEST).write_text("{not json")
    found = scan(root)
    assert [b.path if b else None for b, _why in found] == [real, None, None]
    assert found[1][1] == f"{root / '20000101T000000Z'}: no manifest (an interrupted backup)"
    assert found[2][1] is not None
    assert found[2][1].startswith(f"{root / '20000102T000000Z' / MANIFEST} cannot be read")


@POSIX_MODES
def test_no_new_backup_goes_into_a_folder_others_may_write(tmp_path: Path) -> None:
    app, folder = applied(tmp_path)
    folder.parent.chmod(0o777)
    before = sorted(p.name for p in folder.parent.iterdir())
    with pytest.raises(InputError, match="has mode 0777"):
        commit(app, {A: OLD_A}, expected={A: sha256_bytes(NEW_A)}, lock_timeout=0)
    assert sorted(p.name for p in folder.parent.iterdir()) == before
    assert (app / A).read_bytes() == NEW_A
