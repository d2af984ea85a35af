import subprocess
import sys

import pytest

from bindmgr import __version__
from bindmgr.cli import main


def test_version_flag(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--version"]) == 0
    assert capsys.readouterr().out.strip() == f"bindmgr {__version__}"


def test_help_lists_commands_and_exit_statuses(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--help"]) == 0
    out = capsys.readouterr().out
    for word in ("inspect", "plan", "check", "apply", "rollback", "4  apply: the plan is stale"):
        assert word in out
    assert main(["plan", "--help"]) == 0
    assert "--bindings" in capsys.readouterr().out


def test_python_dash_m() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "bindmgr", "--version"], capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == f"bindmgr {__version__}"
