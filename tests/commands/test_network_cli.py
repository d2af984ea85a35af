"""`bindmgr dns`, `bindmgr firewall` and `bindmgr explain` from the command line, on the sample."""

from __future__ import annotations

import json
from pathlib import Path

from bindmgr.check.events import explain, list_events
from bindmgr.errors import ExitCode
from tests.commands.test_cli import run
from tests.support.sample import copy_sample

IPS = ["--domain", "example.com", "--ip", "127.0.0.1", "--ip", "127.0.0.2"]


def test_dns_without_a_plan_gives_the_records_of_the_current_bindings(tmp_path: Path) -> None:
    app, _ = copy_sample(tmp_path)
    zone = run("dns", "--app-dir", app)
    assert zone.code == ExitCode.OK, zone.err
    assert "mail-2.example.com.  IN  A  203.0.113.11" in zone.out
    assert "11.113.0.203.in-addr.arpa.  IN  PTR  mail-2.example.com." in zone.out
    assert "the records MDaemon's bindings need now" in zone.err
    doc = json.loads(run("dns", "--app-dir", app, "--format", "json").out)
    assert {"name": "mail-2.example.com", "type": "A", "value": "203.0.113.11"}.items() <= next(
        r for r in doc["records"] if r["type"] == "A" and r["value"] == "203.0.113.11"
    ).items()


def test_dns_of_a_plan_names_every_planned_address(tmp_path: Path) -> None:
    app, _ = copy_sample(tmp_path)
    doc = json.loads(run("dns", "--app-dir", app, *IPS, "--json", "--ttl", "600").out)
    assert doc["ttl"] == 600
    forward = {(r["name"], r["value"]) for r in doc["records"] if r["type"] == "A"}
    assert ("mail-2.example.com", "127.0.0.2") in forward
    assert any(v == "127.0.0.1" for _, v in forward)
    assert run("dns", "--app-dir", app, "--ttl", "-1").code == ExitCode.ERROR


def test_firewall_opens_each_listener_on_the_planned_addresses_only(tmp_path: Path) -> None:
    app, _ = copy_sample(tmp_path)
    ps = run("firewall", "--app-dir", app, *IPS)
    assert ps.code == ExitCode.OK, ps.err
    assert "bindmgr-SMTP-127.0.0.2" in ps.out
    assert "-LocalAddress 127.0.0.2" in ps.out
    assert "203.0.113.10" in ps.out  # no longer bound: its rules are removed
    netsh = run("firewall", "--app-dir", app, *IPS, "--format", "netsh")
    assert 'netsh advfirewall firewall delete rule name="bindmgr-SMTP-203.0.113.10"' in netsh.out
    nft = run("firewall", "--app-dir", app, "--format", "nftables")
    assert "ip daddr 203.0.113.11 tcp dport 25" in nft.out
    assert run("firewall", "--app-dir", app, "--format", "json").code == ExitCode.ERROR


def test_explain_says_what_an_event_means_and_refuses_unknown_codes() -> None:
    known = run("explain", "503")
    assert (known.code, known.out) == (ExitCode.OK, explain(503))
    assert run("explain").out == list_events()
    unknown = run("explain", "999")
    assert unknown.code == ExitCode.ERROR
    assert "event 999 is not in MDaemon's published list" in unknown.err
    assert "hint: the known codes are 500-515" in unknown.err
    assert run("explain", "five").code == ExitCode.ERROR
