"""The names and dates of a server's X.509 certificate, read from its DER bytes.

Pure: bytes in, a CertInfo out. Reads only what `verify` reports (subject CN, subjectAltName DNS
names and IP addresses, notBefore/notAfter); verifies nothing (no signature, no chain). Any
malformed input raises CertError, never another exception and never an endless loop: every
length is checked against the bytes that are there.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from ipaddress import ip_address
from typing import Final

__all__ = ["CertError", "CertInfo", "name_matches", "parse_cert"]


class CertError(ValueError):
    """The bytes are not a certificate this reader understands."""


@dataclass(frozen=True, slots=True)
class CertInfo:
    """What a certificate says about itself (nothing here is verified)."""

    names: tuple[str, ...]  # subjectAltName DNS names and IPs; the subject CN when no SAN
    not_before: datetime  # UTC
    not_after: datetime  # UTC
    common_name: str | None = None

    def matches(self, host: str) -> bool:
        return any(name_matches(name, host) for name in self.names)


# DER tags (X.690): universal ones, and the context-specific ones X.509 uses.
_SEQUENCE: Final = 0x30
_SET: Final = 0x31
_OID: Final = 0x06
_OCTETS: Final = 0x04
_BOOLEAN: Final = 0x01
_UTC_TIME: Final = 0x17
_GENERALIZED_TIME: Final = 0x18
_VERSION: Final = 0xA0  # [0] EXPLICIT
_EXTENSIONS: Final = 0xA3  # [3] EXPLICIT
_SAN_DNS: Final = 0x82  # GeneralName dNSName [2] IMPLICIT IA5String
_SAN_IP: Final = 0x87  # GeneralName iPAddress [7] IMPLICIT OCTET STRING
# Encoded OID contents: 2.5.4.3 (commonName), 2.5.29.17 (subjectAltName).
_CN_OID: Final = bytes((0x55, 0x04, 0x03))
_SAN_OID: Final = bytes((0x55, 0x1D, 0x11))
_STRINGS: Final = {
    0x0C: "utf-8",  # UTF8String
    0x13: "ascii",  # PrintableString
    0x16: "ascii",  # IA5String
    0x14: "latin-1",  # TeletexString, as everyone reads it
    0x1E: "utf-16-be",  # BMPString
}

_Node = tuple[int, int, int]  # (tag, first byte of the value, end of the value)


def _node(data: bytes, pos: int, end: int) -> _Node:
    """The TLV at data[pos:end]; CertError when it does not fit."""
    if pos + 2 > end:
        raise CertError("truncated")
    tag, length = data[pos], data[pos + 1]
    if tag & 0x1F == 0x1F:
        raise CertError("multi-byte tags do not occur in X.509")
    pos += 2
    if length & 0x80:
        count = length & 0x7F
        if not 1 <= count <= 4 or pos + count > end:
            raise CertError("bad length")
        length = int.from_bytes(data[pos : pos + count], "big")
        pos += count
    if pos + length > end:
        raise CertError("truncated")
    return tag, pos, pos + length


def _children(data: bytes, node: _Node, tag: int) -> list[_Node]:
    """The elements inside a constructed node, which must carry `tag`."""
    if node[0] != tag:
        raise CertError(f"expected tag {tag:#04x}, found {node[0]:#04x}")
    out: list[_Node] = []
    pos, end = node[1], node[2]
    while pos < end:  # every element is at least 2 bytes long: at most (end - pos) / 2 passes
        child = _node(data, pos, end)
        out.append(child)
        pos = child[2]
    return out


def _value(data: bytes, node: _Node) -> bytes:
    return data[node[1] : node[2]]


def _time(data: bytes, node: _Node) -> datetime:
    """RFC 5280 4.1.2.5: UTCTime YYMMDDHHMMSSZ (YY < 50 is 20YY), GeneralizedTime with 4 digits."""
    text = _value(data, node).decode("ascii", "replace")
    if node[0] == _UTC_TIME and len(text) == 13:
        year = int(text[:2]) if text[:2].isdigit() else -1
        text = f"{19 if year >= 50 else 20}{text}"
    elif node[0] != _GENERALIZED_TIME or len(text) != 15:
        raise CertError(f"unreadable time {text!r}")
    try:
        return datetime.strptime(text, "%Y%m%d%H%M%SZ").replace(tzinfo=UTC)
    except ValueError as exc:
        raise CertError(f"unreadable time {text!r}") from exc


def _string(data: bytes, node: _Node) -> str:
    codec = _STRINGS.get(node[0])
    if codec is None:
        raise CertError(f"unknown string type {node[0]:#04x}")
    try:
        return _value(data, node).decode(codec)
    except UnicodeDecodeError as exc:
        raise CertError("badly encoded string") from exc


def _common_name(data: bytes, name: _Node) -> str | None:
    """The first commonName of a Name (SEQUENCE OF SET OF AttributeTypeAndValue)."""
    for rdn in _children(data, name, _SEQUENCE):
        for pair in _children(data, rdn, _SET):
            kind, *value = _children(data, pair, _SEQUENCE)
            if kind[0] == _OID and _value(data, kind) == _CN_OID and len(value) == 1:
                return _string(data, value[0])
    return None


def _alt_names(data: bytes, extensions: _Node) -> tuple[str, ...] | None:
    """The subjectAltName's DNS names and IPs; None when the certificate has no SAN."""
    wrapped = _children(data, extensions, _EXTENSIONS)
    if len(wrapped) != 1:
        raise CertError("bad extensions")
    for ext in _children(data, wrapped[0], _SEQUENCE):
        parts = _children(data, ext, _SEQUENCE)  # extnID, critical (optional), extnValue
        shape = [p[0] for p in parts]
        if shape not in ([_OID, _OCTETS], [_OID, _BOOLEAN, _OCTETS]):
            raise CertError("bad extension")
        if _value(data, parts[0]) != _SAN_OID:
            continue
        inner = _node(data, parts[-1][1], parts[-1][2])
        names: list[str] = []
        for general in _children(data, inner, _SEQUENCE):
            raw = _value(data, general)
            if general[0] == _SAN_DNS:
                names.append(raw.decode("ascii", "replace"))
            elif general[0] == _SAN_IP and len(raw) in (4, 16):
                names.append(str(ip_address(raw)))
        return tuple(names)
    return None


