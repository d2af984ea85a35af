"""The bindmgr.mdaemon collection under a real ansible-playbook: a fleet of local hosts, each a
copy of the sample on its own loopback addresses and ports, and fake MDaemons that take
RESTART.SEM and then greet (rightly or with a wrong name). Check mode, a run and its rerun, a
verify failure rolled back (stopping the rollout, or not, per max_fail_percentage), the fleet
dry run's one report, Windows hosts through a stand-in win_command, and ansible-lint.
Every child process is stopped by the test that started it; every run is bounded."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from bindmgr.apply.backup import WRITTEN, list_backups
from tests.integrations.fleet import (
    AS_PLANNED,
    BIN,
    COLLECTION,
    PLAYBOOK_TIMEOUT,
    WRONG_NAME,
    ansible_env,
    ansible_ready,
    make_fleet,
    read_json,
)
from tests.support.apply import DOMAIN, Site, cli

pytestmark = pytest.mark.skipif(ansible_ready() is not None, reason=str(ansible_ready()))

INI = "App/MDaemon.ini"
# verify is tried every second while a fake MDaemon starts: patiently where it will answer as
# planned, a few times (past the 2 s the CLI tests give it) where it will not
PATIENT = {"rebind_verify_retries": 30, "rebind_verify_delay": 1}
BRIEF = {"rebind_verify_retries": 4, "rebind_verify_delay": 1}


def bound(site: Site) -> bool:
    """The site's MDaemon.ini binds its first address to the Default Domain."""
    return f"DomainIP={site.ips[0]}\r\n".encode() in site.path(INI).read_bytes()


def apply_now(site: Site) -> None:
    """Bring a site to the fleet's desired state beforehand (bindmgr itself, no restart)."""
    ips = [a for ip in site.ips[:2] for a in ("--ip", ip)]
    args = ["--app-dir", str(site.app), "--layout", str(site.layout), "--domain", DOMAIN, *ips]
    done = cli("apply", *args, "--yes")
    assert done.code == 0, done.text


def plan_digest(site: Site) -> str:
    ips = [a for ip in site.ips[:2] for a in ("--ip", ip)]
    args = ["--app-dir", str(site.app), "--layout", str(site.layout), "--domain", DOMAIN, *ips]
    done = cli("plan", *args, "--format", "json")
    assert done.code == 2, done.text
    return str(json.loads(done.out)["digest"])


def recap(text: str, host: str) -> str:
    """The host's PLAY RECAP line."""
    return next(line for line in text.splitlines() if line.startswith(f"{host} ") and "ok=" in line)


def test_check_mode_writes_nothing_and_names_the_hosts_that_would_change(tmp_path: Path) -> None:
    fleet = make_fleet(tmp_path, ["mx1", "mx2"])
    apply_now(fleet.sites["mx2"])  # already bound as the inventory says
    before = fleet.trees()
    summary = tmp_path / "summary.json"
    done = fleet.playbook(
        "rolling-rebind.yml", "--check", "--diff", extra={"rebind_summary_file": str(summary)}
    )
    assert done.code == 0, done.text
    assert fleet.trees() == before
    found = read_json(summary)
    assert found["check_mode"] is True
    assert (found["changed"], found["unchanged"]) == (["mx1"], ["mx2"])
    assert found["failed"] == found["rolled_back"] == found["not_reached"] == []
    site = fleet.sites["mx1"]  # diff mode: the planned INI changes, per file
    assert "--- before: MDaemon.ini (now)\n+++ after: MDaemon.ini (planned)" in done.out
    assert f"-DomainIP=203.0.113.10\n+DomainIP={site.ips[0]}\n" in done.out
    assert "--- before: Domains.dat (now)\n+++ after: Domains.dat (planned)" in done.out
    assert f"-IP=203.0.113.11\n+IP={site.ips[1]}\n" in done.out
    assert "changed=1" in recap(done.out, "mx1")
    assert "changed=0" in recap(done.out, "mx2")
    assert "fleet summary (check mode: nothing was written): 2 host(s): 1 changed" in done.out


