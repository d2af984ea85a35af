"""`bindmgr apply` against other processes: a lock holder, a fake MDaemon that takes RESTART.SEM
and listens again, a real pseudo-terminal for --confirm-within, and ten concurrent applies.
Every child process is stopped by the test that started it; every wait is bounded."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from bindmgr.apply.backup import REVERTED, WRITTEN, list_backups
from bindmgr.apply.lock import LOCK_NAME
from tests.support.apply import (
    CHILD_TIMEOUT,
    Site,
    changed_lines,
    child,
    cli,
    cli_proc,
    make_site,
    needs_pty,
    run_on_pty,
    wait_line,
)
from tests.support.safety import env as child_env
from tests.support.wine import under_wine

INI = "App/MDaemon.ini"


@pytest.fixture
def site(tmp_path: Path) -> Site:
    return make_site(tmp_path / "site")


def planned(site: Site, tmp_path: Path) -> Path:
    plan = tmp_path / "plan.json"
    made = site.plan(plan, site.ips[:2])
    assert made.code == 2, made.text
    return plan


def is_applied(site: Site, before: dict[str, bytes]) -> bool:
    return changed_lines(before[INI], site.files()[INI]) == [
        (b"DomainIP=203.0.113.10\r\n", f"DomainIP={site.ips[0]}\r\n".encode())
    ]


# -- 6. the lock ------------------------------------------------------------------------------

HOLD_LOCK = """
import sys
from pathlib import Path
from bindmgr.apply.lock import AppLock
with AppLock(Path(sys.argv[1]), command="bindmgr apply (test holder)", timeout=5):
    print("held", flush=True)
    sys.stdin.read()
"""


def test_a_live_holder_makes_apply_wait_then_fail(site: Site, tmp_path: Path) -> None:
    plan = planned(site, tmp_path)
    with child(HOLD_LOCK, str(site.app)) as holder:
        assert wait_line(holder) == "held"
        before = site.tree()
        done = cli("apply", str(plan), "--lock-timeout", "0.5")
        assert done.code == 1, done.text
        assert "the App folder is locked by 'bindmgr apply (test holder)'" in done.err
        assert f"(pid {holder.pid} on host {socket.gethostname()})" in done.err
        assert "waited 0.5 s" in done.err
        assert "rerun" in done.err
        assert site.tree() == before
    assert not (site.app / LOCK_NAME).exists()
    after = cli("apply", str(plan))  # the holder is gone: the same plan applies now
    assert after.code == 0, after.text


def write_lock(site: Site, pid: int) -> Path:
    path = site.app / LOCK_NAME
    body = {
        "pid": pid,
        "host": socket.gethostname(),
        "time": time.time() - 60,
        "command": "bindmgr apply old.json",
        "create_time": None,
        "token": "0123456789abcdef",
    }
    path.write_text(json.dumps(body), encoding="utf-8")
    return path


def test_a_lock_file_naming_a_live_pid_is_respected(site: Site, tmp_path: Path) -> None:
    plan = planned(site, tmp_path)
    write_lock(site, os.getpid())  # this test's own process: alive on this host
    before = site.tree()
    done = cli_proc("apply", str(plan), "--lock-timeout", "0.3")
    assert done.code == 1, done.text
    assert f"'bindmgr apply old.json' (pid {os.getpid()}" in done.err
    assert site.tree() == before


def test_a_lock_file_of_a_dead_process_is_taken_over(site: Site, tmp_path: Path) -> None:
    plan = planned(site, tmp_path)
    gone = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        check=True,
        capture_output=True,
        text=True,
        timeout=CHILD_TIMEOUT,
    )
    write_lock(site, int(gone.stdout))
    before = site.files()
    done = cli("apply", str(plan), "--lock-timeout", "0")
    assert done.code == 0, done.text
    assert f"(pid {int(gone.stdout)} on host" in done.err
    assert "which is no longer running; taking it over" in done.err
    assert is_applied(site, before)
    assert not (site.app / LOCK_NAME).exists()


# -- 8. --wait-restart ------------------------------------------------------------------------

FAKE_MDAEMON = """
import sys
from tests.support.fake_mdaemon import main
raise SystemExit(main(sys.argv[1:]))
"""
LISTENER = """
import os, socket, sys, time
app, ip, port = sys.argv[1:]
sem = os.path.join(app, "RESTART.SEM")
print("waiting", flush=True)
deadline = time.monotonic() + 30
while not os.path.exists(sem) and time.monotonic() < deadline:
    time.sleep(0.02)
os.unlink(sem)
with socket.create_server((ip, int(port))) as s:
    print("listening", flush=True)
    sys.stdin.read()
