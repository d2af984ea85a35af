"""Where each layout setting lives, found in MDaemon's own files (`bindmgr layout detect`).

Scanned INI files in (path relative to the App folder -> IniFile), a `Detection` out: for each
setting the file, section and key that hold it, the evidence and a confidence; candidates that
score the same make a setting ambiguous, none makes it unknown. It never guesses between them.
Pure, deterministic and linear in the input; `read/layout_text` turns it into a layout file.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from enum import Enum

from bindmgr.ini.codec import fold
from bindmgr.ini.file import IniFile
from bindmgr.read.clues import (
    BIND_LIST,
    DEFAULT_ROLES,
    DOMAIN_ROLES,
    HOST,
    IP_NAME,
    KIND_WORDS,
    NAMED,
    PORTS,
    SETTINGS,
    Role,
    kind_of,
    name_level,
)

_EVIDENCE = 3  # lines of evidence kept per candidate


class Confidence(Enum):
    HIGH = "high"
    MEDIUM = "medium"
    LOW = "low"

    def lower(self) -> Confidence:
        return Confidence.MEDIUM if self is Confidence.HIGH else Confidence.LOW


@dataclass(frozen=True, slots=True)
class Evidence:
    """One line that supports a candidate: `file:line [section] key = value`."""

    file: str
    section: str | None
    key: str | None  # None: the section header itself
    line: int | None
    value: str

    def __str__(self) -> str:
        text = self.file if self.line is None else f"{self.file}:{self.line}"
        if self.section is not None:
            text += f" [{self.section}]"
        if self.key is not None:
            text += f" {self.key} = {self.value if self.value else '(blank)'}"
        return text


@dataclass(frozen=True, slots=True)
class Candidate:
    """A place a setting may live. section None: each domain's own; key None: a file/section."""

    file: str
    section: str | None
    key: str | None
    score: int  # a point for a value of the right kind, one (two: the shipped name) for the name
    reason: str
    evidence: tuple[Evidence, ...]


@dataclass(frozen=True, slots=True)
class Proposal:
    setting: str
    file: str
    section: str | None
    key: str | None
    confidence: Confidence
    evidence: tuple[Evidence, ...]
    alternatives: tuple[Candidate, ...] = ()
    reason: str = ""


@dataclass(frozen=True, slots=True)
class Ambiguity:
    setting: str
    candidates: tuple[Candidate, ...]
    reason: str


@dataclass(frozen=True, slots=True)
class Unknown:
    setting: str
    reason: str


Outcome = Proposal | Ambiguity | Unknown


@dataclass(frozen=True, slots=True)
class Detection:
    proposals: tuple[Proposal, ...]
    ambiguous: tuple[Ambiguity, ...]
    unknown: tuple[Unknown, ...]

    @property
    def complete(self) -> bool:
        """Every setting found, none ambiguous."""
        return not self.ambiguous and not self.unknown

    def outcome(self, setting: str) -> Outcome | None:
        found: tuple[Outcome, ...] = (*self.proposals, *self.ambiguous, *self.unknown)
        for item in found:
            if item.setting == setting:
                return item
        return None


def describe(item: Candidate | Proposal) -> str:
    """Where a candidate is, for people: its first line of evidence, or the file it names."""
    if item.key is None and item.section is None:
        return f"{item.file} ({item.reason})"
    if item.section is None:
        example = f", e.g. {item.evidence[0]}" if item.evidence else ""
        return f"{item.key} in each domain's section of {item.file}{example}"
    return str(item.evidence[0]) if item.evidence else f"{item.file} [{item.section}] {item.key}"


@dataclass(frozen=True, slots=True)
class _Section:
    file: str
    name: str
    entries: Mapping[str, tuple[str, str]]  # folded key -> (key, value)
    ini: IniFile

    def evidence(self, key: str | None, value: str = "") -> Evidence:
        return Evidence(self.file, self.name, key, self.ini.line_of(self.name, key), value)


def _group(path: str) -> str | None:
    """app (the App folder), webmail (../WorldClient), webadmin (../WebAdmin, ../RemoteAdmin)."""
    folded = path.replace("\\", "/").casefold()
    if not folded.startswith("../"):
        return "app"
    top = folded.split("/")[1]
    return {"worldclient": "webmail", "webadmin": "webadmin", "remoteadmin": "webadmin"}.get(top)


