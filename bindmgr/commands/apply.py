"""`bindmgr apply`: stale check, bind check, safe write, reload, confirm.

Composes the planner, the bind check and the transaction; every file write goes through
`transaction` (lock, backup, atomic replace, edit proof). Semaphore files are MDaemon's reload API.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

from bindmgr.apply import transaction
from bindmgr.apply.edit import apply_changes
from bindmgr.apply.proof import verify_edit
from bindmgr.commands import trust
from bindmgr.commands.confirm import Reload, confirm_or_revert, reload_after
from bindmgr.commands.inputs import (
    DesiredArgs,
    Where,
    check_base_domain,
    desired_from,
    lists_after,
    open_app,
    plan_document,
    read_saved_plan,
    run_checks,
)
from bindmgr.console import Console
from bindmgr.errors import (
    BindmgrError,
    ConflictError,
    ExitCode,
    InputError,
    UsageError,
)
from bindmgr.formats.jsondoc import dumps_json
from bindmgr.ini.codepage import using
from bindmgr.ini.file import IniFile
from bindmgr.model import Change, Plan, ProbeStatus
from bindmgr.plan.planner import make_plan
from bindmgr.read.appdir import App
from bindmgr.report.text import render_check_text, render_plan_text


def _what_moved(plan: Plan, codepage: int) -> Callable[[str, bytes | None], str]:
    """For the stale check: which of the keys the plan changes moved in a file since planning."""

    def explain(name: str, data: bytes | None) -> str:
        if data is None:
            return "it is gone"
        try:
            ini = IniFile.from_bytes(data, name, codepage)
        except BindmgrError:
            return "it no longer reads as an INI file"
        moved = []
        for change in _changes_for(plan, name):
            if change.key is None:
                continue
            current = ini.get(change.section, change.key)
            if current != change.old:
                moved.append(
                    f"[{change.section}] {change.key} was {change.old!r} when planned, "
                    f"now {current!r}"
                )
        return "; ".join(moved) if moved else "the keys the plan changes are as planned"

    return explain


@dataclass(frozen=True, slots=True)
class Safety:
    """How the write is guarded: lock wait, backups kept and where, bind-check override."""

    lock_timeout: float = 30.0
    keep: int = 10
    backup_dir: Path | None = None
    force: bool = False
    batch_size: int = 8


def _changes_for(plan: Plan, name: str) -> list[Change]:
    return [c for c in plan.changes if c.file == name]


@dataclass(frozen=True, slots=True)
class Pin:
    """What the operator says of a saved plan: its reviewed digest, whether it may be applied
    on another host or App folder than it was made for."""

    digest: str | None = None
    elsewhere: bool = False


def _plan_for_apply(
    where: Where,
    plan_file: Path | None,
    source: DesiredArgs,
    *,
    yes: bool,
    pin: Pin,
    console: Console,
) -> tuple[Plan, App, str]:
    """The plan to apply, the App folder, and the plan's digest."""
    saved = read_saved_plan(plan_file) if plan_file is not None else None
    desired = desired_from(source, required=False)
    if saved is not None and desired is not None:
        raise UsageError("a plan file and --domain/--ip/--bindings both given", hint="use one")
    if saved is None and desired is None:
        raise UsageError(
            "nothing to apply",
            hint="pass a saved plan (bindmgr apply PLAN.json), or --domain D --ip IP ... "
            "or --bindings FILE to plan and apply in one go",
        )
    if pin.digest is not None and saved is None:
        raise UsageError(
            "--digest goes with a saved plan", hint="bindmgr apply PLAN.json --digest D"
        )
    app = open_app(where, console, saved)
    check_base_domain(app, desired, source)
    if saved is not None:
        assert plan_file is not None
        if pin.digest is not None:
            trust.check_digest(saved, pin.digest, plan_file)
        trust.check_place(saved, app, plan_file, elsewhere=pin.elsewhere)
        trust.check_commitment(saved, app, plan_file)
        console.note(f"applying {plan_file}, digest {saved.digest}")
        return saved.plan, app, saved.digest
    assert desired is not None
    with console.timed("plan"):
        plan = make_plan(app.view.config, desired)
    console.print(render_plan_text(plan, color=console.color, width=console.width))
    if plan.has_changes and not plan.conflicts and not yes:
        if console.quiet:
            raise UsageError(
                "not applying without confirmation: -q hides the plan to confirm",
                hint="review it with 'bindmgr plan', then rerun with --yes, or drop -q",
            )
        if not console.interactive:
            raise UsageError(
                "not applying without confirmation: there is no terminal to ask on",
                hint="review the plan above, then rerun with --yes",
            )
        if not console.ask("Apply these changes?"):
            raise InputError("not applied: the plan was not confirmed", hint="nothing was written")
    return plan, app, str(plan_document(plan, app, None)["digest"])


