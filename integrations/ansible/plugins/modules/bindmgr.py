#!/usr/bin/python
# Copyright: bindmgr's authors. MIT License (see the repository's pyproject.toml).
"""The documentation of the bindmgr.mdaemon.bindmgr action (plugins/action/bindmgr.py does
the work, on the controller; nothing of this file runs on a host)."""

DOCUMENTATION = r"""
---
module: bindmgr
short_description: Plan, apply, verify and roll back MDaemon's multi-IP binding with bindmgr
version_added: "0.1.0"
description:
  - Runs C(bindmgr) on the target host, where MDaemon runs, and returns its JSON documents.
  - bindmgr does the work (planning, the bind check, the locked and backed-up write, verify,
    rollback); this action only builds its command line and reads its answers. It runs
    bindmgr through M(ansible.builtin.command) on POSIX hosts and through
    M(ansible.windows.win_command) on Windows hosts (picked by the connection's shell, or
    C(ansible_os_family=Windows)).
  - C(state=planned) runs C(bindmgr plan --format json); the task is changed when the plan has
    changes (bindmgr exits 2) and fails when it has conflicts (exit 3).
  - C(state=applied) runs C(bindmgr plan --out FILE) into the task's temporary folder on the
    host, then C(bindmgr apply FILE --format json --detailed-exitcode); the task is changed
    when apply exits 2 (it wrote files). The file applied is the plan shown in diff mode.
  - C(state=verified) runs C(bindmgr verify --format json); never changed, failed when verify
    exits 3 (a connection did not answer as planned).
  - C(state=rolled_back) runs C(bindmgr rollback); changed when it restored files.
  - A bindmgr error fails the task with bindmgr's own message and hint (C(error), C(hint)).
options:
  state:
    description:
      - What to do. C(planned) and C(verified) only read.
    type: str
    choices: [planned, applied, verified, rolled_back]
    default: applied
  app_dir:
    description:
      - MDaemon's App folder on the host (C(--app-dir)). Default, bindmgr's own
        (C($MDAEMON_APP), then C(C:\MDaemon\App) on Windows).
    type: str
  domain:
    description:
      - The base domain (C(--domain)). Goes with O(ips).
    type: str
  ips:
    description:
      - The addresses to listen on, in order (C(--ip) each); the first binds the Default
        Domain, the Nth a secondary domain named by O(pattern). C(IPv4+IPv6) binds both to one
        name.
    type: list
    elements: str
  bindings:
    description:
      - A bindings file on the host (C(--bindings)), instead of O(domain) and O(ips).
    type: str
  pattern:
    description:
      - The secondary domains' names (C(--pattern)); bindmgr's default is C(mail-{n}.{domain}).
    type: str
  prune:
    description:
      - Delete dropped mail-N domains that hold nothing but bindmgr's keys (C(--prune)).
    type: bool
    default: false
  layout:
    description:
      - A layout file on the host (C(--layout)); default, the one bindmgr ships.
    type: str
  restart:
    description:
      - After writing (C(applied)) or restoring (C(rolled_back)), drop C(RESTART.SEM) in the App
        folder so MDaemon restarts on the new files (C(--restart)).
    type: bool
    default: false
  confirm:
    description:
      - Would be C(apply --confirm-within SECONDS), which keeps the new files only if someone
        confirms on a terminal in time. An Ansible task has no terminal, so this option is
        B(always refused) with an explanation. Use O(restart), a following C(state=verified)
        task, and C(state=rolled_back) when it fails (the P(bindmgr.mdaemon.rebind#role) role).
    type: float
  digest:
    description:
      - The reviewed plan's digest (C(sha256:...), 12 hex digits at least). With C(applied),
        bindmgr applies only a plan with this digest (C(apply --digest)); with C(planned) (and
        C(applied) in check mode) the task fails when this host's plan has another one.
    type: str
  backup:
    description:
      - With C(rolled_back), the backup to restore (C(--to)), for example RV(apply.backup) of
        the apply to undo; default, the newest completed apply.
    type: str
  markdown:
    description:
      - With C(planned), also return the plan as Markdown (C(plan --format markdown)), for a
        pull-request comment.
    type: bool
    default: false
  executable:
    description:
      - The bindmgr command on the host, a name on its PATH or a full path. On Windows
        C(bindmgr.exe), or a bundle's C(bindmgr.cmd) (batch files cannot take arguments
        holding C(%), C(!) or C(") and are refused such).
    type: str
    default: bindmgr
attributes:
  check_mode:
    support: full
    description:
      - Only C(bindmgr plan) and C(bindmgr verify) run. C(applied) plans and reports changed
        when the plan has changes; C(rolled_back) does nothing.
  diff_mode:
    support: full
    description:
      - The planned INI changes, one before/after text per file (C([section]) then
        C(key=old) before and C(key=new) after).
  platform:
    platforms: [posix, windows]
notes:
  - The host needs bindmgr installed; Windows hosts need the ansible.windows collection on
    the controller.
  - bindmgr's exit statuses are its own (0 nothing to do, 1 error, 2 changes, 3 conflicts or
    verify failed, 4 stale plan); see docs/cli.md in the bindmgr repository.
seealso:
  - module: ansible.builtin.command
  - module: ansible.windows.win_command
author:
  - bindmgr's authors
"""

