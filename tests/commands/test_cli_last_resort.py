"""No traceback, ever: an unexpected exception, running out of memory and Ctrl-C while the CLI's
modules load each end in a message and a documented exit status.

The failures are real: a child process whose audit hook raises (or sends itself SIGINT) at a
chosen event; no bindmgr code is patched.
"""

from __future__ import annotations

import io
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from bindmgr.cli import main
from bindmgr.errors import ExitCode
from bindmgr.parser import epilog
from tests.support.safety import env as child_env
from tests.support.sample import copy_sample

ROOT = Path(__file__).resolve().parents[2]

# Runs `bindmgr` the way its entry point named in pyproject.toml does (or `python -m bindmgr`),
# after an audit hook that acts once when `event` names `target`.
CHILD = """
import os, runpy, signal, sys
event, target, action, how, *argv = sys.argv[1:]
fired = []
def hook(name, args):
    if fired or name != event or not str(args[0]).endswith(target):
        return
    fired.append(1)
    if action == "sigint":
        os.kill(os.getpid(), signal.SIGINT)
    elif action == "memory":
        raise MemoryError()
    else:
        raise RuntimeError("disk on fire")
sys.addaudithook(hook)
sys.argv = ["bindmgr", *argv]
if how == "-m":
    runpy.run_module("bindmgr", run_name="__main__", alter_sys=True)
else:
    module, _, func = how.partition(":")
    __import__(module)
    sys.exit(getattr(sys.modules[module], func)())
"""


def entry_point() -> str:
    scripts = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    return str(scripts["scripts"]["bindmgr"])


def run_child(event: str, target: str, action: str, how: str, *argv: str) -> tuple[int, str]:
    done = subprocess.run(
        [sys.executable, "-c", CHILD, event, target, action, how, *argv],
        env=child_env(),
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    return done.returncode, done.stderr


def test_internal_exit_status_is_documented() -> None:
    assert ExitCode.INTERNAL == 70
    assert "\n  70  an unexpected failure" in epilog()
    assert "| 70 |" in (ROOT / "docs" / "cli.md").read_text(encoding="utf-8")


def test_an_unexpected_exception_is_a_message_and_exit_70(tmp_path: Path) -> None:
    app, layout = copy_sample(tmp_path)
    code, err = run_child(
        "open",
        "layout.ini",
        "raise",
        "-m",
        "inspect",
        "--app-dir",
        str(app),
        "--layout",
        str(layout),
    )
    assert code == ExitCode.INTERNAL, err
    assert "Traceback" not in err
    lines = err.splitlines()
    assert lines[0] == "error: unexpected failure: RuntimeError: disk on fire"
    assert lines[1].startswith("hint: ")
    assert "docs/reliability.md" in lines[1]
    assert "half-written" in lines[1]  # whether files may have changed
    assert len(lines) == 2


def test_running_out_of_memory_is_a_message_and_exit_1(tmp_path: Path) -> None:
    app, layout = copy_sample(tmp_path)
    code, err = run_child(
        "open",
        "layout.ini",
        "memory",
        "-m",
        "inspect",
        "--app-dir",
        str(app),
        "--layout",
        str(layout),
    )
    assert code == ExitCode.ERROR, err
    assert "Traceback" not in err
    assert err.splitlines()[0] == "error: bindmgr ran out of memory"
    assert "docs/reliability.md" in err


@pytest.mark.skipif(sys.platform == "win32", reason="sends itself SIGINT")
@pytest.mark.parametrize("how", ["-m", "entry point"])
@pytest.mark.parametrize("module", ["bindmgr.cli", "bindmgr.commands.inputs", "argparse"])
def test_ctrl_c_while_the_cli_is_imported_is_one_line_and_130(module: str, how: str) -> None:
    start = "-m" if how == "-m" else entry_point()
    code, err = run_child("import", module, "sigint", start, "--version")
    assert code == 130, err
    assert "Traceback" not in err
    assert err.splitlines() == ["error: interrupted while starting; nothing was changed"]


def test_the_entry_point_runs_the_cli() -> None:
    module, _, func = entry_point().partition(":")
    done = subprocess.run(
        [
            sys.executable,
            "-c",
            f"import sys, {module} as m; sys.argv[1:] = ['--version']; sys.exit(m.{func}())",
        ],
        env=child_env(),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("bindmgr ")


@pytest.mark.parametrize("value", ["nan", "-5", "inf", "1e400", "-inf"])
@pytest.mark.parametrize("command", ["apply", "rollback"])
def test_lock_timeout_must_be_finite_and_not_negative(
    tmp_path: Path, command: str, value: str
) -> None:
    out, err = io.StringIO(), io.StringIO()
    argv = [command, "--app-dir", str(tmp_path), f"--lock-timeout={value}"]
    code = main(argv, env={}, stdout=out, stderr=err, stdin=io.StringIO())
    assert code == ExitCode.ERROR
    lines = err.getvalue().splitlines()
    assert lines[0].startswith("error: --lock-timeout must be a finite number of seconds, 0 or")
    assert lines[1] == "hint: pass --lock-timeout 0 to not wait, or e.g. --lock-timeout 30"
    assert list(tmp_path.iterdir()) == []  # refused before anything was read or written
