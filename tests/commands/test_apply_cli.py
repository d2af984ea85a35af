"""`bindmgr apply` end to end from the CLI, on copies of the sample folder: what is written, what
is refused (stale plans, bind conflicts, plan conflicts, no confirmation, bad input), semaphores
and permissions. Each refusal also proves that nothing at all was written."""

from __future__ import annotations

import json
import os
import socket
import stat
import sys
from pathlib import Path

import pytest

from bindmgr.apply.backup import WRITTEN, list_backups
from bindmgr.errors import ExitCode
from bindmgr.formats.plan import digest_of
from tests.support.acl import assert_kept_permissions, assert_private_folder
from tests.support.apply import (
    FILES,
    Site,
    changed_lines,
    child,
    cli,
    cli_proc,
    make_site,
    wait_line,
)
from tests.support.safety import is_root, no_default_app_folder, posix_owners
from tests.support.sample import read_ini

UNSET = {"MDAEMON_APP": ""}  # an empty MDAEMON_APP counts as unset

INI, DAT = "App/MDaemon.ini", "App/Domains.dat"


@pytest.fixture
def site(tmp_path: Path) -> Site:
    return make_site(tmp_path / "site")


def inline(site: Site, *extra: str, ips: tuple[str, ...] | None = None) -> list[str]:
    """`apply` arguments that name the desired state on the command line."""
    chosen = ips if ips is not None else site.ips[:2]
    return [
        "apply",
        "--app-dir",
        str(site.app),
        "--layout",
        str(site.layout),
        "--domain",
        "example.com",
        *(a for ip in chosen for a in ("--ip", ip)),
        *extra,
    ]


def planned(site: Site, tmp_path: Path, n: int = 2) -> Path:
    plan = tmp_path / "plan.json"
    made = site.plan(plan, site.ips[:n])
    assert made.code == 2, made.text
    return plan


def assert_applied(site: Site, before: dict[str, bytes], ips: tuple[str, ...]) -> None:
    """The files differ from `before` exactly in the lines a plan for `ips` (2 or 3) changes."""
    after = site.files()
    assert changed_lines(before[INI], after[INI]) == [
        (b"DomainIP=203.0.113.10\r\n", f"DomainIP={ips[0]}\r\n".encode())
    ]
    want = [(b"IP=203.0.113.11\r\n", f"IP={ips[1]}\r\n".encode())]
    if len(ips) == 3:
        want += [(b"IP=\r\n", f"IP={ips[2]}\r\n".encode()), (b"Bind=No\r\n", b"Bind=Yes\r\n")]
    assert changed_lines(before[DAT], after[DAT]) == want
    for rel in FILES[2:]:
        assert after[rel] == before[rel]


# -- 1. the happy path ------------------------------------------------------------------------


def test_apply_writes_exactly_the_plan_backs_up_and_is_then_stale(
    site: Site, tmp_path: Path
) -> None:
    plan = planned(site, tmp_path, 3)
    before = site.files()
    modes = {rel: stat.S_IMODE(site.path(rel).stat().st_mode) for rel in FILES}

    done = cli("apply", str(plan))

    assert done.code == 0, done.text
    assert "Applied 4 change(s) to MDaemon.ini, Domains.dat." in done.out
    assert_applied(site, before, site.ips[:3])
    assert not site.leftover_temps()
    assert not (site.app / "bindmgr.apply.lock").exists()
    assert {rel: stat.S_IMODE(site.path(rel).stat().st_mode) for rel in FILES} == modes

    [backup] = list_backups(site.backups)
    assert (backup.kind, backup.state) == ("apply", WRITTEN)
    assert str(backup.path) in done.out
    assert_private_folder(backup.path, site.app)
    assert sorted(f.name for f in backup.files) == ["Domains.dat", "MDaemon.ini"]
    for f in backup.files:
        assert backup.read_old(f.name) == before[f"App/{f.name}"]
        assert f.stored is not None
        copy = backup.path / f.stored
        assert copy.read_bytes() == before[f"App/{f.name}"]
        assert_kept_permissions(copy, site.path(f"App/{f.name}"), modes[f"App/{f.name}"])

    again = site.plan(tmp_path / "again.json", site.ips[:3])
    assert again.code == 0, again.text
    assert "No changes." in again.out

    applied = site.tree()
    stale = cli("apply", str(plan))
    assert stale.code == 4, stale.text
    assert f"{site.app / 'MDaemon.ini'} changed since the plan" in stale.err
    assert "[Domain] DomainIP was '203.0.113.10' when planned" in stale.err
    assert f"{site.app / 'Domains.dat'} changed since the plan" in stale.err
    assert "[mail-2.example.com] IP was '203.0.113.11' when planned" in stale.err
    assert "[mail-3.example.com] Bind was 'No' when planned, now 'Yes'" in stale.err
    assert site.tree() == applied


