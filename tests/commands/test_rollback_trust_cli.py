"""`bindmgr rollback` against forged backups: a user who could write the backup folder adds one
that names a file outside the MDaemon folder (or MDaemon.ini itself) with matching hashes and a
date in the future. Root's plain rollback must never write it; `--list` says what it found."""

from __future__ import annotations

import datetime as dt
import json
import os
import sys
from pathlib import Path

import pytest

from bindmgr.apply.backup import list_backups
from bindmgr.model import sha256_bytes
from tests.support.apply import Run, Site, cli, make_site
from tests.support.safety import is_root

EVIL = b"[Special]\r\nowned=yes\r\n"
FUTURE = "20991231T235959Z"


@pytest.fixture
def site(tmp_path: Path) -> Site:
    s = make_site(tmp_path / "site")
    plan = tmp_path / "plan.json"
    assert s.plan(plan, s.ips[:2]).code == 2
    done = cli("apply", str(plan))
    assert done.code == 0, done.text
    return s


def rollback(site: Site, *extra: str) -> Run:
    return cli("rollback", "--app-dir", str(site.app), *extra)


def forge(site: Site, name: str, *, folder: str = FUTURE, owner: int | None = None) -> Path:
    """A complete-looking backup naming `name`, with EVIL as its 'old' bytes."""
    where = site.backups / folder
    where.mkdir()
    (where / "victim.conf").write_bytes(EVIL)
    manifest = {
        "format": 1,
        "created": dt.datetime(2099, 12, 31, 23, 59, 59, tzinfo=dt.UTC).isoformat(),
        "pid": 1,
        "host": "mail",
        "kind": "apply",
        "state": "written",
        "app_dir": str(site.app),
        "files": [
            {
                "name": name,
                "stored": "victim.conf",
                "old_sha256": sha256_bytes(EVIL),
                "planned_sha256": None,
                "new_sha256": None,  # "the apply created it": any current bytes are accepted
            }
        ],
        "meta": {},
    }
    (where / "manifest.json").write_text(json.dumps(manifest))
    if owner is not None:
        for p in (where, where / "victim.conf", where / "manifest.json"):
            os.chown(p, owner, owner)
    return where


@pytest.fixture
def victim(site: Site) -> Path:
    """A file of root's outside the MDaemon folder: site/rootonly/victim.conf."""
    folder = site.base / "rootonly"
    folder.mkdir(mode=0o700)
    path = folder / "victim.conf"
    path.write_bytes(b"root's own\n")
    return path


@pytest.mark.skipif(
    sys.platform == "win32",
    reason="owner and mode bits are POSIX: on Windows the folders' access lists decide",
)
def test_a_backup_folder_others_may_write_is_refused_as_a_whole(site: Site, victim: Path) -> None:
    site.backups.chmod(0o777)  # a user could write it: anything in it may be forged
    forge(site, "../../rootonly/victim.conf")
    before = site.tree()
    done = rollback(site)
    assert done.code == 1, done.text
    assert f"{site.backups} has mode 0777" in done.err
    assert "nothing was restored or written" in done.err
    assert "chmod go-w" in done.err
    assert victim.read_bytes() == b"root's own\n"
    assert site.tree() == before
    listed = rollback(site, "--list")
    assert listed.code == 0
    assert f"warning: {site.backups} has mode 0777" in listed.out


def test_a_name_outside_the_mdaemon_folder_is_never_written(site: Site, victim: Path) -> None:
    forged = forge(site, "../../rootonly/victim.conf")
    original = list_backups(site.backups)[0]
    listed = rollback(site, "--list")
    assert listed.code == 0
    damaged = [line for line in listed.out.splitlines() if "damaged" in line]
    assert len(damaged) == 1
    assert str(forged) in damaged[0]
    assert "'../../rootonly/victim.conf' is refused" in damaged[0]
    done = rollback(site)  # the forged one cannot be read: the real apply is rolled back
    assert done.code == 0, done.text
    assert f"from {original.path.name}" in done.out
    assert victim.read_bytes() == b"root's own\n"
    named = rollback(site, "--to", FUTURE)
    assert named.code == 1
    assert f"no backup named {FUTURE}" in named.err
    assert "is refused" in named.err
    assert victim.read_bytes() == b"root's own\n"


def test_a_future_date_does_not_make_a_backup_the_newest(site: Site) -> None:
    forge(site, "MDaemon.ini")
    applied = site.path("App/MDaemon.ini").read_bytes()
    listed = rollback(site, "--list")
    lines = listed.out.splitlines()
    assert lines[-2].split()[0] == FUTURE  # listed last, with the reason
    assert "dated in the future (2099-12-31 23:59:59 UTC)" in lines[-1]
    assert "a plain rollback does not pick it" in lines[-1]
    done = rollback(site)
    assert done.code == 0, done.text
    assert f"skipped backup {FUTURE}: dated in the future" in done.err
    restored = site.path("App/MDaemon.ini").read_bytes()
    assert restored not in (EVIL, applied)


@pytest.mark.skipif(not is_root(), reason="chown to another uid needs root")
def test_a_backup_folder_of_another_user_is_refused(site: Site) -> None:
    forge(site, "MDaemon.ini", folder="20000101T000000Z", owner=65534)
    before = site.tree()
    named = rollback(site, "--to", "20000101T000000Z")
    assert named.code == 1, named.text
    assert f"{site.backups / '20000101T000000Z'} is owned by uid 65534" in named.err
    assert site.tree() == before
    assert site.path("App/MDaemon.ini").read_bytes() != EVIL
    listed = rollback(site, "--list")
    assert "refused: " in listed.out
    assert "is owned by uid 65534" in listed.out


def test_only_files_the_layout_names_are_restored(site: Site, tmp_path: Path) -> None:
    forge(site, "../WorldClient/Other.ini", folder="20000101T000000Z")
    named = rollback(site, "--to", "20000101T000000Z")
    assert named.code == 1, named.text
    assert "names '../WorldClient/Other.ini', which is not a file of the layout" in named.err
    assert not site.path("WorldClient/Other.ini").exists()
    # --layout: the layout decides; one without Domains.dat cannot restore the real apply
    narrow = tmp_path / "narrow.ini"
    narrow.write_text(site.layout.read_text().replace("Domains.dat", "Other.dat"))
    refused = rollback(site, "--layout", str(narrow))
    assert refused.code == 1, refused.text
    assert "skipped backup" in refused.err
    assert "names Domains.dat, not files of the layout" in refused.err
    done = rollback(site, "--layout", str(site.layout))
    assert done.code == 0, done.text
    missing = rollback(site, "--layout", str(tmp_path / "nope.ini"))
    assert missing.code == 1
    assert "cannot read the layout" in missing.err


def test_list_says_which_folders_it_could_not_read(site: Site) -> None:
    (site.backups / "20000101T000000Z").mkdir()
    broken = site.backups / "20000102T000000Z"
    broken.mkdir()
    (broken / "manifest.json").write_text("{not json")
    listed = rollback(site, "--list")
    assert listed.code == 0
    lines = listed.out.splitlines()
    assert lines[2] == (
        f"  damaged: {site.backups / '20000101T000000Z'}: no manifest (an interrupted backup)"
    )
    assert lines[3].startswith(f"  damaged: {broken / 'manifest.json'} cannot be read")
    assert len(lines) == 4
