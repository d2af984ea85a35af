"""`bindmgr completion bash|zsh|powershell`: a shell completion script, generated from the parser.

`commands_of` walks the argparse parser `cli` builds into one table per command (its
subcommands, its options, what each option's value is); `script` writes that table and a small
completer for the shell. Subcommands, options, choice values and paths complete; nothing else
is guessed. Pure: parser in, text out (`run` prints it).
"""

from __future__ import annotations

import argparse
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from bindmgr.console import Console
from bindmgr.errors import ExitCode

SHELLS = ("bash", "zsh", "powershell")
POSITIONAL = "@"  # the key of what a command's positional argument completes to


@dataclass(frozen=True)
class Command:
    """One command's words: `path` ("" for bindmgr itself, "layout detect"), its subcommands,
    its options, and what follows each option that takes a value (POSITIONAL: the positional
    argument): "choices A B", "file", "dir" or "value" (free text: nothing offered)."""

    path: str
    subcommands: tuple[str, ...] = ()
    options: tuple[str, ...] = ()
    values: dict[str, str] = field(default_factory=dict)


def _value(action: argparse.Action) -> str:
    if action.choices is not None and not isinstance(action, argparse._SubParsersAction):
        return "choices " + " ".join(map(str, action.choices))
    if action.metavar == "DIR":
        return "dir"
    return "file" if action.type is Path else "value"


def commands_of(parser: argparse.ArgumentParser, path: str = "") -> Iterator[Command]:
    """Every command of `parser`, itself first, then its subcommands' (depth first)."""
    subs: dict[str, argparse.ArgumentParser] = {}
    options: list[str] = []
    values: dict[str, str] = {}
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            subs.update(action.choices)
        elif action.help == argparse.SUPPRESS:
            continue  # an old spelling kept for scripts: not offered
        elif not action.option_strings:
            if action.choices is not None or action.type is Path:
                values[POSITIONAL] = _value(action)
        else:
            options += action.option_strings
            if action.nargs != 0:
                values.update(dict.fromkeys(action.option_strings, _value(action)))
    yield Command(path, tuple(subs), tuple(options), values)
    for name, sub in subs.items():
        yield from commands_of(sub, f"{path} {name}".strip())


def _case(function: str, rows: dict[str, str], *, indent: str = "    ") -> list[str]:
    """A POSIX-shell function setting REPLY by its arguments joined with "|" (bash and zsh)."""
    lines = [f"{function}() {{", f'{indent}case "$1|$2" in']
    lines += [f'{indent}    "{key}") REPLY="{value}" ;;' for key, value in rows.items()]
    lines += [f'{indent}    *) REPLY="" ;;', f"{indent}esac", "}"]
    return lines


def _rows(commands: list[Command]) -> tuple[dict[str, str], dict[str, str]]:
    """The two tables every script holds: "PATH|subcommands" and "PATH|options" -> words,
    "PATH|OPTION" -> what follows the option (commands without subcommands have no row)."""
    words = {f"{c.path}|subcommands": " ".join(c.subcommands) for c in commands if c.subcommands}
    words |= {f"{c.path}|options": " ".join(c.options) for c in commands}
    values = {f"{c.path}|{opt}": kind for c in commands for opt, kind in c.values.items()}
    return words, values


def _tables(commands: list[Command]) -> list[str]:
    words, values = _rows(commands)
    return [*_case("_bindmgr_words", words), "", *_case("_bindmgr_value", values)]


# The walk over the words before the cursor, the same in bash and zsh: `path` becomes the
# command being completed ("layout detect"); an option that takes a value skips that value.
_WALK = """\
    while (( i < last )); do
        word=${WORDS[i]}
        if [[ $word == -* ]]; then
            [[ $word == *=* ]] || { _bindmgr_value "$path" "$word"; [[ -n $REPLY ]] && (( i++ )); }
        else
            _bindmgr_words "$path" subcommands
            [[ " $REPLY " == *" $word "* ]] && path=${path:+$path }$word
        fi
        (( i++ ))
    done"""

_BASH = """\
_bindmgr() {
    local -a WORDS=("${COMP_WORDS[@]}")
    local cur=${COMP_WORDS[COMP_CWORD]} prev="" path="" word REPLY i=1 last=$COMP_CWORD
    [[ $cur == "=" ]] && cur=""
%(walk)s
    (( COMP_CWORD > 1 )) && prev=${COMP_WORDS[COMP_CWORD-1]}
    [[ $prev == "=" && COMP_CWORD -gt 2 ]] && prev=${COMP_WORDS[COMP_CWORD-2]}
    REPLY=""
    if [[ $prev == -* ]]; then
        _bindmgr_value "$path" "$prev"
    fi
    if [[ -z $REPLY && $cur != -* ]]; then
        _bindmgr_words "$path" subcommands
        [[ -n $REPLY ]] && REPLY="choices $REPLY" || _bindmgr_value "$path" "%(positional)s"
    fi
    [[ -z $REPLY && $cur == -* ]] && { _bindmgr_words "$path" options; REPLY="choices $REPLY"; }
    case $REPLY in
        choices*) COMPREPLY=($(compgen -W "${REPLY#choices}" -- "$cur")) ;;
        file) compopt -o filenames 2>/dev/null; COMPREPLY=($(compgen -f -- "$cur")) ;;
        dir) compopt -o filenames 2>/dev/null; COMPREPLY=($(compgen -d -- "$cur")) ;;
        *) COMPREPLY=() ;;
    esac
}
complete -F _bindmgr bindmgr
"""

