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


# Customer domains of a hosting provider: what most sections of a real domain file look like.
_CUSTOMER_WORDS = ("mueller", "baeckerei", "autohaus", "praxis", "kanzlei", "hotel", "elektro")
_CUSTOMER_TLDS = ("de", "com", "net", "at", "ch", "org", "eu")


def bound_ip(n: int) -> str:
    """The loopback address `mail-n.example.com` holds in a mixed file: 127.88.x.y (n <= 65535)."""
    return f"127.88.{n // 256}.{n % 256}"


def make_mixed_domains_file(n: int, *, bound: int = 32) -> bytes:
    """A domain file with n sections as a hosting provider's would be, with `;` comments.

    `bound` sections are `mail-2.example.com`, `mail-3...` bound to `bound_ip(2)`, ... (the
    multi-IP trick already in use: IP, Bind=Yes, FQDN, IP6); the other n - bound are customer
    domains with quota keys and Bind=No, one in 25 holding an unbound TEST-NET IP and one in 10
    a comment with cp1252 letters.
    """
    lines = ["; Domains.dat - secondary domains, one section per domain"]
    for k in range(2, bound + 2):
        name = f"mail-{k}.example.com"
        lines += [f"[{name}]", f"IP={bound_ip(k)}", "Bind=Yes", f"FQDN={name}", "IP6=", ""]
    for i in range(n - bound):
        word, tld = _CUSTOMER_WORDS[i % 7], _CUSTOMER_TLDS[i // 7 % 7]
        lines.append(f"[{word}-{i}.{tld}]")
        if i % 10 == 0:
            lines.append("; Kunde seit 2011 (Geschäftsführung: Zoë Ærø, Straße 5)")
        values = (
            f"198.51.100.{i % 250 + 1}" if i % 25 == 0 else "",
            "No",
            str(5 + i % 400),
            str(i % 20),
            "0",
            str(i % 4 * 30),
            "0",
            "No" if i % 3 else "Yes",
            "Yes",
            "Yes" if i % 5 else "No",
        )
        keys = [k for k in DOMAIN_KEYS if k != "FQDN"]
        lines.extend(f"{k}={v}" for k, v in zip(keys, values, strict=True))
        lines.append("")
    return "".join(f"{line}\r\n" for line in lines).encode("cp1252")
