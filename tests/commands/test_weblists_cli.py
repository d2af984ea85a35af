"""The web servers' bind lists end to end: `check` and `verify` probe the web listeners only where
their lists let them listen (real servers on the test's loopback addresses), and `plan`/`apply`/
`rollback` keep a list in step on a copy of the sample (TEST-NET addresses, never connected to).
"""

from __future__ import annotations

import json
import socket
from pathlib import Path

from bindmgr.errors import ExitCode
from bindmgr.ini.file import IniFile
from bindmgr.model import Listener
from bindmgr.read.appdir import load_app, read_layout
from tests.support.apply import Site, cli, make_site
from tests.support.fake_mdaemon import serve
from tests.support.sample import copy_sample
from tests.support.servers import Servers

WC, WA = "../WorldClient/WorldClient.ini", "../WebAdmin/WebAdmin.ini"
WEB = frozenset({"webmail", "webmail_http", "webmail_https", "webadmin"})


def set_list(app: Path, rel: str, value: str) -> None:
    path = app / rel
    ini = IniFile.from_bytes(path.read_bytes(), rel)
    ini.set("WebServer", "BindIPs", value)
    path.write_bytes(ini.to_bytes())


def where(site: Site) -> list[str]:
    return ["--app-dir", str(site.app), "--layout", str(site.layout)]


def desired(*ips: str) -> list[str]:
    return ["--domain", "example.com", *(x for ip in ips for x in ("--ip", ip))]


def rows(out: str) -> set[tuple[str, int, str, str]]:
    return {(r["ip"], r["port"], r["service"], r["status"]) for r in json.loads(out)["results"]}


def test_check_probes_web_listeners_only_where_their_lists_let_them(tmp_path: Path) -> None:
    site = make_site(tmp_path / "site", n_ips=3)
    a, b, c = site.ips
    wc_port, wa_port = site.ports["webmail"], site.ports["webadmin"]
    with socket.socket() as busy, socket.socket() as other:
        busy.bind((a, wc_port))  # something else holds WorldClient's port on a...
        busy.listen(1)
        other.bind((c, 0))  # ...and the port c's IP:port entry names
        other.listen(1)
        elsewhere = other.getsockname()[1]
        plain = cli("check", *where(site), *desired(a, b), "--format", "json")
        assert plain.code == ExitCode.CONFLICT  # without lists: a:WorldClient is in use
        assert (a, wc_port, "webmail", "in_use") in rows(plain.out)
        set_list(site.app, WC, f"{b}, {c}:{elsewhere}")
        set_list(site.app, WA, b)
        done = cli("check", *where(site), *desired(a, b), "--format", "json")
        text = cli("check", *where(site), *desired(a, b))
        markdown = cli("check", *where(site), *desired(a, b), "--format", "markdown")
    got = rows(done.out)
    assert done.code == ExitCode.CONFLICT, done.text
    web = {(ip, port, service) for ip, port, service, _ in got if service in WEB}
    assert web == {
        (b, wc_port, "webmail"),
        (b, site.ports["webmail_http"], "webmail_http"),
        (b, site.ports["webmail_https"], "webmail_https"),
        (c, elsewhere, "webmail"),  # an IP:port entry is probed at its own port
        (b, wa_port, "webadmin"),
    }
    assert (c, elsewhere, "webmail", "in_use") in got  # the only conflict left
    assert [r for r in got if r[3] != "ok"] == [(c, elsewhere, "webmail", "in_use")]
    assert {ip for ip, _, service, _ in got if service == "smtp"} == {a, b}
    notes = json.loads(done.out)["notes"]
    assert notes[0].startswith("WorldClient, WorldClient HTTP, WorldClient HTTPS checked only ")
    assert f"{c}:{elsewhere} WorldClient" in notes[0]
    assert notes[1].startswith("WebAdmin checked only where Remote Administration's bind list")
    assert "\nNotes\n  - WorldClient, WorldClient HTTP" in text.out
    assert "### Notes" in markdown.out


