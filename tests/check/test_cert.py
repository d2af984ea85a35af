"""Reading a certificate's names and dates from DER: real certificates from trustme, then junk."""

from __future__ import annotations

import contextlib
import ssl
from datetime import UTC, datetime

import pytest
import trustme
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from hypothesis import given
from hypothesis import strategies as st

from bindmgr.check.cert import CertError, CertInfo, name_matches, parse_cert

CA = trustme.CA()


def der_of(cert: trustme.LeafCert) -> bytes:
    return ssl.PEM_cert_to_DER_cert(cert.cert_chain_pems[0].bytes().decode("ascii"))


def at(year: int, month: int = 1, day: int = 1) -> datetime:
    return datetime(year, month, day, tzinfo=UTC)


def test_names_and_dates_of_a_trustme_certificate() -> None:
    leaf = CA.issue_cert(
        "mail-2.example.com",
        "*.example.org",
        "127.0.0.1",
        "::1",
        common_name="mail-2.example.com",
        not_before=at(2024, 3, 1),
        not_after=at(2030, 6, 15),
    )
    info = parse_cert(der_of(leaf))
    assert info == CertInfo(
        names=("mail-2.example.com", "*.example.org", "127.0.0.1", "::1"),
        not_before=at(2024, 3, 1),
        not_after=at(2030, 6, 15),
        common_name="mail-2.example.com",
    )
    assert info.matches("MAIL-2.example.com.")
    assert info.matches("webmail.example.org")
    assert not info.matches("mail-3.example.com")


def test_dates_from_2050_on_are_generalized_time() -> None:
    leaf = CA.issue_cert("a.example", not_before=at(1999, 12, 31), not_after=at(2061, 2, 3))
    info = parse_cert(der_of(leaf))
    assert (info.not_before, info.not_after) == (at(1999, 12, 31), at(2061, 2, 3))
    assert info.common_name is None


def self_signed(subject: x509.Name, *, san: list[x509.GeneralName] | None) -> bytes:
    key = ec.generate_private_key(ec.SECP256R1())
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(7)
        .not_valid_before(at(2020))
        .not_valid_after(at(2021))
    )
    if san is not None:
        builder = builder.add_extension(x509.SubjectAlternativeName(san), critical=True)
    cert = builder.sign(key, hashes.SHA256())
    return cert.public_bytes(serialization.Encoding.DER)


def test_without_a_san_the_common_name_is_the_name() -> None:
    subject = x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Example"),
            x509.NameAttribute(NameOID.COMMON_NAME, "legacy.example.com"),
        ]
    )
    info = parse_cert(self_signed(subject, san=None))
    assert info.names == ("legacy.example.com",)
    assert info.common_name == "legacy.example.com"
    assert parse_cert(self_signed(x509.Name([]), san=None)).names == ()


def test_with_a_san_the_common_name_is_not_a_name_and_a_critical_flag_is_read() -> None:
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "cn.example.com")])
    san: list[x509.GeneralName] = [
        x509.DNSName("san.example.com"),
        x509.RFC822Name("postmaster@example.com"),  # not a host name: left out
    ]
    info = parse_cert(self_signed(subject, san=san))
    assert info.names == ("san.example.com",)
    assert info.common_name == "cn.example.com"
    assert not info.matches("cn.example.com")


@pytest.mark.parametrize(
    ("pattern", "host", "expected"),
    [
        ("mail.example.com", "mail.example.com", True),
        ("Mail.Example.COM.", "mail.example.com", True),
        ("*.example.com", "mail-2.example.com", True),
        ("*.example.com", "a.b.example.com", False),  # one label only
        ("*.example.com", "example.com", False),
        ("*.com", "example.com", False),  # at least two labels after the wildcard
        ("m*.example.com", "mail.example.com", False),  # no partial wildcards
        ("mail.*.com", "mail.example.com", False),
        ("", "mail.example.com", False),
        ("mail.example.com", "", False),
        ("*.example.com", ".example.com", False),
    ],
)
def test_name_matching(pattern: str, host: str, expected: bool) -> None:
    assert name_matches(pattern, host) is expected


GOOD = der_of(CA.issue_cert("mail.example.com", not_after=at(2030)))


@pytest.mark.parametrize(
    "der",
    [
        b"",
        b"\x30",
        b"\x30\x00",
        b"\x30\x85\x00\x00\x00\x00\x01",  # a 5-byte length
        b"\x30\x80",  # indefinite length (BER, not DER)
        b"\x1f\x01\x00",  # a multi-byte tag
        b"\x04\x00",  # not a SEQUENCE
        GOOD[:-1],
        GOOD + b"\x00",
        GOOD[:40],
    ],
    ids=repr,
)
def test_junk_raises_cert_error(der: bytes) -> None:
    with pytest.raises(CertError):
        parse_cert(der)


def tlv(tag: int, *parts: bytes) -> bytes:
    body = b"".join(parts)
    size = len(body)
    head = (
        bytes((size,))
        if size < 128
        else bytes((0x81, size))
        if size < 256
        else b"\x82" + size.to_bytes(2, "big")
    )
    return bytes((tag,)) + head + body


