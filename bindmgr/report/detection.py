"""What `bindmgr layout detect` shows: each proposal with its evidence and confidence, each
ambiguous setting with all its candidates, each setting not found.

Pure: a `Detection` and what was scanned in, text or JSON out.
"""

from __future__ import annotations

from collections.abc import Sequence

from bindmgr.formats.jsondoc import dumps_json
from bindmgr.read.clues import SETTINGS
from bindmgr.read.detect import (
    Ambiguity,
    Candidate,
    Detection,
    Evidence,
    Proposal,
    Unknown,
    describe,
)

DETECT_FORMAT_VERSION = 1


def _table(rows: Sequence[Sequence[str]]) -> list[str]:
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return [
        "  " + "  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip()
        for row in rows
    ]


def _lines(item: Proposal | Candidate) -> list[str]:
    """The first line says where and why; the others are the rest of the evidence."""
    if item.key is None and item.section is None:
        return [f"{item.file}: {item.reason}", *map(str, item.evidence)]
    if item.section is None:
        head = f"{item.key} in each domain's section of {item.file} ({item.reason})"
        return [head, *map(str, item.evidence)]
    return [f"{item.evidence[0]} ({item.reason})", *map(str, item.evidence[1:])]


def render_text(
    detection: Detection,
    *,
    app_dir: str,
    scanned: Sequence[str],
    skipped: Sequence[tuple[str, str]] = (),
) -> str:
    out = [f"MDaemon App folder: {app_dir}", f"Scanned: {', '.join(scanned) or 'no files'}"]
    out += [f"Skipped: {name} ({why})" for name, why in skipped]
    if detection.proposals:
        out += ["", "Detected"]
        rows = [["CONFIDENCE", "SETTING", "EVIDENCE"]]
        for p in detection.proposals:
            first, *more = _lines(p)
            rows.append([p.confidence.value, SETTINGS[p.setting], first])
            rows += [["", "", line] for line in more]
            rows += [["", "", f"or: {describe(c)} ({c.reason})"] for c in p.alternatives]
        out += _table(rows)
    if detection.ambiguous:
        out += ["", "Ambiguous: the written layout keeps the default; choose one of the candidates"]
        for a in detection.ambiguous:
            out.append(f"  {SETTINGS[a.setting]}: {a.reason}")
            out += [f"    {describe(c)} ({c.reason})" for c in a.candidates]
    if detection.unknown:
        out += ["", "Not detected: the written layout keeps the default"]
        out += [f"  {SETTINGS[u.setting]}: {u.reason}" for u in detection.unknown]
    out.append("")
    if detection.complete:
        out.append("Every setting was found. `--write FILE` writes them as a layout to review.")
    else:
        count = len(detection.ambiguous) + len(detection.unknown)
        out.append(
            f"{count} setting(s) need a look. `--write FILE` writes a layout that keeps the "
            "default for them and says so; check those entries before using it."
        )
    return "\n".join(out) + "\n"


def _evidence(e: Evidence) -> dict[str, object]:
    return {"file": e.file, "section": e.section, "key": e.key, "line": e.line, "value": e.value}


def _candidate(c: Candidate) -> dict[str, object]:
    return {
        "file": c.file,
        "section": c.section,
        "key": c.key,
        "score": c.score,
        "reason": c.reason,
        "evidence": [_evidence(e) for e in c.evidence],
    }


def _setting(item: Proposal | Ambiguity | Unknown) -> dict[str, object]:
    doc: dict[str, object] = {"setting": item.setting, "label": SETTINGS[item.setting]}
    if isinstance(item, Proposal):
        doc |= {
            "status": "detected",
            "file": item.file,
            "section": item.section,
            "key": item.key,
            "confidence": item.confidence.value,
            "reason": item.reason,
            "evidence": [_evidence(e) for e in item.evidence],
            "alternatives": [_candidate(c) for c in item.alternatives],
        }
    elif isinstance(item, Ambiguity):
        doc |= {
            "status": "ambiguous",
            "reason": item.reason,
            "candidates": [_candidate(c) for c in item.candidates],
        }
    else:
        doc |= {"status": "unknown", "reason": item.reason}
    return doc


def render_json(
    detection: Detection,
    *,
    app_dir: str,
    scanned: Sequence[str],
    skipped: Sequence[tuple[str, str]] = (),
) -> str:
    items = [detection.outcome(s) for s in SETTINGS]
    doc = {
        "format_version": DETECT_FORMAT_VERSION,
        "app_dir": app_dir,
        "complete": detection.complete,
        "scanned": list(scanned),
        "skipped": [{"file": name, "reason": why} for name, why in skipped],
        "settings": [_setting(i) for i in items if i is not None],
    }
    return dumps_json(doc)