def _check_first(plan: Plan, app: App, safety: Safety, console: Console) -> None:
    results, _ = run_checks(
        plan.desired.addresses(),
        app,
        batch_size=safety.batch_size,
        console=console,
        after=lists_after(app, plan),  # the web servers' bind lists as the plan leaves them
    )
    conflicts = [r for r in results if r.status.is_conflict]
    if any(r.status is ProbeStatus.HELD_BY_MDAEMON for r in results):
        console.note("some ports are held by MDaemon itself: it rebinds them when it restarts")
    if not conflicts:
        return
    console.print(render_check_text(conflicts, color=console.color))
    if not safety.force:
        raise ConflictError(
            f"{len(conflicts)} listener(s) cannot bind on the planned addresses; nothing written",
            hint="free them (see above) and rerun, or pass --force to write the files anyway",
        )
    console.note(f"--force: writing despite {len(conflicts)} bind conflict(s)")


def run(
    *,
    where: Where,
    plan_file: Path | None,
    desired: DesiredArgs,
    yes: bool,
    safety: Safety,
    reload: Reload,
    console: Console,
    pin: Pin = Pin(),
    fmt: str = "text",
    detailed: bool = False,
) -> ExitCode:
    """Apply and say so: in text, or (`fmt="json"`) as one document on stdout with the words
    going to stderr. `detailed`: exit 2 when files were changed, 0 when nothing was to do."""
    talk = console if fmt != "json" else replace(console, out=console.err)
    outcome = _apply(
        where=where,
        plan_file=plan_file,
        desired=desired,
        yes=yes,
        safety=safety,
        reload=reload,
        console=talk,
        pin=pin,
    )
    if fmt == "json":
        console.document(dumps_json(outcome.document()))
    return ExitCode.CHANGES if detailed and outcome.changed else ExitCode.OK


APPLY_FORMAT_VERSION = 1


@dataclass(frozen=True, slots=True)
class Outcome:
    """What an apply did, machine-readably."""

    changed: bool
    written: tuple[str, ...] = ()
    unchanged: tuple[str, ...] = ()
    backup: Path | None = None
    digest: str | None = None
    restarted: bool = False

    def document(self) -> dict[str, object]:
        return {
            "format_version": APPLY_FORMAT_VERSION,
            "changed": self.changed,
            "written": list(self.written),
            "unchanged": list(self.unchanged),
            "backup": None if self.backup is None else self.backup.name,
            "backup_path": None if self.backup is None else str(self.backup),
            "digest": self.digest,
            "restarted": self.restarted,
        }


def _apply(
    *,
    where: Where,
    plan_file: Path | None,
    desired: DesiredArgs,
    yes: bool,
    safety: Safety,
    reload: Reload,
    console: Console,
    pin: Pin,
) -> Outcome:
    if reload.confirm_within is not None and not reload.restarts:
        raise UsageError(
            "--confirm-within needs --restart (or --wait-restart): until MDaemon restarts there "
            "is nothing to confirm",
            hint="add --restart, so bindmgr restarts MDaemon and asks once it answers as planned",
        )
    if reload.confirm_within is not None and not console.interactive:
        raise UsageError(
            "--confirm-within needs a terminal to confirm on",
            hint="run it interactively, or drop --confirm-within",
        )
    plan, app, digest = _plan_for_apply(
        where, plan_file, desired, yes=yes, pin=pin, console=console
    )
    return write_plan(
        plan, app, digest, safety=safety, reload=reload, console=console, plan_file=plan_file
    )


