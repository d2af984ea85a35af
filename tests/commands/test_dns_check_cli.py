"""`check --dns` and `verify --dns`: the binds (or greetings) and the DNS lookups in one run,
against a real dnsmasq on the test's own loopback address."""

from __future__ import annotations

import json
from collections.abc import Sequence
from ipaddress import ip_address
from pathlib import Path

import pytest

from bindmgr.errors import ExitCode
from bindmgr.read.appdir import load_app, read_layout
from tests.support.apply import Site, cli, make_site
from tests.support.dnsserver import Dnsmasq
from tests.support.fake_mdaemon import serve
from tests.support.servers import Servers

SERVER = "127.0.6.53"


@pytest.fixture
def site(tmp_path: Path) -> Site:
    return make_site(tmp_path / "site", n_ips=2)


def dnsmasq(tmp_path: Path, site: Site, hosts: Sequence[tuple[str, str]]) -> Dnsmasq:
    work = tmp_path / "dns"
    work.mkdir()
    zone = ".".join(reversed(site.ips[0].split(".")[:3])) + ".in-addr.arpa"
    return Dnsmasq(work, SERVER, hosts=hosts, local=("example.com", zone))


def args(site: Site, server: Dnsmasq, *extra: str) -> list[str]:
    ips = [x for ip in site.ips for x in ("--ip", ip)]
    return [
        "--app-dir", str(site.app), "--layout", str(site.layout), "--domain", "example.com",
        *ips, "--dns", "--nameserver", f"{SERVER}:{server.port}", "--dns-timeout", "2", *extra,
    ]  # fmt: skip


def test_check_dns_passes_when_every_record_is_right(site: Site, tmp_path: Path) -> None:
    a, b = site.ips
    hosts = [(a, "mail.example.com"), (b, "mail-2.example.com")]
    with dnsmasq(tmp_path, site, hosts) as server:
        done = cli("check", *args(site, server))
        js = cli("check", *args(site, server, "--format", "json"))
    assert done.code == ExitCode.OK, done.text
    assert "DNS: 4 records checked, 0 wrong or missing" in done.out
    doc = json.loads(js.out)
    assert {(d["type"], d["status"]) for d in doc["dns"]} == {("A", "ok"), ("PTR", "ok")}
    # A PTR is named as `bindmgr dns` names it, its address beside it
    ptrs = {d["ip"]: d["name"] for d in doc["dns"] if d["type"] == "PTR"}
    assert ptrs == {ip: ip_address(ip).reverse_pointer for ip in (a, b)}
    assert {d["ip"] for d in doc["dns"] if d["type"] == "A"} == {None}
    assert len(doc["results"]) == 2 * len(site.ports)


def test_check_dns_fails_on_a_missing_name_and_warns_on_a_foreign_ptr(
    site: Site, tmp_path: Path
) -> None:
    a, b = site.ips
    hosts = [(a, "mail.example.com"), (b, "other.example.com")]
    with dnsmasq(tmp_path, site, hosts) as server:
        done = cli("check", *args(site, server, "--format", "markdown"))
    assert done.code == ExitCode.CONFLICT, done.text
    assert "| A | mail-2.example.com | `missing` |" in done.out
    assert "`ptr_mismatch`" in done.out


def test_verify_dns_runs_greetings_and_lookups_together(site: Site, tmp_path: Path) -> None:
    a, b = site.ips
    hosts = [(a, "mail.example.com"), (b, "mail-2.example.com")]
    listeners = load_app(site.app, read_layout(site.layout)).view.config.listeners
    with dnsmasq(tmp_path, site, hosts) as server, Servers() as servers:
        serve(servers, listeners, {a: "mail.example.com", b: "mail-2.example.com"})
        done = cli("verify", *args(site, server, "--format", "json", "--timeout", "3"))
    assert done.code == ExitCode.OK, done.text
    doc = json.loads(done.out)
    assert doc["summary"]["failed"] == 0
    assert {d["status"] for d in doc["dns"]} == {"ok"}


def test_nameserver_without_dns_is_a_usage_error(site: Site) -> None:
    done = cli("check", "--app-dir", str(site.app), "--nameserver", "127.0.6.53")
    assert done.code == ExitCode.ERROR
    assert "--nameserver goes with --dns" in done.err
    bad = cli("check", "--app-dir", str(site.app), "--dns", "--nameserver", "dns.example")
    assert bad.code == ExitCode.ERROR
