"""Layout detection: the sample gives the shipped layout; renamed, moved and reordered keys are
found where they are; ties are ambiguous and kept at the default; the written layout reads the
folder as the shipped one reads the sample; the read edge stays inside the MDaemon folder."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from bindmgr.ini.file import IniFile
from bindmgr.model import Config
from bindmgr.read.appdir import read_candidates, read_layout
from bindmgr.read.clues import SETTINGS, kind_of
from bindmgr.read.config import read_config
from bindmgr.read.detect import (
    Ambiguity,
    Confidence,
    Detection,
    Evidence,
    Proposal,
    Unknown,
    detect,
)
from bindmgr.read.layout import Layout, parse_layout
from bindmgr.read.layout_text import render_layout
from tests.support.safety import needs_symlinks
from tests.support.sample import copy_sample

SHIPPED = read_layout()


@pytest.fixture
def app(tmp_path: Path) -> Path:
    return copy_sample(tmp_path)[0]


def scan(app_dir: Path) -> dict[str, IniFile]:
    found = read_candidates(app_dir)
    return {name: IniFile.from_bytes(raw, name) for name, raw in found.data.items()}


def edit(path: Path, old: bytes, new: bytes) -> None:
    """Replace `old` (present exactly once) by `new` in the file's bytes."""
    data = path.read_bytes()
    assert data.count(old) == 1, (path, old)
    path.write_bytes(data.replace(old, new))


def proposal(detection: Detection, setting: str) -> Proposal:
    found = detection.outcome(setting)
    assert isinstance(found, Proposal), found
    return found


def where(detection: Detection, setting: str) -> tuple[str, str | None, str | None]:
    p = proposal(detection, setting)
    return p.file, p.section, p.key


def written(detection: Detection) -> Layout:
    return parse_layout(render_layout(detection, SHIPPED), "detected.ini")


def values(config: Config) -> object:
    """What a Config says, without where it was read from."""
    domains = [(d.name, d.ip, d.ipv6, d.bind, d.fqdn) for d in config.all_domains()]
    return domains, [(x.service, x.port, x.proto) for x in config.listeners]


def test_the_sample_gives_the_shipped_layout_with_high_confidence(app: Path) -> None:
    found = detect(scan(app))
    assert found.complete
    assert [p.setting for p in found.proposals] == list(SETTINGS)
    assert {p.confidence for p in found.proposals} == {Confidence.HIGH}
    dk, mk = SHIPPED.default_keys, SHIPPED.domain_keys
    assert where(found, "files.domains") == (mk.file, None, None)
    assert where(found, "default_domain.section") == (dk.file, dk.section, None)
    expected = {
        "name": SHIPPED.default_name_key,
        "fqdn": dk.fqdn,
        "ip": dk.ip,
        "ipv6": dk.ipv6,
        "restrict": dk.bind,
    }
    for name, key in expected.items():
        assert where(found, f"default_domain.{name}") == (dk.file, dk.section, key)
    for name, key in {"ip": mk.ip, "bind": mk.bind, "fqdn": mk.fqdn, "ipv6": mk.ipv6}.items():
        assert where(found, f"domains.{name}") == (mk.file, None, key)
    for spec in SHIPPED.listeners:
        if spec.key is not None:
            assert where(found, f"listeners.{spec.service}") == (spec.file, spec.section, spec.key)
    smtp = proposal(found, "listeners.smtp")
    assert smtp.evidence == (Evidence("MDaemon.ini", "Port", "SMTPPort", 19, "25"),)
    assert str(smtp.evidence[0]) == "MDaemon.ini:19 [Port] SMTPPort = 25"
    assert where(found, "webmail.bind_list") == (
        "../WorldClient/WorldClient.ini",
        "WebServer",
        "BindIPs",
    )


def test_the_written_layout_reads_the_sample_as_the_shipped_one(app: Path) -> None:
    files = scan(app)
    layout = written(detect(files))
    assert layout.files == SHIPPED.files
    assert (layout.default_keys, layout.domain_keys) == (SHIPPED.default_keys, SHIPPED.domain_keys)
    assert layout.listeners == SHIPPED.listeners
    shipped, detected = read_config(files, SHIPPED), read_config(files, layout)
    assert detected.config == shipped.config
    assert detected.presence == shipped.presence


