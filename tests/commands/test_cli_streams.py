"""Text output to a pipe or a file never fails on a name from MDaemon's files: on Windows the
report is UTF-8, elsewhere it is in the locale's encoding with backslash escapes for what that
encoding lacks."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

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