def test_apply_as_a_child_process_with_the_console_entry(site: Site, tmp_path: Path) -> None:
    plan = planned(site, tmp_path)
    before = site.files()
    done = cli_proc("apply", str(plan))
    assert done.code == 0, done.text
    assert_applied(site, before, site.ips[:2])


# -- 2. stale plan ----------------------------------------------------------------------------


def test_plan_made_stale_by_an_edit_is_refused_and_names_the_key(
    site: Site, tmp_path: Path
) -> None:
    plan = planned(site, tmp_path)
    ini = read_ini(site.path(INI))
    ini.set("Domain", "DomainIP", "203.0.113.99")
    site.path(INI).write_bytes(ini.to_bytes())
    before = site.tree()

    done = cli("apply", str(plan))

    assert done.code == 4, done.text
    assert f"{site.app / 'MDaemon.ini'} changed since the plan" in done.err
    assert "[Domain] DomainIP was '203.0.113.10' when planned, now '203.0.113.99'" in done.err
    assert "Domains.dat" not in done.err
    assert f"--out {plan}" in done.err
    assert site.tree() == before
    assert not site.backups.exists()


def test_edit_outside_the_planned_keys_makes_the_plan_stale_too(site: Site, tmp_path: Path) -> None:
    plan = planned(site, tmp_path)
    wc = site.path("WorldClient/WorldClient.ini")
    wc.write_bytes(wc.read_bytes().replace(b"Theme=WorldClient", b"Theme=LookOut"))
    before = site.tree()
    done = cli("apply", str(plan))
    assert done.code == 4, done.text
    assert "WorldClient.ini changed since the plan" in done.err
    assert site.tree() == before


# -- 3. check first ---------------------------------------------------------------------------


def test_a_busy_listener_port_refuses_the_apply_unless_forced(site: Site, tmp_path: Path) -> None:
    plan = planned(site, tmp_path)
    before_files = site.files()
    before = site.tree()
    port = site.ports["imap"]
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as busy:
        busy.bind((site.ips[1], port))
        busy.listen(1)

        refused = cli("apply", str(plan))
        assert refused.code == 3, refused.text
        assert f"{site.ips[1]}" in refused.out
        assert str(port) in refused.out
        assert "nothing written" in refused.err
        assert "--force" in refused.err
        assert site.tree() == before

        forced = cli("apply", str(plan), "--force")
        assert forced.code == 0, forced.text
        assert "--force: writing despite 1 bind conflict(s)" in forced.err
    assert_applied(site, before_files, site.ips[:2])


# -- 4. plan conflicts ------------------------------------------------------------------------


def test_a_foreign_domain_bound_to_a_requested_ip_is_a_conflict(site: Site, tmp_path: Path) -> None:
    dat = read_ini(site.path(DAT))
    dat.set("partner.example.net", "IP", site.ips[1])
    dat.set("partner.example.net", "Bind", "Yes")
    site.path(DAT).write_bytes(dat.to_bytes())
    plan = tmp_path / "plan.json"
    made = site.plan(plan, site.ips[:2])
    assert made.code == 3, made.text
    before = site.tree()

    saved = cli("apply", str(plan))
    assert saved.code == 3, saved.text
    assert "the plan has conflicts, nothing written" in saved.err
    assert "partner.example.net" in saved.err
    assert site.tree() == before

    direct = cli(*inline(site, "--yes"))
    assert direct.code == 3, direct.text
    assert "partner.example.net" in direct.err
    assert site.tree() == before


# -- 5. inline desired state ------------------------------------------------------------------


