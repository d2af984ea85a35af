"""bindmgr.api: each function on a copy of the sample, the example of docs/api.md run as a
script, errors raised as BindmgrError subclasses, nothing printed, and types mypy --strict
accepts in a client."""

from __future__ import annotations

import shutil
import socket
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from bindmgr import api
from bindmgr.errors import ConflictError, FileChangedError, InputError, UsageError
from bindmgr.model import ProbeStatus
from tests.support.safety import env
from tests.support.sample import copy_sample

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "examples" / "api" / "bind.py"
IPS = ("127.0.0.1", "127.0.0.2")
FILES = ("MDaemon.ini", "Domains.dat")


@pytest.fixture
def sample(tmp_path: Path) -> tuple[Path, Path]:
    return copy_sample(tmp_path, own_ports=True)


def snapshot(app: Path) -> dict[str, bytes]:
    return {name: (app / name).read_bytes() for name in FILES}


def test_the_example_runs_and_leaves_the_files_as_they_were(sample: tuple[Path, Path]) -> None:
    app, layout = sample
    before = snapshot(app)
    done = subprocess.run(
        [sys.executable, str(EXAMPLE), str(app), str(layout), "example.com", *IPS],
        env=env(),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "Default Domain: example.com" in done.stdout
    assert "applied: True" in done.stdout
    assert "rolled back: " in done.stdout
    assert snapshot(app) == before


def test_inspect_returns_what_the_command_shows(sample: tuple[Path, Path]) -> None:
    app, layout = sample
    found = api.inspect(app, layout=layout)
    assert isinstance(found, api.Inspection)
    assert found.config.default.name == "example.com"
    assert found.layout == str(layout)
    assert any(p.found for p in found.presence)


def test_plan_returns_the_plan_and_raises_on_bad_input(sample: tuple[Path, Path]) -> None:
    app, layout = sample
    plan = api.plan(app, domain="example.com", ips=IPS, layout=layout)
    assert isinstance(plan, api.Plan)
    assert plan.has_changes
    assert not plan.conflicts
    assert [str(a) for a in plan.desired.addresses()] == list(IPS)
    with pytest.raises(InputError) as bad:
        api.plan(app, domain="example.com", ips=["not-an-ip"], layout=layout)
    assert "not-an-ip" in bad.value.message
    assert bad.value.hint
    with pytest.raises(api.BindmgrError):
        api.plan(app, domain="typo.example", ips=IPS, layout=layout)  # not MDaemon's domain
    with pytest.raises(InputError):
        api.plan(app.parent / "nowhere", domain="example.com", ips=IPS)


def test_check_binds_for_real(sample: tuple[Path, Path]) -> None:
    app, layout = sample
    free = api.check(app, ips=["127.0.0.1"], layout=layout)
    assert isinstance(free, api.Checked)
    assert free.results
    assert not free.conflicts
    port = next(r.port for r in free.results if r.proto.value == "tcp")
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as holder:
        holder.bind(("127.0.0.1", port))
        holder.listen()
        busy = api.check(app, ips=["127.0.0.1"], layout=layout)
    assert busy.conflicts
    assert any(r.port == port and r.status is ProbeStatus.IN_USE for r in busy.results)
    plan = api.plan(app, domain="example.com", ips=IPS, layout=layout)
    planned = api.check(app, plan=plan, layout=layout)
    assert {str(r.ip) for r in planned.results} == set(IPS)
    with pytest.raises(UsageError):
        api.check(app, plan=plan, ips=["127.0.0.1"], layout=layout)


def test_apply_writes_and_a_second_plan_changes_nothing(sample: tuple[Path, Path]) -> None:
    app, layout = sample
    before = snapshot(app)
    plan = api.plan(app, domain="example.com", ips=IPS, layout=layout)
    done = api.apply(plan, app_dir=app, layout=layout)
    assert isinstance(done, api.Outcome)
    assert done.changed
    assert set(done.written) <= set(FILES)
    assert done.backup is not None
    assert done.backup.is_dir()
    assert snapshot(app) != before
    after = api.plan(app, domain="example.com", ips=IPS, layout=layout)
    assert not after.has_changes
    assert not api.apply(after, app_dir=app, layout=layout).changed
    with pytest.raises(FileChangedError):  # the old plan's files changed: by the apply itself
        api.apply(plan, app_dir=app, layout=layout)


def test_apply_refuses_a_stale_plan_and_writes_nothing(sample: tuple[Path, Path]) -> None:
    app, layout = sample
    plan = api.plan(app, domain="example.com", ips=IPS, layout=layout)
    ini = app / "MDaemon.ini"
    ini.write_bytes(ini.read_bytes() + b"\r\n[Later]\r\nEdit=1\r\n")
    changed = snapshot(app)
    with pytest.raises(FileChangedError):
        api.apply(plan, app_dir=app, layout=layout)
    assert snapshot(app) == changed


def test_apply_refuses_bind_conflicts_unless_forced(sample: tuple[Path, Path]) -> None:
    app, layout = sample
    plan = api.plan(app, domain="example.com", ips=IPS, layout=layout)
    port = next(r.port for r in api.check(app, plan=plan, layout=layout).results)
    before = snapshot(app)
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as holder:
        holder.bind(("127.0.0.1", port))
        holder.listen()
        with pytest.raises(ConflictError):
            api.apply(plan, app_dir=app, layout=layout)
        assert snapshot(app) == before
        assert api.apply(plan, app_dir=app, layout=layout, force=True).changed


def test_verify_says_what_answered(sample: tuple[Path, Path]) -> None:
    app, layout = sample
    plan = api.plan(app, domain="example.com", ips=IPS, layout=layout)
    found = api.verify(app, plan=plan, layout=layout, timeout=1.0, total_timeout=5.0)
    assert isinstance(found, api.Verified)
    assert found.answers
    assert not found.passed  # no MDaemon listens on the copy
    with pytest.raises(UsageError):
        api.verify(app, layout=layout, timeout=0)


def test_rollback_restores_the_last_apply(sample: tuple[Path, Path]) -> None:
    app, layout = sample
    with pytest.raises(InputError):
        api.rollback(app, layout=layout)  # nothing applied yet
    before = snapshot(app)
    plan = api.plan(app, domain="example.com", ips=IPS, layout=layout)
    done = api.apply(plan, app_dir=app, layout=layout)
    restored = api.rollback(app, layout=layout, restart=True)
    assert isinstance(restored, api.Restored)
    assert restored.changed
    assert restored.backup == done.backup
    assert restored.undo is not None
    assert restored.restarted
    assert (app / "RESTART.SEM").exists()
    assert snapshot(app) == before


def test_nothing_is_printed(sample: tuple[Path, Path], capfd: pytest.CaptureFixture[str]) -> None:
    app, layout = sample
    api.inspect(app, layout=layout)
    api.check(app, layout=layout)  # the CLI notes which addresses it checks: the API does not
    plan = api.plan(app, domain="example.com", ips=IPS, layout=layout)
    api.apply(plan, app_dir=app, layout=layout, restart=True)
    api.rollback(app, layout=layout)
    assert capfd.readouterr() == ("", "")


CLIENT = """
from pathlib import Path

from bindmgr import api


def changed_files(app_dir: Path, domain: str, ips: list[str]) -> tuple[str, ...]:
    plan: api.Plan = api.plan(app_dir, domain=domain, ips=ips)
    checked: api.Checked = api.check(app_dir, plan=plan)
    if checked.conflicts or plan.conflicts:
        return ()
    outcome: api.Outcome = api.apply(plan, app_dir=app_dir)
    verified: api.Verified = api.verify(app_dir)
    restored: api.Restored = api.rollback(app_dir, to=None)
    print(verified.passed, restored.changed, api.inspect(app_dir).config.default.name)
    return outcome.written
"""


@pytest.mark.skipif(
    shutil.which("mypy", path=str(Path(sys.executable).parent)) is None,
    reason="mypy is a dev dependency",
)
def test_mypy_strict_accepts_a_client_and_catches_a_wrong_one(tmp_path: Path) -> None:
    good = tmp_path / "client.py"
    good.write_text(textwrap.dedent(CLIENT), encoding="utf-8")
    bad = tmp_path / "wrong.py"
    bad.write_text("from bindmgr import api\n\nn: int = api.plan('.', domain='d', ips=[])\n")
    for path, ok in ((good, True), (bad, False)):
        done = subprocess.run(
            [
                sys.executable,
                "-m",
                "mypy",
                "--strict",
                "--cache-dir",
                str(tmp_path / "cache"),
                str(path),
            ],
            env=env(),
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
            cwd=tmp_path,
        )
        assert (done.returncode == 0) is ok, done.stdout
    assert 'Incompatible types in assignment (expression has type "Plan"' in done.stdout
