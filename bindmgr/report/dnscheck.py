"""What the DNS check found (`check --dns`, `verify --dns`), for people: text and Markdown lines.

Values in, strings out; findings keep the check's order (each name's A, AAAA, then the PTRs).
"""

from __future__ import annotations

from collections.abc import Sequence

from bindmgr.check.dnsanswer import DnsFinding
from bindmgr.report.markdown import cell
from bindmgr.report.wording import plural, safe


def dns_summary(findings: Sequence[DnsFinding]) -> str:
    failed = sum(f.is_failure for f in findings)
    warned = sum(f.is_warning for f in findings)
    parts = [f"{plural(len(findings), 'record')} checked", f"{failed} wrong or missing"]
    if warned:
        parts.append(plural(warned, "warning"))
    return "DNS: " + ", ".join(parts)


def render_dns_text(findings: Sequence[DnsFinding]) -> str:
    lines = [dns_summary(findings)]
    for f in findings:
        if f.status.value == "ok":
            continue
        kind = "warning" if f.is_warning else f.status.value
        lines.append(f"  {f.rtype:<4} {safe(f.subject)}: {kind}: {safe(f.detail)}")
        if f.hint:
            lines.append(f"       hint: {safe(f.hint)}")
    return "\n".join(lines) + "\n"


def render_dns_markdown(findings: Sequence[DnsFinding]) -> str:
    lines = [f"### {cell(dns_summary(findings))}", ""]
    bad = [f for f in findings if f.status.value != "ok"]
    if bad:
        lines += ["| type | name | status | detail |", "|---|---|---|---|"]
        lines += [
            f"| {f.rtype} | {cell(f.subject)} | `{f.status.value}` | {cell(f.detail)} |"
            for f in bad
        ]
    return "\n".join(lines) + "\n"
