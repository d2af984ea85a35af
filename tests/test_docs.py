"""The documentation cannot drift: every command example runs, every sample output is a golden.

Each fenced block of README.md and docs/*.md is one of:

- a **command block** (a line starts with `bindmgr `): its commands run, in document order, in
  one working folder per document holding a copy of the sample (`--app-dir` and `$MDAEMON_APP`
  name that copy), every document's `file` blocks and `plan.json`, the README's first plan
  (a test checks that the README shows it first). Each runs as `python -m bindmgr` in a
  network namespace of its own where the documentation's addresses (203.0.113.0/24,
  2001:db8::/64) are on the loopback interface, so that plans check clean and applies write, as
  on the server the examples describe; each must exit 0 or 2 (`verify` 3: MDaemon does not
  answer here). `> FILE` keeps the output in the working folder; `sha256:...` is the digest of
  the saved plan there;
- an **output block** (no language, or text/json/markdown/console): equal to a golden file;
- anything else (a language's source, a setup step): free.

The comment lines right before a block's fence say what the test does with it:

    <!-- docs-test: golden tests/golden/DIR/NAME -->        the block is that golden file
    <!-- docs-test: excerpt tests/golden/DIR/NAME -->       the block's lines are a run of it
    <!-- docs-test: file NAME -->                           the block is saved as NAME first
    <!-- docs-test: synopsis -->                            grammar, not run; its command exists
    <!-- docs-test: without OPT ...: REASON -->             run with those options left out
    <!-- docs-test: skip "TEXT" ...: REASON -->             lines containing TEXT are not run
    <!-- docs-test: illustrative: REASON -->                not run, not compared
"""

from __future__ import annotations

import json
import re
import shlex
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from bindmgr.parser import build_parser
from tests.support.apply import cli, cli_proc
from tests.support.goldens import assert_golden
from tests.support.probe import netns_available
from tests.support.sample import copy_sample

ROOT = Path(__file__).resolve().parent.parent
DOCUMENTS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
OUTPUT_LANGUAGES = {"", "text", "json", "markdown", "md", "console"}
FENCE = re.compile(r"^```(?P<lang>[\w-]*)\n(?P<body>.*?)^```$", re.MULTILINE | re.DOTALL)
MARK = re.compile(r"<!-- docs-test: (?P<verb>[\w-]+)(?P<rest>.*?) -->\s*$")
COMMAND = re.compile(r"^\s*(?:\$ |PS> )?bindmgr(?:\s+(?!\S*:\s)|$)")  # not "bindmgr plan: 8 ..."
VALID_EXITS = {0, 2}
# the README's first plan: it changes the sample, and every working folder starts with it
FIRST_PLAN = (
    "plan",
    "--domain",
    "example.com",
    "--ip",
    "203.0.113.10",
    "--ip",
    "203.0.113.11",
    "--ip",
    "203.0.113.12",
    "--out",
    "plan.json",
)
# the documentation's addresses, local in the examples' network namespace
NAMESPACE = [
    "unshare",
    "-n",
    "sh",
    "-c",
    "ip link set lo up && ip addr add 203.0.113.1/24 dev lo"
    ' && ip -6 addr add 2001:db8::1/64 dev lo nodad && exec "$0" "$@"',
]


def _options_with_value() -> frozenset[str]:
    """Every option of every command that takes a value (from the parser: `without` drops the
    value with the option)."""
    sub = build_parser()._subparsers._group_actions[0]  # type: ignore[union-attr]
    return frozenset(
        name
        for command in sub.choices.values()
        for action in command._actions
        if action.nargs != 0
        for name in action.option_strings
    )


OPTIONS_WITH_VALUE = _options_with_value()


@dataclass(frozen=True)
class Block:
    doc: Path
    line: int  # of the opening fence, 1-based
    lang: str
    body: str
    marks: dict[str, str]  # verb -> what follows it, from the comment lines above the fence

    @property
    def where(self) -> str:
        return f"{self.doc.relative_to(ROOT)}:{self.line}"

    @property
    def commands(self) -> list[str]:
        return [line for line in self.body.splitlines() if COMMAND.match(line)]