def rename(app: Path) -> None:
    ini, dat = app / "MDaemon.ini", app / "Domains.dat"
    edit(ini, b"SMTPPort=25", b"SmtpListenPort=25")
    edit(ini, b"IMAPPort=143", b"Imap4InPort=143")
    edit(ini, b"[Domain]", b"[DefaultDomain]")
    edit(ini, b"RestrictToDomainIP=", b"BindToDomainIP=")
    dat.write_bytes(dat.read_bytes().replace(b"\r\nIP=", b"\r\nIPAddress="))
    edit(app / "../WorldClient/WorldClient.ini", b"\r\nPort=3000", b"\r\nHttpPort=3000")


def test_renamed_keys_are_found_by_value_and_name(app: Path, tmp_path: Path) -> None:
    sample = read_config(scan(copy_sample(tmp_path / "orig")[0]), SHIPPED).config
    rename(app)
    files = scan(app)
    found = detect(files)
    assert found.complete, (found.ambiguous, found.unknown)
    assert where(found, "listeners.smtp") == ("MDaemon.ini", "Port", "SmtpListenPort")
    assert where(found, "listeners.imap") == ("MDaemon.ini", "Port", "Imap4InPort")
    assert where(found, "default_domain.section") == ("MDaemon.ini", "DefaultDomain", None)
    assert where(found, "default_domain.restrict")[2] == "BindToDomainIP"
    assert where(found, "domains.ip") == ("Domains.dat", None, "IPAddress")
    assert where(found, "listeners.webmail")[2] == "HttpPort"
    # the default port under a port-like name that fits the service: as sure as the shipped name
    assert proposal(found, "listeners.smtp").confidence is Confidence.HIGH
    layout = written(found)
    assert values(read_config(files, layout).config) == values(sample)


def test_moved_keys_and_files_are_found_where_they_are(app: Path, tmp_path: Path) -> None:
    sample = read_config(scan(copy_sample(tmp_path / "orig")[0]), SHIPPED).config
    ini = app / "MDaemon.ini"
    edit(ini, b"SMTPPort=25\r\n", b"")
    (app / "Ports.ini").write_bytes(b"[Inbound]\r\nSMTPPort=25\r\n")
    edit(ini, b"POP3Port=110\r\n", b"")
    edit(ini, b"RunAsService=Yes\r\n", b"RunAsService=Yes\r\nPOP3Port=110\r\n")
    (app / "Domains.dat").rename(app / "Domains.ini")
    shutil.move(app / "../WebAdmin", app / "../RemoteAdmin")
    (app / "../RemoteAdmin/WebAdmin.ini").rename(app / "../RemoteAdmin/RemoteAdmin.ini")
    files = scan(app)
    found = detect(files)
    assert found.complete, (found.ambiguous, found.unknown)
    assert where(found, "listeners.smtp") == ("Ports.ini", "Inbound", "SMTPPort")
    assert where(found, "listeners.pop3") == ("MDaemon.ini", "Startup", "POP3Port")
    assert where(found, "files.domains") == ("Domains.ini", None, None)
    assert where(found, "listeners.webadmin") == (
        "../RemoteAdmin/RemoteAdmin.ini",
        "WebServer",
        "Port",
    )
    layout = written(found)
    ids = dict(layout.files)
    assert ids["domains"] == "Domains.ini"  # the id follows its file
    assert ids["webadmin"] == "../RemoteAdmin/RemoteAdmin.ini"
    assert ids["ports"] == "Ports.ini"
    assert ids["mdaemon"] == "MDaemon.ini"
    assert values(read_config(files, layout).config) == values(sample)


