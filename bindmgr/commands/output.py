"""The one place a command's result becomes text, Markdown or JSON.

Every command that renders a plan or check results calls these; the renderers themselves live in
`report/` (for people) and `formats/` (documents). Markdown and JSON renderers are imported only
when asked for: most runs print text.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

from bindmgr.formats.jsondoc import dumps_json
from bindmgr.model import Plan, ProbeResult
from bindmgr.report.text import render_check_text, render_plan_text
from bindmgr.report.wording import notes_text

if TYPE_CHECKING:
    from bindmgr.check.dnsanswer import DnsFinding

FORMATS = ("text", "markdown", "json")


def render_plan(
    plan: Plan,
    fmt: str,
    *,
    document: Mapping[str, object],
    checks: Sequence[ProbeResult] | None = None,
    color: bool = False,
    saved_as: str | None = None,
    width: int = 100,
) -> str:
    """`document`: the plan's saved-plan document (formats/plan), whose digest every format
    shows; `width`: the terminal's columns, where text wraps."""
    if fmt == "json":
        return dumps_json(document)
    digest = str(document["digest"])
    if fmt == "markdown":
        from bindmgr.report.markdown import render_plan_markdown  # noqa: PLC0415 (lazy)

        return render_plan_markdown(plan, checks=checks, digest=digest)
    return render_plan_text(
        plan, checks=checks, color=color, saved_as=saved_as, digest=digest, width=width
    )


def check_document(
    results: Sequence[ProbeResult],
    *,
    dns: Sequence[DnsFinding] | None = None,
    notes: Sequence[str] = (),
) -> dict[str, object]:
    """The check's JSON document; its results are made as they are written (write_json)."""
    from bindmgr.formats.check import (  # noqa: PLC0415 (lazy, see the docstring)
        ROWS_PER_CHUNK,
        check_to_dict,
    )

    document = check_to_dict(results, chunk=ROWS_PER_CHUNK)
    if notes:
        document["notes"] = list(notes)
    if dns is not None:
        from bindmgr.formats.verify import dns_to_list  # noqa: PLC0415

        document["dns"] = dns_to_list(dns)
    return document


def render_check(
    results: Sequence[ProbeResult],
    fmt: str,
    *,
    color: bool = False,
    dns: Sequence[DnsFinding] | None = None,
    notes: Sequence[str] = (),
) -> str:
    """Check results, and with `dns` the DNS findings after them (in JSON: a "dns" array);
    `notes` (which web listeners their bind lists narrowed) after the results (in JSON: a
    "notes" array, only when there are some)."""
    if fmt == "json":
        return dumps_json(check_document(results, dns=dns, notes=notes))
    if fmt == "markdown":
        from bindmgr.report.markdown import (  # noqa: PLC0415 (lazy)
            notes_markdown,
            render_check_markdown,
        )

        text = render_check_markdown(results) + notes_markdown(notes)
        if dns is not None:
            from bindmgr.report.dnscheck import render_dns_markdown  # noqa: PLC0415

            text += "\n" + render_dns_markdown(dns)
        return text
    text = render_check_text(results, color=color) + notes_text(notes)
    if dns is not None:
        from bindmgr.report.dnscheck import render_dns_text  # noqa: PLC0415

        text += "\n" + render_dns_text(dns)
    return text
