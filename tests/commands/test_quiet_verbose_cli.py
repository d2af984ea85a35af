"""`-q` and `-v` through the CLI: quiet keeps documents and errors and the exit status, verbose
says on stderr what was read, which layout keys matched and how long each stage took, and
never writes to stdout."""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

import pytest

from bindmgr.errors import ExitCode
from tests.support.apply import Site, cli, make_site


@pytest.fixture
def site(tmp_path: Path) -> Site:
    return make_site(tmp_path)


def where(site: Site) -> list[str]:
    return ["--app-dir", str(site.app), "--layout", str(site.layout)]


def desired(site: Site) -> list[str]:
    return ["--domain", "example.com", *(a for ip in site.ips[:2] for a in ("--ip", ip))]


@pytest.mark.parametrize("spot", ["before", "after"])
def test_quiet_plan_prints_nothing_and_keeps_the_exit_status(site: Site, spot: str) -> None:
    args = ["plan", *where(site), *desired(site)]
    loud = cli(*args)
    quiet = cli("-q", *args) if spot == "before" else cli(*args, "--quiet")
    assert loud.code == quiet.code == ExitCode.CHANGES
    assert loud.out
    assert (quiet.out, quiet.err) == ("", "")


def test_quiet_still_prints_a_json_document(site: Site) -> None:
    loud = cli("plan", *where(site), *desired(site), "--format", "json")
    quiet = cli("-q", "plan", *where(site), *desired(site), "--format", "json")
    assert quiet.code == loud.code == ExitCode.CHANGES
    assert json.loads(quiet.out) == json.loads(loud.out)


def test_quiet_keeps_errors_on_stderr(site: Site) -> None:
    bad = cli("-q", "plan", *where(site), "--domain", "example.com", "--ip", "not-an-ip")
    assert bad.code == ExitCode.ERROR
    assert bad.out == ""
    assert bad.err.startswith("error: ")
    assert "hint: " in bad.err


def test_quiet_inspect_check_and_apply(site: Site, tmp_path: Path) -> None:
    assert cli("-q", "inspect", *where(site)).out == ""
    checked = cli("-q", "check", *where(site), "--ip", site.ips[0])
    assert (checked.code, checked.out, checked.err) == (ExitCode.OK, "", "")
    plan = tmp_path / "plan.json"
    saved = cli("-q", "plan", *where(site), *desired(site), "--out", str(plan))
    assert (saved.code, saved.out, saved.err) == (ExitCode.CHANGES, "", "")
    applied = cli("-q", "apply", str(plan), "--detailed-exitcode", "--layout", str(site.layout))
    assert (applied.code, applied.out, applied.err) == (ExitCode.CHANGES, "", "")
    again = cli("-q", "plan", *where(site), *desired(site))
    assert (again.code, again.out) == (ExitCode.OK, "")


def test_quiet_apply_json_is_still_the_document(site: Site) -> None:
    done = cli("-q", "apply", *where(site), *desired(site), "--yes", "--format", "json")
    assert done.code == ExitCode.OK
    assert json.loads(done.out)["changed"] is True
    assert done.err == ""


def test_quiet_apply_does_not_ask_about_a_plan_it_does_not_show(site: Site) -> None:
    refused = cli("-q", "apply", *where(site), *desired(site))
    assert refused.code == ExitCode.ERROR
    assert "-q hides the plan" in refused.err


def test_quiet_and_verbose_together_are_a_usage_error(site: Site) -> None:
    both = cli("-q", "-v", "inspect", *where(site))
    assert both.code == ExitCode.ERROR
    assert "-q and -v" in both.err


def test_verbose_says_what_was_read_on_stderr_only(site: Site) -> None:
    quiet = cli("plan", *where(site), *desired(site), "--format", "json")
    loud = cli("-v", "plan", *where(site), *desired(site), "--format", "json")
    assert loud.out == quiet.out  # stdout stays the document
    json.loads(loud.out)
    ini = (site.app / "MDaemon.ini").read_bytes()
    assert re.search(
        rf"bindmgr: read .*MDaemon\.ini: {len(ini)} bytes, sha256 [0-9a-f]{{12}}, cp1252\n",
        loud.err,
    )
    assert f"layout: {site.layout}" in loud.err
    source = "this system's ANSI code page" if sys.platform == "win32" else "the default"
    assert re.search(rf"ANSI code page: \d+ \({re.escape(source)}\)", loud.err)
    for stage in ("read", "plan"):
        assert re.search(rf"bindmgr: {stage}: [0-9.]+ ms\n", loud.err), stage
    assert "layout key found" not in loud.err  # -vv


def test_very_verbose_names_every_key_found(site: Site) -> None:
    loud = cli("-vv", "inspect", *where(site), "--json")
    assert json.loads(loud.out)
    assert re.search(
        r"layout key found: SMTP port: MDaemon\.ini \[Port\] SMTPPort \(line \d+\)", loud.err
    )
    both_sides = cli("-v", "inspect", *where(site), "-v")
    assert "layout key found" in both_sides.err  # -v before and after the command add up


def test_verbose_names_missing_keys_and_files(site: Site) -> None:
    ini = site.app / "MDaemon.ini"
    text = ini.read_text(encoding="cp1252")
    ini.write_text(re.sub(r"(?m)^SMTPPort=.*\n", "", text), encoding="cp1252")
    (site.app / "../WebAdmin/WebAdmin.ini").unlink()
    loud = cli("-v", "inspect", *where(site))
    assert re.search(r"layout key missing: SMTP port: MDaemon\.ini \[Port\] SMTPPort\n", loud.err)
    assert "not there: " in loud.err
    assert "WebAdmin.ini" in loud.err


def test_verbose_times_check_and_write(site: Site, tmp_path: Path) -> None:
    checked = cli("-v", "check", *where(site), "--ip", site.ips[0])
    assert re.search(r"bindmgr: check: [0-9.]+ ms\n", checked.err)
    assert "bindmgr: check:" not in checked.out
    applied = cli("-v", "apply", *where(site), *desired(site), "--yes")
    assert applied.code == ExitCode.OK
    for stage in ("read", "plan", "check", "write"):
        assert re.search(rf"bindmgr: {stage}: [0-9.]+ ms\n", applied.err), stage
    assert "ms\n" not in applied.out