SEQ = 0x30
CN = tlv(0x06, b"\x55\x04\x03")
SAN = tlv(0x06, b"\x55\x1d\x11")
UTC_2030 = tlv(0x17, b"300101000000Z")


def name(value: bytes) -> bytes:
    return tlv(SEQ, tlv(0x31, tlv(SEQ, CN, value)))


def built(
    *,
    validity: bytes = tlv(SEQ, UTC_2030, UTC_2030),
    subject: bytes = tlv(SEQ),
    extensions: bytes | None = None,
    version: bool = True,
    wrapper: bytes | None = None,
) -> bytes:
    """A certificate made by hand, field by field (the signature is not looked at)."""
    fields = [
        *([tlv(0xA0, tlv(0x02, b"\x02"))] if version else []),
        tlv(0x02, b"\x01"),  # serial
        tlv(SEQ),  # signature algorithm
        tlv(SEQ),  # issuer
        validity,
        subject,
        tlv(SEQ),  # public key
        *([] if extensions is None else [tlv(0xA3, tlv(SEQ, extensions))]),
        *([] if wrapper is None else [wrapper]),
    ]
    return tlv(SEQ, tlv(SEQ, *fields), tlv(SEQ), tlv(0x03, b"\x00"))


def san(*names: bytes, critical: bool = False) -> bytes:
    flag = [tlv(0x01, b"\xff")] if critical else []
    return tlv(SEQ, SAN, *flag, tlv(0x04, tlv(SEQ, *names)))


@pytest.mark.parametrize(
    ("der", "names", "cn"),
    [
        (
            built(subject=name(tlv(0x1E, "bmp.example".encode("utf-16-be")))),
            ("bmp.example",),
            "bmp.example",
        ),
        (built(subject=name(tlv(0x14, b"t\xe9l\xe9.example"))), ("télé.example",), "télé.example"),
        (
            built(version=False, subject=name(tlv(0x13, b"v1.example"))),
            ("v1.example",),
            "v1.example",
        ),
        (
            built(extensions=tlv(SEQ, tlv(0x06, b"\x55\x1d\x0f"), tlv(0x04, b"\x03\x02\x05\xa0"))),
            (),
            None,
        ),
        (
            built(
                extensions=san(
                    tlv(0x82, b"a.example"), tlv(0x87, b"\x0a\x00\x00\x02"), tlv(0x87, b"\x01")
                )
            ),
            ("a.example", "10.0.0.2"),
            None,
        ),
        (built(extensions=san(tlv(0x82, b"big.example" * 30))), ("big.example" * 30,), None),
    ],
    ids=["bmp-cn", "teletex-cn", "v1", "other-extension", "san-dns-ip-bad-ip", "long-lengths"],
)
def test_hand_built_certificates(der: bytes, names: tuple[str, ...], cn: str | None) -> None:
    info = parse_cert(der)
    assert (info.names, info.common_name) == (names, cn)
    assert info.not_after == at(2030)


@pytest.mark.parametrize(
    "der",
    [
        built(subject=name(tlv(0x03, b"\x00x"))),  # a BIT STRING is not a name
        built(subject=name(tlv(0x0C, b"\xff"))),  # not UTF-8
        built(validity=tlv(SEQ, UTC_2030)),
        built(validity=tlv(SEQ, UTC_2030, tlv(0x17, b"3001010000Z"))),  # no seconds
        built(validity=tlv(SEQ, UTC_2030, tlv(0x17, b"30013100000aZ"))),
        built(validity=tlv(SEQ, UTC_2030, tlv(0x18, b"20300231000000Z"))),  # 31 February
        built(validity=tlv(SEQ, UTC_2030, tlv(0x04, b"300101000000Z"))),
        built(extensions=tlv(SEQ, SAN)),  # no value
        built(extensions=tlv(SEQ, SAN, tlv(0x02, b"\x01"), tlv(0x04, b""))),
        tlv(SEQ, tlv(SEQ, tlv(0x02, b"\x01"))),  # too few fields
        built(wrapper=tlv(0xA3, tlv(SEQ), tlv(SEQ))),  # [3] holds one SEQUENCE
    ],
    ids=repr,
)
def test_hand_built_junk_raises_cert_error(der: bytes) -> None:
    with pytest.raises(CertError):
        parse_cert(der)


def test_a_critical_san_is_read() -> None:
    der = built(extensions=san(tlv(0x82, b"crit.example"), critical=True))
    assert parse_cert(der).names == ("crit.example",)


@given(st.binary(max_size=64))
def test_random_bytes_raise_only_cert_error(der: bytes) -> None:
    with contextlib.suppress(CertError):
        parse_cert(der)


@given(st.integers(0, len(GOOD) - 1), st.integers(0, 255))
def test_a_changed_byte_raises_only_cert_error(where: int, value: int) -> None:
    changed = GOOD[:where] + bytes((value,)) + GOOD[where + 1 :]
    try:
        info = parse_cert(changed)
    except CertError:
        return
    assert isinstance(info.not_after, datetime)
