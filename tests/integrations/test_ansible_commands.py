"""The collection's pure part (plugins/module_utils/) as fast calls: each state's
bindmgr argv, the Windows command line and its shell detection (read back by Windows' own
splitting rules), what bindmgr's answers become as task results, the diff, and the module's
DOCUMENTATION against the option spec the action validates with. No Windows host is needed."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from tests.integrations.win_command_standin import split_command_line
from tests.support.schemas import assert_valid

COLLECTION = Path(__file__).resolve().parents[2] / "integrations" / "ansible"


def load(rel: str) -> ModuleType:
    path = COLLECTION / rel
    spec = importlib.util.spec_from_file_location(f"bindmgr_collection_{path.stem}", path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up by name
    spec.loader.exec_module(module)
    return module


bm = load("plugins/module_utils/bindmgr.py")
win = load("plugins/module_utils/windows.py")
EXE = "bindmgr"


def params(**given: Any) -> dict[str, Any]:
    base = {k: v.get("default") for k, v in bm.ARGUMENT_SPEC.items()}
    return base | given


def ran(argv: list[str], rc: int, out: str = "", err: str = "") -> Any:
    return bm.Ran(argv=argv, rc=rc, stdout=out, stderr=err)


# -- argv per state ---------------------------------------------------------------------------

INLINE = params(app_dir="/srv/App", layout="/srv/layout.ini", domain="example.com")


def test_plan_argv_mirrors_the_cli() -> None:
    p = INLINE | {"ips": ["127.0.0.2", "127.0.0.3+::1"], "pattern": "mx-{n}.{domain}"}
    assert bm.plan_argv(p) == [
        *(EXE, "plan", "--app-dir", "/srv/App", "--layout", "/srv/layout.ini"),
        *("--domain", "example.com", "--ip", "127.0.0.2", "--ip", "127.0.0.3+::1"),
        *("--pattern", "mx-{n}.{domain}", "--format", "json"),
    ]
    assert bm.plan_argv(p | {"prune": True}, fmt="markdown", out="/t/p.json")[-5:] == [
        "--prune",
        "--format",
        "markdown",
        "--out",
        "/t/p.json",
    ]
    inline = [EXE, "plan", "--bindings", "b.ini", "--format", "json"]
    assert bm.plan_argv(params(bindings="b.ini")) == inline


def test_apply_applies_the_saved_plan_with_the_detailed_exit_code() -> None:
    p = INLINE | {"ips": ["127.0.0.2"], "digest": "sha256:" + "ab" * 32, "restart": True}
    argv = bm.apply_argv(p, "/t/plan.json")
    assert argv[:3] == [EXE, "apply", "/t/plan.json"]
    assert "--domain" not in argv  # a saved plan carries its desired state
    assert argv[3:] == [
        *("--app-dir", "/srv/App", "--layout", "/srv/layout.ini", "--format", "json"),
        *("--detailed-exitcode", "--digest", "sha256:" + "ab" * 32, "--restart"),
    ]


def test_verify_and_rollback_argv() -> None:
    p = INLINE | {"ips": ["127.0.0.2"]}
    assert bm.verify_argv(p)[1:] == [
        *("verify", "--app-dir", "/srv/App", "--layout", "/srv/layout.ini"),
        *("--domain", "example.com", "--ip", "127.0.0.2", "--format", "json"),
    ]
    as_they_are = ["verify", "--app-dir", "A", "--format", "json"]
    assert bm.verify_argv(params(app_dir="A"))[1:] == as_they_are
    back = params(app_dir="A", layout="L", backup="20260101-000000-apply", restart=True)
    assert bm.rollback_argv(back)[1:] == [
        *("rollback", "--app-dir", "A", "--to", "20260101-000000-apply", "--restart"),
    ]


@pytest.mark.parametrize(
    ("given", "words"),
    [
        ({"confirm": 30.0}, "an Ansible task has no terminal"),
        ({"state": "verified", "digest": "sha256:" + "0" * 64}, "digest does nothing with state"),
        ({"state": "applied", "backup": "x"}, "backup does nothing with state: applied"),
        ({"state": "verified", "markdown": True}, "markdown does nothing"),
        ({"state": "verified", "restart": True}, "restart does nothing"),
        ({"digest": "sha256:abc"}, "is not a plan digest"),
        ({"ips": []}, "ips is empty"),
    ],
)
def test_options_that_make_no_command_are_refused_with_what_to_do(
    given: dict[str, Any], words: str
) -> None:
    problem = bm.refusal(params(domain="example.com", ips=["127.0.0.2"]) | given)
    assert problem is not None
    assert words in problem


def test_confirm_refusal_says_what_to_use_instead() -> None:
    assert "restart: true" in bm.CONFIRM_REFUSED
    assert "state: verified" in bm.CONFIRM_REFUSED
    assert "bindmgr.mdaemon.rebind" in bm.CONFIRM_REFUSED
    assert bm.refusal(params(domain="example.com", ips=["127.0.0.2"])) is None


# -- Windows ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("shell", "host_vars", "windows"),
    [
        ("powershell", {}, True),
        ("cmd", {}, True),
        ("sh", {}, False),
        ("sh", {"ansible_os_family": "Windows"}, True),
        ("sh", {"ansible_facts": {"os_family": "Windows"}}, True),
        ("sh", {"ansible_os_family": "Debian", "ansible_facts": {"os_family": "Windows"}}, False),
        (None, {"ansible_facts": "not a dict"}, False),
    ],
)
def test_windows_is_told_by_the_shell_or_the_os_family(
    shell: str | None, host_vars: dict[str, Any], windows: bool
) -> None:
    assert win.is_windows(shell, host_vars) is windows


AWKWARD = [
    "plain",
    "",
    "with blank",
    "C:\\Program Files (x86)\\MDaemon\\App",
    "C:\\MDaemon\\App\\",
    "trailing\\\\",
    'a "quoted" word',
    'back\\"slash',
    "\\\\server\\share\\App",
    "tab\there",
    "100%",
]


@pytest.mark.parametrize("arg", AWKWARD)
def test_a_windows_command_line_reads_back_as_the_same_argv(arg: str) -> None:
    argv = ["C:\\Program Files\\bindmgr\\bindmgr.exe", "plan", "--app-dir", arg]
    line = win.windows_command_line(argv)
    assert line.startswith('"C:\\Program Files\\bindmgr\\bindmgr.exe" plan --app-dir ')
    assert split_command_line(line) == argv


def test_bare_arguments_stay_bare() -> None:
    line = win.windows_command_line(["bindmgr.exe", "plan", "--ip", "203.0.113.10", "--format"])
    assert line == "bindmgr.exe plan --ip 203.0.113.10 --format"


@pytest.mark.parametrize("arg", ["C:\\Program Files (x86)\\App", "a,b", "x=y", "a&b", "C:\\App\\"])
def test_a_batch_file_gets_its_cmd_exe_specials_quoted(arg: str) -> None:
    argv = ["C:\\bindmgr\\bindmgr.cmd", "verify", "--app-dir", arg]
    line = win.windows_command_line(argv)
    assert line.endswith('"') or " " not in arg
    assert split_command_line(line) == argv  # what Python's argv gets through %*


@pytest.mark.parametrize(("arg", "name"), [("100%", "%"), ("wow!", "!"), ('say "hi"', '"')])
def test_a_batch_file_refuses_what_cmd_exe_would_expand(arg: str, name: str) -> None:
    with pytest.raises(win.Unquotable, match=f"holds {name}, which cmd.exe would interpret"):
        win.windows_command_line(["bindmgr.CMD", "plan", "--app-dir", arg])
    assert win.is_batch("x\\bindmgr.bat")
    assert not win.is_batch("bindmgr.exe")


def test_an_executable_with_a_quote_is_refused() -> None:
    with pytest.raises(win.Unquotable, match="holds a double quote"):
        win.windows_command_line(['C:\\a"b\\bindmgr.exe', "plan"])


# -- bindmgr's answers as task results --------------------------------------------------------


def test_a_bindmgr_error_becomes_its_message_and_hint() -> None:
    err = "bindmgr: reading\nerror: /srv/App/MDaemon.ini: no such file\nhint: pass --app-dir\n"
    result = bm.failure(ran([EXE, "plan"], 1, err=err), "plan")
    assert result["failed"] is True
    assert result["msg"] == "/srv/App/MDaemon.ini: no such file; pass --app-dir"
    assert (result["error"], result["hint"], result["rc"]) == (
        "/srv/App/MDaemon.ini: no such file",
        "pass --app-dir",
        1,
    )
    assert result["cmd"] == [EXE, "plan"]
    assert bm.failure(ran([EXE], 1, err="Traceback\nBoom\n"), "plan")["msg"] == "Boom"
    assert "exited 7 and said nothing" in bm.failure(ran([EXE], 7), "apply")["msg"]


@pytest.fixture(scope="module")
def plan_json(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A real `bindmgr plan --format json` of a sample copy (two changes)."""
    from tests.support.apply import cli, make_site  # noqa: PLC0415 (only this fixture)

    site = make_site(tmp_path_factory.mktemp("site"))
    done = cli(
        *("plan", "--app-dir", str(site.app), "--layout", str(site.layout), "--domain"),
        *("example.com", "--ip", site.ips[0], "--ip", site.ips[1], "--format", "json"),
    )
    assert done.code == 2, done.text
    return done.out


