"""The `bindmgr verify --format json` document: what MDaemon answered on each address and port,
and the DNS findings of `--dns` (also added to `check --dns`'s document).

Values in, a string out; the results keep the order they were checked in (bound addresses in
plan order, then removed ones; listeners in layout order).
"""

from __future__ import annotations

from collections.abc import Sequence

from bindmgr.check.answer import Answer, Status
from bindmgr.check.dnsanswer import DnsFinding, Query
from bindmgr.formats.jsondoc import dumps_json

# 2: a PTR finding in "dns" is named by its reverse name, as `bindmgr dns` and the plan name
#    it, with its address as "ip" (format 1: "name" held the address).
VERIFY_FORMAT_VERSION = 2


def answer_to_dict(answer: Answer) -> dict[str, object]:
    target = answer.target
    return {
        "ip": str(target.ip),
        "port": target.port,
        "service": target.service,
        "label": target.label,
        "tls": target.tls,
        "expected_name": target.expected_name,
        "removed": target.removed,
        "status": answer.status.value,
        "passed": answer.passed,
        "detail": answer.detail,
        "seen_name": answer.seen_name,
        "greeting": answer.greeting,
        "warnings": list(answer.warnings),
        "hint": answer.hint,
        "event": answer.event,
        "event_code": answer.event_code,
    }


def verify_summary(answers: Sequence[Answer]) -> dict[str, object]:
    counts = dict.fromkeys((s.value for s in Status), 0)
    for answer in answers:
        counts[answer.status.value] += 1
    return {
        "total": len(answers),
        "passed": sum(a.passed for a in answers),
        "failed": sum(not a.passed for a in answers),
        "warnings": sum(bool(a.warnings) for a in answers),
        **counts,
    }


def dumps_verify(
    answers: Sequence[Answer],
    dns: Sequence[DnsFinding] | None = None,
    notes: Sequence[str] = (),
) -> str:
    """`notes` (which web listeners their bind lists narrowed): a "notes" array, when any."""
    document: dict[str, object] = {
        "format_version": VERIFY_FORMAT_VERSION,
        "summary": verify_summary(answers),
        "results": [answer_to_dict(a) for a in answers],
    }
    if notes:
        document["notes"] = list(notes)
    if dns is not None:
        document["dns"] = dns_to_list(dns)
    return dumps_json(document)


def dns_to_list(findings: Sequence[DnsFinding]) -> list[dict[str, object]]:
    """The "dns" array of the check and verify documents: `name` is the name asked for (a PTR's
    reverse name, 7.113.0.203.in-addr.arpa), `ip` a PTR's address (null for A and AAAA)."""
    return [
        {
            "type": f.rtype,
            "name": Query(f.rtype, f.subject).qname,
            "ip": f.subject if f.rtype == "PTR" else None,
            "status": f.status.value,
            "warning": f.is_warning,
            "expected": list(f.expected),
            "seen": list(f.seen),
            "detail": f.detail,
            "hint": f.hint,
        }
        for f in findings
    ]