def blocks(doc: Path) -> Iterator[Block]:
    text = doc.read_text(encoding="utf-8")
    for m in FENCE.finditer(text):
        marks: dict[str, str] = {}
        for line in reversed(text[: m.start()].splitlines()):
            mark = MARK.search(line)
            if mark is None:
                break
            marks[mark["verb"]] = mark["rest"].strip()
        yield Block(doc, text.count("\n", 0, m.start()) + 1, m["lang"], m["body"], marks)


def _reason(block: Block, verb: str) -> str:
    reason = block.marks[verb].partition(":")[2].strip()
    assert reason, f"{block.where}: '{verb}' needs a reason after a colon"
    return reason


def _golden(block: Block) -> tuple[str, Path] | None:
    for verb in ("golden", "excerpt"):
        if verb in block.marks:
            return verb, ROOT / block.marks[verb]
    return None


def _argv(line: str, block: Block, app: Path, work: Path) -> tuple[list[str], str | None]:
    """The command line as arguments, and the file its output goes to (if any)."""
    words = shlex.split(re.sub(r"^\s*(?:\$ |PS> )", "", line), comments=True)[1:]
    out = None
    if ">" in words:
        at = words.index(">")
        out, words = words[at + 1], words[:at]
    if "without" in block.marks:
        dropped = set(block.marks["without"].partition(":")[0].split())
        kept: list[str] = []
        skip_value = False
        for word in words:
            if skip_value:
                skip_value = False
            elif word in dropped:
                skip_value = word in OPTIONS_WITH_VALUE
            else:
                kept.append(word)
        words = kept
    argv = []
    for i, word in enumerate(words):
        if i and words[i - 1] == "--app-dir":
            argv.append(str(app))
        elif word == "sha256:...":
            argv.append(json.loads((work / "plan.json").read_text(encoding="utf-8"))["digest"])
        else:
            argv.append(word)
    return argv, out


def _command_blocks(doc: Path) -> list[Block]:
    return [
        b for b in blocks(doc) if b.commands and not {"synopsis", "illustrative"} & b.marks.keys()
    ]


@pytest.mark.parametrize("doc", DOCUMENTS, ids=lambda d: d.name)
def test_every_block_is_run_compared_or_marked(doc: Path) -> None:
    for block in blocks(doc):
        for verb in {"illustrative", "without", "skip"} & block.marks.keys():
            _reason(block, verb)
        golden = _golden(block)
        if golden is not None:
            assert golden[1].is_file(), f"{block.where}: no {golden[1]}"
        if block.commands or block.lang not in OUTPUT_LANGUAGES:
            continue
        assert {"golden", "excerpt", "illustrative", "file"} & block.marks.keys(), (
            f"{block.where}: a sample output must be a golden file; mark it "
            "<!-- docs-test: golden tests/golden/... --> or illustrative with its reason"
        )


@pytest.mark.parametrize("doc", DOCUMENTS, ids=lambda d: d.name)
def test_sample_outputs_are_the_golden_files(doc: Path) -> None:
    for block in blocks(doc):
        found = _golden(block)
        if found is None:
            continue
        verb, path = found
        golden = path.read_text(encoding="utf-8")
        if verb == "golden":
            assert block.body == golden, f"{block.where} differs from {path}"
        else:
            assert block.body in golden, f"{block.where} is not a run of {path}"


def test_synopses_name_real_commands() -> None:
    parser = build_parser()
    commands = set(parser._subparsers._group_actions[0].choices)  # type: ignore[union-attr]
    for doc in DOCUMENTS:
        for block in blocks(doc):
            if "synopsis" not in block.marks:
                continue
            for line in block.commands:
                word = line.split()[1]
                assert word.startswith("[") or word in commands, f"{block.where}: no {word}"