def test_planned_is_changed_when_plan_exits_2(plan_json: str) -> None:
    result = bm.planned(ran([EXE, "plan"], 2, plan_json), params())
    assert result["changed"] is True
    assert "failed" not in result
    assert result["msg"] == "2 change(s) planned"
    assert result["plan"]["digest"].startswith("sha256:")
    short = result["plan"]["digest"][:19]
    same = bm.planned(ran([EXE, "plan"], 2, plan_json), params(digest=short))
    assert "failed" not in same  # sha256: and 12 hex digits will do, as for apply --digest


def test_planned_fails_on_another_digest_only_when_it_would_change(plan_json: str) -> None:
    other = "sha256:" + "0" * 64
    result = bm.planned(ran([EXE, "plan"], 2, plan_json), params(digest=other))
    assert result["failed"] is True
    assert "this host's plan is not the reviewed one" in result["msg"]
    assert bm.planned(ran([EXE, "plan"], 0, plan_json), params(digest=other))["changed"] is False


def test_planned_fails_on_conflicts_and_errors(plan_json: str) -> None:
    doc = json.loads(plan_json)
    doc["conflicts"] = [{"subject": "127.0.0.9", "message": "held by partner.example.net"}]
    result = bm.planned(ran([EXE, "plan"], 3, json.dumps(doc)), params())
    assert result["failed"] is True
    assert result["msg"] == (
        "the plan has conflicts, apply would refuse it: 127.0.0.9: held by partner.example.net"
    )
    assert result["plan"]["conflicts"]
    assert bm.planned(ran([EXE, "plan"], 1, err="error: bad\n"), params())["msg"] == "bad"
    with pytest.raises(bm.Refused, match="its output is not JSON"):
        bm.planned(ran([EXE, "plan"], 2, "Plan: 2 changes"), params())


