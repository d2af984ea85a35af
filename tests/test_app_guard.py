"""The App folder guard (tests/conftest.py): no test reaches a real MDaemon App folder.

MDAEMON_APP is a fresh empty folder in every test, in-process and in children, so a command
without --app-dir resolves to it; opening anything in a forbidden folder fails the test.
"""

from __future__ import annotations

import io
import os
import sys
from pathlib import Path

import pytest

from bindmgr.cli import main
from bindmgr.read.appdir import WINDOWS_DEFAULT
from tests.support.apply import cli, cli_proc
from tests.support.guards import WATCH, ForbiddenFolder, also_forbidden, real_roots


def test_mdaemon_app_is_a_fresh_empty_folder(tmp_path_factory: pytest.TempPathFactory) -> None:
    folder = Path(os.environ["MDAEMON_APP"])
    assert folder.is_dir()
    assert list(folder.iterdir()) == []
    assert tmp_path_factory.getbasetemp() in folder.parents


def test_a_command_without_app_dir_resolves_to_the_guards_folder() -> None:
    missing = Path(os.environ["MDAEMON_APP"]) / "MDaemon.ini"
    out, err = io.StringIO(), io.StringIO()
    code = main(["inspect"], stdout=out, stderr=err, stdin=io.StringIO())  # the process's env
    runs = [("main", code, err.getvalue())]
    runs += [
        (how, r.code, r.err) for how, r in (("cli", cli("inspect")), ("child", cli_proc("inspect")))
    ]
    for how, status, text in runs:
        assert status == 1, (how, text)
        assert f"{missing} does not exist" in text, (how, text)


def test_the_real_folders_are_the_windows_default_and_the_developers_own() -> None:
    assert list(real_roots({}, "win32")) == [WINDOWS_DEFAULT]
    assert list(real_roots({}, "linux")) == []
    assert list(real_roots({"MDAEMON_APP": "/srv/MDaemon/App"}, "linux")) == ["/srv/MDaemon/App"]


def test_a_forbidden_folder_cannot_be_opened_listed_or_changed(tmp_path: Path) -> None:
    real = tmp_path / "MDaemon" / "App"
    real.mkdir(parents=True)
    (real / "MDaemon.ini").write_bytes(b"[Special]\r\n")
    with also_forbidden(real) as touched:
        with pytest.raises(ForbiddenFolder):
            (real / "MDaemon.ini").read_bytes()
        with pytest.raises(ForbiddenFolder):
            os.listdir(real)
        with pytest.raises(ForbiddenFolder):
            os.replace(tmp_path / "elsewhere", real / "MDaemon.ini")
        with pytest.raises(ForbiddenFolder):  # bindmgr catches OSError, never this
            cli("inspect", env={"MDAEMON_APP": str(real)})
        assert len(touched) >= 4
    assert WATCH.touched == []  # forgiven: this test meant it
    assert (real / "MDaemon.ini").read_bytes() == b"[Special]\r\n"


@pytest.mark.skipif(
    sys.platform != "win32", reason="C:\\MDaemon\\App is the default on Windows only"
)
def test_the_windows_default_cannot_be_opened(tmp_path: Path) -> None:
    with also_forbidden(tmp_path), pytest.raises(ForbiddenFolder):  # forgiven afterwards
        open(os.path.join(WINDOWS_DEFAULT, "MDaemon.ini"), "rb").close()