def test_a_run_applies_verifies_and_a_second_run_changes_nothing(tmp_path: Path) -> None:
    fleet = make_fleet(tmp_path, ["mx1", "mx2"])
    reviewed = plan_digest(fleet.sites["mx1"])
    fleet.host_vars = {"mx1": {**PATIENT, "bindmgr_digest": reviewed}, "mx2": PATIENT}
    summary = tmp_path / "summary.json"
    extra = {"rebind_summary_file": str(summary)}
    with fleet.mdaemons({"mx1": AS_PLANNED, "mx2": AS_PLANNED}):
        first = fleet.playbook("rolling-rebind.yml", extra=extra)
        assert first.code == 0, first.text
        found = read_json(summary)
        assert (found["changed"], found["unchanged"]) == (["mx1", "mx2"], [])
        applied = fleet.trees()
        for site in fleet.sites.values():
            assert bound(site)
            assert not (site.app / "RESTART.SEM").exists()  # the fake MDaemon took it
            assert [b.state for b in list_backups(site.backups)] == [WRITTEN]
        assert "mx1: changed: wrote MDaemon.ini, Domains.dat; backup " in first.out

        again = fleet.playbook("rolling-rebind.yml", extra=extra)  # MDaemon still answers
        assert again.code == 0, again.text
        found = read_json(summary)
        assert (found["changed"], found["unchanged"]) == ([], ["mx1", "mx2"])
        for name in fleet.sites:
            assert "changed=0" in recap(again.out, name)
        assert fleet.trees() == applied


def test_a_host_whose_verify_fails_is_rolled_back_and_stops_the_rollout(tmp_path: Path) -> None:
    fleet = make_fleet(tmp_path, ["mx1", "mx2", "mx3"])
    fleet.host_vars = {"mx1": PATIENT, "mx2": BRIEF, "mx3": BRIEF}
    before = fleet.trees()
    summary = tmp_path / "summary.json"
    with fleet.mdaemons({"mx1": AS_PLANNED, "mx2": WRONG_NAME}):
        done = fleet.playbook("rolling-rebind.yml", extra={"rebind_summary_file": str(summary)})
    assert done.code == 2, done.text  # a failed host: serial 1, max_fail_percentage 0
    good, bad, later = fleet.sites["mx1"], fleet.sites["mx2"], fleet.sites["mx3"]
    assert bound(good)
    assert bad.files() == {rel: before["mx2"][rel] for rel in bad.files()}  # as they were
    kinds = [(b.kind, b.state) for b in list_backups(bad.backups)]
    assert kinds == [("restore", WRITTEN), ("apply", WRITTEN)]
    assert (bad.app / "RESTART.SEM").exists()  # rollback --restart asked MDaemon again
    assert later.tree() == before["mx3"]  # never reached
    found = read_json(summary)  # written by the handler: the summary play never ran
    assert found["changed"] == ["mx1"]
    assert found["rolled_back"] == ["mx2"]
    assert found["not_reached"] == ["mx3"]
    why = found["detail"]["mx2"]
    assert why.startswith("Verify that MDaemon answers as planned: verify: ")
    assert f"{bad.ips[1]}:{bad.first_tcp_port} SMTP wrong_domain" in why
    assert "; rolled back: Restored " in why
    assert "the fleet so far (a host failed in this batch): 3 host(s): 1 changed" in done.out
    assert "not reached: mx3" in done.out
    assert "PLAY [Summarise the fleet]" not in done.out