APPLY_DOC = {
    "format_version": 1,
    "changed": True,
    "written": ["MDaemon.ini", "Domains.dat"],
    "unchanged": [],
    "backup": "20260102-030405-apply",
    "backup_path": "/srv/App/bindmgr-backups/20260102-030405-apply",
    "digest": "sha256:" + "ab" * 32,
    "restarted": True,
}


def test_applied_follows_the_detailed_exit_code() -> None:
    assert_valid("apply", APPLY_DOC)  # what bindmgr apply --format json prints
    wrote = bm.applied(ran([EXE, "apply"], 2, json.dumps(APPLY_DOC)))
    assert wrote["changed"] is True
    assert wrote["msg"] == (
        "wrote MDaemon.ini, Domains.dat; backup 20260102-030405-apply; RESTART.SEM dropped"
    )
    assert wrote["apply"]["backup"] == "20260102-030405-apply"
    same = APPLY_DOC | {"changed": False, "written": [], "backup": None, "restarted": False}
    assert bm.applied(ran([EXE, "apply"], 0, json.dumps(same)))["changed"] is False
    stale = bm.applied(ran([EXE, "apply"], 4, err="error: the plan is stale\nhint: re-plan\n"))
    assert (stale["failed"], stale["msg"]) == (True, "the plan is stale; re-plan")