def test_check_of_bare_addresses_keeps_the_web_listeners_on_those_addresses(
    tmp_path: Path,
) -> None:
    site = make_site(tmp_path / "site", n_ips=2)
    a, b = site.ips
    set_list(site.app, WC, b)
    done = cli("check", *where(site), "--ip", a, "--format", "json")
    assert done.code == ExitCode.OK, done.text
    assert {s for _, _, s, _ in rows(done.out)} & WEB == {"webadmin"}
    assert "names none of the addresses checked" in json.loads(done.out)["notes"][0]


def listeners(site: Site) -> tuple[Listener, ...]:
    return load_app(site.app, read_layout(site.layout)).view.config.listeners


def test_verify_behind_a_reverse_proxy_connects_where_the_web_servers_listen(
    tmp_path: Path,
) -> None:
    site = make_site(tmp_path / "site", n_ips=3)
    a, b, c = site.ips
    every = listeners(site)
    mail = [lst for lst in every if lst.service not in WEB]
    web = [lst for lst in every if lst.service in WEB]
    argv = ["verify", *where(site), *desired(a, b), "--timeout", "3", "--total-timeout", "20"]
    with Servers() as servers:
        serve(servers, mail, {a: "mail.example.com", b: "mail-2.example.com"})
        serve(servers, web, {c: "mail.example.com"})  # behind the proxy, on c only
        before = cli(*argv)
        set_list(site.app, WC, c)
        set_list(site.app, WA, f"{c}:{site.ports['webadmin']}")
        done = cli(*argv, "--format", "json")
        text = cli(*argv)
    assert before.code == ExitCode.CONFLICT  # without lists the web listeners are sought on a, b
    assert "likely logged event 503 when it started: WorldClient" in before.out
    assert "`bindmgr explain 503` lists the causes." in before.out
    assert done.code == ExitCode.OK, done.text
    doc = json.loads(done.out)
    assert {r["ip"] for r in doc["results"] if r["service"] in WEB} == {c}
    assert {r["ip"] for r in doc["results"] if r["service"] == "smtp"} == {a, b}
    assert all(r["event"] is None and r["event_code"] is None for r in doc["results"])
    assert len(doc["notes"]) == 2
    assert "Remote Administration's bind list" in doc["notes"][1]
    assert "\nNotes\n" in text.out


def test_verify_failures_carry_the_event_in_json(tmp_path: Path) -> None:
    site = make_site(tmp_path / "site", n_ips=1)
    (a,) = site.ips
    argv = ["verify", *where(site), *desired(a), "--timeout", "3", "--total-timeout", "20"]
    done = cli(*argv, "--format", "json")  # nothing listens on a
    assert done.code == ExitCode.CONFLICT
    smtp = next(r for r in json.loads(done.out)["results"] if r["service"] == "smtp")
    assert (smtp["status"], smtp["event_code"]) == ("refused", 503)
    assert smtp["event"].startswith(f"MDaemon likely logged event 503 when it started: SMTP {a}:")


def sample(tmp_path: Path, wc: str, wa: str) -> tuple[Path, list[str]]:
    app, layout = copy_sample(tmp_path)
    set_list(app, WC, wc)
    set_list(app, WA, wa)
    return app, ["--app-dir", str(app), "--layout", str(layout)]


def tree(app: Path) -> dict[str, bytes]:
    root = app.parent
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in root.rglob("*") if p.is_file()}


