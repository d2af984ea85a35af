"""A file that does not look like MDaemon's is refused, naming what is missing: the layout's
Default Domain section and its name key must be there before anything is planned or written."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from bindmgr.errors import ExitCode, InputError
from bindmgr.ini.file import IniFile
from bindmgr.read.appdir import load_app, read_layout
from bindmgr.read.config import read_config
from tests.commands.test_cli import IPS, run
from tests.support.sample import copy_sample

LAYOUT = read_layout()
RANDOM = random.Random(20261201).randbytes(4096)  # fixed test data


def scan(main: bytes, domains: bytes = b"") -> dict[str, IniFile]:
    return {
        "MDaemon.ini": IniFile.from_bytes(main, "MDaemon.ini"),
        "Domains.dat": IniFile.from_bytes(domains, "Domains.dat"),
    }


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (b"", "MDaemon.ini has no [Domain] section"),
        (RANDOM, "MDaemon.ini has no [Domain] section"),
        (b"just some text\r\nwithout any sections\r\n", "MDaemon.ini has no [Domain] section"),
        (b"[Special]\r\nVersion=23.5.2\r\n[Port]\r\nSMTPPort=25\r\n", "has no [Domain] section"),
        (b"\xef\xbb\xbf[Domain]\r\nDomainName=example.com\r\n", "has no [Domain] section"),
        (b"[Domain]\r\nDomainIP=203.0.113.10\r\n", "MDaemon.ini [Domain] has no DomainName key"),
        (b"[Domain]\r\nDomainName=\r\n", "MDaemon.ini [Domain] DomainName (line 2) is empty"),
        (b'[Domain]\r\nDomainName=""\r\n', "MDaemon.ini [Domain] DomainName (line 2) is empty"),
    ],
)
def test_a_file_unlike_mdaemons_is_refused_naming_it(data: bytes, expected: str) -> None:
    with pytest.raises(InputError) as exc:
        read_config(scan(data), LAYOUT)
    assert expected in str(exc.value)
    assert "layout" in str(exc.value.hint)


def test_the_smallest_file_mdaemon_could_have_is_read() -> None:
    config = read_config(scan(b"[domain]\r\ndomainname=example.com\r\n"), LAYOUT).config
    assert config.default.name == "example.com"
    assert config.domains == ()


def test_the_sample_still_reads(tmp_path: Path) -> None:
    app, _ = copy_sample(tmp_path)
    assert load_app(app, LAYOUT).view.config.default.name == "example.com"


@pytest.mark.parametrize("kind", ["empty", "random", "no-sections", "no-default-domain"])
def test_cli_refuses_a_damaged_mdaemon_ini_and_writes_nothing(tmp_path: Path, kind: str) -> None:
    app, layout = copy_sample(tmp_path)
    ini = app / "MDaemon.ini"
    data = {
        "empty": b"",
        "random": RANDOM,
        "no-sections": b"DomainName=example.com\r\nDomainIP=203.0.113.10\r\n",
        "no-default-domain": ini.read_bytes().replace(b"[Domain]", b"[Domian]"),
    }[kind]
    ini.write_bytes(data)
    snapshot = {p: p.read_bytes() for p in tmp_path.rglob("*") if p.is_file()}
    for argv in (["inspect"], ["plan", *IPS], ["apply", "--yes", *IPS]):
        result = run(*argv, "--app-dir", app, "--layout", layout)
        assert result.code == ExitCode.ERROR, (argv, result.out, result.err)
        assert "MDaemon.ini has no [Domain] section" in result.err
        assert "hint: " in result.err
    assert {p: p.read_bytes() for p in tmp_path.rglob("*") if p.is_file()} == snapshot
