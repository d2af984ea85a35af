"""The JSON every command prints, run through the CLI on a copy of the sample folder, is valid
against its shipped schema: inspect, plan (with and without --check, and the saved file),
check (with --dns), apply, rollback and rollback --list, verify (with --dns), dns, layout detect.

DNS questions go to a UDP socket of the test's own on 127.0.0.1 that never answers: every
finding is a timeout, which is still a document with every field.
"""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from bindmgr.errors import ExitCode
from tests.support.apply import Run, Site, cli, make_site
from tests.support.schemas import assert_valid_text


@pytest.fixture
def site(tmp_path: Path) -> Site:
    return make_site(tmp_path / "site", n_ips=2)


@pytest.fixture
def silent_nameserver() -> Iterator[str]:
    """IP:PORT of a nameserver that never answers."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind(("127.0.0.1", 0))
        yield f"127.0.0.1:{sock.getsockname()[1]}"


def where(site: Site) -> list[str]:
    return ["--app-dir", str(site.app), "--layout", str(site.layout)]


def desired(site: Site) -> list[str]:
    return ["--domain", "example.com", *(x for ip in site.ips for x in ("--ip", ip))]


def valid(name: str, run: Run, *codes: int) -> dict[str, object]:
    assert run.code in codes, run.text
    return assert_valid_text(name, run.out)


def test_inspect_plan_dns_and_layout_detect(site: Site, tmp_path: Path) -> None:
    valid("inspect", cli("inspect", *where(site), "--format", "json"), ExitCode.OK)
    valid("inspect", cli("inspect", *where(site), "--json"), ExitCode.OK)
    valid("plan", cli("plan", *where(site), *desired(site), "--json"), ExitCode.CHANGES)
    checked = cli("plan", *where(site), *desired(site), "--check", "--format", "json")
    assert valid("plan", checked, ExitCode.CHANGES)["check"] is not None
    saved = tmp_path / "plan.json"
    assert site.plan(saved, site.ips).code == ExitCode.CHANGES
    assert_valid_text("plan", saved.read_text(encoding="utf-8"))
    valid("dns", cli("dns", *where(site), *desired(site), "--format", "json"), ExitCode.OK)
    valid("dns", cli("dns", *where(site), "--format", "json"), ExitCode.OK)
    valid("dns", cli("dns", "--plan", str(saved), "--format", "json"), ExitCode.OK)
    detect = cli("layout", "detect", "--app-dir", str(site.app), "--json")
    valid("layout-detect", detect, ExitCode.OK, ExitCode.CONFLICT)


def test_check_with_and_without_dns(site: Site, tmp_path: Path, silent_nameserver: str) -> None:
    valid("check", cli("check", *where(site), *desired(site), "--json"), ExitCode.OK)
    valid("check", cli("check", *where(site), "--ip", site.ips[0], "--json"), ExitCode.OK)
    saved = tmp_path / "plan.json"
    assert site.plan(saved, site.ips).code == ExitCode.CHANGES
    valid("check", cli("check", str(saved), "--format", "json"), ExitCode.OK)
    dns = ["--dns", "--nameserver", silent_nameserver, "--dns-timeout", "0.2"]
    doc = valid("check", cli("check", *where(site), *desired(site), *dns, "--json"), 3)
    findings = doc["dns"]
    assert isinstance(findings, list)
    assert {"A", "PTR"} <= {f["type"] for f in findings}
    ptr = next(f for f in findings if f["type"] == "PTR")
    assert (ptr["status"], ptr["name"].endswith(".in-addr.arpa")) == ("timeout", True)


def test_verify_with_and_without_dns(site: Site, silent_nameserver: str) -> None:
    """Nothing listens on the site's addresses: every connection is refused (exit 3)."""
    patience = ["--timeout", "2", "--total-timeout", "20"]
    doc = valid("verify", cli("verify", *where(site), *desired(site), *patience, "--json"), 3)
    assert doc["results"]
    dns = ["--dns", "--nameserver", silent_nameserver, "--dns-timeout", "0.2"]
    run = cli("verify", *where(site), *desired(site), *patience, *dns, "--format", "json")
    assert valid("verify", run, 3)["dns"]


def test_apply_rollback_and_the_listing(site: Site, tmp_path: Path) -> None:
    saved = tmp_path / "plan.json"
    assert site.plan(saved, site.ips).code == ExitCode.CHANGES
    assert valid("apply", cli("apply", str(saved), "--format", "json"), 0)["changed"] is True
    inline = cli("apply", *where(site), *desired(site), "--yes", "--json", "--detailed-exitcode")
    assert valid("apply", inline, ExitCode.OK)["changed"] is False
    rollback = ["rollback", "--app-dir", str(site.app), "--layout", str(site.layout)]
    valid("rollback-list", cli(*rollback, "--list", "--json"), ExitCode.OK)
    done = valid("rollback", cli(*rollback, "--format", "json"), ExitCode.OK)
    assert done["changed"] is True
    listed = valid("rollback-list", cli(*rollback, "--list", "--format", "json"), ExitCode.OK)
    assert len(listed["backups"]) == 2  # type: ignore[arg-type]
    undo = valid("rollback", cli(*rollback, "--to", str(done["backup"]), "--json"), ExitCode.OK)
    again = cli(*rollback, "--to", str(done["backup"]), "--json")
    assert valid("rollback", again, ExitCode.OK)["changed"] is False
    assert undo["changed"] is True


def test_check_and_verify_narrowed_by_a_bind_list(site: Site) -> None:
    """WorldClient's bind list names one address: both documents carry the note that says so,
    and verify's refused connections their event."""
    ini = site.app.parent / "WorldClient" / "WorldClient.ini"
    listed = ini.read_bytes().replace(b"BindIPs=", f"BindIPs={site.ips[0]}".encode(), 1)
    assert listed != ini.read_bytes()
    ini.write_bytes(listed)
    checked = valid("check", cli("check", *where(site), *desired(site), "--json"), ExitCode.OK)
    assert checked["notes"]
    patience = ["--timeout", "2", "--total-timeout", "20"]
    doc = valid("verify", cli("verify", *where(site), *desired(site), *patience, "--json"), 3)
    assert doc["notes"]
    assert {r["event_code"] for r in doc["results"]} == {503}  # type: ignore[union-attr]
