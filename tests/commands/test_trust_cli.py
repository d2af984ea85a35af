"""A saved plan is a commitment: what was reviewed is what is applied, where it was made for."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from bindmgr.errors import ExitCode
from bindmgr.formats.plan import digest_of
from tests.support.apply import Site, cli, make_site


@pytest.fixture
def site(tmp_path: Path) -> Site:
    return make_site(tmp_path / "site", n_ips=3)


def planned(site: Site, tmp_path: Path) -> tuple[Path, dict[str, Any]]:
    plan = tmp_path / "plan.json"
    assert site.plan(plan, site.ips[:2]).code == ExitCode.CHANGES
    return plan, json.loads(plan.read_text(encoding="utf-8"))


def forge(plan: Path, doc: dict[str, Any], edit: Callable[[dict[str, Any]], None]) -> None:
    """Edit the plan as an attacker would: summary and digest recomputed, so it loads."""
    edit(doc)
    actions = [c["action"] for c in doc["changes"]]
    doc["summary"] |= {
        "changes": len(actions),
        "files": len({c["file"] for c in doc["changes"]}),
        **{a: actions.count(a) for a in ("set", "delete_key", "delete_section")},
    }
    doc["digest"] = digest_of(doc)
    plan.write_text(json.dumps(doc), encoding="utf-8")


def add_change(**change: object) -> Callable[[dict[str, Any]], None]:
    base = {"file": "MDaemon.ini", "old": None, "reason": "", "key": None, "new": None}
    return lambda doc: doc["changes"].append(base | change)


def set_new(value: str) -> Callable[[dict[str, Any]], None]:
    def edit(doc: dict[str, Any]) -> None:
        doc["changes"][0]["new"] = value

    return edit


@pytest.mark.parametrize(
    ("edit", "named"),
    [
        (
            add_change(section="Options", key="ReportTo", new="attacker@example.net", action="set"),
            "not planned by bindmgr: MDaemon.ini [Options] ReportTo='attacker@example.net' (set)",
        ),
        (
            add_change(section="Port", action="delete_section"),
            "not planned by bindmgr: MDaemon.ini [Port] delete_section",
        ),
        (set_new("not-an-ip"), "DomainIP='not-an-ip' (set)"),
    ],
    ids=["extra-key", "deleted-section", "bad-value"],
)
def test_a_hand_edited_plan_is_refused_naming_the_difference(
    site: Site, tmp_path: Path, edit: Callable[[dict[str, Any]], None], named: str
) -> None:
    plan, doc = planned(site, tmp_path)
    forge(plan, doc, edit)
    before = site.tree()
    done = cli("apply", str(plan))
    assert done.code == ExitCode.ERROR, done.text
    assert "does not hold the plan bindmgr makes from its own desired state" in done.err
    assert named in done.err
    assert "nothing was written" in done.err
    assert site.tree() == before


def test_apply_digest_pins_the_reviewed_file(site: Site, tmp_path: Path) -> None:
    plan, doc = planned(site, tmp_path)
    before = site.tree()
    wrong = cli("apply", str(plan), "--digest", "sha256:" + "0" * 64)
    assert wrong.code == ExitCode.ERROR
    assert f"is not the plan that was reviewed: its digest is {doc['digest']}" in wrong.err
    short = cli("apply", str(plan), "--digest", "abc")
    assert short.code == ExitCode.ERROR
    assert "is not a plan digest" in short.err
    assert site.tree() == before
    right = cli("apply", str(plan), "--digest", doc["digest"][:19])  # "sha256:" + 12 digits
    assert right.code == ExitCode.OK, right.text
    assert f"applying {plan}, digest {doc['digest']}" in right.err
    assert cli("apply", "--domain", "example.com", "--ip", site.ips[0], "--digest", "x").code == 1


def test_a_plan_from_another_host_or_folder_needs_allow_elsewhere(
    site: Site, tmp_path: Path
) -> None:
    plan, doc = planned(site, tmp_path)
    forge(plan, doc, lambda d: d.update(host="mx-other.example.net"))
    before = site.tree()
    done = cli("apply", str(plan))
    assert done.code == ExitCode.ERROR
    assert "was made on host 'mx-other.example.net'" in done.err
    assert "--allow-elsewhere" in done.err
    assert site.tree() == before
    assert cli("apply", str(plan), "--allow-elsewhere").code == ExitCode.OK


def test_a_changed_layout_makes_the_plan_stale(site: Site, tmp_path: Path) -> None:
    plan, _ = planned(site, tmp_path)
    site.layout.write_text(site.layout.read_text("utf-8") + "\n# edited\n", encoding="utf-8")
    before = site.tree()
    done = cli("apply", str(plan))
    assert done.code == ExitCode.STALE
    assert f"the layout {site.layout} changed since the plan was made" in done.err
    assert site.tree() == before