def verify_doc(bad: int) -> str:
    results = [
        {
            "ip": f"127.0.0.{n}",
            "port": 25,
            "service": "smtp",
            "label": "SMTP",
            "status": "wrong_domain" if n <= bad else "answered",
            "passed": n > bad,
            "detail": "greets as mail-7.example.com" if n <= bad else "",
            "hint": "bindmgr inspect" if n <= bad else None,
        }
        for n in range(1, 9)
    ]
    summary = {"total": 8, "passed": 8 - bad, "failed": bad}
    return json.dumps({"format_version": 2, "summary": summary, "results": results})


def test_verified_is_never_changed_and_fails_on_exit_3() -> None:
    good = bm.verified(ran([EXE, "verify"], 0, verify_doc(0)))
    assert (good["changed"], good["msg"]) == (False, "8 connection(s) answered as planned")
    assert "failed" not in good
    bad = bm.verified(ran([EXE, "verify"], 3, verify_doc(7)))
    assert (bad["changed"], bad["failed"], bad["hint"]) == (False, True, "bindmgr inspect")
    assert bad["msg"].startswith("verify: 7 of 8 connection(s) did not answer as planned: ")
    assert "127.0.0.1:25 SMTP wrong_domain (greets as mail-7.example.com)" in bad["msg"]
    assert "127.0.0.6" not in bad["msg"]
    assert bad["msg"].endswith("; and 2 more")
    assert bm.verified(ran([EXE, "verify"], 1, err="error: no App\n"))["msg"] == "no App"


def test_rolled_back_is_changed_when_files_were_restored() -> None:
    out = "Restored MDaemon.ini from 2026-apply (undo with: --to 2026-restore).\nDropped it."
    done = bm.rolled_back(ran([EXE, "rollback"], 0, out), params(restart=True))
    assert done["changed"] is True
    assert done["rollback"]["restarted"] is True
    assert done["msg"].startswith("Restored MDaemon.ini from 2026-apply")
    same = "The files already match 2026-apply: nothing to restore."
    assert bm.rolled_back(ran([EXE, "rollback"], 0, same), params())["changed"] is False
    refused = bm.rolled_back(ran([EXE, "rollback"], 4, err="error: changed since\n"), params())
    assert refused["failed"] is True


# -- diff mode --------------------------------------------------------------------------------


def test_the_diff_shows_each_file_s_planned_keys_before_and_after() -> None:
    def change(file: str, section: str, key: str | None, old: str | None, new: str | None) -> dict:
        action = "set" if new is not None else "delete_key" if key else "delete_section"
        return {"file": file, "section": section, "key": key, "old": old, "new": new,
                "action": action}  # fmt: skip

    plan = {
        "changes": [
            change("MDaemon.ini", "Domain", "DomainIP", "203.0.113.10", "127.0.0.2"),
            change("MDaemon.ini", "Domain", "BindToIP", None, "Yes"),
            change("Domains.dat", "mail-3.example.com", None, None, None),
            change("Domains.dat", "mail-2.example.com", "IP", "203.0.113.11", None),
        ]
    }
    ini, dat = bm.plan_diff(plan)
    assert ini == {
        "before_header": "MDaemon.ini (now)",
        "after_header": "MDaemon.ini (planned)",
        "before": "[Domain]\nDomainIP=203.0.113.10\n",
        "after": "[Domain]\nDomainIP=127.0.0.2\nBindToIP=Yes\n",
    }
    assert dat["before"] == (
        "[mail-3.example.com]\n; (the whole section)\n[mail-2.example.com]\nIP=203.0.113.11\n"
    )
    assert dat["after"] == "[mail-2.example.com]\n"
    assert bm.plan_diff({"changes": []}) == []


# -- the module's documentation is the spec the action validates with -----------------------


def test_documentation_matches_the_argument_spec() -> None:
    yaml = pytest.importorskip("yaml")
    module = load("plugins/modules/bindmgr.py")
    options = yaml.safe_load(module.DOCUMENTATION)["options"]
    assert set(options) == set(bm.ARGUMENT_SPEC)
    for name, spec in bm.ARGUMENT_SPEC.items():
        doc = options[name]
        assert doc["type"] == spec["type"], name
        assert doc.get("default") == spec.get("default"), name
        assert doc.get("choices") == spec.get("choices"), name
        assert doc.get("elements") == spec.get("elements"), name
    for part in ("EXAMPLES", "RETURN"):
        assert yaml.safe_load(getattr(module, part)), part
