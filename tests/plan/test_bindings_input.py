"""Careless or hostile desired-state input gives a message and exit 1, never a traceback or a
silent default: a UTF-8 BOM, an empty --pattern, a zoned IPv6 address, a pathological line."""

from __future__ import annotations

import json
import subprocess
import sys
from ipaddress import IPv6Address
from pathlib import Path

import pytest

from bindmgr.errors import ExitCode, InputError, PlanError
from bindmgr.model import Desired, Slot
from bindmgr.plan.desired import EXAMPLE, parse_bindings, parse_slot, validate_desired
from tests.commands.test_cli import run
from tests.support.apply import CHILD_TIMEOUT
from tests.support.safety import env as child_env
from tests.support.sample import copy_sample


def test_a_leading_utf8_bom_is_accepted() -> None:
    desired = parse_bindings("\ufeff" + EXAMPLE.split("\n", 1)[1], "b.ini")
    assert desired.domain == "example.com"
    assert parse_bindings("\ufeffdomain = example.com\nips = 10.0.0.1\n", "b.ini").slots


def test_a_bindings_file_saved_with_a_bom_plans(tmp_path: Path) -> None:
    app, _ = copy_sample(tmp_path)
    path = tmp_path / "b.ini"
    path.write_bytes(b"\xef\xbb\xbfdomain = example.com\r\nips = 127.0.0.1\r\n")
    result = run("plan", "--app-dir", app, "--bindings", path)
    assert result.code == ExitCode.CHANGES, result.err


@pytest.mark.parametrize("text", ["::1%lo", "fe80::1%eth0", "127.0.0.1+::1%1", "::1%"])
def test_a_zoned_ipv6_address_is_refused(text: str) -> None:
    with pytest.raises(PlanError, match="zone"):
        parse_slot(text)


@pytest.mark.parametrize(
    "ips", [["::1%lo"], ["127.0.0.1", "::1%lo"], ["127.0.0.1", "127.0.0.2+::1%lo"]]
)
def test_cli_refuses_a_zoned_ipv6_address(tmp_path: Path, ips: list[str]) -> None:
    app, _ = copy_sample(tmp_path)
    ip_args = [a for ip in ips for a in ("--ip", ip)]
    result = run("plan", "--app-dir", app, "--domain", "example.com", *ip_args)
    assert result.code == ExitCode.ERROR
    assert "zone" in result.err
    assert "hint: " in result.err
    assert "Traceback" not in result.err


def test_a_zoned_address_built_elsewhere_is_refused_by_validate_desired() -> None:
    """A saved plan's desired state is built from its JSON, not parsed from a slot string."""
    desired = Desired("example.com", (Slot(v6=IPv6Address("::1%lo")),))
    with pytest.raises(PlanError, match=r"carries a zone \(%lo\)"):
        validate_desired(desired)


def test_bindings_file_with_a_zoned_address_is_refused() -> None:
    with pytest.raises(InputError, match="zone"):
        parse_bindings("domain = example.com\nips = 127.0.0.1, ::1%lo\n", "b.ini")


@pytest.mark.parametrize("source", ["inline", "bindings"])
def test_an_empty_pattern_is_refused_not_replaced_by_the_default(
    tmp_path: Path, source: str
) -> None:
    app, _ = copy_sample(tmp_path)
    bindings = tmp_path / "b.ini"
    bindings.write_text("domain = example.com\nips = 127.0.0.1, 127.0.0.2\n", encoding="utf-8")
    desired = (
        ["--domain", "example.com", "--ip", "127.0.0.1", "--ip", "127.0.0.2"]
        if source == "inline"
        else ["--bindings", str(bindings)]
    )
    result = run("plan", "--app-dir", app, *desired, "--pattern", "")
    assert result.code == ExitCode.ERROR, result.out
    assert "--pattern is empty" in result.err
    assert "hint: " in result.err
    assert "mail-{n}.{domain}" in result.err
    assert result.out == ""


# Lines that ConfigObj's regexes take minutes (or much longer) on: 100,000 '[' took 3 min 53 s
# before the line check; blanks before a word grow with the cube of their number.
NASTY = {
    "brackets": "[" * 100_000,
    "brackets-key": "ips = 10.0.0.1\n" + "[" * 100_000 + "a" + "]" * 100_000,
    "blanks-word": " " * 100_000 + "x",
    "blanks-in-key": "domain" + " " * 100_000 + "= example.com",
    "blanks-in-value": "domain = example.com" + " " * 100_000 + "x",
    "tabs-in-list": "ips = 10.0.0.1," + "\t" * 100_000 + "10.0.0.2",
}


def parse_in_child(texts: dict[str, str]) -> dict[str, str]:
    """parse_bindings of each text in a child bounded by CHILD_TIMEOUT, so that a parser that
    backtracks again fails the test instead of stalling the run; {name: error message}."""
    code = (
        "import json, sys\n"
        "from bindmgr.errors import BindmgrError\n"
        "from bindmgr.plan.desired import parse_bindings\n"
        "out = {}\n"
        "for name, text in json.load(sys.stdin).items():\n"
        "    try:\n"
        "        parse_bindings(text, 'b.ini')\n"
        "        out[name] = 'parsed'\n"
        "    except BindmgrError as exc:\n"
        "        out[name] = str(exc)\n"
        "print(json.dumps(out))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code],
        input=json.dumps(texts),
        env=child_env(),
        capture_output=True,
        text=True,
        timeout=CHILD_TIMEOUT,
        check=True,
    )
    result: dict[str, str] = json.loads(done.stdout)
    return result


def test_pathological_lines_are_refused_at_once_naming_the_line() -> None:
    found = parse_in_child(NASTY)
    assert "b.ini:1: a section header, but this file has no sections" in found["brackets"]
    assert "b.ini:2: a section header" in found["brackets-key"]
    assert "b.ini:1: neither a comment, a section header nor `key = value`" in found["blanks-word"]
    for name in ("blanks-in-key", "blanks-in-value", "tabs-in-list"):
        assert "b.ini:1: it holds a run of more than 16 blanks" in found[name], name
    for message in found.values():
        assert len(message) < 1000  # the line is clipped, not echoed whole


def test_a_long_but_ordinary_ips_line_still_parses() -> None:
    ips = ", ".join(f"10.{n // 250}.{n % 250}.1" for n in range(1, 4001))
    desired = parse_bindings(f"domain = example.com\nips = {ips}\n", "b.ini")
    assert len(desired.slots) == 4000


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("[section]\ndomain = example.com\n", "b.ini:1: a section header"),
        ("domain = example.com\nips = '''10.0.0.1'''\n", "b.ini:2: a multi-line"),
        ("domain = example.com\n'ips' = 10.0.0.1\n", "b.ini:2: \"'ips'\" is not a key name"),
        ("domain = example.com\njust words\n", "b.ini:2: neither a comment"),
    ],
)
def test_lines_outside_the_plain_syntax_are_located(text: str, expected: str) -> None:
    with pytest.raises(InputError) as exc:
        parse_bindings(text, "b.ini")
    assert expected in str(exc.value)
    assert exc.value.hint


def test_thousands_of_unknown_keys_are_reported_briefly() -> None:
    text = "domain = example.com\nips = 10.0.0.1\n" + "".join(f"k{n} = 1\n" for n in range(5000))
    with pytest.raises(InputError) as exc:
        parse_bindings(text, "b.ini")
    message = str(exc.value)
    assert "unknown key 'k0'" in message
    assert "and 4980 more" in message
    assert len(message.splitlines()) < 30
