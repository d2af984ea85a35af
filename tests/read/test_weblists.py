"""The web servers' bind lists: parse_bind_list on good and bad values, and the layout keys."""

from __future__ import annotations

from ipaddress import IPv4Address, IPv6Address, ip_address

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bindmgr.errors import InputError, LayoutError
from bindmgr.ini.file import IniFile
from bindmgr.model import BindEntry, Location
from bindmgr.read.config import read_config
from bindmgr.read.layout import parse_layout
from bindmgr.read.weblists import entry_text, joined, parse_bind_list
from tests.support.plan import SHIPPED

WHERE = Location("../WorldClient/WorldClient.ini", "WebServer", "BindIPs", 6)
V4, V6 = IPv4Address("203.0.113.7"), IPv6Address("2001:db8::7")


@pytest.mark.parametrize(
    ("raw", "entries"),
    [
        ("", ()),
        ("  ", ()),
        (",", ()),
        ("203.0.113.7", (BindEntry("203.0.113.7", V4),)),
        ("203.0.113.7:3000", (BindEntry("203.0.113.7:3000", V4, 3000),)),
        (
            " 203.0.113.7 , 127.0.0.1:80,",
            (
                BindEntry("203.0.113.7", V4),
                BindEntry("127.0.0.1:80", IPv4Address("127.0.0.1"), 80),
            ),
        ),
        ("2001:db8::7", (BindEntry("2001:db8::7", V6),)),
        ("[2001:db8::7]", (BindEntry("[2001:db8::7]", V6),)),
        ("[2001:db8::7]:3000", (BindEntry("[2001:db8::7]:3000", V6, 3000),)),
        ("*", (BindEntry("*", None),)),
        ("*:3000", (BindEntry("*:3000", None, 3000),)),
    ],
)
def test_good_values_read_as_their_entries(raw: str, entries: tuple[BindEntry, ...]) -> None:
    assert parse_bind_list(raw, WHERE) == entries


@pytest.mark.parametrize(
    ("raw", "said"),
    [
        ("mail.example.com", "'mail.example.com' is not an IP address (a host name?"),
        ("203.0.113.7:0", "its port '0' is not a number from 1 to 65535"),
        ("203.0.113.7:70000", "its port '70000'"),
        ("203.0.113.7:80x", "its port '80x'"),
        ("203.0.113.7:", "its port ''"),
        ("203.0.113.7 127.0.0.1", "a blank inside; separate entries with commas"),
        ("[203.0.113.7]:80", "brackets are for IPv6 addresses"),
        ("[2001:db8::7:80", "opens a [ that no ] closes"),
        ("[2001:db8::7]:", "its port ''"),
        ("203.0.113.256", "'203.0.113.256' is not an IP address"),
        ("2001:db8:::7", "is not an IPv6 address"),
    ],
)
def test_a_bad_entry_names_the_file_line_value_and_what_to_write(raw: str, said: str) -> None:
    with pytest.raises(InputError) as caught:
        parse_bind_list(f"127.0.0.1, {raw}", WHERE)
    message = caught.value.message
    assert message.startswith("../WorldClient/WorldClient.ini [WebServer] BindIPs (line 6): ")
    assert f"bad entry {raw.strip()!r}" in message
    assert said in message
    assert "IP or IP:port" in (caught.value.hint or "")


ips = st.one_of(
    st.ip_addresses(v=4).map(IPv4Address),
    st.ip_addresses(v=6).map(IPv6Address),
)


@given(st.lists(st.tuples(ips, st.none() | st.integers(1, 65535)), max_size=8), st.booleans())
def test_what_bindmgr_writes_reads_back_as_the_same_entries(
    pairs: list[tuple[IPv4Address | IPv6Address, int | None]], spaced: bool
) -> None:
    texts = [entry_text(ip, port) for ip, port in pairs]
    raw = joined(texts, ", " if spaced else "")
    got = parse_bind_list(raw, WHERE)
    assert [(e.ip, e.port) for e in got] == pairs
    assert [e.text for e in got] == texts
    assert joined((e.text for e in got), raw) == raw