def test_under_max_fail_percentage_the_rollout_goes_on_and_sums_up(tmp_path: Path) -> None:
    fleet = make_fleet(tmp_path, ["mx1", "mx2"])
    fleet.host_vars = {"mx1": PATIENT, "mx2": BRIEF}
    summary = tmp_path / "summary.json"
    extra = {
        "bindmgr_serial": 2,
        "bindmgr_max_fail_percentage": 50,  # one of a batch of two may fail
        "rebind_summary_file": str(summary),
    }
    with fleet.mdaemons({"mx1": AS_PLANNED, "mx2": WRONG_NAME}):
        done = fleet.playbook("rolling-rebind.yml", extra=extra)
    assert done.code == 2, done.text  # mx2 failed, but the rollout ran to its end
    assert "PLAY [Summarise the fleet]" in done.out
    found = read_json(summary)  # the summary play's, at the end
    assert (found["changed"], found["rolled_back"]) == (["mx1"], ["mx2"])
    assert found["not_reached"] == found["failed"] == []
    assert "fleet summary: 2 host(s): 1 changed, 0 unchanged, 0 failed, 1 rolled back" in done.out
    assert bound(fleet.sites["mx1"])
    assert not bound(fleet.sites["mx2"])


def test_the_fleet_dry_run_writes_one_markdown_report_naming_every_host(tmp_path: Path) -> None:
    fleet = make_fleet(tmp_path, ["mx1", "mx2", "mx3"])
    apply_now(fleet.sites["mx2"])
    missing = tmp_path / "no-such-server" / "App"
    fleet.host_vars["mx3"] = {"bindmgr_app_dir": str(missing)}
    said = cli("plan", "--app-dir", str(missing), "--domain", DOMAIN, "--ip", "127.0.0.1")
    error = said.err.splitlines()[0].removeprefix("error: ")
    digest = plan_digest(fleet.sites["mx1"])
    before = fleet.trees()
    report = tmp_path / "report" / "fleet-plan.md"
    report.parent.mkdir()
    done = fleet.playbook("fleet-plan.yml", extra={"bindmgr_report": str(report)})
    assert done.code == 2, done.text  # mx3 cannot be applied: after the report
    assert "mx3: the plan has conflicts or bindmgr failed there; see the report" in done.text
    assert fleet.trees() == before
    text = report.read_text(encoding="utf-8")
    assert text.startswith("# bindmgr fleet plan\n")
    assert "3 host(s): 1 with changes, 1 up to date, 1 that cannot be applied." in text
    for name in fleet.sites:
        assert f"\n## {name}\n" in text
    assert f"| mx1 | changes planned | 2 | 0 | `{digest}` |" in text
    assert "| mx2 | up to date | 0 | 0 |" in text
    assert "| mx3 | error | | | |" in text
    ip = fleet.sites["mx1"].ips[0]
    assert f"| MDaemon.ini | Domain | DomainIP | 203.0.113.10 | {ip} |" in text
    assert f"> bindmgr failed on mx3: {error}" in text
    assert "> hint: " in text
    assert f'mx1:\n  bindmgr_digest: "{digest}"\n' in text
    assert "mx2:\n  bindmgr_digest" not in text


def test_a_windows_host_runs_bindmgr_through_win_command(tmp_path: Path) -> None:
    """ansible_os_family=Windows picks win_command; the stand-in splits its `cmd` by Windows'
    rules, so an App folder with blanks and parentheses arrives as one argument."""
    fleet = make_fleet(tmp_path, ["win1"], windows_standin=True, folder="{name} (x86) 100%")
    fleet.host_vars["win1"] = {"ansible_os_family": "Windows"}
    site = fleet.sites["win1"]
    assert " (x86) 100%" in str(site.app)
    report = tmp_path / "fleet-plan.md"
    planned = fleet.playbook("fleet-plan.yml", extra={"bindmgr_report": str(report)})
    assert planned.code == 0, planned.text
    assert f"| win1 | changes planned | 2 | 0 | `{plan_digest(site)}` |" in report.read_text()
    done = fleet.playbook(
        "rolling-rebind.yml", extra={"rebind_restart": False, "rebind_verify": False}
    )
    assert done.code == 0, done.text
    assert bound(site)
    assert "win1: changed: wrote MDaemon.ini, Domains.dat; backup " in done.out


