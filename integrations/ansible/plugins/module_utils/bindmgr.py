"""bindmgr's command lines and its answers, for the bindmgr action plugin (pure, controller side).

Builds each bindmgr command's argv from the task's options and turns bindmgr's exit status, JSON
documents and `error:`/`hint:` lines into a task result (windows.py quotes the argv for a Windows
host). No I/O and no Ansible import: the action plugin runs the commands through
ansible.builtin.command or ansible.windows.win_command and hands the outcome here.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

STATES = ("planned", "applied", "verified", "rolled_back")

# The options of plugins/modules/bindmgr.py, in ArgumentSpecValidator's form.
ARGUMENT_SPEC: dict[str, dict[str, Any]] = {
    "state": {"type": "str", "default": "applied", "choices": list(STATES)},
    "app_dir": {"type": "str"},
    "domain": {"type": "str"},
    "ips": {"type": "list", "elements": "str"},
    "bindings": {"type": "str"},
    "pattern": {"type": "str"},
    "prune": {"type": "bool", "default": False},
    "layout": {"type": "str"},
    "restart": {"type": "bool", "default": False},
    "confirm": {"type": "float"},
    "digest": {"type": "str"},
    "backup": {"type": "str"},
    "markdown": {"type": "bool", "default": False},
    "executable": {"type": "str", "default": "bindmgr"},
}
MUTUALLY_EXCLUSIVE = [["bindings", "domain"], ["bindings", "ips"]]
REQUIRED_TOGETHER = [["domain", "ips"]]
REQUIRED_IF = [
    ["state", "planned", ["domain", "bindings"], True],
    ["state", "applied", ["domain", "bindings"], True],
]
# option -> the states it means something for
ONLY_FOR = {
    "digest": ("planned", "applied"),
    "markdown": ("planned",),
    "restart": ("applied", "rolled_back"),
    "backup": ("rolled_back",),
}

PLAN_FILE = "bindmgr-plan.json"  # the saved plan, in the task's temporary folder on the host
DIGEST_PREFIX = "sha256:"
MIN_DIGEST = 12  # hex digits, as bindmgr apply --digest
NON_ZERO = "non-zero return code"  # what command and win_command say of any exit but 0
SHOWN_FAILURES = 5  # verify results named in a failure message

CONFIRM_REFUSED = (
    "confirm (bindmgr apply --confirm-within) is refused: it keeps the new files only if "
    "someone types yes on a terminal within that many seconds, and an Ansible task has no "
    "terminal, so bindmgr would refuse the apply (and without that check would revert every "
    "one). Use restart: true, then a state: verified task, and roll back when it fails "
    "(state: rolled_back); the bindmgr.mdaemon.rebind role does exactly that"
)


class Refused(Exception):
    """The task's options cannot make a bindmgr command; the message says what to do."""


@dataclass(frozen=True)
class Ran:
    """One bindmgr run on the host: its argv, exit status and output."""

    argv: list[str]
    rc: int
    stdout: str
    stderr: str


def refusal(params: dict[str, Any]) -> str | None:
    """Why these (already type-checked) options make no command, or None."""
    if params.get("confirm") is not None:
        return CONFIRM_REFUSED
    state = params["state"]
    for option, states in ONLY_FOR.items():
        value = params.get(option)
        if value not in (None, False) and state not in states:
            return (
                f"{option} does nothing with state: {state} (it goes with state: "
                f"{' or '.join(states)}); drop it or change state"
            )
    if params.get("digest"):
        problem = digest_problem(params["digest"])
        if problem is not None:
            return problem
    if params.get("ips") is not None and not params["ips"]:
        return "ips is empty: list the addresses in order (the first binds the Default Domain)"
    return None


def _where(params: dict[str, Any], *, layout: bool = True) -> list[str]:
    out: list[str] = []
    if params.get("app_dir"):
        out += ["--app-dir", params["app_dir"]]
    if layout and params.get("layout"):
        out += ["--layout", params["layout"]]
    return out


def _desired(params: dict[str, Any]) -> list[str]:
    out: list[str] = []
    if params.get("bindings"):
        out += ["--bindings", params["bindings"]]
    elif params.get("domain"):
        out += ["--domain", params["domain"]]
        for ip in params.get("ips") or ():
            out += ["--ip", ip]
    if params.get("pattern"):
        out += ["--pattern", params["pattern"]]
    if params.get("prune"):
        out.append("--prune")
    return out


def plan_argv(params: dict[str, Any], *, fmt: str = "json", out: str | None = None) -> list[str]:
    argv = [params["executable"], "plan", *_where(params), *_desired(params), "--format", fmt]
    return argv + (["--out", out] if out else [])