"""


def mdaemon(site: Site, *names: str) -> list[str]:
    """The fake MDaemon's arguments: it answers on site.ips[i] as names[i]."""
    pairs = [f"{ip}={name}" for ip, name in zip(site.ips, names, strict=False)]
    return [str(site.app), str(site.layout), *pairs]


AS_PLANNED = ("mail.example.com", "mail-2.example.com")


def test_wait_restart_returns_once_mdaemon_answers_as_planned(site: Site, tmp_path: Path) -> None:
    plan = planned(site, tmp_path)
    before = site.files()
    with child(FAKE_MDAEMON, *mdaemon(site, *AS_PLANNED)) as fake:
        assert wait_line(fake) == "waiting"
        done = cli("apply", str(plan), "--wait-restart", "--restart-timeout", "20")
        assert wait_line(fake) == "listening"
    assert done.code == 0, done.text
    assert "MDaemon took RESTART.SEM; waiting until it answers as planned" in done.err
    assert "Verify: 24 connections: 24 answered" in done.out
    assert "MDaemon answers on every planned address as planned." in done.out
    assert not (site.app / "RESTART.SEM").exists()
    assert is_applied(site, before)


# The listener must take RESTART.SEM before the wait gives up: a Windows process under Wine on
# a busy host can take longer than Linux's 1.5 s to notice it.
PATIENCE = "6" if sys.platform == "win32" else "1.5"


def test_wait_restart_is_not_fooled_by_any_listener_on_the_smtp_port(
    site: Site, tmp_path: Path
) -> None:
    plan = planned(site, tmp_path)
    with child(LISTENER, str(site.app), site.ips[0], str(site.first_tcp_port)) as plain:
        assert wait_line(plain) == "waiting"  # it takes RESTART.SEM, then only listens
        done = cli("apply", str(plan), "--wait-restart", "--restart-timeout", PATIENCE)
    assert done.code == 1, done.text
    assert f"MDaemon did not come back within {PATIENCE} s as planned:" in done.err
    assert f"{site.ips[0]}:{site.first_tcp_port} SMTP: " in done.err


WHY = {
    "plain": "",
    "locksems": " (LOCKSEMS.SEM suspends semaphore processing)",
    "stale-watchdog": " (WATCHDOG.SEM is stale: MDaemon does not seem to be running)",
}


@pytest.mark.parametrize("why", list(WHY))
def test_wait_restart_fails_when_nothing_takes_the_semaphore(
    site: Site, tmp_path: Path, why: str
) -> None:
    plan = planned(site, tmp_path)
    before = site.files()
    if why == "locksems":
        (site.app / "LOCKSEMS.SEM").touch()
    if why == "stale-watchdog":
        watchdog = site.app / "WATCHDOG.SEM"
        watchdog.touch()
        old = time.time() - 600
        os.utime(watchdog, (old, old))
    done = cli("apply", str(plan), "--wait-restart", "--restart-timeout", "1")
    assert done.code == 1, done.text
    assert "MDaemon did not come back within 1 s" in done.err
    assert f"RESTART.SEM is still there: MDaemon did not act on it{WHY[why]};" in done.err
    assert "the new files are in place" in done.err
    assert "bindmgr rollback" in done.err
    assert (site.app / "RESTART.SEM").exists()
    assert is_applied(site, before)
    assert [b.state for b in list_backups(site.backups)] == [WRITTEN]


@pytest.mark.parametrize(
    ("names", "seen"),
    [(AS_PLANNED[:1], "refused"), (("mail.example.com", "mail-7.example.com"), "wrong_domain")],
    ids=["one-address-only", "wrong-name"],
)
def test_wait_restart_names_where_mdaemon_does_not_answer_as_planned(
    site: Site, tmp_path: Path, names: tuple[str, ...], seen: str
) -> None:
    plan = planned(site, tmp_path)
    with child(FAKE_MDAEMON, *mdaemon(site, *names)) as fake:
        assert wait_line(fake) == "waiting"
        done = cli("apply", str(plan), "--wait-restart", "--restart-timeout", "2")
    assert done.code == 1, done.text
    assert f"{site.ips[1]}:{site.first_tcp_port} SMTP: {seen}" in done.err
    assert f"{site.ips[0]}:" not in done.err.split("as planned:")[1]


# -- 9. --confirm-within on a real terminal ---------------------------------------------------