def test_a_windows_host_without_ansible_windows_fails_and_says_what_to_install(
    tmp_path: Path,
) -> None:
    fleet = make_fleet(tmp_path, ["win1"])
    fleet.host_vars["win1"] = {"ansible_os_family": "Windows"}
    before = fleet.trees()
    done = fleet.playbook("rolling-rebind.yml", "--check")
    assert done.code == 2, done.text
    assert "win1 is a Windows host, where bindmgr runs through ansible.windows.win_command" in (
        done.text
    )
    assert "ansible-galaxy collection install ansible.windows" in done.text
    assert fleet.trees() == before


def test_confirm_and_a_missing_bindmgr_fail_with_what_to_do(tmp_path: Path) -> None:
    fleet = make_fleet(tmp_path, ["mx1"])
    play = tmp_path / "tasks.yml"
    play.write_text(
        "- hosts: mdaemon\n  gather_facts: false\n  tasks:\n"
        "    - bindmgr.mdaemon.bindmgr:\n        domain: example.com\n"
        "        ips: [127.0.0.1]\n        restart: true\n        confirm: 30\n"
        "      ignore_errors: true\n"
        "    - bindmgr.mdaemon.bindmgr:\n        state: verified\n"
        f"        executable: {tmp_path / 'nowhere' / 'bindmgr'}\n",
        encoding="utf-8",
    )
    before = fleet.trees()
    done = fleet.playbook(str(play))
    assert done.code == 2, done.text
    assert "confirm (bindmgr apply --confirm-within) is refused" in done.text
    assert "an Ansible task has no terminal" in done.text
    assert f"could not run {tmp_path / 'nowhere' / 'bindmgr'} on this host: " in done.text
    assert "install bindmgr there, or set executable to its full path" in done.text
    assert fleet.trees() == before


def test_ansible_lint_passes_on_the_collection(tmp_path: Path) -> None:
    lint = BIN / "ansible-lint"
    if not lint.exists():
        pytest.skip("ansible-lint is not installed in this environment")
    copy = tmp_path / "lint" / "ansible_collections" / "bindmgr" / "mdaemon"
    # a copy: ansible-lint leaves its cache beside what it reads
    shutil.copytree(COLLECTION, copy, ignore=shutil.ignore_patterns("__pycache__"))
    env = ansible_env(tmp_path, tmp_path / "lint") | {"NO_COLOR": "1"}
    del env["ANSIBLE_CONFIG"]
    done = subprocess.run(
        [str(lint), "--nocolor"],
        cwd=copy,
        env=env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=PLAYBOOK_TIMEOUT,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Passed: 0 failure(s)" in done.stdout + done.stderr


def test_the_collection_installs_with_ansible_galaxy(tmp_path: Path) -> None:
    """Built into a tarball and installed from that file (no server is asked)."""
    env = ansible_env(tmp_path, tmp_path / "empty")  # else "already installed": the source
    build = subprocess.run(
        [str(BIN / "ansible-galaxy"), "collection", "build", str(COLLECTION)],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=PLAYBOOK_TIMEOUT,
        check=False,
    )
    assert build.returncode == 0, build.stdout + build.stderr
    [tarball] = tmp_path.glob("bindmgr-mdaemon-*.tar.gz")
    target = tmp_path / "installed"
    galaxy = [str(BIN / "ansible-galaxy"), "collection", "install", "--offline"]
    install = subprocess.run(
        [*galaxy, str(tarball), "-p", str(target)],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=PLAYBOOK_TIMEOUT,
        check=False,
    )
    assert install.returncode == 0, install.stdout + install.stderr
    installed = target / "ansible_collections" / "bindmgr" / "mdaemon"
    for rel in ("plugins/action/bindmgr.py", "roles/rebind/tasks/main.yml", "MANIFEST.json"):
        assert (installed / rel).is_file(), rel
    assert not list(installed.rglob("__pycache__"))