EXAMPLES = r"""
- name: Show what would change (changed when the plan has changes)
  bindmgr.mdaemon.bindmgr:
    state: planned
    app_dir: 'C:\MDaemon\App'
    domain: example.com
    ips: [203.0.113.10, 203.0.113.11]
    executable: bindmgr.exe

- name: Apply the reviewed plan and restart MDaemon
  bindmgr.mdaemon.bindmgr:
    state: applied
    app_dir: 'C:\MDaemon\App'
    bindings: 'C:\bindmgr\bindings.ini'
    digest: "{{ bindmgr_digest }}"
    restart: true
  register: rebind

- name: Verify that MDaemon answers as planned, with a few tries while it restarts
  bindmgr.mdaemon.bindmgr:
    state: verified
    app_dir: 'C:\MDaemon\App'
  register: proof
  until: proof is succeeded
  retries: 10
  delay: 6

- name: Undo exactly that apply
  bindmgr.mdaemon.bindmgr:
    state: rolled_back
    app_dir: 'C:\MDaemon\App'
    backup: "{{ rebind.apply.backup }}"
    restart: true
  when: proof is failed
"""

RETURN = r"""
plan:
  description: The plan document (C(bindmgr plan --format json); bindmgr's docs/formats.md).
  returned: with state planned and applied
  type: dict
  contains:
    digest:
      description: The plan's digest, what a review approves.
      type: str
      sample: sha256:4b6576448b53f121a4cb57e793444dc73d078102874a8ef55aa89276fe920789
    changes:
      description: One INI edit each (file, section, key, old, new, reason, action).
      type: list
      elements: dict
    summary:
      description: Counts (changes, files, conflicts, ...).
      type: dict
apply:
  description: What apply did (C(bindmgr apply --format json)).
  returned: with state applied, outside check mode
  type: dict
  contains:
    changed:
      description: Whether files were written.
      type: bool
    written:
      description: The files written.
      type: list
      elements: str
    unchanged:
      description: Files the plan touched that already held the new bytes.
      type: list
      elements: str
    backup:
      description: The backup's name, for C(state=rolled_back) C(backup) (C(rollback --to)).
      type: str
    backup_path:
      description: The backup's folder on the host.
      type: str
    digest:
      description: The digest of the plan applied.
      type: str
    restarted:
      description: Whether RESTART.SEM was dropped.
      type: bool
verify:
  description: The verify document (C(bindmgr verify --format json)).
  returned: with state verified
  type: dict
  contains:
    summary:
      description: Counts per status; C(failed) is the number of connections that did not
        answer as planned.
      type: dict
    results:
      description: One per address and listener (ip, port, service, status, passed, detail,
        hint, ...).
      type: list
      elements: dict
rollback:
  description: What rollback did.
  returned: with state rolled_back, outside check mode
  type: dict
  contains:
    restored:
      description: Whether files were restored.
      type: bool
    restarted:
      description: Whether RESTART.SEM was dropped.
      type: bool
    output:
      description: bindmgr's own words.
      type: str
markdown:
  description: The plan as Markdown (C(bindmgr plan --format markdown)).
  returned: with state planned and markdown true
  type: str
commands:
  description: The bindmgr command lines run, each as a list.
  returned: always
  type: list
  elements: list
error:
  description: bindmgr's C(error:) line, when it failed.
  returned: on a bindmgr error
  type: str
hint:
  description: bindmgr's C(hint:) line (or verify's first hint), what to do next.
  returned: on a bindmgr error or a failed verify
  type: str
rc:
  description: bindmgr's exit status.
  returned: on a bindmgr error, and with state planned
  type: int
"""