def detect(files: Mapping[str, IniFile]) -> Detection:
    """Propose the file, section and key of every setting in SETTINGS (see docs/layout.md)."""
    groups: dict[str, list[_Section]] = {"app": [], "webmail": [], "webadmin": []}
    for path in sorted(files, key=lambda p: (p.casefold(), p)):
        group, ini = _group(path), files[path]
        if group is not None:
            groups[group] += (
                _Section(path, s, ini.section_entries(s), ini) for s in ini.sections()
            )
    app = groups["app"]
    domain_sections = [s for s in app if _is_domain(s)]
    domain_file = _decide("files.domains", list(_domain_files(domain_sections)))
    outcomes: list[Outcome] = [domain_file, *_default_domain(app)]
    if isinstance(domain_file, Proposal):
        outcomes += _domain_keys([s for s in domain_sections if s.file == domain_file.file])
    else:
        outcomes += (Unknown(r.setting, "the domain file is not known") for r in DOMAIN_ROLES)
    for group, secs in groups.items():
        outcomes += _listeners(group, secs)
    outcomes += (_bind_list(g, groups[g]) for g in ("webmail", "webadmin"))
    return _settle(outcomes)


def _is_domain(section: _Section) -> bool:
    """Named like a domain, with an IPv4 value or a key named like IP or Bind."""
    return HOST.match(section.name) is not None and any(
        kind_of(value) == "ipv4"
        or name_level(key, "IP", IP_NAME)
        or name_level(key, "Bind", "bind")
        for key, value in section.entries.values()
    )


def _domain_files(domain_sections: list[_Section]) -> Iterator[Candidate]:
    by_file: dict[str, list[_Section]] = {}
    for section in domain_sections:
        by_file.setdefault(section.file, []).append(section)
    for file, found in by_file.items():
        with_ip = [s for s in found if any(kind_of(v) == "ipv4" for _, v in s.entries.values())]
        named = 2 if fold(file) == fold("Domains.dat") else 1  # 1: its sections' keys fit
        reason = f"{len(found)} sections named like domains, {len(with_ip)} with an IPv4 value"
        evidence = tuple(
            next((s.evidence(k, v) for k, v in s.entries.values() if kind_of(v) == "ipv4"), None)
            or s.evidence(None)
            for s in (with_ip or found)[:_EVIDENCE]
        )
        yield Candidate(file, None, None, int(bool(with_ip)) + named, reason, evidence)


def _judge(role: Role, key: str, kinds: set[str]) -> tuple[int, str] | None:
    """(score, reason) of a key for `role`; None when one of its values is of another kind."""
    if not kinds <= {"blank", role.kind}:
        return None
    value = int(role.kind in kinds)
    name = name_level(key, role.known, role.fits)
    if name == 0 and (value == 0 or role.needs_name):
        return None
    return value + name, KIND_WORDS[role.kind if value else "blank"] + NAMED[name]


def _in_section(role: Role, sec: _Section) -> list[Candidate]:
    found = []
    for key, value in sec.entries.values():
        judged = _judge(role, key, {kind_of(value)})
        if judged is not None:
            evidence = (sec.evidence(key, value),)
            found.append(Candidate(sec.file, sec.name, key, *judged, evidence))
    return found


def _default_domain(app: list[_Section]) -> list[Outcome]:
    """The section holding a name key (domain-valued) and, best, an IPv4 and a Yes/No key."""
    name, _, ip, _, restrict = DEFAULT_ROLES
    found: list[tuple[Candidate, _Section]] = []
    for sec in app:
        names = [] if HOST.match(sec.name) else _in_section(name, sec)
        if names:
            also = [
                what
                for role, what in ((ip, "an IPv4 key"), (restrict, "a restrict flag"))
                if _in_section(role, sec)
            ]
            score = max(c.score for c in names) + len(also)
            evidence = (sec.evidence(None), *(e for c in names for e in c.evidence))
            reason = ", ".join(["a key with a domain name", *also])
            found.append((Candidate(sec.file, sec.name, None, score, reason, evidence), sec))
    section = _decide("default_domain.section", [c for c, _ in found], high_at=4)
    if not isinstance(section, Proposal):
        why = "the Default Domain's section is not known"
        return [section, *(Unknown(r.setting, why) for r in DEFAULT_ROLES)]
    chosen = next(s for c, s in found if (c.file, c.section) == (section.file, section.section))
    return [section, *(_decide(r.setting, _in_section(r, chosen)) for r in DEFAULT_ROLES)]


