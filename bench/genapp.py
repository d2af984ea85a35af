"""Synthetic MDaemon data for benchmarks: a domain file with n domain sections.

Deterministic and pure (returns bytes; writes nothing). CRLF line endings, cp1252, as MDaemon
writes its files.
"""

from __future__ import annotations

DOMAIN_KEYS = (
    "IP",
    "Bind",
    "FQDN",
    "MaxUsers",
    "MaxLists",
    "MaxInactive",
    "MaxMessageAge",
    "MaxDeletedIMAPMessageAge",
    "RecurseIMAP",
    "EnableAntiVirus",
    "EnableAntiSpam",
)


def domain_name(i: int) -> str:
    """The section name of the i-th generated domain (1-based)."""
    return f"mail-{i}.example.com"


def make_domains_file(n: int) -> bytes:
    """A domain file with n sections of 11 keys each (~24 lines per 2 sections)."""
    lines: list[str] = []
    for i in range(1, n + 1):
        name = domain_name(i)
        values = (
            f"10.{i // 65536 % 256}.{i // 256 % 256}.{i % 256}",
            "Yes" if i % 3 else "No",
            name,
            str(i % 50),
            str(i % 7),
            "0" if i % 2 else "90",
            "0",
            "30",
            "Yes",
            "Yes" if i % 5 else "No",
            "Yes",
        )
        lines.append(f"[{name}]")
        lines.extend(f"{k}={v}" for k, v in zip(DOMAIN_KEYS, values, strict=True))
    return "".join(f"{line}\r\n" for line in lines).encode("cp1252")
