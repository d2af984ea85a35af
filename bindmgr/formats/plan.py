"""A saved plan: `bindmgr.model.Plan` to JSON text and back, validated strictly on the way in.

Values in, strings out (and the reverse); no file I/O. Loading trusts nothing: any wrong type,
missing field, bad address or enum value is an InputError naming the file and the JSON path.
Every plan document carries a digest: the sha256 of its canonical content (every field but the
digest itself), so a reviewed plan can be named exactly (`bindmgr apply --digest`) and an edit
to the file is noticed when it is read.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from bindmgr import __version__
from bindmgr.errors import PlanError
from bindmgr.formats.check import check_body, check_summary_mismatch, read_check_body
from bindmgr.formats.jsondoc import JsonReader, dumps_json, index, join
from bindmgr.model import (
    Action,
    Assignment,
    Change,
    Conflict,
    Desired,
    DnsRecord,
    InputFile,
    Plan,
    ProbeResult,
    Slot,
)
from bindmgr.plan.desired import validate_desired

TOOL = f"bindmgr {__version__}"
# 2: host, layout_sha256 and digest added (format 1 plans carry no digest and are refused).
# 3: a slot's addresses are "ip" and "ipv6" (were "v4", "v6"), an assignment's Default Domain
#    flag is "default" (was "is_default"): the words of `inspect` and of MDaemon's own keys.
#    Format 2 plans are still read, and their digests still verify (digest_of is unchanged).
PLAN_FORMAT_VERSION = 3
READ_VERSIONS = (2, 3)
# The names format 2 gave the fields format 3 renamed.
_V2_NAMES = {"ip": "v4", "ipv6": "v6", "default": "is_default"}
DIGEST_PREFIX = "sha256:"
DNS_TYPES = ("A", "AAAA", "PTR")
_SHA256 = re.compile(r"[0-9a-f]{64}")


@dataclass(frozen=True, slots=True)
class SavedPlan:
    """A plan as read from its file, with what was recorded beside it."""

    plan: Plan
    app_dir: str | None
    layout: str | None
    created: str | None
    checks: tuple[ProbeResult, ...] | None  # None when the plan was made without --check
    host: str | None = None  # the host name the plan was made on
    layout_sha256: str | None = None  # of the layout's text when the plan was made
    digest: str = ""  # "sha256:<hex>" over the document's canonical content
    codepage: int | None = None  # the ANSI code page the files were read in (format 3)
    source: str = field(default="", compare=False)  # the file it was read from, for messages


def digest_of(document: Mapping[str, object]) -> str:
    """ "sha256:<hex>" of the canonical JSON of every field but "digest"."""
    body = {k: v for k, v in document.items() if k != "digest"}
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    return DIGEST_PREFIX + hashlib.sha256(canonical.encode("ascii")).hexdigest()


def plan_summary(plan: Plan) -> dict[str, object]:
    """Counts a reader wants first; recomputed and compared when the plan is loaded."""
    actions = dict.fromkeys(Action, 0)
    for change in plan.changes:
        actions[change.action] += 1
    return {
        "changes": len(plan.changes),
        "files": len({c.file for c in plan.changes}),
        **{action.value: n for action, n in actions.items()},
        "slots": len(plan.desired.slots),
        "addresses": len(plan.desired.addresses()),
        "assignments": len(plan.assignments),
        "conflicts": len(plan.conflicts),
        "dns_records": len(plan.dns),
    }


def _slot(slot: Slot) -> dict[str, object]:
    return {
        "ip": None if slot.v4 is None else str(slot.v4),
        "ipv6": None if slot.v6 is None else str(slot.v6),
    }


def _change(change: Change) -> dict[str, object]:
    return {
        "file": change.file,
        "section": change.section,
        "key": change.key,
        "old": change.old,
        "new": change.new,
        "reason": change.reason,
        "action": change.action.value,
    }


def plan_to_dict(
    plan: Plan,
    *,
    app_dir: str | None,
    layout: str | None,
    checks: Iterable[ProbeResult] | None = None,
    created: str | None = None,
    tool: str = TOOL,
    host: str | None = None,
    layout_sha256: str | None = None,
    codepage: int | None = None,
) -> dict[str, object]:
    """The plan document (docs/formats.md); "check" is null unless `checks` is given."""
    desired = plan.desired
    document: dict[str, object] = {
        "format_version": PLAN_FORMAT_VERSION,
        "tool": tool,
        "created": created,
        "host": host,
        "app_dir": app_dir,
        "layout": layout,
        "layout_sha256": layout_sha256,
        "codepage": codepage,
        "summary": plan_summary(plan),
        "desired": {
            "domain": desired.domain,
            "pattern": desired.pattern,
            "prune": desired.prune,
            "slots": [_slot(s) for s in desired.slots],
        },
        "inputs": [{"file": f.name, "sha256": f.sha256} for f in plan.inputs],
        "changes": [_change(c) for c in plan.changes],
        "assignments": [
            {"domain": a.domain, "slot": _slot(a.slot), "default": a.is_default, "note": a.note}
            for a in plan.assignments
        ],
        "conflicts": [{"subject": c.subject, "message": c.message} for c in plan.conflicts],
        "notes": list(plan.notes),
        "dns": [{"name": r.name, "type": r.rtype, "value": r.value} for r in plan.dns],
        "check": None if checks is None else check_body(checks),
    }
    document["digest"] = digest_of(document)
    return document


def dumps_plan(
    plan: Plan,
    *,
    app_dir: str | None,
    layout: str | None,
    checks: Iterable[ProbeResult] | None = None,
    created: str | None = None,
    tool: str = TOOL,
    host: str | None = None,
    layout_sha256: str | None = None,
    codepage: int | None = None,
) -> str:
    """The plan document as text: indent 2, stable key order, ASCII, trailing newline."""
    return dumps_json(
        plan_to_dict(
            plan,
            app_dir=app_dir,
            layout=layout,
            checks=checks,
            created=created,
            tool=tool,
            host=host,
            layout_sha256=layout_sha256,
            codepage=codepage,
        )
    )


class _PlanReader(JsonReader):
    """The plan-specific parts of strict reading; `version` the file's format_version, whose
    field names it reads (`name`)."""

    version = PLAN_FORMAT_VERSION

    def name(self, key: str) -> str:
        return _V2_NAMES.get(key, key) if self.version == 2 else key

    def items(self, obj: Mapping[str, object], key: str) -> list[tuple[Mapping[str, object], str]]:
        """The objects of a top-level array, each with its path (`changes[3]`)."""
        return [
            (self.obj(item, index(key, i)), index(key, i))
            for i, item in enumerate(self.array(obj, key, ""))
        ]

    def slot(self, obj: Mapping[str, object], key: str, path: str) -> Slot:
        return self.slot_value(self.field(obj, key, path), join(path, key))

    def slot_value(self, value: object, where: str) -> Slot:
        obj = self.obj(value, where)
        ip, ipv6 = self.name("ip"), self.name("ipv6")
        v4 = self.opt_ipv4(obj, ip, where)
        v6 = self.opt_ipv6(obj, ipv6, where)
        if v4 is None and v6 is None:
            self.fail(where, f"needs an IPv4 address ({ip}), an IPv6 address ({ipv6}) or both")
        return Slot(v4, v6)

    def desired(self, doc: Mapping[str, object]) -> Desired:
        obj = self.child(doc, "desired", "")
        slots = self.array(obj, "slots", "desired")
        desired = Desired(
            domain=self.string(obj, "domain", "desired"),
            pattern=self.string(obj, "pattern", "desired"),
            prune=self.boolean(obj, "prune", "desired"),
            slots=tuple(
                self.slot_value(item, index("desired.slots", i)) for i, item in enumerate(slots)
            ),
        )
        try:
            validate_desired(desired)
        except PlanError as exc:
            self.fail("desired", exc.message)
        return desired

    def change(self, obj: Mapping[str, object], path: str) -> Change:
        action = self.enum(obj, "action", path, Action)
        key = self.opt_string(obj, "key", path)
        new = self.opt_string(obj, "new", path)
        if action is Action.DELETE_SECTION and key is not None:
            self.fail(join(path, "key"), "must be null when the action is delete_section")
        if action is not Action.DELETE_SECTION and key is None:
            self.fail(join(path, "key"), f"must be a string when the action is {action}")
        if action is Action.SET and new is None:
            self.fail(join(path, "new"), "must be a string when the action is set")
        if action is not Action.SET and new is not None:
            self.fail(join(path, "new"), f"must be null when the action is {action}")
        return Change(
            file=self.string(obj, "file", path),
            section=self.string(obj, "section", path),
            key=key,
            old=self.opt_string(obj, "old", path),
            new=new,
            reason=self.string(obj, "reason", path),
            action=action,
        )

    def dns(self, obj: Mapping[str, object], path: str) -> DnsRecord:
        rtype = self.string(obj, "type", path)
        if rtype not in DNS_TYPES:
            self.fail(join(path, "type"), f'"{rtype}" is not one of: {", ".join(DNS_TYPES)}')
        if rtype == "A":
            self.opt_ipv4(obj, "value", path)
        elif rtype == "AAAA":
            self.opt_ipv6(obj, "value", path)
        return DnsRecord(
            name=self.string(obj, "name", path), rtype=rtype, value=self.string(obj, "value", path)
        )

    def input_file(self, obj: Mapping[str, object], path: str) -> InputFile:
        sha = self.string(obj, "sha256", path)
        if sha and not _SHA256.fullmatch(sha):
            self.fail(join(path, "sha256"), "must be 64 lowercase hex digits, or empty")
        return InputFile(name=self.string(obj, "file", path), sha256=sha)


def plan_hint(source: str) -> str:
    return f"re-run `bindmgr plan --out {source}` to save a fresh plan"


def loads_plan(text: str, source: str) -> SavedPlan:
    """Read a saved plan of format 3, or 2 (the same plan under the older field names, its
    digest over its own content); InputError names `source`, the JSON path and the next step."""
    reader = _PlanReader(source, plan_hint(source))
    doc = reader.parse(text)
    if type(doc.get("format_version")) is int and doc.get("format_version") == 1:
        reader.fail("format_version", "1 is a plan from an older bindmgr, made without a digest")
    reader.version = reader.format_version(
        doc, "a plan saved by `bindmgr plan --out`", PLAN_FORMAT_VERSION, also=READ_VERSIONS
    )

    reader.string(doc, "tool", "")
    desired = reader.desired(doc)
    plan = Plan(
        desired=desired,
        inputs=tuple(reader.input_file(o, p) for o, p in reader.items(doc, "inputs")),
        changes=tuple(reader.change(o, p) for o, p in reader.items(doc, "changes")),
        assignments=tuple(
            Assignment(
                domain=reader.string(o, "domain", p),
                slot=reader.slot(o, "slot", p),
                is_default=reader.boolean(o, reader.name("default"), p),
                note=reader.string(o, "note", p),
            )
            for o, p in reader.items(doc, "assignments")
        ),
        conflicts=tuple(
            Conflict(subject=reader.string(o, "subject", p), message=reader.string(o, "message", p))
            for o, p in reader.items(doc, "conflicts")
        ),
        notes=tuple(
            reader.item_string(n, index("notes", i))
            for i, n in enumerate(reader.array(doc, "notes", ""))
        ),
        dns=tuple(reader.dns(o, p) for o, p in reader.items(doc, "dns")),
    )
    check = reader.opt_child(doc, "check", "")
    checks = None if check is None else read_check_body(reader, check, "check")
    summary = reader.child(doc, "summary", "")
    check_summary_mismatch(reader, summary, plan_summary(plan), "summary")
    host = reader.opt_string(doc, "host", "")
    layout_sha256 = _opt_sha(reader, doc, "layout_sha256")
    codepage = _opt_codepage(reader, doc) if reader.version >= 3 else None
    digest = reader.string(doc, "digest", "")
    if digest != digest_of(doc):  # last: a malformed field is named as such first
        reader.fail(
            "digest",
            "does not match the plan's content: the file was edited after bindmgr wrote it",
        )
    return SavedPlan(
        plan=plan,
        app_dir=reader.opt_string(doc, "app_dir", ""),
        layout=reader.opt_string(doc, "layout", ""),
        created=reader.opt_string(doc, "created", ""),
        checks=checks,
        host=host,
        layout_sha256=layout_sha256,
        digest=digest,
        codepage=codepage,
        source=source,
    )


def _opt_codepage(reader: JsonReader, doc: Mapping[str, object]) -> int | None:
    value = doc.get("codepage")
    if value is None:
        return None
    if type(value) is not int or not 1 <= value <= 65535:
        reader.fail("codepage", "must be a Windows code page number, or null")
    return value


def _opt_sha(reader: JsonReader, doc: Mapping[str, object], key: str) -> str | None:
    value = reader.opt_string(doc, key, "")
    if value is not None and not _SHA256.fullmatch(value):
        reader.fail(key, "must be 64 lowercase hex digits, or null")
    return value