def _domain_keys(own: list[_Section]) -> list[Outcome]:
    """Each domain key, by the values it holds across every domain section of the file."""
    spelled: dict[str, str] = {}
    kinds: dict[str, set[str]] = {}
    shown: dict[str, tuple[list[Evidence], list[Evidence]]] = {}  # (with a value, blank)
    for sec in own:
        for folded, (key, value) in sec.entries.items():
            spelled.setdefault(folded, key)
            kinds.setdefault(folded, set()).add(kind_of(value))
            kept = shown.setdefault(folded, ([], []))[0 if value else 1]
            if len(kept) < _EVIDENCE:
                kept.append(sec.evidence(key, value))
    out: list[Outcome] = []
    for role in DOMAIN_ROLES:
        found = []
        for folded, key in spelled.items():
            judged = _judge(role, key, kinds[folded])
            if judged is not None:
                evidence = tuple([*shown[folded][0], *shown[folded][1]][:_EVIDENCE])
                found.append(Candidate(own[0].file, None, key, *judged, evidence))
        out.append(_decide(role.setting, found))
    return out


def _listeners(group: str, secs: list[_Section]) -> list[Outcome]:
    """Port-like keys (*Port*) by their default value and by a name that fits the service."""
    services = PORTS[group]
    ports = [(s, k, v) for s in secs for k, v in s.entries.values() if "port" in k.casefold()]
    out: list[Outcome] = []
    for service, default, known, fits, unfit in services:
        found = []
        for sec, key, value in ports:
            if kind_of(value) not in {"int", "blank"}:
                continue
            name = name_level(key, known, fits, unfit, port=True)
            hit = value != "" and int(value) == default
            other = any(name_level(key, k, f, u, port=True) for _, _, k, f, u in services)
            if name == 0 and (not hit or other):
                continue  # a key named for another service is not this one by its value alone
            why = f"the default port {default}" if hit else f"port {value or '(blank)'}"
            evidence = (sec.evidence(key, value),)
            found.append(
                Candidate(sec.file, sec.name, key, hit + name, why + NAMED[name], evidence)
            )
        out.append(_decide(f"listeners.{service}", found))
    return out


def _bind_list(group: str, secs: list[_Section]) -> Outcome:
    """Keys holding `*`, IP:port or comma lists, or named like a bind list with an IP or blank."""
    found = []
    for sec in secs:
        for key, value in sec.entries.values():
            kind = kind_of(value)
            name = (
                0 if "port" in key.casefold() else name_level(key, BIND_LIST.known, BIND_LIST.fits)
            )
            if kind not in {"binds", "blank", "ipv4", "ipv6"} or (name == 0 and kind != "binds"):
                continue
            why = KIND_WORDS.get(kind, kind) + NAMED[name]
            evidence = (sec.evidence(key, value),)
            score = (kind == "binds") + name
            found.append(Candidate(sec.file, sec.name, key, score, why, evidence))
    return _decide(f"{group}.bind_list", found)


def _decide(setting: str, found: list[Candidate], *, high_at: int = 2) -> Outcome:
    """The best-scoring candidate; a tie is ambiguous; a close second lowers the confidence."""
    if not found:
        return Unknown(setting, f"no key in the scanned files looks like the {SETTINGS[setting]}")
    ranked = sorted(found, key=lambda c: -c.score)  # stable: ties keep file order
    best, rivals = ranked[0], tuple(ranked[1:])
    if rivals and rivals[0].score == best.score:
        tied = sum(c.score == best.score for c in ranked)
        return Ambiguity(setting, tuple(ranked), f"{tied} candidates have the same evidence")
    confidence = Confidence.HIGH if best.score >= high_at else Confidence.MEDIUM
    if rivals and rivals[0].score >= best.score - 1:
        confidence = confidence.lower()
    return Proposal(
        setting, best.file, best.section, best.key, confidence, best.evidence, rivals, best.reason
    )


def _settle(outcomes: list[Outcome]) -> Detection:
    """One key cannot hold two settings: proposals that share a key become ambiguous."""

    def place(item: Outcome) -> tuple[str, str, str] | None:
        if isinstance(item, Proposal) and item.key is not None:
            return (
                fold(item.file),
                "[" if item.section is None else fold(item.section),
                fold(item.key),
            )
        return None

    claims: dict[tuple[str, str, str], list[str]] = {}
    for item in outcomes:
        if (where := place(item)) is not None:
            claims.setdefault(where, []).append(item.setting)
    settled: list[Outcome] = []
    for item in outcomes:
        where = place(item)
        if isinstance(item, Proposal) and where is not None and len(claims[where]) > 1:
            mine = Candidate(item.file, item.section, item.key, 0, item.reason, item.evidence)
            why = "the same key is the best candidate for " + " and ".join(claims[where])
            settled.append(Ambiguity(item.setting, (mine, *item.alternatives), why))
        else:
            settled.append(item)
    order = list(SETTINGS)
    settled.sort(key=lambda i: order.index(i.setting))
    return Detection(
        tuple(i for i in settled if isinstance(i, Proposal)),
        tuple(i for i in settled if isinstance(i, Ambiguity)),
        tuple(i for i in settled if isinstance(i, Unknown)),
    )