def reorder(path: Path) -> None:
    """Sections in reverse order, and the keys of [Port] too (blocks are blank-line separated)."""
    blocks = path.read_bytes().removesuffix(b"\r\n").split(b"\r\n\r\n")
    for i, block in enumerate(blocks):
        if block.startswith(b"[Port]"):
            header, *keys = block.split(b"\r\n")
            blocks[i] = b"\r\n".join([header, *reversed(keys)])
    path.write_bytes(b"\r\n\r\n".join(reversed(blocks)) + b"\r\n")


def test_reordered_keys_sections_and_files_change_nothing_but_lines(app: Path) -> None:
    before = detect(scan(app))
    reorder(app / "MDaemon.ini")
    reorder(app / "Domains.dat")
    files = scan(app)
    after = detect(files)
    assert after.complete
    assert where(after, "listeners.smtp") == ("MDaemon.ini", "Port", "SMTPPort")
    assert proposal(after, "listeners.smtp").evidence[0].line != 19
    assert [(p.setting, p.file, p.section, p.key) for p in after.proposals] == [
        (p.setting, p.file, p.section, p.key) for p in before.proposals
    ]
    assert detect(dict(reversed(files.items()))) == after  # the mapping's order does not matter


def test_two_port_keys_with_the_default_are_ambiguous_and_kept(app: Path) -> None:
    edit(app / "MDaemon.ini", b"SMTPPort=25\r\n", b"ListenPort=25\r\nRelayPort=25\r\n")
    found = detect(scan(app))
    assert not found.complete
    smtp = found.outcome("listeners.smtp")
    assert isinstance(smtp, Ambiguity)
    assert [c.key for c in smtp.candidates] == ["ListenPort", "RelayPort"]
    text = render_layout(found, SHIPPED)
    block = text[text.index("[[smtp]]") : text.index("[[pop3]]")]
    assert "SMTP port: AMBIGUOUS" in block
    assert "candidate: MDaemon.ini:19 [Port] ListenPort = 25" in block
    assert "candidate: MDaemon.ini:20 [Port] RelayPort = 25" in block
    assert "key = SMTPPort" in block  # the default, not a guess
    assert parse_layout(text, "x").listeners == SHIPPED.listeners


def test_a_weaker_second_candidate_lowers_the_confidence_and_is_listed(app: Path) -> None:
    edit(app / "MDaemon.ini", b"SMTPPort=25\r\n", b"SMTPPort=25\r\nOutboundSMTPPort=25\r\n")
    found = detect(scan(app))
    smtp = proposal(found, "listeners.smtp")
    assert (smtp.key, smtp.confidence) == ("SMTPPort", Confidence.MEDIUM)
    assert [c.key for c in smtp.alternatives] == ["OutboundSMTPPort"]
    assert "or: MDaemon.ini:20 [Port] OutboundSMTPPort = 25" in render_layout(found, SHIPPED)


def test_one_key_is_never_two_settings(app: Path) -> None:
    ini = app / "MDaemon.ini"
    edit(ini, b"SMTPPort=25\r\n", b"")
    edit(ini, b"MSAPort=587", b"SMTPMSAPort=587")
    found = detect(scan(app))
    for setting in ("listeners.smtp", "listeners.msa"):
        item = found.outcome(setting)
        assert isinstance(item, Ambiguity), item
        assert "same key" in item.reason


def test_a_value_alone_does_not_take_a_key_named_for_another_service(app: Path) -> None:
    ini = app / "MDaemon.ini"
    edit(ini, b"SMTPPort=25\r\n", b"")
    edit(ini, b"IMAPPort=143", b"IMAPPort=25")
    found = detect(scan(app))
    assert isinstance(found.outcome("listeners.smtp"), Unknown)
    assert where(found, "listeners.imap") == ("MDaemon.ini", "Port", "IMAPPort")


def test_two_alike_domain_files_leave_the_domain_keys_unknown(app: Path) -> None:
    (app / "Domains.dat").rename(app / "Sites.dat")
    shutil.copy(app / "Sites.dat", app / "Hosted.dat")
    found = detect(scan(app))
    domains = found.outcome("files.domains")
    assert isinstance(domains, Ambiguity)
    assert [c.file for c in domains.candidates] == ["Hosted.dat", "Sites.dat"]
    ip = found.outcome("domains.ip")
    assert isinstance(ip, Unknown)
    assert "domain file" in ip.reason
    layout = written(found)
    assert layout.domain_keys == SHIPPED.domain_keys  # kept, with comments saying so


