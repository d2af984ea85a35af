"""`bindmgr rollback` end to end from the CLI: listing, restoring the latest apply byte for byte,
undoing a rollback, refusing over later edits unless forced, named backups and clear errors."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from bindmgr.apply.backup import WRITTEN, list_backups
from tests.support.apply import Run, Site, cli, cli_proc, make_site
from tests.support.safety import is_root, no_default_app_folder, posix_owners

INI = "App/MDaemon.ini"


@pytest.fixture
def site(tmp_path: Path) -> Site:
    return make_site(tmp_path / "site")


def rollback(site: Site, *extra: str) -> Run:
    return cli("rollback", "--app-dir", str(site.app), *extra)


def apply_ips(site: Site, tmp_path: Path, ips: tuple[str, ...], name: str) -> Path:
    """Plan and apply `ips`; return the backup folder that apply made."""
    plan = tmp_path / f"{name}.json"
    assert site.plan(plan, ips).code == 2
    done = cli("apply", str(plan))
    assert done.code == 0, done.text
    return list_backups(site.backups)[0].path


def test_list_shows_the_backups_newest_first(site: Site, tmp_path: Path) -> None:
    first = apply_ips(site, tmp_path, site.ips[:2], "a")
    second = apply_ips(site, tmp_path, site.ips[1:3], "b")
    listed = rollback(site, "--list")
    assert listed.code == 0, listed.text
    lines = listed.out.splitlines()
    assert lines[0] == f"Backups in {site.backups} (newest first):"
    assert lines[1].split() == [second.name, "apply", "written", "MDaemon.ini,", "Domains.dat"]
    assert lines[2].split() == [first.name, "apply", "written", "MDaemon.ini,", "Domains.dat"]
    assert len(lines) == 3


def test_rollback_restores_the_latest_apply_and_can_itself_be_undone(
    site: Site, tmp_path: Path
) -> None:
    original = site.files()
    applied_backup = apply_ips(site, tmp_path, site.ips[:3], "a")
    applied = site.files()
    assert applied != original

    done = rollback(site)

    assert done.code == 0, done.text
    assert site.files() == original
    assert f"Restored MDaemon.ini, Domains.dat from {applied_backup.name}" in done.out
    assert "Restart MDaemon (or rerun with --restart)" in done.out
    assert not (site.app / "RESTART.SEM").exists()
    newest = list_backups(site.backups)[0]
    assert (newest.kind, newest.state) == ("restore", WRITTEN)
    assert newest.meta["restores"] == applied_backup.name
    assert f"(undo with: --to {newest.path.name})" in done.out
    for f in newest.files:
        assert newest.read_old(f.name) == applied[f"App/{f.name}"]

    undo = rollback(site, "--to", newest.path.name, "--restart")
    assert undo.code == 0, undo.text
    assert site.files() == applied
    assert (site.app / "RESTART.SEM").is_file()

    twice = rollback(site, "--to", newest.path.name)
    assert twice.code == 0, twice.text
    assert "already match" in twice.out
    assert site.files() == applied


def test_rollback_as_a_child_process(site: Site, tmp_path: Path) -> None:
    original = site.files()
    apply_ips(site, tmp_path, site.ips[:2], "a")
    done = cli_proc("rollback", "--app-dir", str(site.app))
    assert done.code == 0, done.text
    assert site.files() == original


def test_rollback_refuses_over_a_later_edit_unless_forced(site: Site, tmp_path: Path) -> None:
    original = site.files()
    apply_ips(site, tmp_path, site.ips[:2], "a")
    ini = site.path(INI)
    edited = ini.read_bytes().replace(b"CheckForUpdates=No", b"CheckForUpdates=Yes")
    ini.write_bytes(edited)
    before = site.tree()

    refused = rollback(site)
    assert refused.code != 0
    assert refused.code == 4
    assert f"{site.app / 'MDaemon.ini'} changed after that apply" in refused.err
    assert "Domains.dat changed" not in refused.err
    assert "--force" in refused.err
    assert site.tree() == before

    forced = rollback(site, "--force")
    assert forced.code == 0, forced.text
    assert f"overwriting (forced): {site.app / 'MDaemon.ini'}" in forced.err
    assert site.files() == original
    kept = list_backups(site.backups)[0]
    assert kept.kind == "restore"
    assert kept.read_old("MDaemon.ini") == edited  # the overwritten edit is in the backup


def test_to_picks_a_named_backup_by_name_or_path(site: Site, tmp_path: Path) -> None:
    original = site.files()
    first = apply_ips(site, tmp_path, site.ips[:2], "a")
    after_first = site.files()
    apply_ips(site, tmp_path, site.ips[2:4], "b")
    before = site.tree()

    # The older apply's files were changed by the newer one: restoring over them needs --force.
    skipped = rollback(site, "--to", first.name)
    assert skipped.code == 4, skipped.text
    assert site.tree() == before

    latest = rollback(site)
    assert latest.code == 0, latest.text
    assert site.files() == after_first
    named = rollback(site, "--to", str(first))
    assert named.code == 0, named.text
    assert f"from {first.name}" in named.out
    assert site.files() == original


def test_to_an_unknown_backup_is_a_clear_error(site: Site, tmp_path: Path) -> None:
    apply_ips(site, tmp_path, site.ips[:2], "a")
    before = site.tree()
    done = rollback(site, "--to", "nope")
    assert done.code == 1
    assert f"no backup named nope in {site.backups}" in done.err
    assert "bindmgr rollback --list" in done.err
    assert site.tree() == before


def test_no_backups_is_a_clear_error(site: Site) -> None:
    before = site.tree()
    listed = rollback(site, "--list")
    assert listed.code == 0
    assert listed.out == f"No backups in {site.backups}.\n"
    done = rollback(site)
    assert done.code == 1
    assert f"no completed apply to roll back in {site.backups}" in done.err
    assert "--to" in done.err
    assert site.tree() == before


def test_rollback_without_an_app_folder(site: Site, tmp_path: Path) -> None:
    gone = tmp_path / "gone"
    done = cli("rollback", "--app-dir", str(gone))
    assert done.code == 1
    assert f"the MDaemon App folder {gone} does not exist" in done.err
    from_env = cli("rollback", "--list", env={"MDAEMON_APP": str(site.app)})
    assert from_env.code == 0
    assert "No backups" in from_env.out


@no_default_app_folder
def test_rollback_without_app_dir_or_mdaemon_app() -> None:
    bare = cli("rollback", env={"MDAEMON_APP": ""})  # empty counts as unset
    assert bare.code == 1
    assert "no MDaemon App folder given" in bare.err


def test_backup_dir_option_is_used_by_both_commands(site: Site, tmp_path: Path) -> None:
    original = site.files()
    elsewhere = tmp_path / "backups"
    plan = tmp_path / "p.json"
    assert site.plan(plan, site.ips[:2]).code == 2
    done = cli("apply", str(plan), "--backup-dir", str(elsewhere))
    assert done.code == 0, done.text
    assert not site.backups.exists()
    assert len(list_backups(elsewhere)) == 1
    missing = rollback(site)
    assert missing.code == 1  # looks in the default place, which is empty
    back = rollback(site, "--backup-dir", str(elsewhere))
    assert back.code == 0, back.text
    assert site.files() == original


@posix_owners
def test_rollback_keeps_mode_and_owner(site: Site, tmp_path: Path) -> None:
    owner = (1234, 1234) if is_root() else (os.getuid(), os.getgid())
    for rel in ("App/MDaemon.ini", "App/Domains.dat"):
        site.path(rel).chmod(0o640)
        if is_root():
            os.chown(site.path(rel), *owner)
    original = site.files()
    apply_ips(site, tmp_path, site.ips[:2], "a")
    done = rollback(site)
    assert done.code == 0, done.text
    assert site.files() == original
    for rel in ("App/MDaemon.ini", "App/Domains.dat"):
        st = site.path(rel).stat()
        assert (stat.S_IMODE(st.st_mode), st.st_uid, st.st_gid) == (0o640, *owner), rel
