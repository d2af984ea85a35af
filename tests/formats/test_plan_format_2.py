"""Plans saved in format 2 (before the slot fields were named `ip`/`ipv6` and an assignment's
flag `default`) still read as the same plan, and their digests still verify.

The two files under tests/data/formats/ are format 2 plans as bindmgr wrote them; `_as_format_2`
turns a format 3 document into the format 2 one the previous bindmgr would have written, for the
round trips through the command line.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from bindmgr.errors import InputError
from bindmgr.formats.plan import digest_of, loads_plan, plan_to_dict
from bindmgr.model import sort_results
from tests.support import report_samples as samples
from tests.support.apply import Site, cli, make_site

DATA = Path(__file__).resolve().parent.parent / "data" / "formats"


def _slot_v2(slot: dict[str, Any]) -> dict[str, Any]:
    return {"v4": slot["ip"], "v6": slot["ipv6"]}


def as_format_2(document: dict[str, Any]) -> dict[str, Any]:
    """The format 2 document of the same plan: old field names, its own digest."""
    doc = json.loads(json.dumps(document))
    doc["format_version"] = 2
    doc["desired"]["slots"] = [_slot_v2(s) for s in doc["desired"]["slots"]]
    doc["assignments"] = [
        {"domain": a["domain"], "slot": _slot_v2(a["slot"]), "is_default": a["default"],
         "note": a["note"]}
        for a in doc["assignments"]
    ]  # fmt: skip
    doc["digest"] = digest_of(doc)
    return dict(doc)


@pytest.mark.parametrize(
    ("name", "plan", "checked"),
    [
        ("plan-format-2-checked.json", samples.provisioning, True),
        ("plan-format-2-dual-stack.json", samples.dual_stack, False),
    ],
)
def test_a_format_2_file_reads_as_its_plan_and_its_digest_verifies(
    name: str, plan: Any, checked: bool
) -> None:
    text = (DATA / name).read_text(encoding="utf-8")
    doc = json.loads(text)
    assert doc["format_version"] == 2
    assert "v4" in doc["desired"]["slots"][0]
    saved = loads_plan(text, name)
    assert saved.plan == plan()
    assert saved.digest == doc["digest"] == digest_of(doc)
    assert saved.checks == (sort_results(samples.every_status()) if checked else None)


def test_a_format_2_file_keeps_its_own_names() -> None:
    """Format 2 is read under its own names only: a slot written with format 3's is refused,
    and so is an edit, which the digest catches."""
    doc = json.loads((DATA / "plan-format-2-dual-stack.json").read_text(encoding="utf-8"))
    mixed = json.loads(json.dumps(doc))
    mixed["desired"]["slots"][0] = {"ip": "192.168.10.5", "ipv6": None}
    mixed["digest"] = digest_of(mixed)
    with pytest.raises(InputError, match=r"desired\.slots\[0\]\.v4: is missing"):
        loads_plan(json.dumps(mixed), "p.json")
    edited = json.loads(json.dumps(doc))
    edited["assignments"][0]["is_default"] = False
    with pytest.raises(InputError, match="digest: does not match"):
        loads_plan(json.dumps(edited), "p.json")


def test_format_2_and_3_of_one_plan_read_the_same() -> None:
    checks = samples.every_status()
    new = plan_to_dict(samples.dual_stack(), app_dir=None, layout=None, checks=checks)
    old = as_format_2(new)
    assert old["digest"] != new["digest"]  # another document, its own digest
    a, b = loads_plan(json.dumps(new), "new.json"), loads_plan(json.dumps(old), "old.json")
    assert (a.plan, a.checks) == (b.plan, b.checks)
    assert b.digest == old["digest"]


@pytest.fixture
def site(tmp_path: Path) -> Site:
    return make_site(tmp_path / "site")


def test_apply_takes_a_format_2_plan_and_its_digest(site: Site, tmp_path: Path) -> None:
    """apply re-plans from a format 2 plan's desired state, checks its digest and writes it."""
    new = tmp_path / "plan3.json"
    assert site.plan(new, site.ips[:2]).code == 2
    old = as_format_2(json.loads(new.read_text(encoding="utf-8")))
    plan = tmp_path / "plan2.json"
    plan.write_text(json.dumps(old, indent=2) + "\n", encoding="utf-8")

    checked = cli("check", str(plan), "--format", "json")
    assert checked.code == 0, checked.text

    done = cli("apply", str(plan), "--digest", old["digest"], "--format", "json")
    assert done.code == 0, done.text
    result = json.loads(done.out)
    assert result["changed"] is True
    assert result["digest"] == old["digest"]
    assert sorted(result["written"]) == ["Domains.dat", "MDaemon.ini"]
