"""The CLI from the outside: inspect, plan and check on copies of the sample, exit statuses,
golden outputs, and a clear message for every kind of bad input."""

from __future__ import annotations

import io
import json
import os
import re
import socket
from pathlib import Path

import pytest

from bindmgr.cli import main
from bindmgr.errors import ExitCode
from tests.support.safety import cli_env
from tests.support.sample import copy_sample, read_ini
from tests.support.wine import NO_SOCKET_OWNERS

GOLDEN = Path(__file__).parent.parent / "golden" / "cli"


def slots(*ips: str) -> list[str]:
    """`--domain example.com --ip A --ip B ...`"""
    return ["--domain", "example.com", *(arg for ip in ips for arg in ("--ip", ip))]


IPS = slots("127.0.0.1", "127.0.0.2", "127.0.0.3")


class Run:
    def __init__(self, code: int, out: str, err: str) -> None:
        self.code, self.out, self.err = code, out, err


def run(*argv: str | Path, env: dict[str, str] | None = None) -> Run:
    out, err = io.StringIO(), io.StringIO()
    code = main(
        [str(a) for a in argv], env=cli_env(env), stdout=out, stderr=err, stdin=io.StringIO()
    )
    return Run(code, out.getvalue(), err.getvalue())


def golden(name: str, text: str) -> None:
    path = GOLDEN / name
    if os.environ.get("BINDMGR_REGOLD"):
        path.write_text(text, encoding="utf-8")
    assert text == path.read_text(encoding="utf-8")


@pytest.fixture
def sample(tmp_path: Path) -> tuple[Path, Path]:
    return copy_sample(tmp_path, own_ports=True)


def normal(text: str, app: Path) -> str:
    """The output with what differs between runs (paths, the digest over them) replaced."""
    text = text.replace(str(app.resolve()), "<APP>").replace(str(app), "<APP>")
    return re.sub(r"sha256:[0-9a-f]{64}", "sha256:<DIGEST>", text)


def test_inspect_text_golden(tmp_path: Path) -> None:
    app, _ = copy_sample(tmp_path)
    result = run("inspect", "--app-dir", app)
    assert result.code == 0, result.err
    lines = [
        "Host addresses: <host>" if line.startswith("Host addresses:") else line
        for line in normal(result.out, app).splitlines()
    ]
    # the source of the code page is the system on Windows (tests/commands/test_codepage_cli.py)
    lines = [re.sub(r"^(ANSI code page: \d+) \(.*\)$", r"\1 (<source>)", x) for x in lines]
    layout = next(line for line in lines if line.startswith("Layout: "))
    assert layout.endswith("layout.ini")
    golden("inspect.txt", "\n".join(x for x in lines if x is not layout) + "\n")


def test_inspect_json_and_env_default(tmp_path: Path) -> None:
    app, _ = copy_sample(tmp_path)
    result = run("inspect", "--json", env={"MDAEMON_APP": str(app)})
    assert result.code == 0, result.err
    doc = json.loads(result.out)
    assert doc["format_version"] == 1
    assert [d["name"] for d in doc["domains"]][:2] == ["example.com", "mail-2.example.com"]
    assert doc["domains"][0]["default"] is True
    assert {"domain": "example.com", "ip": "203.0.113.10"} in doc["not_on_host"]
    smtp = doc["listeners"][0]
    assert smtp["source"] == {
        "file": "MDaemon.ini",
        "section": "Port",
        "key": "SMTPPort",
        "line": 19,
    }
    assert any(k["setting"] == "Default Domain IP" and k["found"] == 1 for k in doc["layout_keys"])
    assert "127.0.0.1" in doc["host_addresses"]
    same = run("inspect", "--format", "json", env={"MDAEMON_APP": str(app)})
    assert same.code == 0
    assert json.loads(same.out) == doc


def test_every_format_option_has_its_json_alias(tmp_path: Path) -> None:
    app, _ = copy_sample(tmp_path)
    for command in ("plan", "check"):
        long = run(command, "--app-dir", app, *IPS, "--format", "json")
        short = run(command, "--app-dir", app, *IPS, "--json")
        assert (short.code, json.loads(short.out)) == (long.code, json.loads(long.out))
    assert run("inspect", "--app-dir", app, "--format", "markdown").code == ExitCode.ERROR


