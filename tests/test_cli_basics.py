import subprocess
import sys

import pytest

from bindmgr import __version__
from bindmgr.cli import main


def test_version_flag(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["--version"])
    assert exc.value.code == 0
    assert capsys.readouterr().out.strip() == f"bindmgr {__version__}"


def test_python_dash_m() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "bindmgr", "--version"], capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == f"bindmgr {__version__}"
