"""The JSON Schemas bindmgr ships (bindmgr/schemas/), found as an installed package finds them,
and validation of a document against one with the reference validator (jsonschema).

Only a schema's own `#/$defs/...` references are used, so no registry is needed; formats
(`ipv4`, `ipv6`) are checked, not only annotated.
"""

from __future__ import annotations

import json
from functools import cache
from importlib.resources import files
from typing import Any

from jsonschema import Draft202012Validator, FormatChecker

# Every document bindmgr writes: schema name -> the command that writes it.
DOCUMENTS = {
    "inspect": "bindmgr inspect --format json",
    "plan": "bindmgr plan --out FILE, plan --format json",
    "check": "bindmgr check --format json",
    "verify": "bindmgr verify --format json",
    "dns": "bindmgr dns --format json",
    "layout-detect": "bindmgr layout detect --format json",
    "apply": "bindmgr apply --format json",
    "rollback": "bindmgr rollback --format json",
    "rollback-list": "bindmgr rollback --list --format json",
}


def schema_file(name: str) -> Any:
    """The shipped schema file `name`.schema.json, through importlib.resources."""
    return files("bindmgr").joinpath("schemas", f"{name}.schema.json")


@cache
def schema(name: str) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(schema_file(name).read_text(encoding="utf-8"))
    return loaded


def problems(name: str, document: object) -> list[str]:
    """Each way `document` breaks schema `name`, as `path: message` (empty: it is valid)."""
    validator = Draft202012Validator(schema(name), format_checker=FormatChecker())
    found = sorted(validator.iter_errors(document), key=lambda e: [str(p) for p in e.path])
    return ["/".join(map(str, e.absolute_path)) + ": " + e.message for e in found]


def assert_valid(name: str, document: object) -> None:
    found = problems(name, document)
    assert not found, f"not a valid {name} document:\n  " + "\n  ".join(found[:10])


def assert_valid_text(name: str, text: str) -> dict[str, Any]:
    """`text` is one JSON document valid against schema `name`; returns it."""
    document: dict[str, Any] = json.loads(text)
    assert_valid(name, document)
    return document
