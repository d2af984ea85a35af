import subprocess
import sys
from pathlib import Path

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


def test_bare_bindmgr_prints_the_usage(capsys: pytest.CaptureFixture[str]) -> None:
    assert main([]) == 0
    out = capsys.readouterr().out
    assert out.startswith("usage: bindmgr")
    assert "exit status:" in out


def test_dash_capital_v_is_the_version(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["-V"]) == 0
    assert capsys.readouterr().out.strip() == f"bindmgr {__version__}"


@pytest.mark.parametrize(
    ("command", "listed", "absent"),
    [("inspect", ["0", "1"], ["2", "3", "4", "5"]), ("check", ["0", "1", "3"], ["2", "4", "5"])],
)
def test_each_command_lists_only_its_exit_statuses(
    capsys: pytest.CaptureFixture[str], command: str, listed: list[str], absent: list[str]
) -> None:
    assert main([command, "--help"]) == 0
    out = capsys.readouterr().out
    statuses = out.split("exit status:")[1].splitlines()
    codes = [line.split()[0] for line in statuses if line.startswith("  ")]
    assert codes == listed
    assert not set(codes) & set(absent)
    docs = next(line for line in statuses if line.startswith("Documentation: "))
    assert Path(docs.removeprefix("Documentation: ")).is_file()  # the docs exist where it says
