"""Text output: to a pipe or a file it never fails on a name from MDaemon's files (on Windows
the report is UTF-8, elsewhere it is in the locale's encoding with backslash escapes for what
that encoding lacks); `--color` chooses colour before the environment and the terminal."""

from __future__ import annotations

import io
import subprocess
import sys
from pathlib import Path

import pytest

from bindmgr.cli import main
from tests.support.probe import child_env
from tests.support.sample import copy_sample

NAME = "\u4f8b\u3048.example"  # 例え.example: in no ANSI code page of a Western server


def unicode_domain_file(app: Path) -> None:
    """The sample's Domains.dat re-saved as UTF-16LE ('Unicode' in Notepad) with a domain
    whose name is outside every Western code page."""
    path = app / "Domains.dat"
    text = path.read_bytes().decode("cp1252") + f"[{NAME}]\r\nIP=127.0.0.5\r\nBind=No\r\n"
    path.write_bytes(b"\xff\xfe" + text.encode("utf-16-le"))


def test_inspect_piped_holds_a_name_outside_the_code_page(tmp_path: Path) -> None:
    app, layout = copy_sample(tmp_path)
    unicode_domain_file(app)
    env = child_env()
    env.pop("PYTHONIOENCODING", None)
    if sys.platform != "win32":
        env["PYTHONIOENCODING"] = "cp1252"  # what Windows gives a pipe: the ANSI code page
    done = subprocess.run(
        [sys.executable, "-m", "bindmgr", "inspect", "--app-dir", str(app), "--layout", layout],
        env=env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr.decode("utf-8", "replace")
    assert b"Traceback" not in done.stderr
    if sys.platform == "win32":
        assert NAME.encode("utf-8") in done.stdout  # the report is UTF-8
    else:
        assert b"\\u4f8b\\u3048.example" in done.stdout  # escaped in the locale's encoding


class Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.mark.parametrize(
    ("argv", "env", "out", "coloured"),
    [
        ([], {}, Tty, sys.platform != "win32"),  # a StringIO is no Windows console
        (["--color", "never"], {}, Tty, False),
        (["--color", "always"], {}, io.StringIO, True),
        (["--color", "always"], {"NO_COLOR": "1"}, io.StringIO, True),
        (["--color", "auto"], {"NO_COLOR": "1"}, Tty, False),
        ([], {"FORCE_COLOR": "1"}, io.StringIO, True),
        ([], {"TERM": "dumb"}, Tty, False),
    ],
)
def test_color_option_and_environment(
    tmp_path: Path, argv: list[str], env: dict[str, str], out: type[io.StringIO], coloured: bool
) -> None:
    app, layout = copy_sample(tmp_path)
    stdout, stderr = out(), io.StringIO()
    plan = ["plan", "--app-dir", str(app), "--layout", str(layout)]
    ips = ["--domain", "example.com", "--ip", "127.0.0.1", "--ip", "127.0.0.2"]
    code = main([*argv, *plan, *ips], env=env, stdout=stdout, stderr=stderr, stdin=io.StringIO())
    assert code == 2, stderr.getvalue()
    assert ("\x1b[" in stdout.getvalue()) is coloured


def test_color_takes_only_its_three_words() -> None:
    err = io.StringIO()
    assert main(["--color", "yes", "inspect"], env={}, stdout=io.StringIO(), stderr=err) == 1
    assert "invalid choice: 'yes'" in err.getvalue()