def test_plan_apply_and_rollback_keep_a_list_in_step(tmp_path: Path) -> None:
    app, args = sample(tmp_path, "203.0.113.10:3000, 203.0.113.11:3000", "127.0.0.1")
    original = tree(app)
    ips = desired("203.0.113.10", "203.0.113.12")
    planned = cli("plan", *args, *ips)
    assert planned.code == ExitCode.CHANGES, planned.text
    words = " ".join(planned.out.split())  # long reasons wrap at the report's width
    assert (
        "~ BindIPs: 203.0.113.10:3000, 203.0.113.11:3000 -> 203.0.113.10:3000, "
        "203.0.113.12:3000 (WorldClient's bind list keeps in step: 203.0.113.12 joins the "
        "binding: add it; 203.0.113.11 leaves the binding: remove it)"
    ) in words
    assert "Remote Administration's bind list (../WebAdmin/WebAdmin.ini [WebServer] BindIPs" in (
        words
    )
    doc = json.loads(cli("plan", *args, *ips, "--format", "json").out)
    assert any("loopback addresses only" in n for n in doc["notes"])
    web = [c for c in doc["changes"] if c["file"] == WC]
    assert [(c["key"], c["new"]) for c in web] == [
        ("BindIPs", "203.0.113.10:3000, 203.0.113.12:3000")
    ]
    md = cli("plan", *args, *ips, "--format", "markdown").out
    assert "BindIPs" in md
    assert "loopback addresses only" in md

    applied = cli("apply", *args, *ips, "--yes", "--force")  # TEST-NET: not on this host
    assert applied.code == ExitCode.OK, applied.text
    after = tree(app)
    wc = "WorldClient/WorldClient.ini"
    assert after[wc] == original[wc].replace(b"11:3000", b"12:3000")
    assert after["WebAdmin/WebAdmin.ini"] == original["WebAdmin/WebAdmin.ini"]
    again = cli("plan", *args, *ips)
    assert again.code == ExitCode.OK, again.text  # applied twice = nothing to do

    undone = cli("rollback", *args)
    assert undone.code == ExitCode.OK, undone.text
    assert "../WorldClient/WorldClient.ini" in undone.out
    restored = tree(app)
    assert {k: v for k, v in restored.items() if "bindmgr-backups" not in k} == original


def test_a_bad_entry_stops_every_command_and_nothing_is_written(tmp_path: Path) -> None:
    app, args = sample(tmp_path, "203.0.113.10, webmail.example.com:3000", "")
    original = tree(app)
    ips = desired("203.0.113.10", "203.0.113.12")
    for argv in (("plan", *args, *ips), ("apply", *args, *ips, "--yes", "--force")):
        done = cli(*argv)
        assert done.code == ExitCode.ERROR, done.text
        assert (
            "../WorldClient/WorldClient.ini [WebServer] BindIPs (line 6): the bind list "
            "'203.0.113.10, webmail.example.com:3000' has a bad entry "
            "'webmail.example.com:3000': 'webmail.example.com' is not an IP address (a host "
            "name? MDaemon binds addresses only)"
        ) in done.err
        assert "hint: write each entry as IP or IP:port" in done.err
        assert "Traceback" not in done.text
    assert tree(app) == original


def test_the_check_reads_only_the_bind_lists_again(tmp_path: Path) -> None:
    """lists_after (what a bind check needs of a plan's result) holds the bind lists that the
    whole configuration after the plan holds, and the rest as it was read."""
    from bindmgr.commands.inputs import config_after, lists_after  # noqa: PLC0415
    from bindmgr.plan.desired import parse_desired  # noqa: PLC0415
    from bindmgr.plan.planner import make_plan  # noqa: PLC0415

    app_dir, layout = copy_sample(tmp_path)
    set_list(app_dir, WC, "203.0.113.10:3000, 203.0.113.11:3000")
    app = load_app(app_dir, read_layout(layout))
    for ips in (["203.0.113.10", "203.0.113.12"], ["203.0.113.10", "203.0.113.11"]):
        plan = make_plan(app.view.config, parse_desired("example.com", ips))
        quick, whole = lists_after(app, plan), config_after(app, plan)
        assert quick.bind_lists == whole.bind_lists
        assert quick.listeners == whole.listeners
        assert quick.domains == app.view.config.domains
    changed = make_plan(app.view.config, parse_desired("example.com", ["203.0.113.12"]))
    assert lists_after(app, changed).bind_lists != app.view.config.bind_lists
