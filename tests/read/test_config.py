"""Reading MDaemon's files through the layout: typed values, their sources, and bad values."""

import inspect
from ipaddress import IPv4Address, IPv6Address
from pathlib import Path

import pytest

from bindmgr.errors import EncodingError, InputError
from bindmgr.model import Location, Proto
from bindmgr.read.appdir import WINDOWS_DEFAULT, load_app, read_layout, resolve_app_dir
from tests.support.sample import copy_sample, read_ini

LAYOUT = read_layout()


@pytest.fixture
def app(tmp_path: Path) -> Path:
    return copy_sample(tmp_path)[0]


def edit(path: Path, section: str, key: str, value: str) -> None:
    ini = read_ini(path)
    ini.set(section, key, value)
    path.write_bytes(ini.to_bytes())


def test_sample_reads_as_documented(app: Path) -> None:
    view = load_app(app, LAYOUT).view
    config = view.config
    d = config.default
    assert (d.name, d.ip, d.ipv6, d.bind, d.fqdn, d.is_default) == (
        "example.com",
        IPv4Address("203.0.113.10"),
        None,
        True,
        "mail.example.com",
        True,
    )
    assert d.other_keys == ()
    names = [(x.name, x.ip, x.bind) for x in config.domains]
    assert names == [
        ("mail-2.example.com", IPv4Address("203.0.113.11"), True),
        ("mail-3.example.com", None, False),
        ("partner.example.net", IPv4Address("203.0.113.20"), False),
    ]
    partner = config.domains[2]
    assert "MaxUsers" in partner.other_keys
    assert partner.raw_value("bind") == "No"
    smtp = config.listeners[0]
    assert (smtp.service, smtp.port, smtp.proto) == ("smtp", 25, Proto.TCP)
    assert smtp.source == Location("MDaemon.ini", "Port", "SMTPPort", 19)
    fixed = next(x for x in config.listeners if x.service == "webmail_http")
    assert (fixed.port, fixed.source) == (80, None)
    assert {f.name for f in config.inputs} == set(LAYOUT.file_paths())
    assert all(len(f.sha256) == 64 for f in config.inputs)
    assert config.problems == ()


def test_presence_reports_found_and_missing_keys(app: Path) -> None:
    ini = app / "MDaemon.ini"
    data = ini.read_bytes().replace(b"DomainIP6=\r\n", b"")
    ini.write_bytes(data)
    presence = {p.what: p for p in load_app(app, LAYOUT).view.presence}
    assert presence["Default Domain IP"].found == 1
    assert presence["Default Domain IP"].location.line == 12
    assert presence["Default Domain IPv6"].found == 0
    assert presence["Default Domain IPv6"].location.line is None
    assert (presence["secondary domains: IP6"].found, presence["secondary domains: IP6"].total) == (
        1,
        3,
    )


@pytest.mark.parametrize(
    ("file", "section", "key", "value", "expected"),
    [
        ("MDaemon.ini", "Domain", "DomainIP", "1.2.3", "MDaemon.ini [Domain] DomainIP (line 12)"),
        ("MDaemon.ini", "Domain", "DomainIP", "010.0.0.1", "expected a dotted IPv4 address"),
        ("MDaemon.ini", "Port", "SMTPPort", "99999", "[Port] SMTPPort (line 19): the value"),
        ("MDaemon.ini", "Port", "SMTPPort", "x25", "expected a port number from 1 to 65535"),
        ("MDaemon.ini", "Domain", "RestrictToDomainIP", "Maybe", "expected Yes or No"),
        ("Domains.dat", "mail-2.example.com", "IP6", "zz::1::", "expected an IPv6 address"),
        ("Domains.dat", "partner.example.net", "IP", "203.0.113.300", "[partner.example.net] IP"),
    ],
)
def test_bad_values_name_file_section_key_and_line(
    app: Path, file: str, section: str, key: str, value: str, expected: str
) -> None:
    edit(app / file, section, key, value)
    with pytest.raises(InputError) as exc:
        load_app(app, LAYOUT)
    assert expected in str(exc.value)
    assert exc.value.hint


def test_blank_port_and_missing_listener_file_fall_back_to_defaults(app: Path) -> None:
    edit(app / "MDaemon.ini", "Port", "POP3Port", "")
    (app / "../WebAdmin/WebAdmin.ini").unlink()
    loaded = load_app(app, LAYOUT)
    ports = {x.service: (x.port, x.source) for x in loaded.view.config.listeners}
    assert ports["pop3"] == (110, None)
    assert ports["webadmin"] == (1000, None)
    assert loaded.missing == ("../WebAdmin/WebAdmin.ini",)
    assert any("not found" in p.message for p in loaded.view.config.problems)


def test_missing_domain_file_is_an_error_naming_the_layout(app: Path) -> None:
    (app / "Domains.dat").unlink()
    with pytest.raises(InputError, match=r"Domains\.dat does not exist") as exc:
        load_app(app, LAYOUT)
    assert "[files]" in str(exc.value.hint)


def test_utf16be_is_refused(app: Path) -> None:
    (app / "MDaemon.ini").write_bytes(b"\xfe\xff" + "[Domain]\r\n".encode("utf-16-be"))
    with pytest.raises(EncodingError, match="UTF-16BE"):
        load_app(app, LAYOUT)