def write_plan(
    plan: Plan,
    app: App,
    digest: str,
    *,
    safety: Safety,
    reload: Reload,
    console: Console,
    plan_file: Path | None = None,
) -> Outcome:
    """Write `plan` to the App folder it was made for (the API's apply too): refuse conflicts,
    bind-check, prove the edit, commit under the lock with a backup, then reload as `reload`
    says. `plan_file` names the saved plan in the hint of a stale one."""
    if plan.conflicts:
        raise ConflictError(
            "the plan has conflicts, nothing written: "
            + "; ".join(f"{c.subject}: {c.message}" for c in plan.conflicts),
            hint="resolve them and make a new plan",
        )
    if not plan.has_changes:
        console.print("MDaemon's files already match the plan: nothing to do.")
        return Outcome(changed=False, digest=digest)
    _check_first(plan, app, safety, console)
    if (app.app_dir / "LOCKSEMS.SEM").exists():
        console.note(
            "warning: LOCKSEMS.SEM is present, so MDaemon is not acting on semaphore files "
            "(RESTART.SEM waits until it is removed)"
        )
    originals = app.originals()
    unknown = sorted({c.file for c in plan.changes} - set(originals))
    if unknown:  # a plan edited to name another file: never written, whatever else holds
        raise InputError(
            f"the plan changes {', '.join(unknown)}, which the layout does not name; nothing "
            "was written",
            hint="make a new plan (bindmgr plan ... --out PLAN.json) and review it",
        )
    codepage = app.codepage.number  # the writer and the proof read in the code page in effect
    # The reader's scans of the bytes that are still the originals: the writer copies them,
    # the proof reads the original through them (it scans the new bytes itself).
    scans = {n: ini for n, ini in app.files.items() if app.data.get(n) == originals.get(n)}
    with using(codepage):
        new = apply_changes(originals, plan.changes, scans=scans)
        for name, data in new.items():  # prove the edit before anything touches the disk
            before = scans.get(name)
            verify_edit(name, originals[name], data, _changes_for(plan, name), before=before)

    def verify(name: str, data: bytes) -> None:
        # The proof is a pure function of (original, bytes, changes): bytes that read back
        # as the ones proven above stand proven; anything else is proven afresh.
        if data != new.get(name):
            with using(codepage):
                verify_edit(name, originals[name], data, _changes_for(plan, name))

    expected: dict[str, str | None] = dict.fromkeys(new, None)
    expected |= {f.name: f.sha256 for f in plan.inputs}
    with console.timed("write"):
        result = transaction.commit(
            app.app_dir,
            new,
            expected=expected,
            verify=verify,
            explain=_what_moved(plan, codepage),
            stale_hint="make a new plan (bindmgr plan ... --out PLAN.json) and review it"
            if plan_file is None
            else f"make a new plan (bindmgr plan ... --out {plan_file}) and review it",
            keep=safety.keep,
            lock_timeout=safety.lock_timeout,
            backup_root=safety.backup_dir,
            meta={
                "changes": len(plan.changes),
                "addresses": [str(a) for a in plan.desired.addresses()],
            },
            on_message=console.note,
        )
    if not result.changed or result.backup is None:
        console.print("MDaemon's files already match the plan: nothing to do.")
        return Outcome(changed=False, unchanged=result.unchanged, digest=digest)
    console.print(
        f"Applied {len(plan.changes)} change(s) to {', '.join(result.written)}.\n"
        f"Backup: {result.backup.path} (undo with: bindmgr rollback --app-dir {app.app_dir})"
    )
    if reload.confirm_within is None:
        reload_after(reload, app, console, plan)
    else:
        confirm_or_revert(
            reload,
            lock_timeout=safety.lock_timeout,
            backup_dir=safety.backup_dir,
            app=app,
            console=console,
            plan=plan,
            applied=result.backup,
        )
    return Outcome(
        changed=True,
        written=result.written,
        unchanged=result.unchanged,
        backup=result.backup.path,
        digest=digest,
        restarted=reload.restarts,
    )
