"""A stand-in for the `gh` command on PATH, for the example workflows' tests.

It keeps a little GitHub in the JSON file $FAKE_GH_STATE (one repository's pull-request comments
and labels, and run artifacts as folders) and answers the calls the scripts make: `gh api` on the
comment and label endpoints (with -X, -f, -F k=@file, --paginate, --jq through the real jq,
--silent) and `gh run download`. Every call is appended to $FAKE_GH_LOG as one JSON line. A call
it does not know fails as gh does: a message on stderr and exit 1.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

State = dict[str, Any]


def _fields(args: list[str]) -> tuple[dict[str, Any], dict[str, Any]]:
    """The flags of `gh api`, and its fields (`labels[]=x` collects a list)."""
    opts: dict[str, Any] = {"method": None, "jq": None, "silent": False, "endpoint": None}
    fields: dict[str, Any] = {}
    i = 0
    while i < len(args):
        arg = args[i]
        if arg in ("-X", "--method", "--jq", "-f", "--raw-field", "-F", "--field"):
            value = args[i + 1]
            i += 2
            if arg in ("-X", "--method"):
                opts["method"] = value
            elif arg == "--jq":
                opts["jq"] = value
            else:
                key, _, text = value.partition("=")
                if arg in ("-F", "--field") and text.startswith("@"):
                    text = Path(text[1:]).read_text(encoding="utf-8")
                if key.endswith("[]"):
                    fields.setdefault(key[:-2], []).append(text)
                else:
                    fields[key] = text
            continue
        if arg == "--silent":
            opts["silent"] = True
        elif arg == "--paginate":
            pass
        elif arg.startswith("-"):
            raise LookupError(f"unknown flag {arg} for gh api")
        else:
            opts["endpoint"] = arg
        i += 1
    opts["method"] = opts["method"] or ("POST" if fields else "GET")
    return opts, fields


def _comment(state: State, pr: int, comment_id: int, body: str) -> dict[str, Any]:
    return {
        "id": comment_id,
        "body": body,
        "user": {"login": state["login"]},
        "html_url": f"https://github.example/{state['repo']}/pull/{pr}#issuecomment-{comment_id}",
        "pr": pr,
    }


def _route(state: State, method: str, endpoint: str, fields: dict[str, Any]) -> Any:
    repo = re.escape(state["repo"])
    comments: list[dict[str, Any]] = state.setdefault("comments", [])
    labels: dict[str, list[str]] = state.setdefault("labels", {})
    if m := re.fullmatch(rf"repos/{repo}/issues/(\d+)/comments", endpoint):
        pr = int(m.group(1))
        if method == "GET":
            return [c for c in comments if c["pr"] == pr]
        if method == "POST":
            state["next_id"] = state.get("next_id", 1000) + 1
            comments.append(_comment(state, pr, state["next_id"], fields["body"]))
            return comments[-1]
    if m := re.fullmatch(rf"repos/{repo}/issues/comments/(\d+)", endpoint):
        found = [c for c in comments if c["id"] == int(m.group(1))]
        if found and method == "GET":
            return found[0]
        if found and method == "PATCH":
            found[0]["body"] = fields["body"]
            return found[0]
    if m := re.fullmatch(rf"repos/{repo}/issues/(\d+)/labels", endpoint):
        have = labels.setdefault(m.group(1), [])
        if method == "POST":
            have += [name for name in fields["labels"] if name not in have]
        if method in ("GET", "POST"):
            return [{"name": name} for name in have]
    if m := re.fullmatch(rf"repos/{repo}/issues/(\d+)/labels/(.+)", endpoint):
        have = labels.setdefault(m.group(1), [])
        if method == "DELETE" and m.group(2) in have:
            have.remove(m.group(2))
            return [{"name": name} for name in have]
    raise LookupError(f"Not Found (HTTP 404): {method} {endpoint}")


def _api(state: State, args: list[str]) -> str:
    if state.get("down"):
        raise LookupError("HTTP 503: Service Unavailable")
    opts, fields = _fields(args)
    answer = _route(state, opts["method"], opts["endpoint"], fields)
    if opts["silent"]:
        return ""
    if opts["jq"] is None:
        return json.dumps(answer) + "\n"
    done = subprocess.run(
        ["jq", "-r", opts["jq"]],
        input=json.dumps(answer),
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    if done.returncode:
        raise LookupError(f"jq: {done.stderr.strip()}")
    return done.stdout


def _download(state: State, args: list[str]) -> str:
    run, rest = args[0], args[1:]
    opts = dict(zip(rest[::2], rest[1::2], strict=True))
    if opts.get("--repo") != state["repo"]:
        raise LookupError(f"repository {opts.get('--repo')} not found")
    source = state.get("artifacts", {}).get(run, {}).get(opts["--name"])
    if source is None:
        raise LookupError("no artifact matches any of the names or patterns provided")
    shutil.copytree(source, opts.get("--dir", "."), dirs_exist_ok=True)
    return ""


def main(argv: list[str]) -> int:
    state_file = Path(os.environ["FAKE_GH_STATE"])
    state: State = json.loads(state_file.read_text(encoding="utf-8"))
    with open(os.environ["FAKE_GH_LOG"], "a", encoding="utf-8") as log:
        log.write(json.dumps({"argv": argv, "cwd": os.getcwd()}) + "\n")
    try:
        if argv[:1] == ["api"]:
            out = _api(state, argv[1:])
        elif argv[:2] == ["run", "download"]:
            out = _download(state, argv[2:])
        else:
            raise LookupError(f"unknown command {' '.join(argv[:2])!r} for gh")
    except LookupError as exc:
        print(f"gh: {exc}", file=sys.stderr)
        return 1
    state_file.write_text(json.dumps(state, indent=1), encoding="utf-8")
    sys.stdout.write(out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
