"""What `apply` checks of a saved plan before it trusts it: digest, host, App folder, layout,
and that its changes are the ones bindmgr plans again from the same inputs (plan/commitment)."""

from __future__ import annotations

import socket
from pathlib import Path

from bindmgr.commands.inputs import layout_sha256
from bindmgr.errors import InputError, StalePlanError
from bindmgr.formats.plan import DIGEST_PREFIX, SavedPlan
from bindmgr.model import sha256_bytes
from bindmgr.plan.commitment import differences, summarize
from bindmgr.plan.planner import make_plan
from bindmgr.read.appdir import App

MIN_DIGEST = 12  # hex digits of --digest at the least


def check_digest(saved: SavedPlan, given: str, source: Path) -> None:
    """--digest SHA: the file applied is the one reviewed (a prefix of 12+ hex digits will do)."""
    want = given.strip().lower().removeprefix(DIGEST_PREFIX)
    have = saved.digest.removeprefix(DIGEST_PREFIX)
    if len(want) < MIN_DIGEST or any(ch not in "0123456789abcdef" for ch in want):
        raise InputError(
            f"--digest {given!r} is not a plan digest",
            hint=f"pass the digest bindmgr plan printed (sha256:..., at least {MIN_DIGEST} hex "
            "digits)",
        )
    if not have.startswith(want):
        raise InputError(
            f"{source} is not the plan that was reviewed: its digest is {saved.digest}, not "
            f"{given}; nothing was written",
            hint="apply the reviewed plan file, or review this one and pass its digest",
        )


def check_place(saved: SavedPlan, app: App, source: Path, *, elsewhere: bool) -> None:
    """The plan was made on this host, for this App folder, with this layout."""
    if not elsewhere:
        here = socket.gethostname()
        if saved.host is not None and saved.host != here:
            raise InputError(
                f"{source} was made on host {saved.host!r}, this is {here!r}; nothing was written",
                hint="make the plan on this server, or pass --allow-elsewhere if this is intended",
            )
        made_for = saved.app_dir
        if made_for is not None and Path(made_for).resolve() != app.app_dir.resolve():
            raise InputError(
                f"{source} was made for the App folder {made_for}, not {app.app_dir}; nothing "
                "was written",
                hint="pass the plan's App folder, or --allow-elsewhere if this is intended",
            )
    if saved.layout_sha256 is not None and layout_sha256(app) != saved.layout_sha256:
        raise StalePlanError(
            f"the plan is stale, nothing was written: the layout {app.layout.source} changed "
            "since the plan was made",
            hint=f"make a new plan (bindmgr plan ... --out {source}) and review it",
        )


def check_commitment(saved: SavedPlan, app: App, source: Path) -> None:
    """Same inputs, same plan: refuse a file whose changes bindmgr would not make.

    Only when every input file is as it was planned against: otherwise the plan is stale, and
    the transaction's stale check says which keys moved."""
    now = {name: sha256_bytes(raw) for name, raw in app.data.items()}
    if any(now.get(f.name) != f.sha256 for f in saved.plan.inputs):
        return
    found = differences(saved.plan, make_plan(app.view.config, saved.plan.desired))
    if found:
        raise InputError(
            f"{source} does not hold the plan bindmgr makes from its own desired state and the "
            f"current files, so it was edited; nothing was written: {summarize(found)}",
            hint=f"make a new plan (bindmgr plan ... --out {source}) and review it",
        )
