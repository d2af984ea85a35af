"""A base domain MDaemon does not know is refused with the closest names, unless the operator
asks for a new one (--new-domain): a typo must not rebind the Default Domain under mail-N names
of a domain nobody has."""

from __future__ import annotations

from pathlib import Path

import pytest

from bindmgr.errors import ExitCode, PlanError
from bindmgr.model import Config, Desired
from bindmgr.plan.basedomain import check_domain
from bindmgr.plan.desired import parse_desired
from tests.commands.test_cli import run
from tests.support.plan import config, default, domain
from tests.support.sample import copy_sample


def desired(name: str, pattern: str = "mail-{n}.{domain}") -> Desired:
    return parse_desired(name, ["127.0.0.1", "127.0.0.2"], pattern=pattern)


SAMPLE = config(
    default("example.com"),
    domain("mail-2.example.com"),
    domain("partner.example.net"),
    domain("mail-3.other.test"),
)


@pytest.mark.parametrize(
    "name",
    [
        "example.com",
        "EXAMPLE.com",
        "partner.example.net",  # a secondary domain
        "other.test",  # the base of an existing mail-N name
    ],
)
def test_known_domains_pass(name: str) -> None:
    check_domain(SAMPLE, desired(name))


def test_the_base_follows_the_pattern() -> None:
    c = config(default("corp.test"), domain("out-7.example.org"))
    check_domain(c, desired("example.org", "out-{n}.{domain}"))
    with pytest.raises(PlanError):
        check_domain(c, desired("example.org"))


def test_a_typo_is_refused_with_the_closest_names() -> None:
    with pytest.raises(PlanError) as exc:
        check_domain(SAMPLE, desired("exampel.com"))
    message = str(exc.value)
    assert "base domain 'exampel.com' is not a domain MDaemon knows" in message
    assert "did you mean example.com?" in message
    assert "--new-domain" in str(exc.value.hint)


def test_without_a_close_name_the_default_domain_is_named() -> None:
    with pytest.raises(PlanError) as exc:
        check_domain(SAMPLE, desired("zzz.invalid"))
    assert "the Default Domain is example.com" in str(exc.value)
    assert "did you mean" not in str(exc.value)


def test_many_domains_name_at_most_three_suggestions() -> None:
    c: Config = config(default("example.com"), *(domain(f"exampl{x}.com") for x in "abcdefgh"))
    with pytest.raises(PlanError) as exc:
        check_domain(c, desired("exampel.com"))
    suggested = str(exc.value).split("did you mean ", 1)[1].split("?", 1)[0]
    assert len(suggested.replace(" or ", ", ").split(", ")) == 3


def plan_args(app: Path, name: str, *extra: str) -> list[str | Path]:
    return ["--app-dir", app, "--domain", name, "--ip", "127.0.0.1", "--ip", "127.0.0.2", *extra]


@pytest.mark.parametrize("command", ["plan", "check", "dns", "firewall"])
def test_cli_refuses_a_typo(tmp_path: Path, command: str) -> None:
    app, layout = copy_sample(tmp_path)
    result = run(command, *plan_args(app, "exampel.com"), "--layout", layout)
    assert result.code == ExitCode.ERROR, result.out
    assert "did you mean example.com?" in result.err
    assert "hint: " in result.err
    assert "mail-2.exampel.com" not in result.out


def test_apply_of_a_typo_writes_nothing(tmp_path: Path) -> None:
    app, layout = copy_sample(tmp_path)
    snapshot = {p: p.read_bytes() for p in tmp_path.rglob("*") if p.is_file()}
    result = run("apply", "--yes", *plan_args(app, "exampel.com"), "--layout", layout)
    assert result.code == ExitCode.ERROR
    assert "did you mean example.com?" in result.err
    assert {p: p.read_bytes() for p in tmp_path.rglob("*") if p.is_file()} == snapshot


def test_new_domain_asks_for_the_new_names_on_purpose(tmp_path: Path) -> None:
    app, layout = copy_sample(tmp_path)
    result = run("plan", *plan_args(app, "exampel.com", "--new-domain"), "--layout", layout)
    assert result.code == ExitCode.CHANGES, result.err
    assert "mail-2.exampel.com" in result.out


def test_new_domain_with_a_bindings_file(tmp_path: Path) -> None:
    app, layout = copy_sample(tmp_path)
    bindings = tmp_path / "b.ini"
    bindings.write_text("domain = new.test\nips = 127.0.0.1, 127.0.0.2\n", encoding="utf-8")
    argv: list[str | Path] = ["plan", "--app-dir", app, "--layout", layout, "--bindings", bindings]
    refused = run(*argv)
    assert refused.code == ExitCode.ERROR
    assert "'new.test' is not a domain MDaemon knows" in refused.err
    assert run(*argv, "--new-domain").code == ExitCode.CHANGES


def test_check_accepts_new_domain(tmp_path: Path) -> None:
    app, layout = copy_sample(tmp_path, own_ports=True)
    result = run("check", *plan_args(app, "new.test", "--new-domain"), "--layout", layout)
    assert result.code == ExitCode.OK, result.out + result.err