def parse_cert(der: bytes) -> CertInfo:
    """Read a DER certificate's names and validity; CertError when it cannot be read."""
    try:
        cert = _node(der, 0, len(der))
        if cert[2] != len(der):
            raise CertError("bytes after the certificate")
        fields = _children(der, _children(der, cert, _SEQUENCE)[0], _SEQUENCE)
        if fields and fields[0][0] == _VERSION:
            fields = fields[1:]
        # serial, signature algorithm, issuer, validity, subject, public key, [1], [2], [3]
        if len(fields) < 6:
            raise CertError("too few fields")
        not_before, not_after = _children(der, fields[3], _SEQUENCE)
        common_name = _common_name(der, fields[4])
        extensions = next((f for f in fields[6:] if f[0] == _EXTENSIONS), None)
        alt = None if extensions is None else _alt_names(der, extensions)
        valid = _time(der, not_before), _time(der, not_after)
    except CertError:
        raise
    except (IndexError, ValueError) as exc:  # an element count that is not X.509's
        raise CertError("its fields are not X.509's") from exc
    # RFC 6125: the CN is looked at only when there is no subjectAltName (OpenSSL does so too).
    names = alt if alt is not None else (() if common_name is None else (common_name,))
    return CertInfo(names, valid[0], valid[1], common_name)


def _fold(name: str) -> str:
    return name.rstrip(".").casefold()


def name_matches(pattern: str, host: str) -> bool:
    """RFC 6125 6.4: exact match without regard to case, or `*` as the whole leftmost label of
    a pattern with at least two more labels, standing for exactly one label of `host`."""
    pattern, host = _fold(pattern), _fold(host)
    if not pattern or not host:
        return False
    if pattern == host:
        return True
    first, _, rest = pattern.partition(".")
    label, _, host_rest = host.partition(".")
    return first == "*" and rest.count(".") >= 1 and bool(label) and rest == host_rest
