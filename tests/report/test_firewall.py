"""`bindmgr firewall`: goldens per format, nft's own syntax check, stable and safe rule names,
and reruns that replace rules (a tiny model of each tool's rule store runs the scripts).

Goldens: `BINDMGR_REGOLD=1 .venv/bin/pytest tests/report/test_firewall.py`.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
from collections.abc import Sequence
from ipaddress import IPv4Address, IPv6Address, ip_address
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bindmgr.errors import InputError
from bindmgr.model import IPAddress, Listener, Proto
from bindmgr.read.layout import default_layout_path, parse_layout
from bindmgr.report.firewall import (
    NAME_RE,
    OUTBOUND,
    FirewallFormat,
    label_parts,
    render_firewall,
    rule_name,
    rule_set,
)
from tests.support.goldens import assert_golden, golden_path

# The shipped layout's listeners (templates/layout.ini), as `inspect` reads them by default.
LISTENERS = (
    Listener("smtp", "SMTP", 25),
    Listener("pop3", "POP3", 110),
    Listener("imap", "IMAP", 143),
    Listener("odmr", "ODMR", 366),
    Listener("smtps", "SMTP SSL", 465),
    Listener("msa", "MSA", 587),
    Listener("imaps", "IMAP SSL", 993),
    Listener("pop3s", "POP3 SSL", 995),
    Listener("minger", "Minger", 4069, Proto.UDP),
    Listener("webmail", "WorldClient", 3000),
    Listener("webmail_http", "WorldClient HTTP", 80),
    Listener("webmail_https", "WorldClient HTTPS", 443),
    Listener("webadmin", "WebAdmin", 1000),
)
BOUND = (ip_address("203.0.113.7"), ip_address("203.0.113.8"), ip_address("2001:db8::8"))
REMOVED = (ip_address("203.0.113.9"), ip_address("203.0.113.7"))  # .7 is still bound
SUFFIX = {
    FirewallFormat.POWERSHELL: "ps1",
    FirewallFormat.NETSH: "cmd",
    FirewallFormat.NFTABLES: "nft",
}
CASES: dict[str, tuple[tuple[IPAddress, ...], tuple[IPAddress, ...]]] = {
    "bound": (BOUND, REMOVED),
    "every-address": ((), ()),
}


def test_listeners_are_the_shipped_layouts() -> None:
    path = default_layout_path()
    layout = parse_layout(path.read_text(encoding="utf-8"), str(path))
    assert tuple(Listener(s.service, s.label, s.port, s.proto) for s in layout.listeners) == (
        LISTENERS
    )


@pytest.mark.parametrize("fmt", FirewallFormat)
@pytest.mark.parametrize("case", CASES)
def test_goldens(case: str, fmt: FirewallFormat) -> None:
    bound, removed = CASES[case]
    text = render_firewall(LISTENERS, bound, fmt, removed=removed)
    assert_golden("firewall", f"{case}.{SUFFIX[fmt]}", text)


def _nft_check(path: Path) -> None:
    if sys.platform == "win32":  # Wine would even find Linux's /usr/sbin/nft on Z: and fail
        pytest.skip("nft -c (nftables) is Linux's; the .nft goldens are checked there")
    nft = shutil.which("nft") or next(
        (p for p in ("/usr/sbin/nft", "/sbin/nft") if Path(p).exists()), None
    )
    if nft is None:
        pytest.skip("nft is not installed (Debian: apt-get install nftables)")
    command = [nft, "-c", "-f", str(path)]
    unshare = shutil.which("unshare")
    if unshare is not None and os.geteuid() == 0:
        command = [
            unshare,
            "-n",
            *command,
        ]  # a private network namespace: the host's rules stay out of it
    done = subprocess.run(command, capture_output=True, text=True, check=False, timeout=30)
    if done.returncode != 0 and "Operation not permitted" in done.stderr:
        pytest.skip(f"nft -c needs CAP_NET_ADMIN here: {done.stderr.strip()}")
    assert done.returncode == 0, f"{shlex.join(command)}:\n{done.stderr}"


@pytest.mark.parametrize("case", CASES)
def test_nftables_golden_passes_nft_check(case: str) -> None:
    path = golden_path("firewall", f"{case}.nft")
    assert path.exists(), f"{path} is missing; run with BINDMGR_REGOLD=1"
    _nft_check(path)


def test_nftables_odd_input_passes_nft_check(tmp_path: Path) -> None:
    listeners = (*LISTENERS, Listener("x", "a\"b'c\n$(rm)", 2525), Listener("y", "", 8080))
    bound = (
        IPv6Address("fe80::1%eth0"),
        IPv6Address("::ffff:192.0.2.1"),
        IPv4Address("127.0.0.1"),
        IPv6Address("::1"),
    )
    path = tmp_path / "rules.nft"
    path.write_text(render_firewall(listeners, bound, FirewallFormat.NFTABLES), encoding="utf-8")
    _nft_check(path)


def test_rule_names() -> None:
    assert rule_name("SMTP", ip_address("203.0.113.7")) == "bindmgr-SMTP-203.0.113.7"
    assert rule_name("SMTP", ip_address("2001:db8::7")) == "bindmgr-SMTP-2001_db8__7"
    assert rule_name("SMTP SSL", None) == "bindmgr-SMTP-SSL-any"
    assert rule_name("", ip_address("10.0.0.1")) == "bindmgr-port-10.0.0.1"


@pytest.mark.parametrize(
    ("listeners", "expected"),
    [
        ((Listener("smtp", "SMTP", 25),), ["SMTP"]),
        ((Listener("smtps", "SMTP SSL", 465),), ["SMTP-SSL"]),
        ((Listener("web_admin", "", 1000),), ["web-admin"]),
        ((Listener("", "***", 1000),), ["port1000tcp"]),
        ((Listener("a", "Wörld Client", 3000),), ["W-rld-Client"]),
        # the same port and protocol twice: one rule, the first listener's label
        ((Listener("a", "A", 80), Listener("b", "B", 80)), ["A"]),
        # the same port on the other protocol is another rule
        ((Listener("a", "A", 80), Listener("b", "B", 80, Proto.UDP)), ["A", "B"]),
        # clashing labels (without regard to case) get the port and protocol
        (
            (Listener("a", "SMTP", 25), Listener("b", "smtp", 2525), Listener("c", "X", 1)),
            ["SMTP-25tcp", "smtp-2525tcp", "X"],
        ),
        # and a clash that remains gets a counter
        (
            (Listener("a", "A-25tcp", 1), Listener("b", "A", 25), Listener("c", "A", 26)),
            ["A-25tcp", "A-25tcp-2", "A-26tcp"],
        ),
        ((Listener("a", "x" * 60, 1),), ["x" * 40]),
    ],
)
def test_label_parts(listeners: Sequence[Listener], expected: list[str]) -> None:
    assert [part for _l, part, _old in label_parts(listeners)] == expected


@pytest.mark.parametrize("port", [0, -1, 65536])
def test_a_port_no_firewall_can_open_is_refused(port: int) -> None:
    with pytest.raises(InputError, match=f"port {port}"):
        render_firewall((Listener("smtp", "SMTP", port),), BOUND, FirewallFormat.NETSH)


def test_every_address_beside_real_ones_is_refused() -> None:
    with pytest.raises(InputError, match="every address"):
        rule_set(LISTENERS, (ip_address("0.0.0.0"), BOUND[0]))


@pytest.mark.parametrize("bound", [(), (ip_address("0.0.0.0"),), (ip_address("::"),)])
def test_no_address_means_every_address(bound: tuple[IPAddress, ...]) -> None:
    rules = rule_set(LISTENERS, bound).rules
    assert {r.ip for r in rules} == {None}
    assert all(r.name.endswith("-any") for r in rules if r.inbound)


def test_scope_and_duplicates_collapse() -> None:
    bound = (IPv6Address("fe80::1%eth0"), IPv6Address("fe80::1"), IPv4Address("10.0.0.1"))
    rules = rule_set((Listener("smtp", "SMTP", 25),), bound).rules
    assert [r.ip for r in rules if r.inbound] == [IPv6Address("fe80::1"), IPv4Address("10.0.0.1")]


def test_outbound_descriptions_need_no_escaping() -> None:
    assert all(re.fullmatch(r"[A-Za-z0-9 ,()-]+", o.why) for o in OUTBOUND)


def test_outbound_covers_what_mdaemon_needs() -> None:
    wanted = {(53, Proto.UDP), (53, Proto.TCP), (25, Proto.TCP), (110, Proto.TCP)}
    wanted |= {(366, Proto.TCP), (995, Proto.TCP), (3101, Proto.TCP), (80, Proto.TCP)}
    wanted |= {(21, Proto.TCP), (4069, Proto.UDP)}
    assert {(o.port, o.proto) for o in OUTBOUND} == wanted
    names = [r.name for r in rule_set(LISTENERS, BOUND).rules if not r.inbound]
    assert len(names) == len(OUTBOUND) == len(set(names))


@pytest.mark.parametrize("fmt", FirewallFormat)
def test_loopback_is_never_blocked(fmt: FirewallFormat) -> None:
    text = render_firewall(LISTENERS, BOUND, fmt)
    assert "Never block loopback" in text
    assert not re.search(r"\b(block|drop|reject)\b(?!s? )", text.replace("Never block", ""))
    if fmt is FirewallFormat.NFTABLES:
        assert "iif lo accept" in text
        assert "oif lo accept" in text
        assert "ct state established,related accept" in text
        assert text.count("policy accept;") == 2


def test_udp_comes_from_the_listener() -> None:
    text = render_firewall(LISTENERS, BOUND[:1], FirewallFormat.NETSH)
    assert (
        'add rule name="bindmgr-Minger-203.0.113.7" dir=in action=allow protocol=UDP '
        "localip=203.0.113.7 localport=4069 profile=any"
    ) in text


# --- reruns: each script run against a model of its tool's rule store -------------------------

_NETSH_ADD = re.compile(r'^netsh advfirewall firewall add rule name="([^"]+)" (.*)$')
_NETSH_DELETE = re.compile(r'^netsh advfirewall firewall delete rule name="([^"]+)" >nul$')


def run_netsh(script: str, store: dict[str, list[str]]) -> None:
    """netsh keeps every rule it adds, duplicates too; `delete rule name=` drops them all."""
    for line in script.splitlines():
        if m := _NETSH_DELETE.match(line):
            store.pop(m[1], None)
        elif m := _NETSH_ADD.match(line):
            store.setdefault(m[1], []).append(m[2])
        else:
            assert line in ("", "@echo off") or line.startswith("REM"), line


_PS_NEW = re.compile(
    r"^New-NetFirewallRule -Name '([^']+)' -DisplayName '\1'(?: -Description '[^']+')? "
    r"-Group 'bindmgr' (.*) \| Out-Null$"
)


def run_powershell(script: str, store: dict[str, str]) -> None:
    """New-NetFirewallRule refuses a -Name that exists; Remove -Group drops the whole group."""
    for line in script.splitlines():
        if line == "Remove-NetFirewallRule -Group 'bindmgr' -ErrorAction SilentlyContinue":
            store.clear()
        elif m := _PS_NEW.match(line):
            assert m[1] not in store, f"{m[1]} exists: New-NetFirewallRule would fail"
            store[m[1]] = m[2]
        else:
            assert line in ("", "$ErrorActionPreference = 'Stop'") or line.startswith("#"), line


def test_netsh_rerun_replaces_and_drops_unbound_addresses() -> None:
    store: dict[str, list[str]] = {}
    old = (ip_address("203.0.113.9"), *BOUND)
    run_netsh(render_firewall(LISTENERS, old, FirewallFormat.NETSH), store)
    first = render_firewall(LISTENERS, BOUND, FirewallFormat.NETSH, removed=old)
    run_netsh(first, store)
    once = dict(store)
    run_netsh(first, store)
    assert store == once  # applying twice is a no-op
    assert all(len(v) == 1 for v in store.values())
    assert set(store) == {r.name for r in rule_set(LISTENERS, BOUND).rules}
    assert not any("203.0.113.9" in name for name in store)


def test_netsh_label_clash_deletes_the_plain_name_an_earlier_run_used() -> None:
    store: dict[str, list[str]] = {}
    run_netsh(render_firewall(LISTENERS, BOUND, FirewallFormat.NETSH), store)
    clash = (*LISTENERS, Listener("smtp_alt", "SMTP", 2525))
    run_netsh(render_firewall(clash, BOUND, FirewallFormat.NETSH), store)
    assert set(store) == {r.name for r in rule_set(clash, BOUND).rules}


def test_powershell_rerun_replaces() -> None:
    store: dict[str, str] = {}
    run_powershell(
        render_firewall(LISTENERS, (*BOUND, ip_address("10.9.9.9")), FirewallFormat.POWERSHELL),
        store,
    )
    script = render_firewall(
        LISTENERS, BOUND, FirewallFormat.POWERSHELL, removed=[ip_address("10.9.9.9")]
    )
    run_powershell(script, store)
    run_powershell(script, store)
    assert set(store) == {r.name for r in rule_set(LISTENERS, BOUND).rules}
    assert "# No longer bound: 10.9.9.9" in script


def test_nftables_redefines_the_whole_table() -> None:
    text = render_firewall(LISTENERS, BOUND, FirewallFormat.NFTABLES)
    tables = [line for line in text.splitlines() if "table inet bindmgr" in line]
    assert tables == ["table inet bindmgr {}", "delete table inet bindmgr", "table inet bindmgr {"]


# --- arbitrary labels from a user-edited layout -------------------------------------------------

addresses = st.one_of(
    st.builds(IPv4Address, st.integers(0, 2**32 - 1)),
    st.builds(IPv6Address, st.integers(0, 2**128 - 1)),
).filter(lambda ip: not ip.is_unspecified)
listeners = st.lists(
    st.builds(
        Listener,
        service=st.text(max_size=12),
        label=st.text(max_size=50),
        port=st.integers(1, 65535),
        proto=st.sampled_from(Proto),
    ),
    max_size=8,
)
_WHY = "[A-Za-z0-9 ,()-]+"
_PS_ARGS = "[-A-Za-z0-9 '._:]*"
_NETSH_ARGS = '[-A-Za-z0-9 ="._:>]*'
_SAFE_LINE = {
    fmt: re.compile("|".join(patterns))
    for fmt, patterns in {
        FirewallFormat.POWERSHELL: (
            "",
            "#.*",
            r"\$ErrorActionPreference = 'Stop'",
            "Remove-NetFirewallRule -Group 'bindmgr' -ErrorAction SilentlyContinue",
            rf"New-NetFirewallRule {_PS_ARGS}( -Description '{_WHY}')?{_PS_ARGS} \| Out-Null",
        ),
        FirewallFormat.NETSH: (
            "",
            "@echo off",
            "REM.*",
            rf'netsh advfirewall firewall {_NETSH_ARGS}( description="{_WHY}")?{_NETSH_ARGS}',
        ),
        FirewallFormat.NFTABLES: (
            "",
            "#.*",
            r"table inet bindmgr \{\}?",
            "delete table inet bindmgr",
            r"\t?\}",
            r"\tchain (input|output) \{",
            r"\t\t#.*",
            r'\t\t[-A-Za-z0-9 .:,;"_]*',
        ),
    }.items()
}


def _address_of(name: str) -> IPAddress | None:
    spelled = name.rsplit("-", 1)[1]
    return None if spelled == "any" else ip_address(spelled.replace("_", ":"))


@settings(max_examples=200)
@given(
    listeners=listeners,
    bound=st.lists(addresses, max_size=4),
    removed=st.lists(addresses, max_size=3),
)
def test_names_are_safe_unique_and_read_back(
    listeners: list[Listener], bound: list[IPAddress], removed: list[IPAddress]
) -> None:
    rules = rule_set(listeners, bound, removed=removed)
    names = [r.name for r in rules.rules]
    assert len({n.casefold() for n in names}) == len(names)
    for name in (*names, *rules.deletions):
        assert NAME_RE.fullmatch(name), name
    assert set(names) <= set(rules.deletions)
    for rule in rules.rules:
        if rule.inbound:
            assert _address_of(rule.name) == rule.ip  # the address part reads back


@settings(max_examples=100)
@given(
    listeners=listeners, bound=st.lists(addresses, max_size=3), fmt=st.sampled_from(FirewallFormat)
)
def test_labels_cannot_inject_anything(
    listeners: list[Listener], bound: list[IPAddress], fmt: FirewallFormat
) -> None:
    text = render_firewall(listeners, bound, fmt, removed=bound[:1])
    for line in text.splitlines():
        assert _SAFE_LINE[fmt].fullmatch(line), line
    assert text.isascii()