def test_missing_files_make_unknown_settings_with_the_default_kept(app: Path) -> None:
    shutil.rmtree(app / "../WebAdmin")
    found = detect(scan(app))
    assert {u.setting for u in found.unknown} == {"listeners.webadmin", "webadmin.bind_list"}
    text = render_layout(found, SHIPPED)
    assert "# WebAdmin port: not detected (no key in the scanned files" in text
    assert parse_layout(text, "x").listeners == SHIPPED.listeners


def test_odd_key_names_are_quoted_or_kept_at_the_default(app: Path) -> None:
    ini = app / "MDaemon.ini"
    edit(ini, b"SMTPPort=25", b"SMTP#1,Port=25")
    edit(ini, b"POP3Port=110", b"POP3[in]Port=110")
    found = detect(scan(app))
    assert where(found, "listeners.pop3")[2] == "POP3[in]Port"
    text = render_layout(found, SHIPPED)
    assert "a name a layout cannot hold; kept the default" in text
    specs = {s.service: s for s in parse_layout(text, "x").listeners}
    assert specs["smtp"].key == "SMTP#1,Port"
    assert specs["pop3"].key == "POP3Port"


def test_bind_lists_are_found_by_their_values(app: Path) -> None:
    edit(app / "../WorldClient/WorldClient.ini", b"BindIPs=", b"Listen=127.0.0.1:3000, 10.0.0.1")
    found = detect(scan(app))
    bind = proposal(found, "webmail.bind_list")
    assert (bind.key, bind.confidence) == ("Listen", Confidence.HIGH)
    assert "Listen = 127.0.0.1:3000, 10.0.0.1" in render_layout(found, SHIPPED)


@pytest.mark.parametrize(
    ("value", "kind"),
    [
        ("", "blank"),
        ("Yes", "bool"),
        ("off", "bool"),
        ("25", "int"),
        ("70000", "other"),
        ("203.0.113.10", "ipv4"),
        ("2001:db8::1", "ipv6"),
        ("mail.example.com", "host"),
        ("*", "binds"),
        ("127.0.0.1:3000,[::1]:3000", "binds"),
        ("203.0.113.1, 203.0.113.2", "binds"),
        ("example", "other"),
        ("1.2.3", "other"),
    ],
)
def test_value_kinds(value: str, kind: str) -> None:
    assert kind_of(value) == kind


def test_many_domains_are_read_in_one_pass(app: Path) -> None:
    sections = b"".join(
        b"[d%d.example.org]\r\nIP=203.0.113.%d\r\nBind=No\r\n" % (i, i % 250 + 1)
        for i in range(5000)
    )
    with open(app / "Domains.dat", "ab") as f:
        f.write(b"\r\n" + sections)
    found = detect(scan(app))
    assert where(found, "domains.ip") == ("Domains.dat", None, "IP")
    assert proposal(found, "files.domains").reason.startswith("5003 sections named like domains")


def test_the_read_edge_caps_what_it_reads(app: Path) -> None:
    size = len((app / "Domains.dat").read_bytes())
    found = read_candidates(app, max_bytes=size)
    assert "Domains.dat" in found.data
    assert f"over the cap of {size}" in dict(found.skipped)["MDaemon.ini"]
    found = read_candidates(app, max_files=2)
    assert list(found.data) == ["Domains.dat", "MDaemon.ini"]
    assert "more than 2 files" in dict(found.skipped)["../WorldClient/WorldClient.ini"]
    found = read_candidates(app, max_total=size)
    assert list(found.data) == ["Domains.dat"]
    assert "would pass" in dict(found.skipped)["MDaemon.ini"]


