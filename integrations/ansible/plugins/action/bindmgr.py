# Copyright: bindmgr's authors. MIT License (see the repository's pyproject.toml).
"""The bindmgr.mdaemon.bindmgr action: runs bindmgr on the target and reports what it did.

bindmgr has no remote execution of its own: this action builds the bindmgr command line
(module_utils/bindmgr.py) and runs it on the host through ansible.builtin.command on POSIX hosts
or ansible.windows.win_command on Windows hosts, then turns bindmgr's exit status, JSON and
error/hint lines into the task's result. In check mode only `bindmgr plan` and `bindmgr verify`
run, which read and never write; apply and rollback never run in check mode.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

from ansible.errors import AnsibleActionFail
from ansible.plugins.action import ActionBase
from ansible_collections.bindmgr.mdaemon.plugins.module_utils import bindmgr as bm
from ansible_collections.bindmgr.mdaemon.plugins.module_utils import windows as win

POSIX_COMMAND = "ansible.builtin.command"
WINDOWS_COMMAND = "ansible.windows.win_command"


class ActionModule(ActionBase):
    TRANSFERS_FILES = False
    _supports_check_mode = True
    _supports_async = False

    def run(self, tmp: str | None = None, task_vars: dict[str, Any] | None = None) -> dict:
        result = super().run(tmp, task_vars)
        task_vars = task_vars or {}
        _, params = self.validate_argument_spec(
            argument_spec=bm.ARGUMENT_SPEC,
            mutually_exclusive=bm.MUTUALLY_EXCLUSIVE,
            required_together=bm.REQUIRED_TOGETHER,
            required_if=bm.REQUIRED_IF,
        )
        problem = bm.refusal(params)
        if problem is not None:
            raise AnsibleActionFail(problem)
        self._windows = win.is_windows(
            getattr(self._connection._shell, "SHELL_FAMILY", None), task_vars
        )
        self._task_vars = task_vars
        try:
            result.update(self._state(params))
            # explicit, or Ansible would call a result carrying bindmgr's rc 2 (changes) failed
            result.setdefault("failed", False)
        except (bm.Refused, win.Unquotable) as exc:
            raise AnsibleActionFail(str(exc)) from exc
        finally:
            self._remove_tmp_path(self._connection._shell.tmpdir)
        return result

    # -- the states ---------------------------------------------------------------------------

    def _state(self, params: dict[str, Any]) -> dict[str, Any]:
        state = params["state"]
        if state == "verified":
            ran = self._run(bm.verify_argv(params), reads_only=True)
            return _ran(bm.verified(ran), ran)
        if state == "rolled_back":
            if self._task.check_mode:
                return {"changed": False, "skipped": True, "msg": "check mode: nothing rolled back"}
            ran = self._run(bm.rollback_argv(params))
            return _ran(bm.rolled_back(ran, params), ran)
        if state == "planned" or self._task.check_mode:
            return self._planned(params)
        return self._applied(params)

    def _planned(self, params: dict[str, Any]) -> dict[str, Any]:
        """The plan (state planned, and state applied in check mode), with its diff."""
        ran = self._run(bm.plan_argv(params), reads_only=True)
        result = _ran(bm.planned(ran, params), ran)
        if "plan" not in result:
            return result
        if params["markdown"]:  # conflicts too: the report shows them
            report = self._run(bm.plan_argv(params, fmt="markdown"), reads_only=True)
            result["markdown"] = report.stdout
            result["commands"].append(report.argv)
        self._diff(result)
        return result

    def _applied(self, params: dict[str, Any]) -> dict[str, Any]:
        """Plan to a file on the host, then apply that very file: the diff shown is what is
        written, and bindmgr's saved-plan checks (digest, stale files) guard the write."""
        folder = self._connection._shell.tmpdir or self._make_tmp_path()
        plan_file = self._connection._shell.join_path(folder, bm.PLAN_FILE)
        ran = self._run(bm.plan_argv(params, out=plan_file))
        planned = _ran(bm.planned(ran, {**params, "digest": None}), ran)
        if planned.get("failed"):
            return planned
        # a reviewed digest pins a change; with nothing to change there is nothing to pin
        pinned = params if ran.rc == 2 else {**params, "digest": None}
        done = self._run(bm.apply_argv(pinned, plan_file))
        result = _ran(bm.applied(done), ran, done)
        result["plan"] = planned["plan"]
        if result.get("changed"):
            self._diff(result)
        return result

    # -- running bindmgr ----------------------------------------------------------------------

    def _diff(self, result: dict[str, Any]) -> None:
        if self._task.diff and result.get("plan", {}).get("changes"):
            result["diff"] = bm.plan_diff(result["plan"])

    def _run(self, argv: list[str], *, reads_only: bool = False) -> bm.Ran:
        """Run one bindmgr command on the host and return its exit status and output."""
        if self._task.check_mode and not reads_only:
            raise AnsibleActionFail(f"internal error: {argv[1]} must not run in check mode")
        if self._windows:
            module, args = self._windows_module(), {"cmd": win.windows_command_line(argv)}
        else:
            module, args = POSIX_COMMAND, {"argv": argv, "expand_argument_vars": False}
        with self._reading(reads_only):
            res = self._execute_module(
                module_name=module, module_args=args, task_vars=self._task_vars
            )
        if (res.get("failed") and res.get("msg") != bm.NON_ZERO) or res.get("rc") is None:
            raise AnsibleActionFail(bm.could_not_run(argv, res.get("msg"), windows=self._windows))
        return bm.Ran(
            argv=argv, rc=int(res["rc"]), stdout=res.get("stdout", ""), stderr=res.get("stderr", "")
        )

    @contextlib.contextmanager
    def _reading(self, reads_only: bool) -> Iterator[None]:
        """command and win_command skip in check mode; plan and verify only read, so they run
        for real there (the only commands that run in check mode)."""
        saved = self._task.check_mode
        if reads_only:
            self._task.check_mode = False
        try:
            yield
        finally:
            self._task.check_mode = saved

    def _windows_module(self) -> str:
        found = self._shared_loader_obj.module_loader.find_plugin_with_context(
            WINDOWS_COMMAND, collection_list=self._task.collections
        )
        if not found.resolved:
            raise AnsibleActionFail(
                f"{self._task_vars.get('inventory_hostname', 'this host')} is a Windows host, "
                f"where bindmgr runs through {WINDOWS_COMMAND}, and the ansible.windows "
                "collection is not installed on this controller; install it "
                "(ansible-galaxy collection install ansible.windows), or run this host "
                "with ansible_os_family and a shell that are not Windows' if it is not one"
            )
        return WINDOWS_COMMAND


def _ran(result: dict[str, Any], *runs: bm.Ran) -> dict[str, Any]:
    """The result, with the bindmgr command lines that made it."""
    result["commands"] = [r.argv for r in runs]
    return result