def test_utf16le_domain_file_is_read(app: Path) -> None:
    text = (app / "Domains.dat").read_bytes().decode("cp1252")
    (app / "Domains.dat").write_bytes(b"\xff\xfe" + text.encode("utf-16-le"))
    config = load_app(app, LAYOUT).view.config
    assert config.domains[0].ip == IPv4Address("203.0.113.11")


def test_ipv6_and_duplicates(app: Path) -> None:
    edit(app / "Domains.dat", "mail-2.example.com", "IP6", "2001:DB8::11")
    with (app / "Domains.dat").open("ab") as f:
        f.write(b"[MAIL-2.example.com]\r\nIP=203.0.113.99\r\n")
    config = load_app(app, LAYOUT).view.config
    assert config.domains[0].ipv6 == IPv6Address("2001:db8::11")
    assert [d.name for d in config.domains].count("mail-2.example.com") == 1
    assert any("duplicate" in p.message.lower() for p in config.problems)


def test_app_dir_resolution(tmp_path: Path) -> None:
    assert resolve_app_dir(str(tmp_path), {}) == tmp_path
    assert resolve_app_dir(None, {"MDAEMON_APP": str(tmp_path)}) == tmp_path
    with pytest.raises(InputError, match="no MDaemon App folder given") as exc:
        resolve_app_dir(None, {}, platform="linux")
    assert "--app-dir" in str(exc.value.hint)
    with pytest.raises(InputError, match="does not exist"):
        resolve_app_dir(str(tmp_path / "nope"), {})
    assert resolve_app_dir(None, {"MDAEMON_APP": ""}, platform="win32", default=str(tmp_path)) == (
        tmp_path
    )  # an empty MDAEMON_APP is unset
    absent = tmp_path / "MDaemon" / "App"
    with pytest.raises(InputError, match="does not exist") as exc:
        resolve_app_dir(None, {}, platform="win32", default=str(absent))
    assert str(absent) in exc.value.message
    with pytest.raises(InputError, match="no MDaemon App folder given"):
        resolve_app_dir(None, {}, platform="win32", default=None)


def test_the_windows_default_is_c_mdaemon_app() -> None:
    """Read from the signature, never resolved: tests must not reach the real folder."""
    wired = inspect.signature(resolve_app_dir).parameters["default"].default
    assert wired == WINDOWS_DEFAULT == r"C:\MDaemon\App"


def test_unreadable_file_is_named(app: Path) -> None:
    (app / "MDaemon.ini").unlink()
    (app / "MDaemon.ini").mkdir()
    with pytest.raises(InputError, match=r"cannot read .*MDaemon\.ini"):
        load_app(app, LAYOUT)


def test_many_domains_read_alike_share_their_key_names_and_every_bad_value_is_named(
    app: Path,
) -> None:
    lines = ["[Default]", "IP=203.0.113.1"]  # the section name the default has elsewhere
    for i in range(300):
        ip = f"203.0.113.{i % 3 + 50}" if i % 2 else ""
        lines += [f"[d{i}.example.net]", f"IP={ip}", "Bind=No", "MaxUsers=5", "MaxLists=1"]
    lines += ["[odd.example.net]", "maxusers=1", "ip=203.0.113.7", "BIND=Yes"]
    (app / "Domains.dat").write_bytes("".join(f"{x}\r\n" for x in lines).encode("cp1252"))
    domains = load_app(app, LAYOUT).view.config.domains
    assert len(domains) == 302
    d1, d3, d7, odd = domains[2], domains[4], domains[8], domains[-1]
    assert (d1.name, d1.ip, d1.bind) == ("d1.example.net", IPv4Address("203.0.113.51"), False)
    assert d1.raw == (("IP", "203.0.113.51"), ("Bind", "No"))
    assert d3.raw == (("IP", "203.0.113.50"), ("Bind", "No"))
    assert d1.raw is d7.raw  # equal managed keys and values: one tuple
    assert d1.other_keys == ("MaxUsers", "MaxLists")
    assert d1.other_keys is d3.other_keys  # one tuple for every domain of the same keys
    assert (odd.ip, odd.bind, odd.raw, odd.other_keys) == (
        IPv4Address("203.0.113.7"),
        True,
        (("ip", "203.0.113.7"), ("BIND", "Yes")),
        ("maxusers",),
    )
    text = (app / "Domains.dat").read_bytes()
    bad = text.replace(b"[d7.example.net]\r\nIP=", b"[d7.example.net]\r\nIP=1.2.").replace(
        b"[d8.example.net]\r\nIP=\r\nBind=No", b"[d8.example.net]\r\nIP=\r\nBind=Maybe"
    )
    (app / "Domains.dat").write_bytes(bad)
    with pytest.raises(InputError) as exc:
        load_app(app, LAYOUT)
    message = str(exc.value)
    assert "Domains.dat [d7.example.net] IP (line 39): " in message
    assert "Domains.dat [d8.example.net] Bind (line 45): " in message
    assert message.index("[d7.example.net]") < message.index("[d8.example.net]")
