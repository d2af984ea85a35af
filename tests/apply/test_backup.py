from __future__ import annotations

import datetime as dt
import json
import os
import stat
from pathlib import Path

import pytest

from bindmgr.apply.backup import (
    BACKED_UP,
    MANIFEST,
    WRITTEN,
    create_backup,
    list_backups,
    load_backup,
    mark,
    prune,
)
from bindmgr.errors import InputError, UsageError
from bindmgr.model import sha256_bytes
from tests.support.acl import assert_kept_permissions, assert_private_folder
from tests.support.safety import is_root

T0 = dt.datetime(2025, 3, 1, 3, 0, 0, tzinfo=dt.UTC)


def app_with(tmp_path: Path, files: dict[str, bytes]) -> Path:
    app = tmp_path / "App"
    app.mkdir(exist_ok=True)
    for name, data in files.items():
        (app / name).parent.mkdir(parents=True, exist_ok=True)
        (app / name).write_bytes(data)
    return app


def backup_of(app: Path, names: list[str], when: dt.datetime = T0, **meta: object) -> Path:
    originals = {n: (app / n).read_bytes() if (app / n).exists() else None for n in names}
    b = create_backup(
        app / "bindmgr-backups",
        app,
        originals,
        dict.fromkeys(names, "ab" * 32),
        kind="apply",
        meta=meta,
        now=lambda: when,
    )
    return b.path


def test_backup_folder_copies_and_manifest(tmp_path: Path) -> None:
    app = app_with(tmp_path, {"MDaemon.ini": b"old main", "Domains.dat": b"old domains"})
    (app / "MDaemon.ini").chmod(0o640)
    (app / "Domains.dat").chmod(0o600)
    b = create_backup(
        app / "bindmgr-backups",
        app,
        {"MDaemon.ini": b"old main", "Domains.dat": b"old domains", "New.ini": None},
        {"MDaemon.ini": "1" * 64, "Domains.dat": "2" * 64, "New.ini": "3" * 64},
        kind="apply",
        meta={"plan": "bind 10.0.0.2", "ips": 2},
        now=lambda: T0,
    )
    assert b.path == app / "bindmgr-backups" / "20250301T030000Z"
    assert_private_folder(b.path, app)
    assert_private_folder(app / "bindmgr-backups", app)
    assert (b.path / "MDaemon.ini").read_bytes() == b"old main"
    assert_kept_permissions(b.path / "MDaemon.ini", app / "MDaemon.ini", 0o640)
    assert_kept_permissions(b.path / "Domains.dat", app / "Domains.dat", 0o600)
    assert sorted(os.listdir(b.path)) == ["Domains.dat", "MDaemon.ini", MANIFEST]
    d = json.loads((b.path / MANIFEST).read_text())
    assert d["state"] == BACKED_UP
    assert d["kind"] == "apply"
    assert d["pid"] == os.getpid()
    assert d["meta"] == {"plan": "bind 10.0.0.2", "ips": 2}
    assert d["created"] == T0.isoformat()
    files = {f["name"]: f for f in d["files"]}
    assert files["MDaemon.ini"]["old_sha256"] == sha256_bytes(b"old main")
    assert files["MDaemon.ini"]["planned_sha256"] == "1" * 64
    assert files["MDaemon.ini"]["new_sha256"] is None
    assert files["New.ini"] == {
        "name": "New.ini",
        "stored": None,
        "old_sha256": None,
        "planned_sha256": "3" * 64,
        "new_sha256": None,
    }
    assert load_backup(b.path) == b
    assert b.read_old("New.ini") is None
    assert b.read_old("Domains.dat") == b"old domains"


@pytest.mark.skipif(not is_root(), reason="chown to another uid needs root (POSIX owners)")
def test_copies_keep_owner_and_group(tmp_path: Path) -> None:
    app = app_with(tmp_path, {"MDaemon.ini": b"secret"})
    os.chown(app / "MDaemon.ini", 1234, 5678)
    (app / "MDaemon.ini").chmod(0o640)
    st = (Path(backup_of(app, ["MDaemon.ini"])) / "MDaemon.ini").stat()
    assert (st.st_uid, st.st_gid, stat.S_IMODE(st.st_mode)) == (1234, 5678, 0o640)


def test_same_basename_and_reserved_names_get_unique_copies(tmp_path: Path) -> None:
    app = app_with(
        tmp_path,
        {"Domains.ini": b"a", "sub/domains.INI": b"b", "manifest.json": b"c"},
    )
    b = load_backup(backup_of(app, ["Domains.ini", "sub/domains.INI", "manifest.json"]))
    stored = {f.name: f.stored for f in b.files}
    assert stored == {
        "Domains.ini": "Domains.ini",
        "sub/domains.INI": "domains-2.INI",
        "manifest.json": "manifest-2.json",
    }
    assert b.read_old("sub/domains.INI") == b"b"
    assert b.read_old("manifest.json") == b"c"


def test_same_second_gets_a_counter_and_newest_first(tmp_path: Path) -> None:
    app = app_with(tmp_path, {"a.ini": b"x"})
    paths = [backup_of(app, ["a.ini"]) for _ in range(12)]
    assert paths[0].name == "20250301T030000Z"
    assert paths[11].name == "20250301T030000Z-11"
    later = backup_of(app, ["a.ini"], when=T0 + dt.timedelta(seconds=1))
    listed = [b.path for b in list_backups(app / "bindmgr-backups")]
    assert listed == [later, *reversed(paths)]


def test_mark_records_new_hashes(tmp_path: Path) -> None:
    app = app_with(tmp_path, {"a.ini": b"x", "b.ini": b"y"})
    b = load_backup(backup_of(app, ["a.ini", "b.ini"]))
    done = mark(b, WRITTEN, {"a.ini": "9" * 64})
    again = load_backup(b.path)
    assert again == done
    assert again.state == WRITTEN
    assert again.file("a.ini").new_sha256 == "9" * 64
    assert again.file("b.ini").new_sha256 is None


def test_prune_keeps_newest_and_drops_interrupted(tmp_path: Path) -> None:
    app = app_with(tmp_path, {"a.ini": b"x"})
    root = app / "bindmgr-backups"
    made = [backup_of(app, ["a.ini"], when=T0 + dt.timedelta(minutes=i)) for i in range(5)]
    interrupted = root / "20250101T000000Z"
    interrupted.mkdir()
    (interrupted / "a.ini").write_bytes(b"partial copy, no manifest")
    foreign = root / "keep-me"
    foreign.mkdir()
    removed = prune(root, 2, protect=(made[0],))
    assert sorted(removed) == sorted([made[1], made[2], interrupted])
    assert sorted(p.name for p in root.iterdir()) == sorted(
        [made[0].name, made[3].name, made[4].name, "keep-me"]
    )
    with pytest.raises(UsageError, match="at least 1"):
        prune(root, 0)


def test_damaged_copy_or_manifest_is_refused(tmp_path: Path) -> None:
    app = app_with(tmp_path, {"a.ini": b"x"})
    path = backup_of(app, ["a.ini"])
    (path / "a.ini").write_bytes(b"tampered")
    with pytest.raises(InputError, match="does not match its manifest"):
        load_backup(path).read_old("a.ini")
    (path / MANIFEST).write_text("{not json")
    with pytest.raises(InputError, match="cannot be read"):
        load_backup(path)
    assert list_backups(app / "bindmgr-backups") == []
    assert list_backups(tmp_path / "nothing-here") == []
