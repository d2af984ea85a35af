"""bindmgr's own INI files are checked line by line before ConfigObj sees them: the plain
syntax passes unchanged in meaning, anything ConfigObj would backtrack on is refused at once."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from bindmgr.errors import InputError, LayoutError
from bindmgr.read.layout import default_layout_path, parse_layout
from bindmgr.read.ownini import MAX_BLANKS, tame_lines
from tests.support.apply import CHILD_TIMEOUT
from tests.support.safety import env as child_env

BASE = default_layout_path().read_text(encoding="utf-8")


def tame(text: str, depth: int = 2) -> list[str]:
    return tame_lines(text, "f.ini", what="the file", depth=depth, hint="fix it")


def test_the_plain_syntax_keeps_its_meaning_and_its_line_numbers() -> None:
    text = "# c\n\n  key   =   v1, v2  # note\n[files]\n    [[ smtp ]]  # x\n\tport=25\n"
    assert tame(text) == ["# c", "", "key = v1, v2  # note", "[files]", "[[smtp]]", "port = 25"]


def test_the_shipped_layout_reads_the_same_through_the_check() -> None:
    assert parse_layout(BASE, "l.ini") == parse_layout("\ufeff" + BASE, "l.ini")


@pytest.mark.parametrize(
    ("text", "depth", "expected"),
    [
        ("[a]", 0, "f.ini:1: a section header, but this file has no sections"),
        ("[[[a]]]", 2, "f.ini:1: a section nested 3 deep; sections nest 2 deep at most"),
        ("[[a]", 2, "f.ini:1: a section header with 2 '[' but 1 ']'"),
        ("[a", 2, "f.ini:1: a section header without its closing ']'"),
        ("[a] x", 2, "f.ini:1: text after the section header's closing ']'"),
        ("[a b]", 2, "f.ini:1: a section name must be non-empty"),
        ("[]", 2, "f.ini:1: a section name must be non-empty"),
        ("x", 2, "f.ini:1: neither a comment, a section header nor `key = value`"),
        ("a b = c", 2, "f.ini:1: 'a b' is not a key name"),
        ("= c", 2, "f.ini:1: '' is not a key name"),
        ('k = """x"""', 2, "f.ini:1: a multi-line (triple-quoted) value"),
        ("k = a" + " " * (MAX_BLANKS + 1) + "b", 2, f"more than {MAX_BLANKS} blanks"),
    ],
)
def test_what_is_refused_names_the_line(text: str, depth: int, expected: str) -> None:
    with pytest.raises(InputError) as exc:
        tame(text, depth)
    assert expected in str(exc.value)
    assert str(exc.value).startswith("the file is invalid:")
    assert exc.value.hint == "fix it"


def test_at_most_ten_bad_lines_are_listed() -> None:
    with pytest.raises(InputError) as exc:
        tame("x\n" * 50)
    assert str(exc.value).count("neither a comment") == 10
    assert "stopped after 10 lines" in str(exc.value)


def test_blanks_up_to_the_limit_are_fine() -> None:
    assert tame("k = a" + " " * MAX_BLANKS + "b") == ["k = a" + " " * MAX_BLANKS + "b"]


def test_a_layout_line_is_checked_before_configobj() -> None:
    text = BASE.replace("\n[files]\n", "\n[files] and more\n", 1)
    line = BASE.splitlines().index("[files]") + 1
    with pytest.raises(LayoutError) as exc:
        parse_layout(text, "my.ini")
    assert str(exc.value).startswith("the layout is invalid:")
    assert f"my.ini:{line}: text after the section header's closing ']'" in str(exc.value)


NASTY = {
    "brackets": "[" * 100_000,
    "brackets-closed": "[" * 100_000 + "a" + "]" * 100_000,
    "blanks-word": " " * 100_000 + "x",
    "name-blanks": "[[a" + " " * 100_000 + "b]]",
    "value-blanks": "version = 1" + " " * 100_000 + "x",
}


def test_pathological_layout_lines_are_refused_at_once() -> None:
    """In a child bounded by CHILD_TIMEOUT: a parser that backtracks again fails, not stalls."""
    code = (
        "import json, sys\n"
        "from bindmgr.errors import BindmgrError\n"
        "from bindmgr.read.layout import parse_layout\n"
        "out = {}\n"
        "for name, text in json.load(sys.stdin).items():\n"
        "    try:\n"
        "        parse_layout(text, 'l.ini')\n"
        "        out[name] = 'parsed'\n"
        "    except BindmgrError as exc:\n"
        "        out[name] = str(exc)\n"
        "print(json.dumps(out))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code],
        input=json.dumps(NASTY),
        env=child_env(),
        capture_output=True,
        text=True,
        timeout=CHILD_TIMEOUT,
        check=True,
    )
    found = json.loads(done.stdout)
    assert "l.ini:1: a section nested 100000 deep" in found["brackets-closed"]
    assert "without its closing ']'" in found["brackets"]
    assert "neither a comment" in found["blanks-word"]
    assert "more than 16 blanks" in found["name-blanks"]
    assert "more than 16 blanks" in found["value-blanks"]
    assert all(len(message) < 1000 for message in found.values())
