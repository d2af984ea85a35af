"""The JSON Schemas in bindmgr/schemas/: one per document bindmgr writes, shipped in the package,
well-formed draft 2020-12 with titles and descriptions, closed, their `format_version` a const
equal to the writer's; every golden JSON file valid against its schema; and a lock that fails
when a schema changes without its document's format_version being bumped."""

from __future__ import annotations

import hashlib
import json
import tomllib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator

from bindmgr.commands.apply import APPLY_FORMAT_VERSION
from bindmgr.formats.check import CHECK_FORMAT_VERSION
from bindmgr.formats.plan import PLAN_FORMAT_VERSION
from bindmgr.formats.rollback import BACKUPS_FORMAT_VERSION, ROLLBACK_FORMAT_VERSION
from bindmgr.formats.verify import VERIFY_FORMAT_VERSION
from bindmgr.report.detection import DETECT_FORMAT_VERSION
from bindmgr.report.inspection import INSPECT_FORMAT_VERSION
from bindmgr.report.zone import DNS_FORMAT_VERSION
from tests.support.goldens import GOLDEN
from tests.support.schemas import DOCUMENTS, assert_valid, problems, schema, schema_file

ROOT = Path(__file__).resolve().parents[2]
LOCK = Path(__file__).resolve().parent / "schema_lock.json"

# Each document's writer: where its format_version is set, and the value it writes.
WRITERS = {
    "inspect": ("bindmgr/report/inspection.py", INSPECT_FORMAT_VERSION),
    "plan": ("bindmgr/formats/plan.py", PLAN_FORMAT_VERSION),
    "check": ("bindmgr/formats/check.py", CHECK_FORMAT_VERSION),
    "verify": ("bindmgr/formats/verify.py", VERIFY_FORMAT_VERSION),
    "dns": ("bindmgr/report/zone.py", DNS_FORMAT_VERSION),
    "layout-detect": ("bindmgr/report/detection.py", DETECT_FORMAT_VERSION),
    "apply": ("bindmgr/commands/apply.py", APPLY_FORMAT_VERSION),
    "rollback": ("bindmgr/formats/rollback.py", ROLLBACK_FORMAT_VERSION),
    "rollback-list": ("bindmgr/formats/rollback.py", BACKUPS_FORMAT_VERSION),
}

# The golden JSON files and their schemas; placeholders a golden keeps for what varies between
# runs are replaced by values of the right form before validating.
GOLDEN_SCHEMAS = {
    "report/plan-": "plan",
    "report/check-": "check",
    "dns/": "dns",
    "cli/plan": "plan",
}
PLACEHOLDERS = {"layout_sha256": "0" * 64, "digest": "sha256:" + "0" * 64}


def _walk(node: Any) -> Iterator[dict[str, Any]]:
    """Every schema object inside `node`."""
    if isinstance(node, dict):
        yield node
        for value in node.values():
            yield from _walk(value)
    elif isinstance(node, list):
        for value in node:
            yield from _walk(value)


def test_every_document_has_a_schema_and_no_schema_is_left_over() -> None:
    shipped = {p.name for p in (ROOT / "bindmgr" / "schemas").iterdir()}
    assert shipped == {f"{name}.schema.json" for name in DOCUMENTS}
    assert set(WRITERS) == set(DOCUMENTS)


