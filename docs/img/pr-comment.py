"""Renders docs/img/pr-comment.png: the comment examples/github-actions/bindmgr-plan.sh posts, as
GitHub shows it, for docs/workflows.md. A docs step, not part of bindmgr or its tests.

The plan is bindmgr's own for the shipped sample folder and example.com on 203.0.113.10-12. The
check results are made up as the server would give them where MDaemon listens on .10 and .11
and .12 is not on an adapter yet; their words come from bindmgr.check.hints. The Markdown becomes
HTML through cmarkgfm (GitHub's cmark-gfm), alert boxes are rebuilt as GitHub renders them,
github-markdown-css styles the page and headless Chromium takes the screenshot.

Needs, for this step only: `pip install cmarkgfm pillow`, `apt-get install chromium`, and
`npm pack github-markdown-css` (unpacked: pass its github-markdown-light.css).

    .venv/bin/python docs/img/pr-comment.py --css package/github-markdown-light.css
"""

from __future__ import annotations

import argparse
import html
import re
import subprocess
import tempfile
from pathlib import Path

import cmarkgfm  # type: ignore[import-not-found]
from PIL import Image, ImageChops  # type: ignore[import-not-found]

from bindmgr.check.hints import event_text, hint_text
from bindmgr.commands.inputs import plan_document
from bindmgr.model import Holder, ListeningSocket, ProbeResult, ProbeStatus
from bindmgr.plan.desired import parse_desired
from bindmgr.plan.planner import make_plan
from bindmgr.read.appdir import load_app, read_layout
from bindmgr.read.layout import templates_dir
from bindmgr.report.markdown import render_plan_markdown

HERE = Path(__file__).resolve().parent
IPS = ("203.0.113.10", "203.0.113.11", "203.0.113.12")
CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--hide-scrollbars",
)
PAGE = """<!DOCTYPE html>
<html><head><meta charset="utf-8"><style>{css}
body {{ background: #fff; margin: 24px; font-family: -apple-system, "Segoe UI", sans-serif; }}
.comment {{ width: 880px; border: 1px solid #d0d7de; border-radius: 6px; }}
.head {{ background: #f6f8fa; border-bottom: 1px solid #d0d7de; padding: 8px 16px;
  font-size: 14px; color: #57606a; border-radius: 6px 6px 0 0; }}
.head b {{ color: #1f2328; }}
.bot {{ border: 1px solid #d0d7de; border-radius: 2em; padding: 0 7px; font-size: 12px; }}
.markdown-body {{ padding: 16px; font-size: 14px; }}
</style></head><body><div class="comment">
<div class="head"><b>github-actions</b> <span class="bot">bot</span> commented</div>
<div class="markdown-body">{body}</div></div></body></html>
"""
ALERT = re.compile(r"<blockquote>\n<p>\[!(NOTE|CAUTION)\]\n(.*?)</blockquote>", re.DOTALL)


def comment() -> str:
    """The comment as bindmgr-plan.sh writes it: marker, bindmgr's Markdown, footer, metadata."""
    app = load_app(templates_dir() / "MDaemon" / "App", read_layout())
    plan = make_plan(app.view.config, parse_desired("example.com", IPS))
    checks = []
    for ip in plan.desired.addresses():
        for listener in app.view.config.listeners:
            here = str(ip) != IPS[2]
            status = ProbeStatus.HELD_BY_MDAEMON if here else ProbeStatus.NOT_LOCAL
            row = ListeningSocket(ip, listener.port, listener.proto, 1200, "MDaemon.exe")
            checks.append(
                ProbeResult(
                    ip,
                    listener.port,
                    listener.proto,
                    listener.service,
                    status,
                    None if here else 10049,  # WSAEADDRNOTAVAIL
                    Holder(1200, "MDaemon.exe") if here else None,
                    event_text(status, ip, listener),
                    hint_text(status, ip, listener, row, None, windows=True),
                    listener.label,
                )
            )
    digest = str(plan_document(plan, app, checks)["digest"])
    md = render_plan_markdown(plan, checks=checks, digest=digest)
    run = "https://github.com/example/mail-config/actions/runs/4242"
    return (
        f"<!-- bindmgr-plan -->\n{md}\n---\n"
        f"Planned from `bindings.ini` at 3f2a9c01b7e4 by [this run]({run}); the full plan is "
        "its artifact `bindmgr-plan`. Result: **conflicts** (exit 3).\n"
    )


def to_html(markdown: str) -> str:
    """GitHub's HTML for the Markdown; its alerts (`> [!NOTE]`) as GitHub draws them."""
    body = cmarkgfm.github_flavored_markdown_to_html(
        markdown, options=cmarkgfm.Options.CMARK_OPT_UNSAFE
    )

    def alert(m: re.Match[str]) -> str:
        kind = m.group(1).lower()
        title = f'<p class="markdown-alert-title">{html.escape(kind.capitalize())}</p>'
        return f'<div class="markdown-alert markdown-alert-{kind}">{title}\n<p>{m.group(2)}</div>'

    return ALERT.sub(alert, body)


def screenshot(page: str, png: Path) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        source = Path(tmp) / "comment.html"
        source.write_text(page, encoding="utf-8")
        shot = Path(tmp) / "shot.png"
        subprocess.run(
            [
                "chromium",
                *CHROMIUM_FLAGS,
                f"--user-data-dir={tmp}/profile",
                "--window-size=940,4000",
                f"--screenshot={shot}",
                source.as_uri(),
            ],
            check=True,
            capture_output=True,
            timeout=120,
        )
        image = Image.open(shot).convert("RGB")
        box = ImageChops.difference(image, Image.new("RGB", image.size, "white")).getbbox()
        assert box is not None, "the screenshot is blank"
        image.crop((0, 0, image.width, min(image.height, box[3] + 24))).save(png, optimize=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--css", type=Path, required=True, help="github-markdown-light.css")
    parser.add_argument("--out", type=Path, default=HERE / "pr-comment.png")
    parser.add_argument("--markdown", type=Path, help="also write the comment's Markdown here")
    args = parser.parse_args()
    markdown = comment()
    if args.markdown is not None:
        args.markdown.write_text(markdown, encoding="utf-8")
    css = args.css.read_text(encoding="utf-8")
    screenshot(PAGE.format(css=css, body=to_html(markdown)), args.out)


if __name__ == "__main__":
    main()
