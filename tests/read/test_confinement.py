"""Every file a layout names stays inside the MDaemon folder (the App folder's parent), and each
file is named once: lexically when the layout is parsed, after following links when it is read."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

from bindmgr.errors import InputError, LayoutError
from bindmgr.read.appdir import load_app
from bindmgr.read.layout import default_layout_path, parse_layout
from tests.commands.test_cli import run
from tests.support.sample import copy_sample

BASE = default_layout_path().read_text(encoding="utf-8")
DOMAINS_LINE = "domains = Domains.dat"


def with_domains(path: str) -> str:
    text = BASE.replace(DOMAINS_LINE, f"domains = {path}", 1)
    assert f"\n{DOMAINS_LINE}\n" in BASE
    return text


def line_of(text: str, start: str) -> int:
    return next(n for n, line in enumerate(text.splitlines(), 1) if line.startswith(start))


@pytest.mark.parametrize(
    "path",
    [
        "../../../../srv/other/victim.conf",
        "../../MDaemon/App/Domains.dat",  # leaves the folder, even if it comes back
        "sub/../../../x.dat",
        "..\\..\\x.dat",
        "..",
        ".",
        "../",
        "/etc/passwd",
        "\\Windows\\win.ini",
        "C:\\MDaemon\\App\\Domains.dat",
        "C:Domains.dat",
        "c:/x.dat",
        "\\\\server\\share\\Domains.dat",
        "//server/share/Domains.dat",
        "Domains.dat:stream",
        "Domains.dat.",
        '"Domains.dat "',  # quoted: ConfigObj keeps the blank
        "NUL",
        "con.ini",
        "sub/COM1.txt",
        "Domains*.dat",
    ],
)
def test_paths_that_leave_the_mdaemon_folder_are_refused_with_their_line(path: str) -> None:
    text = with_domains(path)
    with pytest.raises(LayoutError) as exc:
        parse_layout(text, "my-layout.ini")
    where = f"my-layout.ini:{line_of(text, 'domains = ')} [files] domains"
    assert where in str(exc.value)
    assert exc.value.hint


@pytest.mark.parametrize(
    "path", ["Domains.dat", "./Domains.dat", "../WorldClient/../App/Domains.dat", "sub\\x.dat"]
)
def test_paths_inside_the_mdaemon_folder_are_kept_as_written(path: str) -> None:
    layout = parse_layout(with_domains(path), "l.ini")
    assert layout.domain_keys.file == path


@pytest.mark.parametrize(
    "second",
    ["MDaemon.ini", "./MDaemon.ini", "mdaemon.INI", "sub/../MDaemon.ini", ".\\MDaemon.ini"],
)
def test_one_file_named_by_two_ids_is_refused_at_load(second: str) -> None:
    text = BASE.replace("[files]\n", f"[files]\nother = {second}\n", 1)
    with pytest.raises(LayoutError) as exc:
        parse_layout(text, "l.ini")
    message = str(exc.value)
    assert f"l.ini:{line_of(text, 'other = ')} [files] other" in message
    assert f"l.ini:{line_of(text, 'mdaemon = ')} [files] mdaemon" in message
    assert "same file" in message


def test_layout_remembers_the_line_naming_each_file() -> None:
    layout = parse_layout(BASE, "l.ini")
    assert layout.named_at("Domains.dat") == f"l.ini:{line_of(BASE, 'domains = ')} [files] domains"


def symlink_or_skip(link: Path, target: Path) -> None:
    try:
        link.symlink_to(target)
    except (OSError, NotImplementedError) as exc:  # Windows without the privilege
        pytest.skip(f"cannot create symlinks here: {exc}")


NEEDS_SYMLINKS = pytest.mark.skipif(
    sys.platform == "win32",
    reason="symbolic links cannot be made on C: under Wine (docs/windows.md); on Windows they "
    "need SeCreateSymbolicLinkPrivilege; confinement itself is tested by the path rules",
)


@NEEDS_SYMLINKS
def test_a_symlink_out_of_the_mdaemon_folder_is_refused_when_read(tmp_path: Path) -> None:
    app, layout_path = copy_sample(tmp_path)
    outside = tmp_path / "elsewhere.dat"
    outside.write_bytes((app / "Domains.dat").read_bytes())
    (app / "Domains.dat").unlink()
    symlink_or_skip(app / "Domains.dat", outside)
    layout = parse_layout(layout_path.read_text("utf-8"), str(layout_path))
    with pytest.raises(InputError) as exc:
        load_app(app, layout)
    message = str(exc.value)
    assert f"{layout_path}:{line_of(BASE, 'domains = ')} [files] domains" in message
    assert str(outside.resolve()) in message
    assert "outside the MDaemon folder" in message


@NEEDS_SYMLINKS
def test_a_symlinked_folder_out_of_the_mdaemon_folder_is_refused(tmp_path: Path) -> None:
    app, layout_path = copy_sample(tmp_path)
    web = app.parent / "WebAdmin"
    moved = tmp_path / "WebAdmin"
    web.rename(moved)
    symlink_or_skip(web, moved)
    layout = parse_layout(layout_path.read_text("utf-8"), str(layout_path))
    with pytest.raises(InputError, match=r"\[files\] webadmin.*outside the MDaemon folder"):
        load_app(app, layout)


@NEEDS_SYMLINKS
def test_a_symlink_inside_the_mdaemon_folder_is_read(tmp_path: Path) -> None:
    app, layout_path = copy_sample(tmp_path)
    (app.parent / "Shared").mkdir()
    (app / "Domains.dat").rename(app.parent / "Shared" / "Domains.dat")
    symlink_or_skip(app / "Domains.dat", Path("../Shared/Domains.dat"))
    layout = parse_layout(layout_path.read_text("utf-8"), str(layout_path))
    config = load_app(app, layout).view.config
    assert config.domains[0].name == "mail-2.example.com"


@NEEDS_SYMLINKS
def test_two_ids_reaching_one_file_through_a_link_are_refused(tmp_path: Path) -> None:
    app, layout_path = copy_sample(tmp_path)
    symlink_or_skip(app / "Alias.dat", Path("Domains.dat"))
    text = layout_path.read_text("utf-8").replace("[files]\n", "[files]\nalias = Alias.dat\n")
    layout = parse_layout(text, "l.ini")
    with pytest.raises(InputError) as exc:
        load_app(app, layout)
    message = str(exc.value)
    assert "[files] alias" in message
    assert "[files] domains" in message
    assert "same file" in message


def test_a_hard_link_to_one_file_under_two_names_is_refused(tmp_path: Path) -> None:
    app, layout_path = copy_sample(tmp_path)
    try:
        os.link(app / "Domains.dat", app / "Alias.dat")
    except OSError as exc:
        pytest.skip(f"no hard links here: {exc}")
    if not os.stat(app / "Alias.dat").st_ino:
        pytest.skip("this file system reports no file ids")
    text = layout_path.read_text("utf-8").replace("[files]\n", "[files]\nalias = Alias.dat\n")
    with pytest.raises(InputError, match="same file"):
        load_app(app, parse_layout(text, "l.ini"))


def test_apply_with_a_traversing_layout_writes_nothing(tmp_path: Path) -> None:
    app, layout_path = copy_sample(tmp_path)
    victim = tmp_path / "srv" / "other" / "victim.conf"
    victim.parent.mkdir(parents=True)
    victim.write_bytes(b"[mail-2.example.com]\r\nIP=192.0.2.1\r\n")
    text = layout_path.read_text("utf-8")
    bad = tmp_path / "bad-layout.ini"
    bad.write_text(text.replace(DOMAINS_LINE, "domains = ../../srv/other/victim.conf"), "utf-8")
    snapshot = {p: p.read_bytes() for p in tmp_path.rglob("*") if p.is_file()}
    for argv in (
        ["inspect"],
        ["plan", "--domain", "example.com", "--ip", "127.0.0.1", "--ip", "127.0.0.2"],
        ["apply", "--yes", "--domain", "example.com", "--ip", "127.0.0.1", "--ip", "127.0.0.2"],
    ):
        result = run(*argv, "--app-dir", app, "--layout", bad)
        assert result.code == 1, (argv, result.out, result.err)
        assert "leaves the MDaemon folder" in result.err
        assert "IP=192.0.2.1" not in result.out
    assert {p: p.read_bytes() for p in tmp_path.rglob("*") if p.is_file()} == snapshot


def test_an_absolute_path_is_never_read_or_echoed(tmp_path: Path) -> None:
    app, layout_path = copy_sample(tmp_path)
    secret = tmp_path / "secret.ini"
    secret.write_bytes(b"[Port]\r\nSMTPPort=2525\r\n; secret line\r\n")
    text = layout_path.read_text("utf-8").replace("webadmin = ../WebAdmin/WebAdmin.ini", "")
    text = text.replace("[files]\n", f"[files]\nwebadmin = {secret}\n")
    bad = tmp_path / "abs-layout.ini"
    bad.write_text(text, encoding="utf-8")
    result = run("inspect", "--app-dir", app, "--layout", bad)
    assert result.code == 1
    assert "secret line" not in result.out + result.err
    assert "[files] webadmin" in result.err


@NEEDS_SYMLINKS
def test_a_symlink_loop_is_refused_naming_the_layout_line(tmp_path: Path) -> None:
    app, layout_path = copy_sample(tmp_path)
    (app / "Domains.dat").unlink()
    symlink_or_skip(app / "Domains.dat", Path("Loop.dat"))
    (app / "Loop.dat").symlink_to("Domains.dat")
    layout = parse_layout(layout_path.read_text("utf-8"), str(layout_path))
    with pytest.raises(InputError, match=r"\[files\] domains: cannot follow .*Domains\.dat"):
        load_app(app, layout)