@needs_pty
def test_confirmed_on_the_terminal_keeps_the_new_files(site: Site, tmp_path: Path) -> None:
    plan = planned(site, tmp_path)
    before = site.files()
    argv = ["apply", str(plan), "--confirm-within", "10", "--yes", "--restart"]
    with child(FAKE_MDAEMON, *mdaemon(site, *AS_PLANNED)) as fake:
        assert wait_line(fake) == "waiting"
        code, shown = run_on_pty(argv, b"y\n")
    assert code == 0, shown
    assert "Verify: 24 connections: 24 answered" in shown
    assert "Keep the new bindings? They are reverted in 10 s (at " in shown
    assert "Confirmed: the new bindings stay." in shown
    assert is_applied(site, before)
    assert [b.state for b in list_backups(site.backups)] == [WRITTEN]


@needs_pty
@pytest.mark.parametrize("answer", [None, b"n\n"], ids=["silence", "no"])
def test_unconfirmed_apply_is_reverted(site: Site, tmp_path: Path, answer: bytes | None) -> None:
    plan = planned(site, tmp_path)
    before = site.files()
    argv = ["apply", str(plan), "--confirm-within", "2", "--yes", "--restart"]
    with child(FAKE_MDAEMON, *mdaemon(site, *AS_PLANNED)) as fake:
        assert wait_line(fake) == "waiting"
        code, shown = run_on_pty(argv, answer)
    assert code == 5, shown
    assert "Applied 2 change(s)" in shown
    reason = "not confirmed within 2 s" if answer is None else "declined"
    assert f"{reason}: restoring the previous files" in shown
    assert f"{reason}: the previous files are back from" in shown
    listed = cli("rollback", "--list", "--app-dir", str(site.app))
    assert " apply   reverted " in listed.out
    assert site.files() == before
    assert not (site.app / LOCK_NAME).exists()
    kinds = [(b.kind, b.state) for b in list_backups(site.backups)]
    assert kinds == [("restore", WRITTEN), ("apply", REVERTED)]


@needs_pty
def test_interrupt_at_the_confirmation_prompt_reverts(site: Site, tmp_path: Path) -> None:
    plan = planned(site, tmp_path)
    before = site.files()
    argv = ["apply", str(plan), "--confirm-within", "30", "--yes", "--restart"]
    with child(FAKE_MDAEMON, *mdaemon(site, *AS_PLANNED)) as fake:
        assert wait_line(fake) == "waiting"
        code, shown = run_on_pty(argv, None, on_prompt=lambda proc: proc.send_signal(signal.SIGINT))
    assert code == 5, shown
    assert "the previous files are back from" in shown
    assert site.files() == before
    kinds = [(b.kind, b.state) for b in list_backups(site.backups)]
    assert kinds == [("restore", WRITTEN), ("apply", REVERTED)]


@needs_pty
@pytest.mark.parametrize(
    "sig", [getattr(signal, "SIGHUP", None), signal.SIGTERM], ids=["hangup", "term"]
)
def test_hangup_or_term_at_the_prompt_reverts(
    site: Site, tmp_path: Path, sig: signal.Signals
) -> None:
    plan = planned(site, tmp_path)
    before = site.files()
    argv = ["apply", str(plan), "--confirm-within", "30", "--yes", "--restart"]
    with child(FAKE_MDAEMON, *mdaemon(site, *AS_PLANNED)) as fake:
        assert wait_line(fake) == "waiting"
        code, shown = run_on_pty(argv, None, on_prompt=lambda proc: proc.send_signal(sig))
    assert code == 5, shown
    assert "interrupted before it was confirmed: the previous files are back from" in shown
    assert site.files() == before
    kinds = [(b.kind, b.state) for b in list_backups(site.backups)]
    assert kinds == [("restore", WRITTEN), ("apply", REVERTED)]


@needs_pty
def test_mdaemon_not_coming_back_within_the_confirmation_window_reverts(
    site: Site, tmp_path: Path
) -> None:
    plan = planned(site, tmp_path)
    before = site.files()
    argv = [
        "apply",
        str(plan),
        "--yes",
        "--confirm-within",
        "30",
        "--wait-restart",
        "--restart-timeout",
        "0.5",
    ]
    code, shown = run_on_pty(argv, None)
    assert code == 5, shown
    assert "RESTART.SEM is still there" in shown
    assert "MDaemon did not come back on the new bindings: the previous files are back" in shown
    assert site.files() == before