_ZSH = """\
_bindmgr() {
    local -a WORDS=("${(@)words[2,-1]}")
    local cur=${words[CURRENT]} prev=${words[CURRENT-1]} path="" word REPLY i=1
    local last=$(( CURRENT - 1 ))
%(walk)s
    REPLY=""
    (( CURRENT > 2 )) && [[ $prev == -* ]] && _bindmgr_value "$path" "$prev"
    if [[ -z $REPLY && $cur != -* ]]; then
        _bindmgr_words "$path" subcommands
        [[ -n $REPLY ]] && REPLY="choices $REPLY" || _bindmgr_value "$path" "%(positional)s"
    fi
    [[ -z $REPLY && $cur == -* ]] && { _bindmgr_words "$path" options; REPLY="choices $REPLY"; }
    case $REPLY in
        choices*) compadd -- ${=${REPLY#choices}} ;;
        file) _files ;;
        dir) _files -/ ;;
        *) return 1 ;;
    esac
}
if [[ ${zsh_eval_context[-1]} == loadautofunc ]]; then
    _bindmgr "$@"
else
    compdef _bindmgr bindmgr
fi
"""


def _posix(shell: str, commands: list[Command]) -> str:
    body = (_BASH if shell == "bash" else _ZSH) % {"walk": _WALK, "positional": POSITIONAL}
    head = ["#compdef bindmgr"] if shell == "zsh" else []
    head.append(f"# {shell} completion for bindmgr, generated by 'bindmgr completion {shell}'")
    return "\n".join([*head, "", *_tables(commands), "", body])


_POWERSHELL = """\
    $path = ''
    $rest = @($commandAst.CommandElements |
        Where-Object { $_.Extent.EndOffset -lt $cursorPosition } |
        Select-Object -Skip 1 | ForEach-Object { $_.ToString() })
    for ($i = 0; $i -lt $rest.Count; $i++) {
        $word = $rest[$i]
        if ($word.StartsWith('-')) {
            if (-not $word.Contains('=') -and $values.ContainsKey("$path|$word")) { $i++ }
        } elseif ((' ' + $words["$path|subcommands"] + ' ').Contains(" $word ")) {
            $path = "$path $word".Trim()
        }
    }
    $prev = if ($rest.Count -gt 0) { $rest[-1] } else { '' }
    $kind = ''
    if ($prev.StartsWith('-') -and $values.ContainsKey("$path|$prev")) {
        $kind = $values["$path|$prev"]
    }
    if (-not $kind -and -not $wordToComplete.StartsWith('-')) {
        if ($words["$path|subcommands"]) { $kind = 'choices ' + $words["$path|subcommands"] }
        elseif ($values.ContainsKey("$path|%(positional)s")) {
            $kind = $values["$path|%(positional)s"]
        }
    }
    if (-not $kind -and $wordToComplete.StartsWith('-')) {
        $kind = 'choices ' + $words["$path|options"]
    }
    if ($kind.StartsWith('choices')) {
        $kind.Substring(7).Split(' ', [StringSplitOptions]::RemoveEmptyEntries) |
            Where-Object { $_ -like "$wordToComplete*" } |
            ForEach-Object {
                [System.Management.Automation.CompletionResult]::new($_, $_, 'ParameterValue', $_)
            }
    } elseif ($kind -eq 'file' -or $kind -eq 'dir') {
        $parent = Split-Path -Path $wordToComplete -Parent
        Get-ChildItem -Path "$wordToComplete*" -Directory:($kind -eq 'dir') -ErrorAction Ignore |
            ForEach-Object {
                $text = if ($parent) { Join-Path $parent $_.Name } else { $_.Name }
                if ($text.Contains(' ')) { $text = "'" + $text + "'" }
                [System.Management.Automation.CompletionResult]::new(
                    $text, $_.Name, 'ProviderItem', $_.FullName)
            }
    }
}
"""


def _ps_table(name: str, rows: dict[str, str]) -> list[str]:
    lines = [f"    ${name} = @{{"]
    lines += [f"        '{key}' = '{value}'" for key, value in rows.items()]
    return [*lines, "    }"]


def _powershell(commands: list[Command]) -> str:
    words, values = _rows(commands)
    head = [
        "# PowerShell completion for bindmgr, generated by 'bindmgr completion powershell'",
        "Register-ArgumentCompleter -Native -CommandName 'bindmgr', 'bindmgr.exe' -ScriptBlock {",
        "    param($wordToComplete, $commandAst, $cursorPosition)",
        *_ps_table("words", words),
        *_ps_table("values", values),
    ]
    return "\n".join(head) + "\n" + _POWERSHELL % {"positional": POSITIONAL}


def script(shell: str, parser: argparse.ArgumentParser) -> str:
    """The completion script of `shell` (one of SHELLS) for `parser`."""
    commands = list(commands_of(parser))
    return _powershell(commands) if shell == "powershell" else _posix(shell, commands)


def run(*, shell: str, parser: argparse.ArgumentParser, console: Console) -> ExitCode:
    console.document(script(shell, parser))
    return ExitCode.OK
