"""Control characters from MDaemon's files (ESC, BEL, NUL, C0/C1, bidi overrides) never reach
the terminal raw: inspect's text and every error or note are escaped, bindmgr's own line breaks
kept."""

from __future__ import annotations

import io
import unicodedata
from pathlib import Path

import pytest

from bindmgr.console import Console
from bindmgr.errors import ExitCode
from tests.commands.test_cli import IPS, run
from tests.support.sample import copy_sample

HIDDEN = {"Cc", "Cf", "Cs", "Zl", "Zp"}


def raw_controls(text: str) -> list[str]:
    """Every invisible or control character in `text` but the line feeds that end lines."""
    return [c for c in text if c != "\n" and unicodedata.category(c) in HIDDEN]


# A secondary domain and values whose names would recolour, ring, reorder or hide text.
EVIL_ANSI = (
    b"[evil\x1b[31m.example.net]\r\nIP=203.0.113.30\r\nBind=No\r\n"
    b"[bell\x07\x81.example.net]\r\nIP=\r\nBind=No\r\n"
)
EVIL_UNICODE = "[rtl\u202egro.example\u200b.net]\r\nIP=203.0.113.31\r\nBind=No\r\n"


@pytest.fixture
def evil(tmp_path: Path) -> tuple[Path, Path]:
    app, layout = copy_sample(tmp_path)
    domains = app / "Domains.dat"
    domains.write_bytes(domains.read_bytes() + EVIL_ANSI)
    return app, layout


def test_inspect_text_escapes_names_from_the_files(evil: tuple[Path, Path]) -> None:
    app, layout = evil
    result = run("inspect", "--app-dir", app, "--layout", layout)
    assert result.code == ExitCode.OK, result.err
    assert raw_controls(result.out) == []
    assert "evil\\x1b[31m.example.net" in result.out
    assert "bell\\x07\\x81.example.net" in result.out


def test_inspect_text_escapes_bidi_and_zero_width_characters(tmp_path: Path) -> None:
    app, layout = copy_sample(tmp_path)
    domains = app / "Domains.dat"
    text = domains.read_bytes().decode("cp1252") + EVIL_UNICODE
    domains.write_bytes(b"\xff\xfe" + text.encode("utf-16-le"))
    result = run("inspect", "--app-dir", app, "--layout", layout)
    assert result.code == ExitCode.OK, result.err
    assert raw_controls(result.out) == []
    assert "rtl\\u202egro.example\\u200b.net" in result.out


def test_problems_shown_by_inspect_are_escaped(tmp_path: Path) -> None:
    app, layout = copy_sample(tmp_path)
    ini = app / "MDaemon.ini"
    ini.write_bytes(ini.read_bytes().replace(b"SMTPPort=25", b"SMTPPort=25\x1b]0;owned\x07"))
    result = run("inspect", "--app-dir", app, "--layout", layout)
    assert result.code == ExitCode.OK, result.err
    assert raw_controls(result.out) == []
    assert "\\x1b]0;owned\\x07" in result.out


def test_error_messages_naming_file_content_are_escaped(tmp_path: Path) -> None:
    app, layout = copy_sample(tmp_path)
    domains = app / "Domains.dat"
    domains.write_bytes(
        domains.read_bytes() + b"[x\x1b[2J.example.net]\r\nIP=10.0.0.300\x1b[5m\r\n"
    )
    for argv in (["inspect"], ["plan", *IPS]):
        result = run(*argv, "--app-dir", app, "--layout", layout)
        assert result.code == ExitCode.ERROR
        assert raw_controls(result.err) == []
        assert "x\\x1b[2J.example.net" in result.err
        assert "10.0.0.300\\x1b[5m" in result.err
        # bindmgr's own line breaks survive: the heading, then one indented line per value
        assert result.err.startswith("error: MDaemon's files hold values bindmgr cannot use:\n  ")


def test_the_console_escapes_errors_and_notes_but_keeps_its_line_breaks() -> None:
    err = io.StringIO()
    console = Console(out=io.StringIO(), err=err)
    console.error("two lines:\n  bad \x1b[31mred\x00 and \u202eevil\r", "try \x07 this")
    console.note("saved \x1b[1mbold")
    assert err.getvalue() == (
        "error: two lines:\n  bad \\x1b[31mred\\x00 and \\u202eevil\\r\n"
        "hint: try \\x07 this\n"
        "bindmgr: saved \\x1b[1mbold\n"
    )


def test_plain_messages_are_unchanged() -> None:
    err = io.StringIO()
    Console(out=io.StringIO(), err=err).error("müller & söhne: 203.0.113.1", "rerun")
    assert err.getvalue() == "error: müller & söhne: 203.0.113.1\nhint: rerun\n"
