#!/usr/bin/python
"""A stand-in for ansible.windows.win_command on the POSIX test host, installed by the tests as
that module of a temporary `ansible.windows` collection: it splits its `cmd` the way the
Microsoft C runtime splits a Windows command line, runs the result, and answers as win_command
does (rc, stdout, stderr; "non-zero return code" on a failure). So the action's Windows path
runs whole, and its quoting is read back by Windows' rules; PowerShell itself is not involved.
"""

from __future__ import annotations

BLANKS = " \t"


def split_command_line(line: str) -> list[str]:
    """argv as a Windows program sees it: the program name runs to the next quote when it is
    quoted (no escapes), else to the next blank; then each argument by the C runtime's rules
    (2n backslashes + quote: n backslashes and a quote toggle; 2n+1: n and a literal quote;
    `""` inside quotes: a literal quote)."""
    if line.startswith('"'):
        end = line.index('"', 1)
        program, i = line[1:end], end + 1
    else:
        end = next((j for j, ch in enumerate(line) if ch in BLANKS), len(line))
        program, i = line[:end], end
    args: list[str] = []
    n = len(line)
    while True:
        while i < n and line[i] in BLANKS:
            i += 1
        if i >= n:
            return [program, *args]
        current: list[str] = []
        quoted = False
        while i < n and (quoted or line[i] not in BLANKS):
            ch = line[i]
            if ch == "\\":
                j = i
                while j < n and line[j] == "\\":
                    j += 1
                count = j - i
                if j < n and line[j] == '"':
                    current.append("\\" * (count // 2))
                    if count % 2:
                        current.append('"')
                        j += 1
                else:
                    current.append("\\" * count)
                i = j
            elif ch == '"':
                if quoted and i + 1 < n and line[i + 1] == '"':
                    current.append('"')
                    i += 2
                else:
                    quoted = not quoted
                    i += 1
            else:
                current.append(ch)
                i += 1
        args.append("".join(current))


def main() -> None:
    from ansible.module_utils.basic import AnsibleModule  # noqa: PLC0415 (only as a module)

    module = AnsibleModule(argument_spec={"cmd": {"type": "str", "required": True}})
    argv = split_command_line(module.params["cmd"])
    rc, out, err = module.run_command(argv, expand_user_and_vars=False)
    result = {
        "changed": True,
        "cmd": module.params["cmd"],
        "argv": argv,
        "rc": rc,
        "stdout": out,
        "stderr": err,
    }
    if rc != 0:
        module.fail_json(msg="non-zero return code", **result)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