def apply_argv(params: dict[str, Any], plan_file: str) -> list[str]:
    argv = [params["executable"], "apply", plan_file, *_where(params)]
    argv += ["--format", "json", "--detailed-exitcode"]
    if params.get("digest"):
        argv += ["--digest", params["digest"]]
    return argv + (["--restart"] if params.get("restart") else [])


def verify_argv(params: dict[str, Any]) -> list[str]:
    return [params["executable"], "verify", *_where(params), *_desired(params), "--format", "json"]


def rollback_argv(params: dict[str, Any]) -> list[str]:
    argv = [params["executable"], "rollback", *_where(params, layout=False)]
    if params.get("backup"):
        argv += ["--to", params["backup"]]
    return argv + (["--restart"] if params.get("restart") else [])


# -- what bindmgr answered --------------------------------------------------------------------


def error_of(stderr: str) -> tuple[str | None, str | None]:
    """bindmgr's `error: ...` and `hint: ...` lines (the last of each)."""
    message = hint = None
    for line in stderr.splitlines():
        if line.startswith("error: "):
            message = line[len("error: ") :].strip()
        elif line.startswith("hint: "):
            hint = line[len("hint: ") :].strip()
    return message, hint


def failure(ran: Ran, what: str) -> dict[str, Any]:
    """A failed task result carrying bindmgr's own message and hint."""
    message, hint = error_of(ran.stderr)
    if message is None:
        lines = [line for line in ran.stderr.splitlines() if line.strip()]
        message = lines[-1] if lines else f"bindmgr {what} exited {ran.rc} and said nothing"
    return {
        "failed": True,
        "msg": message if hint is None else f"{message}; {hint}",
        "error": message,
        "hint": hint,
        "rc": ran.rc,
        "stderr": ran.stderr,
        "cmd": ran.argv,
    }


def could_not_run(argv: list[str], said: str | None, *, windows: bool) -> str:
    exe = "bindmgr.exe, or the bundle's bindmgr.cmd" if windows else "bindmgr"
    return (
        f"could not run {argv[0]} on this host: {said or 'no exit status came back'}; install "
        f"bindmgr there, or set executable to its full path ({exe})"
    )


def document(ran: Ran, what: str) -> dict[str, Any]:
    """The one JSON document bindmgr printed on stdout."""
    try:
        doc = json.loads(ran.stdout)
    except ValueError as exc:
        raise Refused(
            f"bindmgr {what} exited {ran.rc} but its output is not JSON ({exc}): is "
            f"{ran.argv[0]} bindmgr 0.1 or later? It printed: {ran.stdout[:200]!r}"
        ) from exc
    if not isinstance(doc, dict):
        raise Refused(f"bindmgr {what} printed JSON that is not an object: {ran.stdout[:200]!r}")
    return doc


def _digest_hex(given: str) -> str:
    return given.strip().lower().removeprefix(DIGEST_PREFIX)


def digest_problem(given: str) -> str | None:
    """bindmgr apply --digest's rule: `sha256:` optional, 12 hex digits or more."""
    want = _digest_hex(given)
    if len(want) < MIN_DIGEST or any(ch not in "0123456789abcdef" for ch in want):
        return (
            f"digest {given!r} is not a plan digest: pass the one bindmgr plan printed "
            f"(sha256:..., at least {MIN_DIGEST} hex digits)"
        )
    return None


def digest_matches(have: str, given: str) -> bool:
    """Does the plan digest `have` start with the (well-formed) `given` one?"""
    return have.removeprefix(DIGEST_PREFIX).startswith(_digest_hex(given))


def planned(ran: Ran, params: dict[str, Any]) -> dict[str, Any]:
    """`bindmgr plan --format json`: changed on exit 2, failed on conflicts (exit 3)."""
    if ran.rc not in (0, 2, 3):
        return failure(ran, "plan")
    plan = document(ran, "plan")
    result: dict[str, Any] = {"changed": ran.rc == 2, "plan": plan, "rc": ran.rc}
    if ran.rc == 3:
        found = "; ".join(f"{c['subject']}: {c['message']}" for c in plan.get("conflicts", ()))
        checks = (plan.get("check") or {}).get("summary", {}).get("conflicts")
        result |= {
            "failed": True,
            "msg": "the plan has conflicts, apply would refuse it: "
            + (found or f"{checks} listener(s) cannot bind"),
        }
        return result
    digest = params.get("digest")
    # a plan with nothing to change writes nothing, whatever was reviewed: rerunning a rollout
    # with the digests of its first run stays a no-op, not a refusal
    if digest and ran.rc == 2 and not digest_matches(str(plan.get("digest", "")), digest):
        result |= {
            "failed": True,
            "msg": f"this host's plan is not the reviewed one: its digest is {plan.get('digest')}, "
            f"not {digest}; nothing was written; review this plan and pass its digest",
        }
        return result
    count = plan.get("summary", {}).get("changes", 0)
    result["msg"] = f"{count} change(s) planned" if ran.rc == 2 else "nothing to change"
    return result