def test_the_read_edge_reads_regular_ini_and_dat_files_only(app: Path) -> None:
    (app / "Folder.ini").mkdir()
    (app / "notes.txt").write_bytes(b"[Port]\r\nSMTPPort=25\r\n")
    found = read_candidates(app)
    assert dict(found.skipped)["Folder.ini"] == "not a regular file"
    assert "notes.txt" not in found.data
    assert "notes.txt" not in dict(found.skipped)


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="named pipes made by mkfifo are POSIX")
def test_a_fifo_is_stat_ed_never_opened(app: Path) -> None:
    os.mkfifo(app / "Pipe.ini")  # reading it would block
    assert dict(read_candidates(app).skipped)["Pipe.ini"] == "not a regular file"


@needs_symlinks
def test_the_read_edge_stays_in_the_mdaemon_folder(app: Path, tmp_path: Path) -> None:
    outside = tmp_path / "outside.ini"
    outside.write_bytes(b"[Port]\r\nSMTPPort=25\r\n")
    (app / "Linked.ini").symlink_to(outside)
    (app / "../WebAdmin").rename(tmp_path / "WebAdmin")
    (app / "../WebAdmin").symlink_to(tmp_path / "WebAdmin")  # a web folder that leads out
    found = read_candidates(app)
    skipped = dict(found.skipped)
    assert "outside the MDaemon folder" in skipped["Linked.ini"]
    assert "outside the MDaemon folder" in skipped["../WebAdmin/WebAdmin.ini"]
    assert sorted(found.data) == sorted(
        ["Domains.dat", "MDaemon.ini", "../WorldClient/WorldClient.ini"]
    )


def test_an_ambiguous_default_domain_section_leaves_its_keys_unknown(app: Path) -> None:
    text = (app / "MDaemon.ini").read_bytes()
    start = text.index(b"[Domain]")
    (app / "Old.ini").write_bytes(text[start : text.index(b"[Port]")])
    found = detect(scan(app))
    section = found.outcome("default_domain.section")
    assert isinstance(section, Ambiguity)
    assert [c.file for c in section.candidates] == ["MDaemon.ini", "Old.ini"]
    ip = found.outcome("default_domain.ip")
    assert isinstance(ip, Unknown)
    assert "section is not known" in ip.reason
    assert written(found).default_keys == SHIPPED.default_keys


def test_a_section_name_no_layout_can_hold_keeps_the_default_and_says_so(app: Path) -> None:
    edit(app / "MDaemon.ini", b"[Domain]", b"[Default=Domain]")
    found = detect(scan(app))
    assert where(found, "default_domain.section") == ("MDaemon.ini", "Default=Domain", None)
    text = render_layout(found, SHIPPED)
    assert "[Default=Domain], a name a layout cannot hold; kept the default" in text
    assert "[Default=Domain] DomainIP = 203.0.113.10, a name a layout cannot hold" in text
    assert parse_layout(text, "x").default_keys == SHIPPED.default_keys


def test_moved_files_with_the_same_name_get_their_own_ids(app: Path) -> None:
    edit(app / "MDaemon.ini", b"SMTPPort=25\r\n", b"")
    (app / "Ports.ini").write_bytes(b"[In]\r\nSMTPPort=25\r\n")
    edit(app / "../WorldClient/WorldClient.ini", b"\r\nPort=3000", b"")
    (app / "../WorldClient/Ports.ini").write_bytes(b"[Web]\r\nPort=3000\r\n")
    files = scan(app)
    layout = written(detect(files))
    ids = dict(layout.files)
    assert ids["ports"] == "Ports.ini"
    assert ids["ports_2"] == "../WorldClient/Ports.ini"
    assert ids["worldclient"] == "../WorldClient/WorldClient.ini"  # the HTTPS port stayed
    ports = {x.service: x.port for x in read_config(files, layout).config.listeners}
    assert (ports["smtp"], ports["webmail"], ports["webmail_https"]) == (25, 3000, 443)


@needs_symlinks
def test_a_dangling_link_is_skipped_with_its_reason(app: Path, tmp_path: Path) -> None:
    (app / "Gone.ini").symlink_to(tmp_path / "nothing.ini")
    assert "cannot read it" in dict(read_candidates(app).skipped)["Gone.ini"]