def test_inline_apply_without_a_terminal_needs_yes(site: Site) -> None:
    before_files = site.files()
    before = site.tree()

    refused = cli(*inline(site))
    assert refused.code == 1, refused.text
    assert "there is no terminal to ask on" in refused.err
    assert "--yes" in refused.err
    assert "DomainIP: 203.0.113.10 ->" in refused.out  # the plan was shown first
    assert site.tree() == before

    done = cli(*inline(site, "--yes"))
    assert done.code == 0, done.text
    assert_applied(site, before_files, site.ips[:2])

    again = cli(*inline(site, "--yes"))
    assert again.code == 0, again.text
    assert "already match the plan: nothing to do" in again.out
    assert len(list_backups(site.backups)) == 1


# -- 7. semaphores ----------------------------------------------------------------------------


def test_without_restart_the_output_says_a_restart_is_needed(site: Site, tmp_path: Path) -> None:
    done = cli("apply", str(planned(site, tmp_path)))
    assert done.code == 0, done.text
    assert "MDaemon must restart before it listens on the new addresses" in done.out
    assert "--restart" in done.out
    assert not (site.app / "RESTART.SEM").exists()


def test_restart_drops_the_semaphore_and_locksems_is_warned_about(
    site: Site, tmp_path: Path
) -> None:
    (site.app / "LOCKSEMS.SEM").touch()
    done = cli("apply", str(planned(site, tmp_path)), "--restart")
    assert done.code == 0, done.text
    assert "warning: LOCKSEMS.SEM is present" in done.err
    sem = site.app / "RESTART.SEM"
    assert sem.is_file()
    assert sem.read_bytes() == b""
    assert f"Dropped RESTART.SEM in {site.app}" in done.out


# -- 13. permissions --------------------------------------------------------------------------


@posix_owners
def test_written_files_and_backups_keep_mode_and_owner(site: Site, tmp_path: Path) -> None:
    plan = planned(site, tmp_path)
    owner = (1234, 1234) if is_root() else (os.getuid(), os.getgid())
    for rel in FILES:
        site.path(rel).chmod(0o640)
        if is_root():
            os.chown(site.path(rel), *owner)
    before = site.files()

    done = cli("apply", str(plan))

    assert done.code == 0, done.text
    assert_applied(site, before, site.ips[:2])
    for rel in FILES:
        st = site.path(rel).stat()
        assert (stat.S_IMODE(st.st_mode), st.st_uid, st.st_gid) == (0o640, *owner), rel
    [backup] = list_backups(site.backups)
    for f in backup.files:
        assert f.stored is not None
        st = (backup.path / f.stored).stat()
        assert (stat.S_IMODE(st.st_mode), st.st_uid, st.st_gid) == (0o640, *owner), f.name


# -- 14. bad input ----------------------------------------------------------------------------


def test_missing_plan_file(site: Site, tmp_path: Path) -> None:
    before = site.tree()
    missing = tmp_path / "nope.json"
    done = cli("apply", str(missing))
    assert done.code == 1
    assert f"cannot read the plan {missing}: " in done.err  # the system's own words follow
    assert ("No such file or directory" in done.err) or ("File not found" in done.err)
    assert "bindmgr plan --out" in done.err
    assert site.tree() == before


def test_plan_file_that_is_not_json(site: Site, tmp_path: Path) -> None:
    before = site.tree()
    bad = tmp_path / "bad.json"
    bad.write_text("DomainIP=1.2.3.4\n", encoding="utf-8")
    done = cli("apply", str(bad))
    assert done.code == 1
    assert f"{bad}: the top level: not valid JSON" in done.err
    assert f"bindmgr plan --out {bad}" in done.err
    assert site.tree() == before


def test_plan_with_a_newer_format_version(site: Site, tmp_path: Path) -> None:
    plan = planned(site, tmp_path)
    doc = json.loads(plan.read_text(encoding="utf-8"))
    doc["format_version"] = 99
    plan.write_text(json.dumps(doc), encoding="utf-8")
    before = site.tree()
    done = cli("apply", str(plan))
    assert done.code == 1
    assert f"{plan}: format_version: 99 comes from a newer bindmgr" in done.err
    assert "upgrade bindmgr" in done.err
    assert site.tree() == before