def test_check_takes_bare_ips_and_a_positional_plan(tmp_path: Path) -> None:
    app, layout = copy_sample(tmp_path, own_ports=True)
    bare = run("check", "--app-dir", app, "--layout", layout, "--ip", "127.0.0.1", "--json")
    assert bare.code == ExitCode.OK, bare.err
    assert {r["ip"] for r in json.loads(bare.out)["results"]} == {"127.0.0.1"}
    plan = tmp_path / "plan.json"
    assert run("plan", "--app-dir", app, "--layout", layout, *IPS, "--out", plan).code == 2
    by_position = run("check", plan, "--layout", layout, "--json")
    by_option = run("check", "--plan", plan, "--layout", layout, "--json")
    assert by_position.code == by_option.code == ExitCode.OK, by_position.err
    assert json.loads(by_position.out) == json.loads(by_option.out)
    twice = run("check", plan, "--plan", plan)
    assert twice.code == ExitCode.ERROR
    assert "a plan file given twice" in twice.err


def test_plan_formats_golden(tmp_path: Path) -> None:
    app, _ = copy_sample(tmp_path)
    text = run("plan", "--app-dir", app, *IPS)
    assert text.code == ExitCode.CHANGES, text.err
    golden("plan.txt", normal(text.out, app))
    md = run("plan", "--app-dir", app, *IPS, "--format", "markdown")
    assert md.code == ExitCode.CHANGES
    golden("plan.md", normal(md.out, app))
    js = run("plan", "--app-dir", app, *IPS, "--format", "json")
    doc = json.loads(js.out)
    assert doc["app_dir"] == str(app.resolve())
    assert doc["layout"].endswith("layout.ini")
    assert doc["host"] == socket.gethostname()
    assert f"Plan digest: {doc['digest']}" in text.out  # every format names the same plan
    assert f"Plan digest: `{doc['digest']}`" in md.out
    doc["app_dir"] = doc["layout"] = doc["host"] = "<path>"
    doc["layout_sha256"] = doc["digest"] = "<varies>"
    golden("plan.json", json.dumps(doc, indent=2) + "\n")


def test_plan_out_saves_a_loadable_plan_and_no_color_without_tty(tmp_path: Path) -> None:
    app, _ = copy_sample(tmp_path)
    out = tmp_path / "plan.json"
    result = run("plan", "--app-dir", app, *IPS, "--out", out)
    assert result.code == ExitCode.CHANGES
    doc = json.loads(out.read_text(encoding="utf-8"))
    assert f"Plan digest: {doc['digest']}" in result.out
    assert f"bindmgr apply {out} --digest {doc['digest']}" in result.out
    assert "\x1b" not in result.out
    assert doc["format_version"] == 3
    assert {i["file"] for i in doc["inputs"]} >= {"MDaemon.ini", "Domains.dat"}


def test_plan_exit_zero_when_nothing_to_change(tmp_path: Path) -> None:
    app, _ = copy_sample(tmp_path)
    # The sample already binds 203.0.113.10 (default) and 203.0.113.11 (mail-2).
    result = run("plan", "--app-dir", app, *slots("203.0.113.10", "203.0.113.11"))
    assert result.code == ExitCode.OK, result.out
    assert "No changes" in result.out


def test_plan_conflict_exits_three(tmp_path: Path) -> None:
    app, _ = copy_sample(tmp_path)
    domains = app / "Domains.dat"
    domains.write_bytes(
        domains.read_bytes().replace(b"IP=203.0.113.20\r\nBind=No", b"IP=203.0.113.20\r\nBind=Yes")
    )
    result = run("plan", "--app-dir", app, *slots("203.0.113.10", "203.0.113.20"))
    assert result.code == ExitCode.CONFLICT
    assert "partner.example.net" in result.out


