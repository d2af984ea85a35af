"""`bindmgr rollback --format json` (and `--json`) from the CLI: the backups as a document, a
rollback's result as one, the words on stderr, the exit statuses of the text output."""

from __future__ import annotations

import datetime as dt
import json
import sys
from pathlib import Path
from typing import Any

import pytest

from bindmgr.apply.backup import REVERTED, list_backups, load_backup, mark
from tests.support.apply import Run, Site, cli, make_site

FUTURE = "20991231T235959Z"


@pytest.fixture
def site(tmp_path: Path) -> Site:
    return make_site(tmp_path / "site")


def rollback(site: Site, *extra: str) -> Run:
    return cli("rollback", "--app-dir", str(site.app), *extra)


def apply_ips(site: Site, tmp_path: Path, ips: tuple[str, ...], name: str) -> Path:
    plan = tmp_path / f"{name}.json"
    assert site.plan(plan, ips).code == 2
    done = cli("apply", str(plan))
    assert done.code == 0, done.text
    return list_backups(site.backups)[0].path


def document(run: Run) -> Any:
    assert run.out.endswith("}\n")
    assert run.out.isascii()
    return json.loads(run.out)


def test_list_as_json_names_each_backup_its_time_state_and_files(
    site: Site, tmp_path: Path
) -> None:
    first = apply_ips(site, tmp_path, site.ips[:2], "a")
    second = apply_ips(site, tmp_path, site.ips[1:3], "b")
    mark(load_backup(second), REVERTED)  # as an apply that failed and put the files back
    (site.backups / "20000101T000000Z").mkdir()  # an interrupted backup: no manifest

    for flag in (("--format", "json"), ("--json",)):
        listed = rollback(site, "--list", *flag)
        assert listed.code == 0, listed.text
        assert listed.err == ""
        doc = document(listed)
        assert list(doc) == ["format_version", "backup_dir", "problem", "backups", "damaged"]
        assert (doc["format_version"], doc["backup_dir"], doc["problem"]) == (
            1, str(site.backups), None,
        )  # fmt: skip
        assert [b["id"] for b in doc["backups"]] == [second.name, first.name]
        newest, older = doc["backups"]
        assert newest["state"] == "reverted"
        assert (older["state"], older["kind"], older["path"]) == ("written", "apply", str(first))
        assert older["files"] == ["MDaemon.ini", "Domains.dat"]
        assert (newest["latest"], older["latest"]) == (False, True)  # a plain rollback's pick
        created = dt.datetime.strptime(older["created"], "%Y-%m-%dT%H:%M:%SZ")
        assert abs(created.replace(tzinfo=dt.UTC) - dt.datetime.now(dt.UTC)) < dt.timedelta(1)
        assert older["restores"] is None
        assert older["notes"] == []
        assert doc["damaged"] == [
            {"message": f"{site.backups / '20000101T000000Z'}: no manifest (an interrupted backup)"}
        ]


def test_list_as_json_without_backups(site: Site) -> None:
    listed = rollback(site, "--list", "--json")
    assert listed.code == 0, listed.text
    assert document(listed) == {
        "format_version": 1,
        "backup_dir": str(site.backups),
        "problem": None,
        "backups": [],
        "damaged": [],
    }


def test_a_rollback_as_json_says_what_it_restored_and_how_to_undo_it(
    site: Site, tmp_path: Path
) -> None:
    original = site.files()
    applied_backup = apply_ips(site, tmp_path, site.ips[:3], "a")
    applied = site.files()

    done = rollback(site, "--format", "json")

    assert done.code == 0, done.text
    assert site.files() == original
    doc = document(done)
    newest = list_backups(site.backups)[0]
    assert doc == {
        "format_version": 1,
        "changed": True,
        "restored_from": applied_backup.name,
        "restored_from_path": str(applied_backup),
        "written": ["MDaemon.ini", "Domains.dat"],
        "unchanged": [],
        "backup": newest.path.name,
        "backup_path": str(newest.path),
        "restarted": False,
    }
    assert f"Restored MDaemon.ini, Domains.dat from {applied_backup.name}" in done.err

    listed = document(rollback(site, "--list", "--json"))
    assert listed["backups"][0]["id"] == newest.path.name
    assert (listed["backups"][0]["kind"], listed["backups"][0]["restores"]) == (
        "restore", applied_backup.name,
    )  # fmt: skip

    undo = rollback(site, "--to", doc["backup"], "--restart", "--json")
    assert undo.code == 0, undo.text
    assert site.files() == applied
    again = document(undo)
    assert (again["restored_from"], again["changed"], again["restarted"]) == (
        newest.path.name, True, True,
    )  # fmt: skip

    twice = rollback(site, "--to", newest.path.name, "--restart", "--json")
    assert twice.code == 0, twice.text
    nothing = document(twice)
    assert (nothing["changed"], nothing["written"], nothing["backup"]) == (False, [], None)
    assert nothing["unchanged"] == ["MDaemon.ini", "Domains.dat"]
    assert nothing["restarted"] is False
    assert "already match" in twice.err


def test_a_refused_rollback_prints_no_document_and_keeps_its_exit_status(
    site: Site, tmp_path: Path
) -> None:
    apply_ips(site, tmp_path, site.ips[:2], "a")
    ini = site.path("App/MDaemon.ini")
    ini.write_bytes(ini.read_bytes().replace(b"CheckForUpdates=No", b"CheckForUpdates=Yes"))
    before = site.tree()

    refused = rollback(site, "--json")
    assert refused.code == 4
    assert refused.out == ""
    assert "changed after that apply" in refused.err
    assert site.tree() == before

    unknown = rollback(site, "--to", "nope", "--format", "json")
    assert (unknown.code, unknown.out) == (1, "")
    assert "no backup named nope" in unknown.err


def test_list_as_json_notes_why_a_plain_rollback_passes_a_backup_over(
    site: Site, tmp_path: Path
) -> None:
    apply_ips(site, tmp_path, site.ips[:2], "a")
    future = site.backups / FUTURE
    made = list_backups(site.backups)[0].path
    future.mkdir()
    for item in made.iterdir():
        (future / item.name).write_bytes(item.read_bytes())
    manifest = json.loads((future / "manifest.json").read_text())
    manifest["created"] = dt.datetime(2099, 12, 31, 23, 59, 59, tzinfo=dt.UTC).isoformat()
    (future / "manifest.json").write_text(json.dumps(manifest))

    doc = document(rollback(site, "--list", "--json"))
    assert [b["id"] for b in doc["backups"]] == [made.name, FUTURE]
    ahead = doc["backups"][1]
    assert ahead["created"] == "2099-12-31T23:59:59Z"
    assert ahead["latest"] is False
    assert len(ahead["notes"]) == 1
    assert ahead["notes"][0].startswith("dated in the future (2099-12-31 23:59:59 UTC)")
    assert doc["backups"][0]["latest"] is True


@pytest.mark.skipif(
    sys.platform == "win32",
    reason="owner and mode bits are POSIX: on Windows the folders' access lists decide",
)
def test_list_as_json_says_when_rollback_refuses_the_whole_folder(
    site: Site, tmp_path: Path
) -> None:
    apply_ips(site, tmp_path, site.ips[:2], "a")
    site.backups.chmod(0o777)  # a user could write it: anything in it may be forged
    try:
        doc = document(rollback(site, "--list", "--json"))
        refused = rollback(site, "--json")
    finally:
        site.backups.chmod(0o700)
    assert doc["problem"].startswith(f"{site.backups} has mode 0777")
    assert doc["problem"].endswith(": rollback refuses every backup here")
    assert (refused.code, refused.out) == (1, "")