@needs_pty
def test_revert_over_a_file_changed_meanwhile_says_how_to_roll_back(
    site: Site, tmp_path: Path
) -> None:
    plan = planned(site, tmp_path)
    before = site.files()
    ini = site.path(INI)

    def mdaemon_rewrites_its_ini(_proc: object) -> None:
        ini.write_bytes(ini.read_bytes().replace(b"LastRunCheck=Yes", b"LastRunCheck=No"))

    argv = ["apply", str(plan), "--confirm-within", "1", "--restart"]
    with child(FAKE_MDAEMON, *mdaemon(site, *AS_PLANNED)) as fake:
        assert wait_line(fake) == "waiting"
        code, shown = run_on_pty(argv, None, on_prompt=mdaemon_rewrites_its_ini)

    assert code == 1, shown
    assert "not confirmed within 1 s, but the previous files could not be restored" in shown
    assert f"{ini} changed after that apply" in shown
    assert "the new bindings stay" in shown
    [applied] = list_backups(site.backups)
    command = f"bindmgr rollback --app-dir {site.app} --to {applied.path.name} --force"
    assert command in shown
    assert changed_lines(before[INI], ini.read_bytes()) == [
        (b"LastRunCheck=Yes\r\n", b"LastRunCheck=No\r\n"),
        (b"DomainIP=203.0.113.10\r\n", f"DomainIP={site.ips[0]}\r\n".encode()),
    ]
    assert site.files()["App/Domains.dat"] != before["App/Domains.dat"]

    forced = cli(*command.split()[1:])
    assert forced.code == 0, forced.text
    assert site.files() == before


def test_confirm_within_without_a_terminal_is_refused_up_front(site: Site, tmp_path: Path) -> None:
    plan = planned(site, tmp_path)
    before = site.tree()
    done = cli("apply", str(plan), "--confirm-within", "2", "--restart")
    assert done.code == 1
    assert "--confirm-within needs a terminal to confirm on" in done.err
    assert site.tree() == before
    proc = cli_proc("apply", str(plan), "--confirm-within", "2", "--yes", "--restart")
    assert proc.code == 1
    assert site.tree() == before
    alone = cli("apply", str(plan), "--confirm-within", "2")
    assert alone.code == 1
    assert "--confirm-within needs --restart (or --wait-restart)" in alone.err
    assert site.tree() == before


# -- 12. concurrent applies -------------------------------------------------------------------


# Wine binds a UDP socket on a loopback address as 0.0.0.0 on that interface, so the ten
# bind checks of one port on different addresses can collide there (Windows lets them be).
UDP_CLASH = ["--force"] if under_wine() else []


def test_ten_concurrent_applies_serialise_and_exactly_one_lands(tmp_path: Path) -> None:
    site = make_site(tmp_path / "site", n_ips=20)
    pristine = tmp_path / "pristine"
    shutil.copytree(site.mdaemon, pristine)
    plans = []
    for i in range(10):
        plan = tmp_path / f"plan{i}.json"
        made = site.plan(plan, site.ips[2 * i : 2 * i + 2])
        assert made.code == 2, made.text
        plans.append(plan)

    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "bindmgr", "apply", str(p), "--lock-timeout", "30", *UDP_CLASH],
            env=child_env(),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for p in plans
    ]
    results: list[tuple[int, str]] = []
    try:
        deadline = time.monotonic() + 2 * CHILD_TIMEOUT
        for proc in procs:
            out, err = proc.communicate(timeout=max(1.0, deadline - time.monotonic()))
            results.append((proc.returncode, out + err))
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
                proc.wait(timeout=10)

    codes = [code for code, _ in results]
    assert sorted(codes) == [0] + [4] * 9, results
    winner = codes.index(0)
    for code, text in results:
        if code == 4:
            assert "the plan is stale, nothing was written" in text

    # The folder holds exactly the winner's result: the same plan applied to an untouched copy.
    alone = make_copy_and_apply(pristine, tmp_path / "alone", plans[winner])
    assert site.files() == alone
    [backup] = list_backups(site.backups)
    assert backup.state == WRITTEN
    assert backup.meta["addresses"] == list(site.ips[2 * winner : 2 * winner + 2])
    for f in backup.files:
        assert backup.read_old(f.name) == (pristine / "App" / f.name).read_bytes()
    assert not (site.app / LOCK_NAME).exists()
    assert not site.leftover_temps()
    assert all(b.state != REVERTED for b in list_backups(site.backups))


def make_copy_and_apply(pristine: Path, where: Path, plan: Path) -> dict[str, bytes]:
    shutil.copytree(pristine, where)
    done = cli("apply", str(plan), "--app-dir", str(where / "App"), "--allow-elsewhere")
    assert done.code == 0, done.text
    return {
        rel: (where / rel).read_bytes()
        for rel in (
            "App/MDaemon.ini",
            "App/Domains.dat",
            "WorldClient/WorldClient.ini",
            "WebAdmin/WebAdmin.ini",
        )
    }