def test_plan_from_bindings_file(tmp_path: Path) -> None:
    app, _ = copy_sample(tmp_path)
    bindings = tmp_path / "bindings.ini"
    bindings.write_text("domain = example.com\nips = 127.0.0.1, 127.0.0.2, 127.0.0.3\n")
    via_file = run("plan", "--app-dir", app, "--bindings", bindings)
    inline = run("plan", "--app-dir", app, *IPS)
    assert via_file.code == ExitCode.CHANGES
    assert via_file.out == inline.out


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["plan"], "no desired state given"),
        (["plan", "--domain", "example.com"], "--domain and --ip go together"),
        (["plan", "--ip", "127.0.0.1"], "--domain and --ip go together"),
        (["plan", *IPS, "--bindings", "b.ini"], "--bindings and --domain/--ip both given"),
        (["plan", "--domain", "example.com", "--ip", "300.1.1.1"], "300.1.1.1"),
        (
            ["plan", "--domain", "example.com", "--ip", "10.0.0.1", "--ip", "10.0.0.1"],
            "10.0.0.1 is given twice",
        ),
        (["plan", "--domain", "example.com", "--ip", "0.0.0.0"], "unspecified"),
        (["plan", "--domain", "example.com", "--ip", "224.0.0.1"], "multicast"),
        (["plan", "--domain", "example.com", "--ip", "255.255.255.255"], "broadcast"),
        (["plan", "--domain", "exa]mple.com", "--ip", "10.0.0.1"], "not a valid DNS name"),
        (["plan", "--domain", "example.com\r\n[x]", "--ip", "10.0.0.1"], "not a valid DNS name"),
        (["plan", *IPS, "--pattern", "mail.{domain}"], "{n}"),
        (["plan", *IPS, "--format", "yaml"], "invalid choice"),
        (["plan", *IPS, "--bogus"], "unrecognized arguments"),
        (["frobnicate"], "invalid choice"),
        (["check", *IPS, "--batch-size", "0"], "--batch-size must be at least 1 (got 0)"),
        (["check", *IPS, "--concurrency", "0"], "--batch-size must be at least 1 (got 0)"),
        (["apply", *IPS, "--yes", "--keep", "0"], "--keep must be at least 1 (got 0)"),
    ],
)
def test_plan_usage_and_validation_errors(tmp_path: Path, argv: list[str], expected: str) -> None:
    app, _ = copy_sample(tmp_path)
    before = {p: p.read_bytes() for p in app.iterdir() if p.is_file()}
    result = run(*argv, "--app-dir", app) if argv[0] != "frobnicate" else run(*argv)
    assert result.code == ExitCode.ERROR
    assert result.err.startswith("error: ")
    assert expected in result.err
    assert "hint: " in result.err
    assert result.out == ""
    assert {p: p.read_bytes() for p in app.iterdir() if p.is_file()} == before


@pytest.mark.parametrize(
    ("breakage", "expected"),
    [
        ("no-app-dir", "the MDaemon App folder"),
        ("utf16be", "UTF-16BE"),
        ("bad-ip", "MDaemon.ini [Domain] DomainIP (line 12)"),
        ("bad-port", "MDaemon.ini [Port] SMTPPort (line 19)"),
        ("no-domains", "Domains.dat does not exist"),
        ("bad-layout", 'port: the value "99999" is too big'),
        ("missing-layout", "cannot read the layout"),
    ],
)
def test_broken_folders_fail_cleanly(tmp_path: Path, breakage: str, expected: str) -> None:
    app, layout = copy_sample(tmp_path)
    ini = app / "MDaemon.ini"
    if breakage == "no-app-dir":
        app = tmp_path / "nowhere"
    elif breakage == "utf16be":
        ini.write_bytes(b"\xfe\xff" + ini.read_bytes().decode("cp1252").encode("utf-16-be"))
    elif breakage == "bad-ip":
        ini.write_bytes(ini.read_bytes().replace(b"DomainIP=203.0.113.10", b"DomainIP=203.0.113"))
    elif breakage == "bad-port":
        ini.write_bytes(ini.read_bytes().replace(b"SMTPPort=25", b"SMTPPort=twentyfive"))
    elif breakage == "no-domains":
        (app / "Domains.dat").unlink()
    elif breakage == "bad-layout":
        layout.write_text(layout.read_text().replace("port = 4069", "port = 99999"))
    elif breakage == "missing-layout":
        layout = tmp_path / "missing.ini"
    snapshot = {p: p.read_bytes() for p in tmp_path.rglob("*") if p.is_file()}
    for command in (["inspect"], ["plan", *IPS], ["check", *IPS]):
        result = run(*command, "--app-dir", app, "--layout", layout)
        assert result.code == ExitCode.ERROR, (command, result.out)
        assert expected in result.err, (command, result.err)
        assert "hint: " in result.err
    assert {p: p.read_bytes() for p in tmp_path.rglob("*") if p.is_file()} == snapshot


