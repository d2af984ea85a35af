"""Ports are read the way MDaemon reads them, through GetPrivateProfileInt: a leading decimal
number, the rest ignored. A value that is not plain digits is a Problem that says what MDaemon
reads; a value Windows versions read differently (hex) or that reads as no port is refused."""

from __future__ import annotations

from pathlib import Path

import pytest

from bindmgr.errors import InputError
from bindmgr.read.appdir import load_app, read_layout
from bindmgr.read.config import profile_int
from tests.commands.test_cli import run
from tests.support.sample import copy_sample, read_ini

LAYOUT = read_layout()
SMTP_LINE = 19  # SMTPPort in the sample's MDaemon.ini


@pytest.mark.parametrize(
    ("text", "number"),
    [
        ("25", 25),
        ("025", 25),
        ("2_5", 2),  # Python's int() would read 25
        ("+25", 25),
        ("-25", -25),
        ("25abc", 25),
        ("2 5", 2),
        ("25.0", 25),
        ("abc", 0),
        ("+", 0),
        ("--25", 0),
        ("\u0662\u0665", 0),  # Arabic-Indic digits: int() reads 25, Windows reads none
        ("\u00b25", 0),  # superscript two
        ("\x0125", 25),  # leading control characters are skipped like blanks
        ("4294967321", 4294967321),  # no wrap-around: the caller refuses it as too big
        ("0x19", None),
        ("0X19", None),
        ("-0x19", None),
    ],
)
def test_profile_int_reads_like_windows(text: str, number: int | None) -> None:
    assert profile_int(text) == number


@pytest.fixture
def app(tmp_path: Path) -> Path:
    return copy_sample(tmp_path)[0]


def set_smtp(app: Path, value: str) -> None:
    ini = read_ini(app / "MDaemon.ini")
    ini.set("Port", "SMTPPort", value)
    (app / "MDaemon.ini").write_bytes(ini.to_bytes())


def smtp_port(app: Path) -> tuple[int, list[str]]:
    config = load_app(app, LAYOUT).view.config
    port = next(x.port for x in config.listeners if x.service == "smtp")
    return port, [str(p) for p in config.problems]


@pytest.mark.parametrize(
    ("value", "port"), [("2_5", 2), ("+25", 25), ("25abc", 25), ("2 5", 2), ("0025", 25)]
)
def test_a_port_is_the_number_windows_reads(app: Path, value: str, port: int) -> None:
    set_smtp(app, value)
    read, problems = smtp_port(app)
    assert read == port
    if value.isdigit():
        assert problems == []
    else:
        assert problems == [
            f"MDaemon.ini:{SMTP_LINE}: [Port] SMTPPort={value!r} is not a plain number: MDaemon "
            f"reads it as {port} (the profile API reads a leading decimal number and ignores the "
            f"rest); write {port} to say so"
        ]


def test_a_plain_port_has_no_problem(app: Path) -> None:
    assert smtp_port(app) == (25, [])


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("0x19", "hexadecimal"),
        ("-25", "reads as -25, which is not a port from 1 to 65535"),
        ("twentyfive", "reads as 0, which is not a port from 1 to 65535"),
        ("99999", "reads as 99999, which is not a port from 1 to 65535"),
        ("4294967321", "reads as 4294967321"),
    ],
)
def test_values_that_read_as_no_port_or_differently_are_refused(
    app: Path, value: str, expected: str
) -> None:
    set_smtp(app, value)
    with pytest.raises(InputError) as exc:
        load_app(app, LAYOUT)
    assert f"MDaemon.ini [Port] SMTPPort (line {SMTP_LINE})" in str(exc.value)
    assert expected in str(exc.value)
    assert "expected a port number from 1 to 65535" in str(exc.value)


def test_inspect_shows_the_non_canonical_port_as_a_problem(app: Path) -> None:
    set_smtp(app, "2_5")
    result = run("inspect", "--app-dir", app)
    assert result.code == 0, result.err
    assert f"MDaemon.ini:{SMTP_LINE}: [Port] SMTPPort='2_5' is not a plain number" in result.out
    smtp = next(line for line in result.out.splitlines() if line.strip().startswith("SMTP "))
    assert smtp.split()[1] == "2"