@given(st.text(max_size=30))
def test_any_value_parses_or_is_refused_with_an_input_error(raw: str) -> None:
    try:
        entries = parse_bind_list(raw, WHERE)
    except InputError as exc:
        refused: InputError | None = exc
    else:
        refused = None
        for entry in entries:
            assert entry.text
            assert entry.text == entry.text.strip()
            assert entry.ip is None or entry.ip == ip_address(entry.ip)
    assert refused is None or str(WHERE) in refused.message


MAIN = b"[Domain]\r\nDomainName=example.com\r\nDomainIP=203.0.113.10\r\n"


def scanned(web: bytes | None) -> dict[str, IniFile]:
    files = {"MDaemon.ini": IniFile.from_bytes(MAIN, "MDaemon.ini")}
    if web is not None:
        name = "../WorldClient/WorldClient.ini"
        files[name] = IniFile.from_bytes(web, name)
    return files


def test_the_shipped_layout_reads_worldclients_list_and_its_listeners() -> None:
    web = b"[WebServer]\r\nPort=3000\r\nBindIPs=127.0.0.1:3000\r\n"
    config = read_config(scanned(web), SHIPPED).config
    wc, wa = config.bind_lists
    assert (wc.name, wc.raw, wc.where.line) == ("worldclient", "127.0.0.1:3000", 3)
    assert wc.services == ("webmail", "webmail_http", "webmail_https")
    assert wc.narrows
    assert wc.loopback_only
    assert (wa.name, wa.raw, wa.entries, wa.narrows) == ("webadmin", None, (), False)


def test_a_missing_key_or_file_means_no_list() -> None:
    for files in (scanned(None), scanned(b"[WebServer]\r\nPort=3000\r\n")):
        config = read_config(files, SHIPPED).config
        assert all(not b.narrows and b.raw is None for b in config.bind_lists)


def test_a_bad_entry_in_the_file_stops_the_read() -> None:
    web = b"[WebServer]\r\nBindIPs=127.0.0.1, webmail\r\n"
    with pytest.raises(InputError, match=r"WorldClient.ini \[WebServer\] BindIPs \(line 2\)"):
        read_config(scanned(web), SHIPPED)


LAYOUT_HEAD = """
[files]
mdaemon = MDaemon.ini
domains = Domains.dat
worldclient = ../WorldClient/WorldClient.ini
[default_domain]
section = Domain
name = DomainName
ip = DomainIP
restrict = RestrictToDomainIP
[listeners]
    [[webmail]]
    label = WorldClient
    file = worldclient
    section = WebServer
    key = Port
    port = 3000
    [[webmail_http]]
    label = WorldClient HTTP
    port = 80
"""


def test_a_layout_without_bind_lists_has_none() -> None:
    assert parse_layout(LAYOUT_HEAD, "l.ini").bind_lists == ()


def test_an_empty_key_name_means_no_such_list() -> None:
    text = LAYOUT_HEAD + "[bind_lists]\n    [[wc]]\n    label = WC\n    file = worldclient\n"
    text += "    section = WebServer\n    key =\n"
    assert parse_layout(text, "l.ini").bind_lists == ()


def test_listeners_default_to_those_read_from_the_lists_file() -> None:
    text = LAYOUT_HEAD + "[bind_lists]\n    [[wc]]\n    label = WC\n    file = worldclient\n"
    text += "    section = WebServer\n    key = BindIPs\n"
    (spec,) = parse_layout(text, "l.ini").bind_lists
    assert spec.services == ("webmail",)
    one = text + "    listeners = webmail_http\n"
    assert parse_layout(one, "l.ini").bind_lists[0].services == ("webmail_http",)


@pytest.mark.parametrize(
    ("extra", "said"),
    [
        ("    listeners = webmail, nosuch\n", r"'nosuch' names no listener in \[listeners\]"),
        (
            "    listeners = webmail\n    [[wa]]\n    label = WA\n    file = worldclient\n"
            "    section = WebServer\n    key = Other\n    listeners = webmail\n",
            "listener webmail is already governed by bind list wc",
        ),
    ],
)
def test_a_bind_list_naming_a_wrong_listener_is_a_layout_error(extra: str, said: str) -> None:
    text = LAYOUT_HEAD + "[bind_lists]\n    [[wc]]\n    label = WC\n    file = worldclient\n"
    text += "    section = WebServer\n    key = BindIPs\n" + extra
    with pytest.raises(LayoutError, match=said):
        parse_layout(text, "l.ini")
