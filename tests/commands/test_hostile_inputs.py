"""Fuzzing what bindmgr trusts least: saved plans, layouts and backup manifests.

Whatever hypothesis makes of them, bindmgr answers with a message and a documented exit status
(never a traceback, never exit 70), and no file is written but the layout's own files, the
backups beside them and the lock: everything else in the site is byte-identical afterwards.
"""

from __future__ import annotations

import json
import shutil
import tempfile
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bindmgr.formats.plan import digest_of
from tests.support.apply import Site, cli, make_site

ALLOWED = {"App/MDaemon.ini", "App/Domains.dat"}  # the layout's files; backups under App/
STATUSES = {0, 1, 2, 3, 4}

# What an attacker or a careless editor puts where a value was.
VALUES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**40), 2**40),
    st.sampled_from(
        [
            "../../../../etc/passwd",
            "/etc/shadow",
            "C:\\Windows\\win.ini",
            "..\\..\\x.ini",
            "\\\\server\\share\\x",
            "MDaemon.ini",
            "Domains.dat",
            "../WorldClient/WorldClient.ini",
            "not-an-ip",
            "203.0.113.10",
            "x" * 300,
            "\x1b[2J\x07",
            "",
        ]
    ),
    st.text(max_size=20),
    st.lists(st.text(max_size=5), max_size=3),
)


def everything(site: Site) -> dict[str, bytes]:
    """Every file of the site but those bindmgr may write, by path relative to the site."""
    found = {}
    for path in sorted(site.base.rglob("*")):
        rel = path.relative_to(site.base).as_posix()
        inside = rel.removeprefix("MDaemon/")
        ours = inside in ALLOWED or "bindmgr-backups" in rel or rel.endswith((".lock", ".tmp"))
        if path.is_file() and not ours:
            found[rel] = path.read_bytes()
    return found


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> tuple[Site, dict[str, Any]]:
    where = tmp_path_factory.mktemp("hostile")
    site = make_site(where / "site", n_ips=3)
    plan = where / "plan.json"
    assert site.plan(plan, site.ips[:2]).code == 2
    return site, json.loads(plan.read_text(encoding="utf-8"))


def fresh(template: Site, root: Path) -> Site:
    shutil.copytree(template.base, root / "site")
    layout = root / "site" / template.layout.name
    return Site(base=root / "site", layout=layout, ips=template.ips, ports=template.ports)


def mutate(doc: Any, path: list[int], value: Any) -> None:
    """Replace the value `path` leads to (indices taken modulo each container's size)."""
    node = doc
    for step in path[:-1]:
        if isinstance(node, dict) and node:
            node = node[sorted(node)[step % len(node)]]
        elif isinstance(node, list) and node:
            node = node[step % len(node)]
        else:
            return
    if isinstance(node, dict) and node:
        node[sorted(node)[path[-1] % len(node)]] = value
    elif isinstance(node, list) and node:
        node[path[-1] % len(node)] = value


FUZZ = settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@FUZZ
@given(
    edits=st.lists(
        st.tuples(st.lists(st.integers(0, 50), min_size=1, max_size=4), VALUES), max_size=4
    ),
    resign=st.booleans(),
)
def test_a_hostile_saved_plan_never_writes_outside_the_layout(
    template: tuple[Site, dict[str, Any]], edits: list[tuple[list[int], Any]], resign: bool
) -> None:
    base, doc = template
    with tempfile.TemporaryDirectory() as tmp:
        site = fresh(base, Path(tmp))
        forged = json.loads(json.dumps(doc).replace(str(base.base), str(site.base)))
        for path, value in edits:
            mutate(forged, path, value)
        if resign and isinstance(forged, dict):
            forged["digest"] = digest_of(forged)  # the attacker recomputes what they can
        plan = Path(tmp) / "forged.json"
        plan.write_text(json.dumps(forged), encoding="utf-8")
        before = everything(site)
        done = cli("apply", str(plan), "--allow-elsewhere", "--layout", str(site.layout))
        assert done.code in STATUSES, done.text
        assert "Traceback" not in done.text
        assert everything(site) == before


@FUZZ
@given(lines=st.lists(st.tuples(st.integers(0, 200), VALUES), min_size=1, max_size=4))
def test_a_hostile_layout_never_reads_or_writes_outside(
    template: tuple[Site, dict[str, Any]], lines: list[tuple[int, Any]]
) -> None:
    base, _ = template
    with tempfile.TemporaryDirectory() as tmp:
        site = fresh(base, Path(tmp))
        text = site.layout.read_text(encoding="utf-8").splitlines()
        for index, value in lines:  # a value replaced by something else, keeping the key
            i = index % len(text)
            key, sep, _old = text[i].partition("=")
            if sep:
                text[i] = f"{key}= {value}" if not isinstance(value, list) else f"{key}= {value!r}"
        site.layout.write_text("\n".join(text) + "\n", encoding="utf-8")
        before = everything(site)
        args = ["--app-dir", str(site.app), "--layout", str(site.layout)]
        for command in (["inspect"], ["plan", "--domain", "example.com", "--ip", site.ips[0]]):
            done = cli(*command, *args)
            assert done.code in STATUSES, done.text
            assert "Traceback" not in done.text
        done = cli("apply", "--yes", "--domain", "example.com", "--ip", site.ips[0], *args)
        assert done.code in STATUSES, done.text
        assert everything(site) == before


@FUZZ
@given(
    edits=st.lists(
        st.tuples(st.lists(st.integers(0, 50), min_size=1, max_size=4), VALUES), max_size=4
    )
)
def test_a_hostile_backup_manifest_never_writes_outside_the_layout(
    template: tuple[Site, dict[str, Any]], edits: list[tuple[list[int], Any]]
) -> None:
    base, _ = template
    with tempfile.TemporaryDirectory() as tmp:
        site = fresh(base, Path(tmp))
        args = ["--app-dir", str(site.app), "--layout", str(site.layout)]
        applied = cli("apply", "--yes", "--domain", "example.com", "--ip", site.ips[0], *args)
        assert applied.code == 0, applied.text
        manifest = sorted(site.backups.glob("*/manifest.json"))[-1]  # the apply's, the newest
        doc = json.loads(manifest.read_text(encoding="utf-8"))
        for path, value in edits:
            mutate(doc, path, value)
        manifest.write_text(json.dumps(doc), encoding="utf-8")
        before = everything(site)
        for command in (["rollback", "--list"], ["rollback"], ["rollback", "--force"]):
            done = cli(*command, *args)
            assert done.code in STATUSES, done.text
            assert "Traceback" not in done.text
        assert everything(site) == before
