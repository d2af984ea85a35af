import argparse
import subprocess
import sys
from pathlib import Path

import pytest

from bindmgr import __version__
from bindmgr.cli import main
from bindmgr.errors import UsageError
from bindmgr.parser import IP_COMMANDS, build_parser, parse_args


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


def _options(parser: argparse.ArgumentParser) -> dict[str, set[str]]:
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return {name: set(p._option_string_actions) for name, p in sub.choices.items()}


def test_ip_commands_are_the_commands_that_take_ip() -> None:
    options = _options(build_parser())
    assert {name for name, opts in options.items() if "--ip" in opts} == IP_COMMANDS
    # an abbreviation of --ip is left to argparse, so no other option may start with --i
    assert all(o == "--ip" for opts in options.values() for o in opts if o.startswith("--i"))


@pytest.mark.parametrize(
    "argv",
    [
        ["plan", "--domain", "d.com", "--ip", "10.0.0.1", "--ip=10.0.0.2", "--ip", "10.0.0.3"],
        ["apply", "--ip", "10.0.0.1", "plan.json", "--yes", "--ip", "10.0.0.2"],
        ["check", "--ip", "10.0.0.1", "--i", "10.0.0.2", "--ip", "10.0.0.3"],
        ["verify", "--ip", "10.0.0.1", "--domain", "d.com", "--", "--ip"][:5],
        ["dns", "--ip=", "--domain", "d.com"],
        ["firewall", "--domain", "d.com"],
        ["plan", "--ip", "10.0.0.1/30", "--pattern", "m{n}.{domain}"],
    ],
)
def test_parse_args_reads_as_argparse_does(argv: list[str]) -> None:
    assert vars(parse_args(argv)) == vars(build_parser().parse_args(argv))


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["plan", "--ip"], "argument --ip: expected one argument"),
        (["plan", "--ip", "--domain", "d.com"], "argument --ip: expected one argument"),
        (["inspect", "--ip", "10.0.0.1"], "unrecognized arguments: --ip 10.0.0.1"),
        (["rollback", "--ip=10.0.0.1"], "unrecognized arguments: --ip=10.0.0.1"),
    ],
)
def test_parse_args_errors_as_argparse_does(argv: list[str], message: str) -> None:
    with pytest.raises(UsageError, match=message):
        parse_args(argv)


def test_ip_values_after_a_double_dash_are_not_taken() -> None:
    argv = ["plan", "--ip", "10.0.0.1", "--", "--ip", "10.0.0.2"]
    with pytest.raises(UsageError) as ours:
        parse_args(argv)
    with pytest.raises(UsageError) as theirs:
        build_parser().parse_args(argv)
    assert ours.value.message == theirs.value.message
    assert "unrecognized arguments: -- --ip 10.0.0.2" in ours.value.message


def test_many_ips_keep_their_order() -> None:
    ips = [f"10.0.{i // 256}.{i % 256}" for i in range(5000)]
    argv = ["check", "--domain", "d.com"] + [a for ip in ips for a in ("--ip", ip)]
    assert parse_args(argv).ip == ips
