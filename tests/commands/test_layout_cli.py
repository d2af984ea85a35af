"""`bindmgr layout detect` from the outside: text and JSON, --write and its refusal to
overwrite, exit statuses, folders with files missing; and `inspect` pointing to it on drift."""

from __future__ import annotations

import io
import json
import shutil
from pathlib import Path

import pytest

from bindmgr.cli import main
from bindmgr.errors import ExitCode
from bindmgr.read.appdir import read_layout
from bindmgr.read.clues import SETTINGS
from bindmgr.read.layout import parse_layout
from bindmgr.report.inspection import DRIFT
from tests.support.goldens import assert_golden
from tests.support.safety import cli_env
from tests.support.sample import copy_sample


class Run:
    def __init__(self, code: int, out: str, err: str) -> None:
        self.code, self.out, self.err = code, out, err


def run(*argv: str | Path) -> Run:
    out, err = io.StringIO(), io.StringIO()
    code = main([str(a) for a in argv], env=cli_env(), stdout=out, stderr=err, stdin=io.StringIO())
    return Run(code, out.getvalue(), err.getvalue())


@pytest.fixture
def app(tmp_path: Path) -> Path:
    return copy_sample(tmp_path)[0]


def edit(path: Path, old: bytes, new: bytes) -> None:
    data = path.read_bytes()
    assert data.count(old) == 1
    path.write_bytes(data.replace(old, new))


def test_text_on_the_sample(app: Path) -> None:
    result = run("layout", "detect", "--app-dir", app)
    assert result.code == ExitCode.OK, result.err
    assert result.err == ""
    assert_golden("layout", "detect.txt", result.out.replace(str(app), "<APP>"))


def test_json_on_the_sample(app: Path) -> None:
    result = run("layout", "detect", "--app-dir", app, "--json")
    assert result.code == ExitCode.OK, result.err
    doc = json.loads(result.out)
    assert (doc["format_version"], doc["complete"], doc["skipped"]) == (1, True, [])
    assert [s["setting"] for s in doc["settings"]] == list(SETTINGS)
    smtp = next(s for s in doc["settings"] if s["setting"] == "listeners.smtp")
    assert smtp["status"] == "detected"
    assert (smtp["file"], smtp["section"], smtp["key"], smtp["confidence"]) == (
        "MDaemon.ini",
        "Port",
        "SMTPPort",
        "high",
    )
    assert smtp["evidence"] == [
        {"file": "MDaemon.ini", "section": "Port", "key": "SMTPPort", "line": 19, "value": "25"}
    ]
    same = run("layout", "detect", "--app-dir", app, "--format", "json")
    assert same.out == result.out


def test_write_gives_a_layout_inspect_reads_and_refuses_to_overwrite(
    app: Path, tmp_path: Path
) -> None:
    target = tmp_path / "my-layout.ini"
    result = run("layout", "detect", "--app-dir", app, "--write", target)
    assert result.code == ExitCode.OK, result.err
    assert f"layout written to {target}" in result.err
    text = target.read_text(encoding="utf-8")
    assert_golden("layout", "sample-layout.ini", text)
    layout = parse_layout(text, str(target))
    shipped = read_layout()
    assert (layout.files, layout.default_keys, layout.domain_keys, layout.listeners) == (
        shipped.files,
        shipped.default_keys,
        shipped.domain_keys,
        shipped.listeners,
    )
    inspected = run("inspect", "--app-dir", app, "--layout", target)
    assert inspected.code == ExitCode.OK, inspected.err
    assert DRIFT not in inspected.out

    target.write_text("mine\n", encoding="utf-8")
    again = run("layout", "detect", "--app-dir", app, "--write", target)
    assert again.code == ExitCode.ERROR
    assert f"error: {target} exists; bindmgr layout detect does not overwrite it" in again.err
    assert "--force" in again.err
    assert again.out == ""  # refused before anything was read or printed
    assert target.read_text(encoding="utf-8") == "mine\n"
    forced = run("layout", "detect", "--app-dir", app, "--write", target, "--force")
    assert forced.code == ExitCode.OK, forced.err
    assert target.read_text(encoding="utf-8") == text


