"""The layout: the shipped default loads, and every kind of bad layout is named precisely."""

from pathlib import Path

import pytest

from bindmgr.errors import LayoutError
from bindmgr.model import DomainKeys, Proto
from bindmgr.read.appdir import read_layout
from bindmgr.read.layout import default_layout_path, parse_layout

BASE = default_layout_path().read_text(encoding="utf-8")
SEED_PORTS = {
    ("smtp", 25, Proto.TCP),
    ("pop3", 110, Proto.TCP),
    ("imap", 143, Proto.TCP),
    ("odmr", 366, Proto.TCP),
    ("smtps", 465, Proto.TCP),
    ("msa", 587, Proto.TCP),
    ("imaps", 993, Proto.TCP),
    ("pop3s", 995, Proto.TCP),
    ("minger", 4069, Proto.UDP),
    ("webmail", 3000, Proto.TCP),
    ("webmail_http", 80, Proto.TCP),
    ("webmail_https", 443, Proto.TCP),
    ("webadmin", 1000, Proto.TCP),
}


def test_default_layout_maps_every_seed_listener_and_the_domain_keys() -> None:
    layout = read_layout()
    assert {(s.service, s.port, s.proto) for s in layout.listeners} == SEED_PORTS
    assert layout.default_keys == DomainKeys(
        file="MDaemon.ini",
        section="Domain",
        ip="DomainIP",
        bind="RestrictToDomainIP",
        ipv6="DomainIP6",
        fqdn="FQDN",
    )
    assert layout.domain_keys == DomainKeys(
        file="Domains.dat", section=None, ip="IP", bind="Bind", ipv6="IP6", fqdn="FQDN"
    )
    assert layout.default_name_key == "DomainName"
    assert layout.required_files() == ("MDaemon.ini", "Domains.dat")
    assert "../WorldClient/WorldClient.ini" in layout.file_paths()


def test_listener_without_a_file_uses_its_fixed_port() -> None:
    spec = next(s for s in read_layout().listeners if s.service == "webmail_http")
    assert (spec.file, spec.section, spec.key, spec.port) == (None, None, None, 80)


def test_optional_keys_may_be_empty() -> None:
    text = BASE.replace("ipv6 = DomainIP6", "ipv6 =").replace(
        "fqdn = FQDN\nipv6 = IP6", "fqdn =\nipv6 = IP6"
    )
    layout = parse_layout(text, "l.ini")
    assert layout.default_keys.ipv6 is None
    assert layout.domain_keys.fqdn is None
    assert layout.domain_keys.ipv6 == "IP6"


@pytest.mark.parametrize(
    ("edit", "expected"),
    [
        (("port = 4069", "port = 99999"), ':89 [listeners] [[minger]] port: the value "99999"'),
        (("port = 4069", "port = x"), "[[minger]] port"),
        (("proto = udp", "proto = sctp"), '[[minger]] proto: the value "sctp"'),
        (("label = WebAdmin", "label = WebAdmin\n    sectoin = x"), "sectoin: unknown key"),
        (("file = webadmin", "file = webadm"), "'webadm' names no entry in [files]"),
        (("[default_domain]", "[default_domainx]"), "[default_domain] ip: the key is missing"),
        (("ip = DomainIP", "ip = Domain]IP"), 'ip: the value "Domain]IP" is unacceptable'),
        (("ip = DomainIP", "ip = ;DomainIP"), "[default_domain] ip"),
        (("ip = DomainIP", "ip = Domain=IP"), "[default_domain] ip"),
        (("    key = MingerPort\n", ""), "[[minger]]: file, section and key go together"),
        (("version = 1", "version = 2"), "version"),
        (("\n[files]\n", "\n[files]\n[files]\n"), "not valid ConfigObj INI"),
    ],
)
def test_bad_layouts_name_file_line_and_key(edit: tuple[str, str], expected: str) -> None:
    text = BASE.replace(*edit, 1)
    assert text != BASE
    with pytest.raises(LayoutError) as exc:
        parse_layout(text, "my-layout.ini")
    assert "my-layout.ini" in str(exc.value)
    assert expected in str(exc.value)
    assert exc.value.hint


def test_unreadable_layout_file(tmp_path: Path) -> None:
    with pytest.raises(LayoutError, match=r"cannot read the layout .*nope\.ini"):
        read_layout(tmp_path / "nope.ini")
    binary = tmp_path / "bin.ini"
    binary.write_bytes(b"\xff\xfe\x00bad")
    with pytest.raises(LayoutError, match="not UTF-8"):
        read_layout(binary)