@pytest.mark.skipif(netns_available() is not None, reason=str(netns_available()))
@pytest.mark.parametrize("doc", [d for d in DOCUMENTS if _command_blocks(d)], ids=lambda d: d.name)
def test_command_examples_run_on_the_sample(doc: Path, tmp_path: Path) -> None:
    app, _ = copy_sample(tmp_path)
    work = tmp_path / "work"
    work.mkdir()
    for block in (b for d in DOCUMENTS for b in blocks(d) if "file" in b.marks):
        (work / block.marks["file"]).write_text(block.body, encoding="utf-8")
    made = cli_proc(*FIRST_PLAN, extra_env={"MDAEMON_APP": str(app)}, prefix=NAMESPACE, cwd=work)
    assert made.code == 2, made.text
    for block in _command_blocks(doc):
        skipped = re.findall(r'"([^"]+)"', block.marks.get("skip", "").partition(":")[0])
        for line in block.commands:
            if any(text in line for text in skipped):
                continue
            argv, out = _argv(line, block, app, work)
            run = cli_proc(*argv, extra_env={"MDAEMON_APP": str(app)}, prefix=NAMESPACE, cwd=work)
            allowed = VALID_EXITS | ({3} if argv[0] == "verify" else set())
            assert run.code in allowed, f"{block.where}: `{line.strip()}` -> {run.text}"
            assert "Traceback" not in run.text
            if out is not None:
                (work / out).write_text(run.out, encoding="utf-8")


# The outputs the documentation shows, made by the commands that print them. Each is a golden
# file under tests/golden/docs/ and the documentation's block is that file (or a run of it).
def _layout_port(tmp: Path, app: Path, layout: Path) -> list[str]:
    text = layout.read_text(encoding="utf-8").replace("port = 4069", "port = 99999", 1)
    (tmp / "my-layout.ini").write_text(text, encoding="utf-8")
    return ["inspect", "--layout", "my-layout.ini"]


def _bad_port_value(tmp: Path, app: Path, layout: Path) -> list[str]:
    ini = app / "MDaemon.ini"
    ini.write_bytes(ini.read_bytes().replace(b"SMTPPort=25", b"SMTPPort=99999", 1))
    return ["plan", "--domain", "example.com", "--ip", "203.0.113.10"]


def _ambiguous_port(tmp: Path, app: Path, layout: Path) -> list[str]:
    ini = app / "MDaemon.ini"
    newline = b"\r\n" if b"\r\n" in ini.read_bytes() else b"\n"
    twins = b"ListenPort=25" + newline + b"RelayPort=25"
    ini.write_bytes(ini.read_bytes().replace(b"SMTPPort=25", twins, 1))
    return ["layout", "detect"]


def _typo_domain(tmp: Path, app: Path, layout: Path) -> list[str]:
    return ["plan", "--domain", "exampel.com", "--ip", "203.0.113.10"]


def _plan_with_typo(tmp: Path, app: Path, layout: Path) -> list[str]:
    made = cli(*FIRST_PLAN[:-1], str(tmp / "plan.json"), env={"MDAEMON_APP": str(app)})
    assert made.code == 2, made.text
    plan = json.loads((tmp / "plan.json").read_text(encoding="utf-8"))
    plan["changes"][1]["action"] = "sett"
    (tmp / "plan.json").write_text(json.dumps(plan, indent=2) + "\n", encoding="utf-8")
    return ["apply", "plan.json"]


DOCUMENTED_OUTPUTS = {
    "plan-invalid.txt": _plan_with_typo,
    "layout-invalid.txt": _layout_port,
    "value-unusable.txt": _bad_port_value,
    "detect-ambiguous.txt": _ambiguous_port,
    "base-domain-unknown.txt": _typo_domain,
}


@pytest.mark.parametrize("name", DOCUMENTED_OUTPUTS)
def test_documented_outputs(name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    app, layout = copy_sample(tmp_path)
    argv = DOCUMENTED_OUTPUTS[name](tmp_path, app, layout)
    monkeypatch.chdir(tmp_path)
    run = cli(*argv, env={"MDAEMON_APP": str(app.relative_to(tmp_path))})
    assert run.code in {1, 3}, run.text
    assert_golden("docs", name, run.text.replace("MDaemon\\App", "MDaemon/App"))  # Windows


def test_the_readme_plans_a_change_first() -> None:
    first = next(b for b in blocks(ROOT / "README.md") if b.commands)
    plans = [shlex.split(c, comments=True)[1:] for c in first.commands if " plan " in c]
    assert plans, f"{first.where}: no plan"
    assert tuple(plans[0]) == FIRST_PLAN, f"{first.where}: show {FIRST_PLAN} first"