def test_ambiguous_keys_exit_3_and_the_layout_keeps_the_default(app: Path, tmp_path: Path) -> None:
    edit(app / "MDaemon.ini", b"SMTPPort=25\r\n", b"ListenPort=25\r\nRelayPort=25\r\n")
    target = tmp_path / "detected.ini"
    result = run("layout", "detect", "--app-dir", app, "--write", target)
    assert result.code == ExitCode.CONFLICT
    assert "Ambiguous: the written layout keeps the default" in result.out
    assert "  SMTP port: 2 candidates have the same evidence" in result.out
    assert "    MDaemon.ini:19 [Port] ListenPort = 25 (the default port 25)" in result.out
    assert "    MDaemon.ini:20 [Port] RelayPort = 25 (the default port 25)" in result.out
    assert "1 setting(s) need a look" in result.out
    text = target.read_text(encoding="utf-8")
    assert "# SMTP port: AMBIGUOUS" in text
    smtp = next(s for s in parse_layout(text, "x").listeners if s.service == "smtp")
    assert smtp.key == "SMTPPort"
    doc = json.loads(run("layout", "detect", "--app-dir", app, "--json").out)
    smtp_doc = next(s for s in doc["settings"] if s["setting"] == "listeners.smtp")
    assert smtp_doc["status"] == "ambiguous"
    assert [c["key"] for c in smtp_doc["candidates"]] == ["ListenPort", "RelayPort"]
    assert doc["complete"] is False


def test_missing_files_exit_3_with_what_was_not_found(app: Path) -> None:
    shutil.rmtree(app / "../WebAdmin")
    (app / "Domains.dat").unlink()
    result = run("layout", "detect", "--app-dir", app)
    assert result.code == ExitCode.CONFLICT
    assert "Not detected: the written layout keeps the default" in result.out
    for label in ("domain file", "secondary domains: IP", "WebAdmin port", "WebAdmin bind list"):
        assert f"  {label}: " in result.out
    assert "secondary domains: IP: the domain file is not known" in result.out
    assert "Scanned: MDaemon.ini, ../WorldClient/WorldClient.ini\n" in result.out
    doc = json.loads(run("layout", "detect", "--app-dir", app, "--json").out)
    webadmin = next(s for s in doc["settings"] if s["setting"] == "listeners.webadmin")
    assert webadmin["status"] == "unknown"
    assert webadmin["reason"].startswith("no key in the scanned files")


def test_unreadable_and_unusable_files_are_skipped_and_said(app: Path) -> None:
    (app / "Old.ini").write_bytes(b"\xfe\xff\x00[\x00x\x00]")  # UTF-16BE: Windows cannot read it
    result = run("layout", "detect", "--app-dir", app)
    assert result.code == ExitCode.OK, result.err
    assert "Skipped: Old.ini (Old.ini is UTF-16BE" in result.out


def test_a_folder_without_mdaemon_ini_is_refused(app: Path, tmp_path: Path) -> None:
    (app / "MDaemon.ini").unlink()
    result = run("layout", "detect", "--app-dir", app)
    assert result.code == ExitCode.ERROR
    assert f"error: {app} holds no readable MDaemon.ini (it is not there)" in result.err
    assert "hint: pass --app-dir DIR" in result.err
    missing = run("layout", "detect", "--app-dir", tmp_path / "nowhere")
    assert missing.code == ExitCode.ERROR
    assert "does not exist" in missing.err
    assert run("layout").code == ExitCode.ERROR  # the action is required
    assert run("layout", "detect", "--app-dir", app, "--format", "markdown").code == 1


def test_inspect_points_to_detection_when_layout_keys_are_missing(app: Path) -> None:
    assert DRIFT not in run("inspect", "--app-dir", app).out
    edit(app / "MDaemon.ini", b"SMTPPort=25", b"SmtpListenPort=25")
    result = run("inspect", "--app-dir", app)
    assert result.code == ExitCode.OK, result.err
    assert "MISSING  SMTP port" in result.out
    assert f"\n\n{DRIFT}\n\nHost addresses:" in result.out
    detected = run("layout", "detect", "--app-dir", app)
    assert "MDaemon.ini:19 [Port] SmtpListenPort = 25" in detected.out