def check(app: Path, layout: Path, *ips: str, fmt: str = "text") -> Run:
    """`bindmgr check` of example.com on `ips` against the sample copy."""
    return run("check", "--app-dir", app, "--layout", layout, *slots(*ips), "--format", fmt)


def test_check_all_bindable_exits_zero(sample: tuple[Path, Path]) -> None:
    result = check(*sample, "127.0.0.1", "127.0.0.2", fmt="json")
    assert result.code == ExitCode.OK, result.out + result.err
    doc = json.loads(result.out)
    assert len(doc["results"]) == 2 * 13
    assert {r["status"] for r in doc["results"]} == {"ok"}


def test_check_conflict_exits_three(sample: tuple[Path, Path]) -> None:
    app, _ = sample
    smtp_port = int(read_ini(app / "MDaemon.ini").get("Port", "SMTPPort") or 0)
    with socket.socket() as busy:
        busy.bind(("127.0.0.2", smtp_port))
        busy.listen()
        result = check(*sample, "127.0.0.1", "127.0.0.2")
        md = check(*sample, "127.0.0.2", fmt="markdown")
    assert result.code == ExitCode.CONFLICT
    assert "in_use" in result.out
    assert f"127.0.0.2:{smtp_port} could not be initialized" in result.out
    assert md.code == ExitCode.CONFLICT
    assert "in_use" in md.out


@NO_SOCKET_OWNERS
def test_check_conflict_names_the_holder(sample: tuple[Path, Path]) -> None:
    app, _ = sample
    smtp_port = int(read_ini(app / "MDaemon.ini").get("Port", "SMTPPort") or 0)
    with socket.socket() as busy:
        busy.bind(("127.0.0.2", smtp_port))
        busy.listen()
        result = check(*sample, "127.0.0.2")
    assert f"pid {os.getpid()}" in result.out


def test_check_without_ips_uses_the_bound_addresses(sample: tuple[Path, Path]) -> None:
    app, layout = sample
    result = run("check", "--app-dir", app, "--layout", layout)
    # The sample binds 203.0.113.10 and .11, which are not on this host.
    assert result.code == ExitCode.CONFLICT
    assert "checking the addresses MDaemon binds now: 203.0.113.10, 203.0.113.11" in result.err
    assert "not_local" in result.out


def test_check_with_nothing_bound_checks_every_address(sample: tuple[Path, Path]) -> None:
    app, layout = sample
    for file, section, key in (
        ("MDaemon.ini", "Domain", "RestrictToDomainIP"),
        ("Domains.dat", "mail-2.example.com", "Bind"),
    ):
        ini = read_ini(app / file)
        ini.set(section, key, "No")
        (app / file).write_bytes(ini.to_bytes())
    free = run("check", "--app-dir", app, "--layout", layout, "--format", "json")
    assert free.code == ExitCode.OK, free.out + free.err
    assert "MDaemon listens on every address: checking 0.0.0.0" in free.err
    assert {r["ip"] for r in json.loads(free.out)["results"]} == {"0.0.0.0"}
    smtp_port = int(read_ini(app / "MDaemon.ini").get("Port", "SMTPPort") or 0)
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", smtp_port))
        busy.listen()
        taken = run("check", "--app-dir", app, "--layout", layout)
    assert taken.code == ExitCode.CONFLICT
    assert f"0.0.0.0:{smtp_port} could not be initialized" in taken.out


def test_check_from_saved_plan_and_plan_check(sample: tuple[Path, Path], tmp_path: Path) -> None:
    app, layout = sample
    saved = tmp_path / "p.json"
    planned = run(
        "plan",
        "--app-dir",
        app,
        "--layout",
        layout,
        *IPS,
        "--out",
        saved,
        "--check",
        "--format",
        "markdown",
    )
    assert planned.code == ExitCode.CHANGES, planned.out + planned.err
    assert "### Check: 39 pairs: 39 ok" in planned.out
    doc = json.loads(saved.read_text(encoding="utf-8"))
    assert len(doc["check"]["results"]) == 39
    checked = run("check", "--plan", saved, "--layout", layout)
    assert checked.code == ExitCode.OK, checked.out + checked.err
    assert checked.out.startswith(
        "127.0.0.1 .. 127.0.0.3 (3 addresses): ok, every listener can bind"
    )
