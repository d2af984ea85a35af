"""`bindmgr completion`: scripts generated from the parser, run in a real bash (and zsh where it
is installed) with the words of a command line, and the PowerShell one checked for its shape."""

from __future__ import annotations

import argparse
import io
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from bindmgr.cli import main
from bindmgr.commands.completion import commands_of
from bindmgr.parser import FORMATS, build_parser

SUBCOMMANDS = [
    "inspect",
    "plan",
    "check",
    "apply",
    "rollback",
    "verify",
    "dns",
    "firewall",
    "layout",
    "explain",
    "completion",
]


def generated(shell: str, tmp_path: Path) -> Path:
    out = io.StringIO()
    assert main(["completion", shell], stdout=out, stderr=io.StringIO(), env={}) == 0
    path = tmp_path / f"bindmgr.{shell}"
    path.write_text(out.getvalue(), encoding="utf-8")
    return path


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    """A folder to complete paths in: two files and a folder."""
    work = tmp_path / "work"
    work.mkdir()
    (work / "plan.json").write_text("{}", encoding="utf-8")
    (work / "bindings.ini").write_text("", encoding="utf-8")
    (work / "App").mkdir()
    return work


BASH = """
source "$1"; shift
COMP_WORDS=("$@"); COMP_CWORD=$(( $# - 1 ))
_bindmgr
printf '%s\\n' "${COMPREPLY[@]}"
"""


def bash(script: Path, cwd: Path, *words: str) -> list[str]:
    """What bash offers for the last of `words` ("" after a space), as COMP_WORDS/COMP_CWORD
    set by readline (which splits `--format=` into `--format`, `=`)."""
    done = subprocess.run(
        ["bash", "--norc", "--noprofile", "-c", BASH, "bash", str(script), "bindmgr", *words],
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
        cwd=cwd,
    )
    return sorted(done.stdout.split())


POSIX_SHELLS = pytest.mark.skipif(
    sys.platform == "win32", reason="bash and zsh scripts: Windows checks the PowerShell one"
)


@POSIX_SHELLS
@pytest.mark.skipif(shutil.which("bash") is None, reason="bash is not installed")
def test_bash_completes_commands_options_choices_and_paths(tmp_path: Path, folder: Path) -> None:
    script = generated("bash", tmp_path)
    assert bash(script, folder, "") == sorted(SUBCOMMANDS)
    assert bash(script, folder, "pl") == ["plan"]
    assert bash(script, folder, "plan", "--fo") == ["--format"]
    assert bash(script, folder, "plan", "--format", "") == sorted(FORMATS)
    assert bash(script, folder, "plan", "--format", "=", "ma") == ["markdown"]
    assert bash(script, folder, "apply", "--format", "") == ["json", "text"]  # apply's own
    assert bash(script, folder, "-q", "plan", "--out", "") == ["App", "bindings.ini", "plan.json"]
    assert bash(script, folder, "plan", "--app-dir", "") == ["App"]  # folders only
    assert bash(script, folder, "check", "pl") == ["plan.json"]  # check's PLAN.json
    assert bash(script, folder, "plan", "--domain", "") == []  # free text: nothing guessed
    assert bash(script, folder, "plan", "--domain", "x", "--ip", "y", "--ch") == ["--check"]
    assert bash(script, folder, "layout", "") == ["detect"]
    assert bash(script, folder, "layout", "detect", "--w") == ["--write"]
    assert bash(script, folder, "completion", "") == ["bash", "powershell", "zsh"]
    assert "--concurrency" not in bash(script, folder, "plan", "--")  # a hidden old spelling


ZSH = """
compdef() { : }
compadd() { [[ $1 == -- ]] && shift; print -rl -- "$@" }
_files() { print -r -- "_files $*" }
source "$1"; shift
words=(bindmgr "$@"); CURRENT=${#words}
_bindmgr
"""


def zsh(script: Path, *words: str) -> list[str]:
    """What zsh's compadd is given for the last of `words` (zsh itself then keeps those that
    match the prefix typed, as done here); `_files` stands for a path completion."""
    done = subprocess.run(
        ["zsh", "-f", "-c", ZSH, "zsh", str(script), *words],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    offered = done.stdout.splitlines()
    return sorted(w for w in offered if w.startswith(words[-1]) or w.startswith("_files"))


@POSIX_SHELLS
@pytest.mark.skipif(shutil.which("zsh") is None, reason="zsh is not installed (Debian: zsh)")
def test_zsh_completes_the_same(tmp_path: Path) -> None:
    script = generated("zsh", tmp_path)
    assert script.read_text(encoding="utf-8").startswith("#compdef bindmgr\n")
    assert zsh(script, "") == sorted(SUBCOMMANDS)
    assert zsh(script, "pl") == ["plan"]
    assert zsh(script, "plan", "--fo") == ["--format"]
    assert zsh(script, "plan", "--format", "") == sorted(FORMATS)
    assert zsh(script, "plan", "--out", "") == ["_files "]
    assert zsh(script, "plan", "--app-dir", "") == ["_files -/"]
    assert zsh(script, "layout", "detect", "--fo") == ["--force", "--format"]


def test_powershell_script_has_its_shape(tmp_path: Path) -> None:
    text = generated("powershell", tmp_path).read_text(encoding="utf-8")
    assert "Register-ArgumentCompleter -Native -CommandName 'bindmgr', 'bindmgr.exe'" in text
    assert "param($wordToComplete, $commandAst, $cursorPosition)" in text
    code = re.sub(r"'[^']*'|\"[^\"]*\"", "''", text)  # strings may hold any bracket
    for a, b in ("{}", "()", "[]"):
        assert code.count(a) == code.count(b), (a, b)
    rows = dict(re.findall(r"^        '([^']*)' = '([^']*)'$", text, re.MULTILINE))
    assert rows["|subcommands"].split() == SUBCOMMANDS
    assert rows["plan|--format"] == "choices " + " ".join(FORMATS)
    assert rows["plan|--out"] == "file"
    assert rows["plan|--app-dir"] == "dir"
    assert "--check" in rows["plan|options"].split()


def test_every_command_and_option_of_the_parser_is_in_the_table() -> None:
    commands = {c.path: c for c in commands_of(build_parser())}
    assert list(commands[""].subcommands) == SUBCOMMANDS
    assert "layout detect" in commands
    for action in build_parser()._actions:
        for option in action.option_strings:
            assert option in commands[""].options


def test_a_new_option_completes_without_touching_the_generator() -> None:
    parser = argparse.ArgumentParser(prog="x")
    sub = parser.add_subparsers(dest="command")
    p = sub.add_parser("new")
    p.add_argument("--mode", choices=("fast", "safe"))
    p.add_argument("--into", type=Path)
    p.add_argument("--flag", action="store_true")
    new = {c.path: c for c in commands_of(parser)}["new"]
    assert new.values == {"--mode": "choices fast safe", "--into": "file"}
    assert "--flag" in new.options
