"""MDaemon's ANSI files from a Cyrillic (1251) and a Japanese (932) server: read, planned,
applied and rolled back byte for byte once bindmgr knows the code page (--codepage, the
layout's `codepage`, or Windows' own), which `inspect` shows."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from tests.support.apply import Site, changed_lines, cli, make_site

# A comment and a domain in each server's script; ゾ is 83 5D in 932: a `]` as trail byte.
NATIVE = {
    1251: (
        "; \u041f\u043e\u0447\u0442\u0430 \u043a\u043b\u0438\u0435\u043d\u0442\u0430",
        "\u043f\u043e\u0447\u0442\u0430.example",
    ),
    932: ("; \u30e1\u30fc\u30eb\u30b5\u30fc\u30d0\u30fc", "\u30be\u30fc\u30f3.example"),
}
ON_WINDOWS = sys.platform == "win32"


def localize(site: Site, number: int) -> str:
    """Put a comment and a domain in the server's code page into the sample's MDaemon.ini and
    Domains.dat (the sample's own cp1252 bytes stay: they are just other characters there).
    Returns the domain's name."""
    comment, domain = NATIVE[number]
    cp = f"cp{number}"
    ini = site.app / "MDaemon.ini"
    ini.write_bytes(
        ini.read_bytes().replace(b"[Domain]\r\n", f"[Domain]\r\n{comment}\r\n".encode(cp), 1)
    )
    dat = site.app / "Domains.dat"
    block = f"[{domain}]\r\n{comment}\r\nIP=\r\nBind=No\r\n\r\n".encode(cp)
    data = dat.read_bytes()
    assert b"[mail-3.example.com]\r\n" in data
    dat.write_bytes(data.replace(b"[mail-3.example.com]\r\n", block + b"[mail-3.example.com]\r\n"))
    return domain


def where(site: Site) -> list[str]:
    return ["--app-dir", str(site.app), "--layout", str(site.layout)]


@pytest.fixture
def site(tmp_path: Path) -> Site:
    return make_site(tmp_path / "site")


@pytest.mark.parametrize("number", [1251, 932])
def test_read_plan_apply_and_rollback_in_the_servers_code_page(
    site: Site, tmp_path: Path, number: int
) -> None:
    domain = localize(site, number)
    option = ["--codepage", str(number)]

    shown = cli(*option, "inspect", *where(site))
    assert shown.code == 0, shown.err
    assert f"ANSI code page: {number} (--codepage)" in shown.out
    assert domain in shown.out
    doc = json.loads(cli(*option, "inspect", "--json", *where(site)).out)
    assert (doc["codepage"], doc["codepage_source"]) == (number, "--codepage")
    assert domain in [d["name"] for d in doc["domains"]]
    assert not doc["problems"]

    plan = tmp_path / "plan.json"
    made = site.plan(plan, site.ips[:3], *option)
    assert made.code == 2, made.text
    assert json.loads(plan.read_text(encoding="utf-8"))["codepage"] == number
    before = site.files()
    # the plan says which code page it was made in: apply reads the files in it again
    done = cli("apply", str(plan)) if not ON_WINDOWS else cli(*option, "apply", str(plan))
    assert done.code == 0, done.text
    after = site.files()
    ips = site.ips[:3]
    assert changed_lines(before["App/MDaemon.ini"], after["App/MDaemon.ini"]) == [
        (b"DomainIP=203.0.113.10\r\n", f"DomainIP={ips[0]}\r\n".encode())
    ]
    assert changed_lines(before["App/Domains.dat"], after["App/Domains.dat"]) == [
        (b"IP=203.0.113.11\r\n", f"IP={ips[1]}\r\n".encode()),
        (b"IP=\r\n", f"IP={ips[2]}\r\n".encode()),  # mail-3, after the native domain
        (b"Bind=No\r\n", b"Bind=Yes\r\n"),
    ]
    assert cli(*option, "inspect", *where(site)).out.count(domain) == 1

    back = cli("rollback", "--app-dir", str(site.app))
    assert back.code == 0, back.text
    assert site.files() == before


def test_read_in_the_wrong_code_page_a_japanese_name_breaks_at_its_trail_byte(
    site: Site,
) -> None:
    domain = localize(site, 932)
    western = cli("--codepage", "1252", "inspect", "--json", *where(site))
    names = [d["name"] for d in json.loads(western.out)["domains"]]
    assert domain not in names
    assert "\u0192" in names  # ゾ's lead byte alone: the name ended at its trail byte `]`


def test_the_layout_names_the_code_page_of_a_copy(site: Site) -> None:
    domain = localize(site, 1251)
    text = site.layout.read_text(encoding="utf-8")
    site.layout.write_text(text.replace("version = 1\n", "version = 1\ncodepage = 1251\n"))
    shown = cli("inspect", *where(site))
    assert shown.code == 0, shown.err
    if ON_WINDOWS:  # Windows knows its code page: the layout's is for copies read elsewhere
        assert "ANSI code page: 1252 (this system's ANSI code page; the layout's" in shown.out
        assert domain not in shown.out
    else:
        assert f"ANSI code page: 1251 (the layout ({site.layout}))" in shown.out
        assert domain in shown.out
    forced = cli("--codepage", "1251", "inspect", *where(site))  # the option wins everywhere
    assert "ANSI code page: 1251 (--codepage)" in forced.out
    assert domain in forced.out


def test_without_a_choice_the_code_page_is_windows_own_or_1252(site: Site) -> None:
    shown = cli("inspect", *where(site))
    assert shown.code == 0, shown.err
    source = "this system's ANSI code page" if ON_WINDOWS else "the default"
    assert f"ANSI code page: 1252 ({source})" in shown.out  # Wine and CI runners: 1252


@pytest.mark.parametrize(
    ("layout_line", "option", "message"),
    [
        ("", ["--codepage", "437"], "--codepage: code page 437 is not one"),
        ("codepage = 437\n", [], 'codepage: the value "437" is unacceptable'),
        ("codepage = cyrillic\n", [], "a Windows ANSI code page: 874, 932"),
    ],
)
def test_a_code_page_bindmgr_cannot_read_is_refused(
    site: Site, layout_line: str, option: list[str], message: str
) -> None:
    text = site.layout.read_text(encoding="utf-8")
    site.layout.write_text(text.replace("version = 1\n", f"version = 1\n{layout_line}"))
    refused = cli(*option, "inspect", *where(site))
    assert refused.code == 1
    assert message in refused.err
    assert "Traceback" not in refused.err