@pytest.mark.parametrize("name", sorted(DOCUMENTS))
def test_a_schema_is_draft_2020_12_closed_and_says_what_it_describes(name: str) -> None:
    body = schema(name)
    Draft202012Validator.check_schema(body)
    assert body["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    version = WRITERS[name][1]
    # .invalid (RFC 2606): an identifier, not an address; the schemas travel in the package
    assert body["$id"] == f"https://bindmgr.invalid/schemas/{name}-{version}.schema.json"
    assert body["title"].startswith("bindmgr ")
    assert "`bindmgr " in body["description"]
    assert body["properties"]["format_version"]["const"] == version
    assert "format_version" in body["required"]
    for node in _walk(body):
        if node.get("type") == "object" and "properties" in node:
            assert node.get("additionalProperties") is False, (name, sorted(node["properties"]))
            assert set(node["required"]) <= set(node["properties"])
    text = schema_file(name).read_text(encoding="utf-8")
    assert text.isascii()
    assert text == json.dumps(body, indent=2) + "\n"  # one layout: diffs stay readable


# Definitions one document embeds from another: (schema, its def) -> (schema, def) they copy.
SHARED = {
    ("plan", "result"): ("check", "result"),
    ("plan", "holder"): ("check", "holder"),
    ("plan", "check_summary"): ("check", "summary"),
    ("verify", "dns_finding"): ("check", "dns_finding"),
    **{(name, d): ("check", d) for name in ("plan", "verify", "inspect", "dns") for d in ("ip",)},
    **{(name, d): ("check", d) for name in ("plan", "verify", "inspect") for d in ("ipv4", "ipv6")},
    ("inspect", "input"): ("plan", "input"),
}


@pytest.mark.parametrize(("copy", "source"), sorted(SHARED.items()))
def test_a_definition_two_documents_share_is_the_same_in_both(
    copy: tuple[str, str], source: tuple[str, str]
) -> None:
    """Each schema stands alone (no reference across files), so a definition two documents
    share is written in both: a field added to one must be added to the other."""
    (name, key), (origin, original) = copy, source
    assert schema(name)["$defs"][key] == schema(origin)["$defs"][original], (
        f"$defs/{key} of {name}.schema.json differs from $defs/{original} of "
        f"{origin}.schema.json: the document embeds it, change both"
    )


def test_the_wheel_ships_the_schemas() -> None:
    """The wheel is the `bindmgr` package folder (hatch takes every file in it that git does
    not ignore); the schemas sit in it and are found as resources."""
    wheel = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["hatch"]
    target = wheel["build"]["targets"]["wheel"]
    assert target["packages"] == ["bindmgr"]
    assert "exclude" not in target
    assert "only-include" not in target
    ignored = (ROOT / ".gitignore").read_text(encoding="utf-8").split()
    assert not any(pattern in ("*.json", "schemas", "schemas/") for pattern in ignored)
    for name in DOCUMENTS:
        assert schema_file(name).is_file()


def _goldens() -> list[tuple[str, str]]:
    found = []
    for path in sorted(GOLDEN.rglob("*.json")):
        rel = path.relative_to(GOLDEN).as_posix()
        name = next((s for prefix, s in GOLDEN_SCHEMAS.items() if rel.startswith(prefix)), "")
        found.append((rel, name))
    return found


@pytest.mark.parametrize(("rel", "name"), _goldens())
def test_every_golden_json_file_is_valid_against_its_schema(rel: str, name: str) -> None:
    assert name, f"tests/golden/{rel} has no schema: add its prefix to GOLDEN_SCHEMAS"
    doc = json.loads((GOLDEN / rel).read_text(encoding="utf-8"))
    for key, value in PLACEHOLDERS.items():
        if doc.get(key) == "<varies>":
            doc[key] = value
    assert_valid(name, doc)


def test_the_schemas_refuse_what_bindmgr_never_writes() -> None:
    """A few edits each schema must catch: a renamed field, an unknown one, a wrong version,
    a bad address, an action without its key."""
    plan = json.loads((GOLDEN / "report" / "plan-checked.json").read_text(encoding="utf-8"))
    plan["desired"]["slots"][0] = {"v4": "10.0.0.1", "v6": None}  # format 2's names
    plan["assignments"][0]["is_default"] = plan["assignments"][0].pop("default")
    plan["format_version"] = 2
    plan["changes"][0]["key"] = None
    plan["dns"][0]["value"] = "not-an-address"
    plan["check"]["results"][0]["ip"] = "10.0.0.256"  # said at "check": it may be null
    plan["extra"] = 1
    paths = {p.split(": ")[0] for p in problems("plan", plan)}
    assert {
        "format_version", "desired/slots/0", "assignments/0", "changes/0/key", "dns/0/value",
        "check", "",
    } <= paths  # fmt: skip
    check = json.loads((GOLDEN / "report" / "check-all-ok.json").read_text(encoding="utf-8"))
    check["results"][0]["status"] = "busy"
    assert [p.split(": ")[0] for p in problems("check", check)] == ["results/0/status"]


def _sha(name: str) -> str:
    # Line ends as git may check them out on Windows do not count as a change.
    data = schema_file(name).read_bytes().replace(b"\r\n", b"\n")
    return hashlib.sha256(data).hexdigest()


def unlocked(lock: dict[str, dict[str, list[str]]], name: str, sha: str) -> str | None:
    """Why schema `name` with bytes of hash `sha` is not locked (None: it is)."""
    module, version = WRITERS[name]
    if sha in lock.get(name, {}).get(str(version), []):
        return None
    return (
        f"bindmgr/schemas/{name}.schema.json changed (sha256 {sha}) but it still describes "
        f"format_version {version}: bump format_version in {module} and in the schema, and "
        f"record the new hash under the new version in tests/formats/{LOCK.name}. (A purely "
        "additive change, per the format_version policy in docs/formats.md, may instead add "
        f"the hash to version {version}'s list.)"
    )


def test_a_schema_changes_only_with_its_format_version() -> None:
    """tests/formats/schema_lock.json records each schema's sha256 per format_version. A schema
    whose bytes are not recorded for the version it describes changed without a bump."""
    lock = json.loads(LOCK.read_text(encoding="utf-8"))
    assert set(lock) == set(DOCUMENTS), "every schema, and only they, are in the lock"
    for name in sorted(DOCUMENTS):
        problem = unlocked(lock, name, _sha(name))
        assert problem is None, problem


def test_the_lock_catches_a_changed_schema() -> None:
    lock = json.loads(LOCK.read_text(encoding="utf-8"))
    edited = hashlib.sha256(schema_file("plan").read_bytes() + b" ").hexdigest()
    problem = unlocked(lock, "plan", edited)
    assert problem is not None
    assert f"still describes format_version {PLAN_FORMAT_VERSION}" in problem
    assert "bump format_version in bindmgr/formats/plan.py and in the schema" in problem
    assert "record the new hash" in problem
    bumped = {"plan": {str(PLAN_FORMAT_VERSION + 1): [edited]}}
    assert unlocked(bumped, "plan", edited) is not None  # recorded, but for another version
