"""Windows hosts: how the action knows one, and the command line win_command runs there
(pure, controller side). Quoted so that the Microsoft C runtime, which parses bindmgr.exe's and
Python's argv, reads back the same arguments; a batch file's arguments must also get past
cmd.exe. No I/O and no Ansible import.
"""

from __future__ import annotations

from typing import Any


class Unquotable(ValueError):
    """An argument no Windows command line can carry safely; the message says what to do."""


def is_windows(shell_family: str | None, host_vars: dict[str, Any]) -> bool:
    """A Windows target: the connection's shell is PowerShell or cmd, or the host says it is
    Windows (`ansible_os_family`, from the inventory or gathered facts)."""
    if shell_family in ("powershell", "cmd"):
        return True
    facts = host_vars.get("ansible_facts")
    family = host_vars.get("ansible_os_family")
    if family is None and isinstance(facts, dict):
        family = facts.get("os_family")
    return family == "Windows"


def is_batch(executable: str) -> bool:
    return executable.lower().endswith((".cmd", ".bat"))


_NEEDS_QUOTES = set(' \t\n\v"')
_CMD_SPECIAL = set(",;=&|<>^()")  # cmd.exe splits or acts on these outside quotes
_BATCH_REFUSED = {"%": "%", "!": "!", '"': '"', "\r": "a line break", "\n": "a line break"}


def quote_windows_arg(arg: str, *, batch: bool = False) -> str:
    """One argument as the Microsoft C runtime (and Python's own argv) parses it back:
    quoted when it holds a blank or a quote, backslashes doubled only before a quote."""
    if arg and not (_NEEDS_QUOTES & set(arg)) and not (batch and _CMD_SPECIAL & set(arg)):
        return arg
    out = ['"']
    backslashes = 0
    for ch in arg:
        if ch == "\\":
            backslashes += 1
            continue
        if ch == '"':
            out.append("\\" * (2 * backslashes + 1) + '"')
        else:
            out.append("\\" * backslashes + ch)
        backslashes = 0
    out.append("\\" * (2 * backslashes) + '"')
    return "".join(out)


def windows_command_line(argv: list[str]) -> str:
    """The command line win_command's `cmd` runs. The program name is only quoted (Windows
    reads it up to the next quote, with no escapes); a batch file (bindmgr.cmd) is run by
    cmd.exe, which expands % and ! even inside quotes, so arguments holding them are refused."""
    program, *args = argv
    batch = is_batch(program)
    if '"' in program:
        raise Unquotable(f"executable {program!r} holds a double quote, which Windows cannot run")
    if batch:
        for arg in args:
            for ch, name in _BATCH_REFUSED.items():
                if ch in arg:
                    raise Unquotable(
                        f"{arg!r} holds {name}, which cmd.exe would interpret when it runs "
                        f"{program}; rename the path or value, or point executable at "
                        "bindmgr.exe"
                    )
    head = f'"{program}"' if (_NEEDS_QUOTES | _CMD_SPECIAL) & set(program) else program
    return " ".join([head, *(quote_windows_arg(a, batch=batch) for a in args)])
