"""`bindmgr verify` against a fake MDaemon made of real servers on the test's loopback addresses.

The site is a copy of the sample on fresh 127.x addresses and free ports (tests/support/apply.py);
the fake MDaemon greets on every TCP listener as MDaemon would (tests/support/fake_mdaemon.py).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bindmgr.errors import ExitCode
from bindmgr.model import Listener
from bindmgr.read.appdir import load_app, read_layout
from tests.support.apply import Site, cli, make_site
from tests.support.fake_mdaemon import serve
from tests.support.servers import Servers


@pytest.fixture
def site(tmp_path: Path) -> Site:
    return make_site(tmp_path / "site", n_ips=3)


def listeners(site: Site) -> tuple[Listener, ...]:
    return load_app(site.app, read_layout(site.layout)).view.config.listeners


def verify(site: Site, *args: str) -> tuple[int, str, str]:
    argv = ["verify", "--app-dir", str(site.app), "--layout", str(site.layout)]
    done = cli(*argv, *args, "--timeout", "3", "--total-timeout", "20")
    return done.code, done.out, done.err


def desired(site: Site, *ips: str) -> list[str]:
    return ["--domain", "example.com", *(x for ip in ips for x in ("--ip", ip))]


def test_mdaemon_answering_as_planned_passes(site: Site) -> None:
    a, b, _ = site.ips
    with Servers() as servers:
        serve(servers, listeners(site), {a: "mail.example.com", b: "mail-2.example.com"})
        code, out, err = verify(site, *desired(site, a, b))
        js = verify(site, *desired(site, a, b), "--format", "json")
    assert code == ExitCode.OK, out + err
    assert out.startswith("Verify: 24 connections: 24 answered")
    assert f"{b}  (greets as mail-2.example.com)" in out
    assert out.endswith("MDaemon answers on every planned address as planned.\n")
    doc = json.loads(js[1])
    assert doc["summary"]["passed"] == doc["summary"]["total"] == 24
    smtp = next(r for r in doc["results"] if r["ip"] == b and r["service"] == "smtp")
    assert (smtp["status"], smtp["seen_name"]) == ("answered", "mail-2.example.com")


def test_a_wrong_name_or_a_silent_address_fails_with_exit_three(site: Site) -> None:
    a, b, _ = site.ips
    with Servers() as servers:
        serve(servers, listeners(site), {a: "mail.example.com", b: "mail-9.example.com"})
        code, out, _ = verify(site, *desired(site, a, b, site.ips[2]), "--format", "markdown")
    assert code == ExitCode.CONFLICT
    assert "`wrong_domain`" in out
    assert "`refused`" in out  # nothing listens on the third address
    assert "> [!CAUTION]" in out


def test_mdaemon_still_answering_on_a_removed_address_is_flagged(site: Site) -> None:
    a, b, c = site.ips
    applied = cli(
        "apply",
        "--app-dir",
        str(site.app),
        "--layout",
        str(site.layout),
        "--yes",
        *desired(site, a, b, c),
    )
    assert applied.code == ExitCode.OK, applied.text
    plan = site.base / "plan.json"
    assert site.plan(plan, [a, b]).code == ExitCode.CHANGES
    with Servers() as servers:  # the old binding: MDaemon did not take the new one
        serve(
            servers,
            listeners(site),
            {a: "mail.example.com", b: "mail-2.example.com", c: "mail-3.example.com"},
        )
        code, out, _ = verify(site, "--plan", str(plan))
    assert code == ExitCode.CONFLICT
    assert f"{c}  (removed by the plan: MDaemon must not answer here)" in out
    assert "still_on_old_ip" in out
    assert "bindmgr layout detect" in out


def test_a_timeout_or_connection_count_below_one_is_a_usage_error() -> None:
    assert cli("verify", "--timeout", "0").code == ExitCode.ERROR
    assert cli("verify", "--connections", "0").code == ExitCode.ERROR


def test_an_address_of_another_host_is_never_connected_to(site: Site) -> None:
    a = site.ips[0]
    with Servers() as servers:
        serve(servers, listeners(site), {a: "mail.example.com"})
        code, out, _ = verify(site, *desired(site, a, "203.0.113.50"), "--format", "json")
    assert code == ExitCode.CONFLICT
    doc = json.loads(out)
    far = [r for r in doc["results"] if r["ip"] == "203.0.113.50"]
    assert far
    assert {r["status"] for r in far} == {"not_local"}
    assert all("nothing was sent to it" in r["detail"] for r in far)
    assert {r["status"] for r in doc["results"] if r["ip"] == a} == {"answered"}
