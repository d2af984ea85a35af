"""What a value or a name says about a setting, for layout detection (`read/detect`).

The settings detection looks for, the seed's default ports, the value kinds (IPv4, Yes/No, a
domain name, a bind list...) and the key names that fit each setting. Pure: strings in, answers
out; no file is read here and no decision between candidates is taken here.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass
from functools import lru_cache

from bindmgr.ini.codec import fold

# (service, default port, the shipped layout's key, a name that fits, one that does not), by
# group of files: the App folder, ../WorldClient, ../WebAdmin or ../RemoteAdmin. Names are
# matched on their letters and digits, lower case, without "port".
PORTS: dict[str, tuple[tuple[str, int, str, str, str | None], ...]] = {
    "app": (
        ("smtp", 25, "SMTPPort", r"smtp", r"ssl|tls|smtps"),
        ("pop3", 110, "POP3Port", r"pop", r"ssl|tls|pop3?s"),
        ("imap", 143, "IMAPPort", r"imap", r"ssl|tls|imaps"),
        ("odmr", 366, "ODMRPort", r"odmr|atrn", None),
        ("smtps", 465, "SMTPSSLPort", r"smtp(s|ssl|tls)|ssmtp", None),
        ("msa", 587, "MSAPort", r"msa|submission", None),
        ("imaps", 993, "IMAPSSLPort", r"imap4?(s|ssl|tls)", None),
        ("pop3s", 995, "POP3SSLPort", r"pop3?(s|ssl|tls)", None),
        ("minger", 4069, "MingerPort", r"minger", None),
    ),
    "webmail": (
        ("webmail", 3000, "Port", r"^(http|web|webserver|listen|worldclient)?$", None),
        ("webmail_https", 443, "SSLPort", r"ssl|https|tls", None),
    ),
    "webadmin": (("webadmin", 1000, "Port", r"^(http|web|webserver|listen|webadmin)?$", None),),
}
LISTENER_LABELS = {
    "smtp": "SMTP",
    "pop3": "POP3",
    "imap": "IMAP",
    "odmr": "ODMR",
    "smtps": "SMTP SSL",
    "msa": "MSA",
    "imaps": "IMAP SSL",
    "pop3s": "POP3 SSL",
    "minger": "Minger",
    "webmail": "WorldClient",
    "webmail_https": "WorldClient HTTPS",
    "webadmin": "WebAdmin",
}
# Every setting detection reports on, in report order: id -> label.
SETTINGS: dict[str, str] = {
    "files.domains": "domain file",
    "default_domain.section": "Default Domain section",
    "default_domain.name": "Default Domain name",
    "default_domain.fqdn": "Default Domain FQDN",
    "default_domain.ip": "Default Domain IP",
    "default_domain.ipv6": "Default Domain IPv6",
    "default_domain.restrict": "Default Domain restrict flag",
    "domains.ip": "secondary domains: IP",
    "domains.bind": "secondary domains: Bind",
    "domains.ipv6": "secondary domains: IPv6",
    "domains.fqdn": "secondary domains: FQDN",
    **{f"listeners.{s}": f"{label} port" for s, label in LISTENER_LABELS.items()},
    "webmail.bind_list": "WorldClient bind list",
    "webadmin.bind_list": "WebAdmin bind list",
}


@dataclass(frozen=True, slots=True)
class Role:
    """A key setting: the value kind that proves it, the shipped name, names that fit."""

    setting: str
    kind: str
    known: str
    fits: str
    needs_name: bool  # a value of the kind alone is too common to count (Yes/No, names)


IP_NAME = r"(^|domain)ip(v4)?(addr(ess)?)?$|^ipaddr|^address$"
_IP6_NAME = r"ipv?6"
DEFAULT_ROLES = (
    Role("default_domain.name", "host", "DomainName", r"domainname|^name$|defaultdomain", True),
    Role("default_domain.fqdn", "host", "FQDN", r"fqdn|hostname", True),
    Role("default_domain.ip", "ipv4", "DomainIP", IP_NAME, False),
    Role("default_domain.ipv6", "ipv6", "DomainIP6", _IP6_NAME, False),
    Role("default_domain.restrict", "bool", "RestrictToDomainIP", r"restrict|bind|exclusive", True),
)
DOMAIN_ROLES = (
    Role("domains.ip", "ipv4", "IP", IP_NAME, False),
    Role("domains.bind", "bool", "Bind", r"bind|restrict", True),
    Role("domains.ipv6", "ipv6", "IP6", _IP6_NAME, False),
    Role("domains.fqdn", "host", "FQDN", r"fqdn|hostname", True),
)
BIND_LIST = Role("bind_list", "binds", "BindIPs", r"bind|listen", False)
# Said of a name, by its level. The expected names are the default layout's (BindIPs: the
# sample's, an assumed name).
NAMED = ("", ", its name fits", ", the expected name")
KIND_WORDS = {
    "blank": "blank",
    "bool": "Yes/No",
    "ipv4": "an IPv4 address",
    "ipv6": "an IPv6 address",
    "host": "a domain name",
    "binds": "a bind list (IP[:port], * or a comma list)",
}

HOST = re.compile(
    r"(?=.{1,253}\Z)(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z](?:[a-z0-9-]{0,61}[a-z0-9])?\Z",
    re.IGNORECASE,
)
_BOOLS = frozenset({"yes", "no", "true", "false", "on", "off"})
_NUMBER = re.compile(r"[0-9]{1,5}\Z")
_WITH_PORT = re.compile(r"(\*|[0-9.]+|\[[0-9a-fA-F:.]+\]):[0-9]{1,5}\Z")


def _ip_version(text: str) -> int | None:
    try:
        return ipaddress.ip_address(text).version
    except ValueError:
        return None


def _bind_item(item: str) -> bool:
    m = _WITH_PORT.match(item)
    host = item if m is None else m.group(1)
    return host == "*" or _ip_version(host.removeprefix("[").removesuffix("]")) is not None


@lru_cache(maxsize=4096)  # a few distinct values repeat across thousands of domains
def kind_of(value: str) -> str:
    """blank, bool, int (1-65535), ipv4, ipv6, host (a domain name), binds (`*`, IP:port or a
    comma list of addresses) or other."""
    if value == "":
        return "blank"
    if value.casefold() in _BOOLS:
        return "bool"
    if _NUMBER.match(value):
        return "int" if 1 <= int(value) <= 65535 else "other"
    version = _ip_version(value)
    if version is not None:
        return f"ipv{version}"
    if HOST.match(value):
        return "host"
    items = [i.strip(" \t") for i in value.split(",")]
    return "binds" if all(_bind_item(i) for i in items) else "other"


def name_level(
    key: str, known: str, fits: str, unfit: str | None = None, *, port: bool = False
) -> int:
    """2: the shipped layout's name (compared as Windows does); 1: a name that fits; 0: neither."""
    if fold(key) == fold(known):
        return 2
    stem = re.sub(r"[^a-z0-9]", "", key.casefold())
    stem = stem.replace("port", "") if port else stem
    return int(re.search(fits, stem) is not None and not (unfit and re.search(unfit, stem)))