def applied(ran: Ran) -> dict[str, Any]:
    """`bindmgr apply --format json --detailed-exitcode`: 2 when it wrote, 0 when not."""
    if ran.rc not in (0, 2):
        return failure(ran, "apply")
    doc = document(ran, "apply")
    if ran.rc == 0:
        return {"changed": False, "apply": doc, "msg": "MDaemon's files already match the plan"}
    written = ", ".join(doc.get("written", ()))
    restarted = "; RESTART.SEM dropped" if doc.get("restarted") else ""
    return {
        "changed": True,
        "apply": doc,
        "msg": f"wrote {written}; backup {doc.get('backup')}{restarted}",
    }


def verified(ran: Ran) -> dict[str, Any]:
    """`bindmgr verify --format json`: never a change; failed when it exits 3."""
    if ran.rc not in (0, 3):
        return failure(ran, "verify")
    doc = document(ran, "verify")
    summary = doc.get("summary", {})
    total, failed = summary.get("total", 0), summary.get("failed", 0)
    if ran.rc == 0:
        return {
            "changed": False,
            "verify": doc,
            "msg": f"{total} connection(s) answered as planned",
        }
    bad = [r for r in doc.get("results", ()) if not r.get("passed")]
    named = "; ".join(
        f"{r.get('ip')}:{r.get('port')} {r.get('label') or r.get('service')} {r.get('status')}"
        + (f" ({r['detail']})" if r.get("detail") else "")
        for r in bad[:SHOWN_FAILURES]
    )
    more = f"; and {len(bad) - SHOWN_FAILURES} more" if len(bad) > SHOWN_FAILURES else ""
    hint = next((r["hint"] for r in bad if r.get("hint")), None)
    return {
        "changed": False,
        "failed": True,
        "verify": doc,
        "msg": f"verify: {failed} of {total} connection(s) did not answer as planned: "
        f"{named}{more}",
        "hint": hint,
    }


def rolled_back(ran: Ran, params: dict[str, Any]) -> dict[str, Any]:
    """`bindmgr rollback`: changed when it restored files (it says "Restored ...")."""
    if ran.rc != 0:
        return failure(ran, "rollback")
    restored = any(line.startswith("Restored ") for line in ran.stdout.splitlines())
    lines = [line for line in ran.stdout.splitlines() if line.strip()]
    return {
        "changed": restored,
        "rollback": {
            "restored": restored,
            "restarted": restored and bool(params.get("restart")),
            "output": ran.stdout,
        },
        "msg": lines[0] if lines else "rolled back",
    }


# -- diff mode --------------------------------------------------------------------------------


def plan_diff(plan: dict[str, Any]) -> list[dict[str, str]]:
    """The planned INI changes as before/after text, one diff per file, from the plan's
    `changes`: each touched `[section]` with `key=old` before and `key=new` after (a key
    that is absent on one side is left out there; a deleted section keeps only its header)."""
    files: dict[str, dict[str, tuple[list[str], list[str]]]] = {}
    for change in plan.get("changes", ()):
        sections = files.setdefault(change["file"], {})
        before, after = sections.setdefault(change["section"], ([], []))
        key, old, new = change.get("key"), change.get("old"), change.get("new")
        if change.get("action") == "delete_section" or key is None:
            before.append("; (the whole section)")
            continue
        if old is not None:
            before.append(f"{key}={old}")
        if new is not None and change.get("action") == "set":
            after.append(f"{key}={new}")
    diffs = []
    for name, sections in files.items():
        old_text, new_text = [], []
        for section, (before, after) in sections.items():
            old_text += [f"[{section}]", *before]
            if after or "; (the whole section)" not in before:
                new_text += [f"[{section}]", *after]
        diffs.append(
            {
                "before_header": f"{name} (now)",
                "after_header": f"{name} (planned)",
                "before": "\n".join(old_text) + "\n",
                "after": "\n".join(new_text) + "\n" if new_text else "",
            }
        )
    return diffs
