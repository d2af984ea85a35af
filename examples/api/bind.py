"""Plan, check, apply, verify and roll back MDaemon's multi-IP binding from Python.

    python examples/api/bind.py APP_DIR LAYOUT DOMAIN IP [IP ...]

Prints what each step returned and exits as the CLI would: 0 done, 1 error, 3 conflicts.
It rolls the change back at the end, so it can be tried on a copy of an App folder.
"""

from __future__ import annotations

import sys

from bindmgr import api


def main(argv: list[str]) -> int:
    if len(argv) < 4:
        print(__doc__, file=sys.stderr)
        return 1
    app_dir, layout, domain, *ips = argv
    try:
        found = api.inspect(app_dir, layout=layout)
        print(f"Default Domain: {found.config.default.name}")
        print(f"domains: {len(found.config.all_domains())}, code page {found.codepage}")

        plan = api.plan(app_dir, domain=domain, ips=ips, layout=layout)
        for conflict in plan.conflicts:
            print(f"conflict: {conflict.subject}: {conflict.message}")
        if plan.conflicts:
            return 3
        for change in plan.changes:
            print(
                f"change: {change.file} [{change.section}] {change.key}: {change.old!r} -> "
                f"{change.new!r}"
            )

        checked = api.check(app_dir, plan=plan, layout=layout)
        print(f"bind check: {len(checked.results)} pairs, conflicts: {checked.conflicts}")
        if checked.conflicts:
            return 3

        outcome = api.apply(plan, app_dir=app_dir, layout=layout)
        print(f"applied: {outcome.changed}, written: {', '.join(outcome.written)}")
        print(f"backup: {outcome.backup}")

        # Once MDaemon has restarted on the new files, verify reads every greeting.
        verified = api.verify(app_dir, layout=layout, timeout=1.0, total_timeout=5.0)
        print(f"verify: {sum(a.passed for a in verified.answers)}/{len(verified.answers)} passed")

        restored = api.rollback(app_dir, layout=layout)
        print(f"rolled back: {', '.join(restored.written)} from {restored.backup.name}")
    except api.BindmgrError as exc:
        print(f"error: {exc.message}", file=sys.stderr)
        if exc.hint:
            print(f"hint: {exc.hint}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
