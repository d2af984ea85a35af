"""Rendering of plans and check results as text, Markdown or JSON: values in, strings out.

The one place the CLI asks for output; it decides colour (TTY, NO_COLOR) and does the writing.
Nothing here prints, reads the clock or opens a file. Formats: docs/formats.md.
"""

from __future__ import annotations

from collections.abc import Sequence

from bindmgr.checkfile import dumps_check
from bindmgr.model import Plan, ProbeResult
from bindmgr.planfile import dumps_plan
from bindmgr.report_markdown import MARKDOWN_LIMIT, render_check_markdown, render_plan_markdown
from bindmgr.report_text import render_check_text, render_plan_text

__all__ = [
    "MARKDOWN_LIMIT",
    "render_check_json",
    "render_check_markdown",
    "render_check_text",
    "render_plan_json",
    "render_plan_markdown",
    "render_plan_text",
]


def render_plan_json(
    plan: Plan,
    *,
    app_dir: str | None,
    layout: str | None,
    checks: Sequence[ProbeResult] | None = None,
    created: str | None = None,
) -> str:
    """The saved-plan document (what `bindmgr plan --out` writes and `apply` reads back)."""
    return dumps_plan(plan, app_dir=app_dir, layout=layout, checks=checks, created=created)


def render_check_json(results: Sequence[ProbeResult]) -> str:
    """The `bindmgr check --format json` document."""
    return dumps_check(results)