@pytest.mark.parametrize("how", ["inline", "override", "recorded"])
def test_app_dir_that_does_not_exist(site: Site, tmp_path: Path, how: str) -> None:
    plan = planned(site, tmp_path)
    gone = tmp_path / "gone" / "App"
    if how == "inline":
        args = ["apply", "--app-dir", str(gone), "--domain", "example.com", "--ip", site.ips[0]]
        args.append("--yes")
    elif how == "override":
        args = ["apply", str(plan), "--app-dir", str(gone)]
    else:  # the folder the plan was made for has moved away
        doc = json.loads(plan.read_text(encoding="utf-8"))
        doc["app_dir"] = str(gone)
        doc["digest"] = digest_of(doc)  # a plan made for a folder that is no longer there
        plan.write_text(json.dumps(doc), encoding="utf-8")
        args = ["apply", str(plan)]
    before = site.tree()
    done = cli(*args)
    assert done.code == 1
    assert f"the MDaemon App folder {gone} does not exist" in done.err
    assert "--app-dir DIR" in done.err
    assert site.tree() == before


def test_no_desired_state(site: Site) -> None:
    done = cli("apply", "--app-dir", str(site.app))
    assert done.code == 1
    assert "error: nothing to apply" in done.err
    assert "bindmgr apply PLAN.json" in done.err


@no_default_app_folder
def test_no_app_dir_and_no_mdaemon_app(site: Site) -> None:
    bare = cli("apply", "--domain", "example.com", "--ip", site.ips[0], "--yes", env=UNSET)
    assert bare.code == 1
    assert "no MDaemon App folder given" in bare.err
    assert "MDAEMON_APP" in bare.err


def test_keep_prunes_old_backups_and_must_be_positive(site: Site, tmp_path: Path) -> None:
    for n, ips in enumerate((site.ips[:2], site.ips[1:3], site.ips[2:4])):
        plan = tmp_path / f"p{n}.json"
        assert site.plan(plan, ips).code == 2
        done = cli("apply", str(plan), "--keep", "2")
        assert done.code == 0, done.text
    kept = list_backups(site.backups)
    assert len(kept) == 2
    assert kept[0].meta["addresses"] == list(site.ips[2:4])

    plan = tmp_path / "p.json"
    assert site.plan(plan, site.ips[:2]).code == 2
    before = site.tree()
    refused = cli("apply", str(plan), "--keep", "0")
    assert refused.code == 1
    assert "keep must be at least 1 (got 0)" in refused.err
    assert site.tree() == before


def test_apply_json_and_detailed_exitcode_say_what_changed(site: Site, tmp_path: Path) -> None:
    plan = planned(site, tmp_path)
    digest = json.loads(plan.read_text(encoding="utf-8"))["digest"]
    done = cli("apply", str(plan), "--format", "json", "--detailed-exitcode")
    assert done.code == ExitCode.CHANGES, done.text
    doc = json.loads(done.out)  # stdout is the document alone; the words went to stderr
    assert doc["changed"] is True
    assert doc["written"] == ["MDaemon.ini", "Domains.dat"]
    assert doc["digest"] == digest
    [backup] = list_backups(site.backups)
    assert (doc["backup"], doc["backup_path"]) == (backup.path.name, str(backup.path))
    assert "Applied 2 change(s)" in done.err
    again = cli("apply", "--app-dir", str(site.app), "--layout", str(site.layout), "--yes",
                "--domain", "example.com", "--ip", site.ips[0], "--ip", site.ips[1],
                "--json", "--detailed-exitcode")  # fmt: skip
    assert again.code == ExitCode.OK, again.text
    assert json.loads(again.out)["changed"] is False
    assert cli("apply", str(plan), "--detailed-exitcode").code == ExitCode.STALE


HOLD_OPEN = """
import sys
with open(sys.argv[1], "rb"):  # Python shares no delete: MDaemon.ini cannot be replaced
    print("open", flush=True)
    sys.stdin.read()
"""


@pytest.mark.skipif(sys.platform != "win32", reason="only Windows refuses to replace an open file")
def test_an_ini_held_open_by_another_program_stops_the_apply_with_what_to_do(
    site: Site, tmp_path: Path
) -> None:
    plan = planned(site, tmp_path)
    before = site.tree()
    with child(HOLD_OPEN, str(site.path(INI))) as holder:
        assert wait_line(holder) == "open"
        done = cli("apply", str(plan))
    assert done.code == 1, done.text
    assert f"cannot write {site.path(INI)}: another program has it open" in done.err
    assert "EXITNOW.SEM" in done.err
    assert ".tmp" not in done.err  # the real file is named, not bindmgr's temp file
    assert "Administrator" not in done.err
    after = site.tree()
    assert {k: v for k, v in after.items() if "bindmgr-backups" not in k} == {
        k: v for k, v in before.items() if "bindmgr-backups" not in k
    }
