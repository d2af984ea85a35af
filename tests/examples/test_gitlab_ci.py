"""The GitLab CI example (examples/gitlab-ci/): its .gitlab-ci.yml has the two jobs with their
rules and calls scripts that exist, and the job scripts, run as the jobs run them, turn each exit
status of bindmgr into the right note, labels and job result.

The scripts run for real: copied into the workspace's .gitlab/bindmgr/ as the README says, with
bash, curl, jq, bindmgr from this virtual environment and a copy of the sample MDaemon folder on
the test's own loopback addresses (tests/support/apply.make_site). Only GitLab is replaced:
tests/examples/fake_gitlab.py, a real HTTP server on 127.0.0.1 that CI_API_V4_URL points at.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from bindmgr.errors import ExitCode
from tests.examples.fake_gitlab import GitLab, serve
from tests.support.apply import Site, child, cli, make_site, wait_line
from tests.support.safety import env as child_env

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "gitlab-ci"
GITHUB = ROOT / "examples" / "github-actions"
SCRIPTS = {  # what the README copies to .gitlab/bindmgr/, and from where
    "bindmgr-gitlab.sh": EXAMPLE,
    "bindmgr-note-gitlab.sh": EXAMPLE,
    "bindmgr-plan.sh": GITHUB,
    "bindmgr-apply.sh": GITHUB,
}
VENV_BIN = Path(sys.executable).parent
PROJECT, IID, TOKEN, BOT = 42, 7, "glpat-test-token", "project_42_bot_1234"
REVOKED = "glpat-revoked"  # a token GitLab does not know
HEAD, MERGED = "0123456789abcdef0123456789abcdef01234567", "fedcba98" * 5
PLAN_MARK, APPLY_MARK = "<!-- bindmgr-plan -->", "<!-- bindmgr-apply -->"
NOT_HERE = "203.0.113.50"  # TEST-NET: a bind there fails with "not on this host"
FAKE_MDAEMON = (
    "import sys\nfrom tests.support.fake_mdaemon import main\nsys.exit(main(sys.argv[1:]))"
)

scripts_run = pytest.mark.usefixtures("tools")


@pytest.fixture
def tools() -> None:
    for tool, why in (("bash", "the job scripts are bash"), ("curl", "they call GitLab with curl")):
        if shutil.which(tool) is None:
            pytest.skip(f"{why}, and {tool} is not on PATH")
    if shutil.which("jq") is None:
        pytest.skip("the note backend reads GitLab's JSON with jq (apt jq)")
    if not (VENV_BIN / "bindmgr").exists():
        pytest.skip("bindmgr is not installed in this venv")


@pytest.fixture
def gitlab() -> Iterator[GitLab]:
    lab = GitLab(project=PROJECT, tokens={TOKEN: BOT})
    lab.add_mr(IID, target_branch="main", sha=HEAD, merge_commit_sha=None)
    with serve(lab) as served:
        yield served


@pytest.fixture
def site(tmp_path: Path) -> Site:
    return make_site(tmp_path / "site", n_ips=3)


@pytest.fixture
def ws(tmp_path: Path, site: Site) -> Path:
    """The job's checkout: bindings.ini for two of the IPs, the scripts in .gitlab/bindmgr/."""
    path = tmp_path / "ws"
    (path / ".gitlab" / "bindmgr").mkdir(parents=True)
    for name, folder in SCRIPTS.items():
        shutil.copy2(folder / name, path / ".gitlab" / "bindmgr" / name)
    bindings(path, *site.ips[:2])
    return path


def bindings(ws: Path, *ips: str) -> Path:
    path = ws / "bindings.ini"
    path.write_text(f"domain = example.com\nips = {', '.join(ips)}\n", encoding="utf-8")
    return path


@dataclass(frozen=True)
class Job:
    code: int
    out: str
    err: str


