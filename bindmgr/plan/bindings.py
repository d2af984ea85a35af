"""The bindings file: the desired state as a small ConfigObj INI reviewed in a pull request.

Parsed with ConfigObj and checked by a configspec; slots and names are then validated by
`desired`. Text in, a `Desired` out; every error names the file, the line and the key.
"""

from __future__ import annotations

from configobj import ConfigObj, ConfigObjError, flatten_errors, get_extra_values
from validate import ValidateError, Validator, VdtValueError

from bindmgr.errors import InputError, PlanError
from bindmgr.model import DEFAULT_PATTERN, Desired
from bindmgr.plan.desired import SLOT_SYNTAX, parse_desired, parse_slot

BINDINGS_SPEC = f"""
domain = string(min=1)
ips = slot_list(min=1)
pattern = string(min=1, default="{DEFAULT_PATTERN}")
prune = boolean(default=False)
"""

EXAMPLE = """\
# bindings.ini: what MDaemon should listen on (reviewed in pull requests)
domain = example.com
# slot 1 binds the Default Domain; each further slot a mail-N domain.
# IPv4+IPv6 puts both addresses on one name (dual stack).
ips = 203.0.113.10, 203.0.113.11, 203.0.113.12+2001:db8::12
"""


def _slot_list(value: object, min: str = "1") -> list[str]:
    items = value if isinstance(value, list) else [value]
    texts = [str(item).strip() for item in items]
    if len(texts) < int(min) or any(not t for t in texts):
        raise VdtValueError(str(value))
    for text in texts:
        try:
            parse_slot(text)
        except PlanError as exc:
            raise ValidateError(exc.message) from None
    return texts


_VALIDATOR = Validator({"slot_list": _slot_list})


def _line_of(lines: list[str], key: str) -> int | None:
    for number, line in enumerate(lines, 1):
        name, sep, _ = line.partition("=")
        if sep and name.strip() == key:
            return number
    return None


def parse_bindings(text: str, source: str) -> Desired:
    lines = text.splitlines()
    spec = ConfigObj(BINDINGS_SPEC.splitlines(), _inspec=True, list_values=False)
    hint = f"fix {source} (docs/cli.md shows an example) and rerun"
    try:
        conf = ConfigObj(lines, configspec=spec, interpolation=False)
    except ConfigObjError as exc:
        line = getattr(exc, "line_number", None)
        raise InputError(f"{source}:{line}: not a valid bindings file ({exc})", hint=hint) from exc
    result = conf.validate(_VALIDATOR, preserve_errors=True)
    problems = []
    if result is not True:
        for _, key, error in flatten_errors(conf, result):
            where = f"{source}:{_line_of(lines, key)}" if _line_of(lines, key) else source
            if error is False:
                problems.append(f"{source}: {key} is missing")
            elif key == "ips":
                problems.append(f"{where}: ips: {str(error).rstrip('.')} (each is {SLOT_SYNTAX})")
            else:
                problems.append(f"{where}: {key}: {str(error).rstrip('.')}")
    problems += [f"{source}: unknown key {name!r}" for _, name in get_extra_values(conf)]
    if problems:
        raise InputError("the bindings file is invalid:\n  " + "\n  ".join(problems), hint=hint)
    try:
        return parse_desired(
            conf["domain"], conf["ips"], pattern=conf["pattern"], prune=conf["prune"]
        )
    except PlanError as exc:
        raise PlanError(f"{source}: {exc.message}", hint=exc.hint) from None