def run(job: str, gitlab: GitLab, site: Site, ws: Path, job_id: int, **extra: str) -> Job:
    """The job's script line as Git Bash runs it, in the checkout, with GitLab's variables."""
    env = {
        **child_env(),
        "PATH": os.pathsep.join([str(VENV_BIN), os.environ.get("PATH", "")]),
        "CI_API_V4_URL": gitlab.url,
        "CI_PROJECT_ID": str(PROJECT),
        "CI_PROJECT_URL": "https://gitlab.example/group/mail",
        "CI_JOB_ID": str(job_id),
        "CI_JOB_URL": f"https://gitlab.example/group/mail/-/jobs/{job_id}",
        "CI_DEFAULT_BRANCH": "main",
        "BINDMGR_GITLAB_TOKEN": TOKEN,
        "BINDINGS": "bindings.ini",
        "MDAEMON_APP": str(site.app),
        "BINDMGR_LAYOUT": str(site.layout),
        **extra,
    }
    for name in [k for k in env if k.startswith("GITHUB_")]:
        del env[name]  # nothing of GitHub's, even when these tests run in GitHub Actions
    done = subprocess.run(
        ["bash", ".gitlab/bindmgr/bindmgr-gitlab.sh", job],
        cwd=ws,
        env=env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    return Job(done.returncode, done.stdout, done.stderr)


def plan(gitlab: GitLab, site: Site, ws: Path, job_id: int = 101) -> Job:
    job = run("plan", gitlab, site, ws, job_id, CI_MERGE_REQUEST_IID=str(IID), CI_COMMIT_SHA=HEAD)
    made = ws / "bindmgr-out" / "plan.json"
    if made.exists():  # what `artifacts: paths: [bindmgr-out/]` keeps
        gitlab.artifacts[(job_id, "bindmgr-out/plan.json")] = made.read_bytes()
    return job


def notes(gitlab: GitLab, marker: str = PLAN_MARK) -> list[dict[str, Any]]:
    return [n for n in gitlab.notes[IID] if n["body"].startswith(marker)]


def labels(gitlab: GitLab) -> list[str]:
    return list(gitlab.mrs[IID]["labels"])


def meta(body: str) -> dict[str, str]:
    line = next(x for x in body.splitlines() if x.startswith("<!-- bindmgr-plan-meta "))
    words = line.removeprefix("<!-- bindmgr-plan-meta ").removesuffix(" -->").split()
    return dict(w.split("=", 1) for w in words)


def plan_digest(ws: Path) -> str:
    return str(json.loads((ws / "bindmgr-out" / "plan.json").read_text(encoding="utf-8"))["digest"])


def note_calls(gitlab: GitLab) -> list[str]:
    return [m for m, p in gitlab.log if re.search(r"/notes(/\d+)?$", p) and m != "GET"]


# -- the .gitlab-ci.yml ------------------------------------------------------------------------


def pipeline() -> dict[str, Any]:
    yaml = pytest.importorskip(
        "yaml", reason="PyYAML comes with ansible-core in the dev extra, not installed here"
    )
    found = yaml.safe_load((EXAMPLE / ".gitlab-ci.yml").read_text(encoding="utf-8"))
    assert isinstance(found, dict)
    return found


def test_the_pipeline_has_the_two_jobs_on_the_mdaemon_runner() -> None:
    jobs = pipeline()
    assert sorted(k for k in jobs if not k.startswith(".")) == ["bindmgr-apply", "bindmgr-plan"]
    assert jobs[".bindmgr"]["tags"] == ["mdaemon"]
    changes = {"paths": ["bindings.ini", "layout.ini"]}
    plan_job, apply_job = jobs["bindmgr-plan"], jobs["bindmgr-apply"]
    assert (plan_job["extends"], apply_job["extends"]) == (".bindmgr", ".bindmgr")
    [rule] = plan_job["rules"]
    assert rule["changes"] == changes
    assert '$CI_PIPELINE_SOURCE == "merge_request_event"' in rule["if"]
    assert "$CI_MERGE_REQUEST_SOURCE_PROJECT_ID == $CI_PROJECT_ID" in rule["if"]  # no forks
    assert plan_job["artifacts"]["paths"] == ["bindmgr-out/"]
    assert plan_job["artifacts"]["when"] == "always"
    [rule] = apply_job["rules"]
    assert rule["changes"] == changes
    assert rule["if"] == (
        '$CI_PIPELINE_SOURCE == "push" && $CI_COMMIT_BRANCH == $CI_DEFAULT_BRANCH'
    )
    assert apply_job["resource_group"] == "mdaemon"
    assert apply_job["environment"]["name"] == "mdaemon"


def test_the_script_lines_call_the_scripts_and_keep_their_status() -> None:
    """Each job is one PowerShell line: Git Bash by its path, the entry script, `exit` with its
    status; what it calls is in the README's list, and that list is the test's."""
    jobs = pipeline()
    readme = (EXAMPLE / "README.md").read_text(encoding="utf-8")
    for job in ("plan", "apply"):
        [line] = jobs[f"bindmgr-{job}"]["script"]
        assert line == (
            f"& $env:BINDMGR_BASH .gitlab/bindmgr/bindmgr-gitlab.sh {job}; exit $LASTEXITCODE"
        )
    for name, folder in SCRIPTS.items():
        assert (folder / name).is_file()
        assert f"`{name}`" in readme
    entry = (EXAMPLE / "bindmgr-gitlab.sh").read_text(encoding="utf-8")
    called = re.findall(r"\$here/([\w-]+\.sh)", entry)  # the scripts beside it
    assert {"bindmgr-gitlab.sh", *called} == set(SCRIPTS)
    bash = jobs[".bindmgr"]["variables"]["BINDMGR_BASH"]
    assert bash == "C:\\Program Files\\Git\\bin\\bash.exe"


# -- plan: exit 2 / 3 / 0 / 1 ------------------------------------------------------------------


@scripts_run
def test_changes_are_noted_labelled_and_pass(gitlab: GitLab, site: Site, ws: Path) -> None:
    job = plan(gitlab, site, ws)
    assert job.code == 0, job.err
    assert job.out.strip().endswith("/-/merge_requests/7#note_5001")
    [posted] = notes(gitlab)
    assert posted["author"]["username"] == BOT
    body = posted["body"]
    md = (ws / "bindmgr-out" / "plan.md").read_text(encoding="utf-8")
    assert body.startswith(f"{PLAN_MARK}\n{md}")
    digest = plan_digest(ws)
    sha = hashlib.sha256((ws / "bindings.ini").read_bytes()).hexdigest()
    assert meta(body) == {
        "digest": digest,
        "run": "101",  # the job whose artifact keeps plan.json
        "sha": HEAD,
        "bindings": sha,
        "result": "changes",
    }
    assert "[this run](https://gitlab.example/group/mail/-/jobs/101)" in body
    assert labels(gitlab) == ["bindmgr:changes"]


@scripts_run
def test_every_push_updates_the_one_note_and_switches_the_label(
    gitlab: GitLab, site: Site, ws: Path
) -> None:
    assert plan(gitlab, site, ws, 101).code == 0
    bindings(ws, site.ips[0], NOT_HERE)
    job = plan(gitlab, site, ws, 102)
    assert job.code == 1  # conflicts fail the job
    assert "bindmgr apply would refuse this plan" in job.err
    [posted] = notes(gitlab)
    assert (meta(posted["body"])["run"], meta(posted["body"])["result"]) == ("102", "conflicts")
    assert f"cannot bind on {NOT_HERE}" in posted["body"]
    assert note_calls(gitlab) == ["POST", "PUT"]
    assert labels(gitlab) == ["bindmgr:conflicts"]  # the changes label is gone
    bindings(ws, *site.ips[:2])
    assert plan(gitlab, site, ws, 103).code == 0
    assert labels(gitlab) == ["bindmgr:changes"]
    assert len(notes(gitlab)) == 1


@scripts_run
def test_no_changes_is_noted_labelled_and_passes(gitlab: GitLab, site: Site, ws: Path) -> None:
    gitlab.mrs[IID]["labels"] = ["bindmgr:changes"]
    where = ["--app-dir", str(site.app), "--layout", str(site.layout)]
    applied = cli("apply", *where, "--yes", "--bindings", str(ws / "bindings.ini"))
    assert applied.code == ExitCode.OK, applied.text
    job = plan(gitlab, site, ws)
    assert job.code == 0, job.err
    assert notes(gitlab)[0]["body"].splitlines()[1].startswith("**bindmgr plan**: No changes.")
    assert labels(gitlab) == ["bindmgr:no-changes"]


@scripts_run
def test_an_error_is_noted_unlabelled_and_fails(gitlab: GitLab, site: Site, ws: Path) -> None:
    gitlab.mrs[IID]["labels"] = ["needs-dns", "bindmgr:changes"]
    (ws / "bindings.ini").write_text("domain = example.com\nips = 10.0.0.300\n", encoding="utf-8")
    job = plan(gitlab, site, ws)
    assert job.code == 1
    body = notes(gitlab)[0]["body"]
    assert body.splitlines()[1] == (
        "**bindmgr plan failed** (exit 1): nothing was planned. What it said:"
    )
    assert meta(body)["result"] == "error"
    assert labels(gitlab) == ["needs-dns"]  # only bindmgr's own labels are touched


@scripts_run
def test_a_note_by_someone_else_is_never_taken_over(gitlab: GitLab, site: Site, ws: Path) -> None:
    forged = f"{PLAN_MARK}\n<!-- bindmgr-plan-meta digest=sha256:{'0' * 64} run=9 -->"
    gitlab.note(IID, forged, "mallory")
    gitlab.note(IID, f"{PLAN_MARK} (a system note)", BOT, system=True)
    assert plan(gitlab, site, ws).code == 0
    theirs, _, ours = gitlab.notes[IID]
    assert theirs["body"] == forged
    assert ours["author"]["username"] == BOT
    assert ours["body"].startswith(f"{PLAN_MARK}\n**bindmgr plan**")
    assert note_calls(gitlab) == ["POST"]


@scripts_run
def test_the_notes_are_read_page_by_page(gitlab: GitLab, site: Site, ws: Path) -> None:
    assert plan(gitlab, site, ws, 101).code == 0
    for n in range(150):  # the plan note is on the first page, these after it
        gitlab.note(IID, f"review comment {n}", "reviewer")
    assert plan(gitlab, site, ws, 102).code == 0
    assert note_calls(gitlab) == ["POST", "PUT"]
    pages = [p for m, p in gitlab.log if m == "GET" and p.endswith("/notes")]
    assert len(pages) == 1 + 2  # the first run: one page; the second: two pages


@scripts_run
def test_the_job_fails_when_gitlab_cannot_be_told(gitlab: GitLab, site: Site, ws: Path) -> None:
    gitlab.down = True
    job = plan(gitlab, site, ws)
    assert job.code != 0
    assert "HTTP 503" in job.err
    assert gitlab.notes[IID] == []


@scripts_run
def test_a_bad_token_fails_with_a_hint(gitlab: GitLab, site: Site, ws: Path) -> None:
    mr = {"CI_MERGE_REQUEST_IID": str(IID), "CI_COMMIT_SHA": HEAD}
    job = run("plan", gitlab, site, ws, 101, **mr, BINDMGR_GITLAB_TOKEN=REVOKED)
    assert job.code != 0
    assert "HTTP 401" in job.err
    assert "hint: BINDMGR_GITLAB_TOKEN must be a valid project access token" in job.err
    assert TOKEN not in job.err


# -- apply after the merge ---------------------------------------------------------------------


def merge(gitlab: GitLab) -> None:
    gitlab.mrs[IID].update(state="merged", merge_commit_sha=MERGED)


def apply(gitlab: GitLab, site: Site, ws: Path) -> Job:
    args = "--restart --wait-restart --restart-timeout 20"
    return run("apply", gitlab, site, ws, 201, CI_COMMIT_SHA=MERGED, BINDMGR_APPLY_ARGS=args)


def applied_note(gitlab: GitLab) -> str:
    [posted] = notes(gitlab, APPLY_MARK)
    return str(posted["body"])


def artifact_calls(gitlab: GitLab) -> list[str]:
    return [p for _, p in gitlab.log if "/artifacts/" in p]


@scripts_run
def test_the_merge_applies_the_reviewed_plan_and_verifies(
    gitlab: GitLab, site: Site, ws: Path
) -> None:
    assert plan(gitlab, site, ws).code == 0
    digest = plan_digest(ws)
    merge(gitlab)
    names = [f"{site.ips[0]}=mail.example.com", f"{site.ips[1]}=mail-2.example.com"]
    with child(FAKE_MDAEMON, str(site.app), str(site.layout), *names) as mdaemon:
        assert wait_line(mdaemon) == "waiting"
        job = apply(gitlab, site, ws)
        assert wait_line(mdaemon) == "listening"
    assert job.code == 0, job.err
    assert artifact_calls(gitlab) == [
        f"/api/v4/projects/{PROJECT}/jobs/101/artifacts/bindmgr-out/plan.json"
    ]
    body = applied_note(gitlab)
    assert body.splitlines()[1] == (
        f"**bindmgr apply**: applied the reviewed plan `{digest}`; MDaemon answers as planned."
    )
    assert "### Verify: 24 connections: 24 answered" in body
    assert body.endswith(
        "Applied by [this run](https://gitlab.example/group/mail/-/jobs/201)."
        " Result: **applied**.\n"
    )
    assert len(notes(gitlab)) == 1  # the plan note stays as it was reviewed


@scripts_run
def test_a_plan_file_that_is_not_the_reviewed_one_is_refused(
    gitlab: GitLab, site: Site, ws: Path
) -> None:
    assert plan(gitlab, site, ws).code == 0
    other = ws / "other"
    other.mkdir()
    done = site.plan(other / "plan.json", site.ips)  # a valid plan, but not the reviewed one
    assert done.code == ExitCode.CHANGES, done.text
    gitlab.artifacts[(101, "bindmgr-out/plan.json")] = (other / "plan.json").read_bytes()
    merge(gitlab)
    before = site.files()
    job = apply(gitlab, site, ws)
    assert job.code == 1
    assert "is not the plan that was reviewed" in applied_note(gitlab)
    assert site.files() == before


@pytest.mark.parametrize(
    ("case", "code", "headline"),
    [
        ("forged", 1, "not applied: this merge request has no reviewed plan"),
        ("conflicts", 1, "not applied: the reviewed plan ended in **conflicts**"),
        ("not-reviewed", 1, "not applied: `bindings.ini` as merged is not the one planned"),
    ],
)
@scripts_run
def test_apply_acts_only_on_the_reviewed_plan(
    gitlab: GitLab, site: Site, ws: Path, case: str, code: int, headline: str
) -> None:
    if case == "forged":  # someone else's note with the marker and metadata
        sha = hashlib.sha256((ws / "bindings.ini").read_bytes()).hexdigest()
        line = f"digest=sha256:{'0' * 64} run=101 bindings={sha} result=changes"
        gitlab.note(IID, f"{PLAN_MARK}\n<!-- bindmgr-plan-meta {line} -->", "mallory")
    elif case == "conflicts":
        bindings(ws, site.ips[0], NOT_HERE)
        plan(gitlab, site, ws)
    else:
        plan(gitlab, site, ws)
        bindings(ws, *site.ips)  # changed after the last plan ran
    merge(gitlab)
    before = site.files()
    job = apply(gitlab, site, ws)
    assert job.code == code
    assert applied_note(gitlab).splitlines()[1].startswith(f"**bindmgr apply**: {headline}")
    assert artifact_calls(gitlab) == []
    assert site.files() == before


@scripts_run
def test_a_commit_no_merge_request_merged_is_not_applied(
    gitlab: GitLab, site: Site, ws: Path
) -> None:
    assert plan(gitlab, site, ws).code == 0  # reviewed, but never merged as MERGED
    before = site.files()
    job = apply(gitlab, site, ws)
    assert job.code == 1
    assert f"no merge request was merged into main as {MERGED}" in job.err
    assert notes(gitlab, APPLY_MARK) == []
    assert site.files() == before
