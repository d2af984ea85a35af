"""Is the base domain one MDaemon knows? A typo (`exampel.com`) would rebind the Default Domain
and create `mail-2.exampel.com`, so an unknown base domain is refused with the closest names,
unless the operator asks for a new one (`--new-domain`; the commands decide when to ask).

Pure: a Config and a Desired in, `PlanError` out. Known means: the Default Domain's name, a
secondary domain's name, or the base of a name the pattern generates (`mail-3.example.com`
makes `example.com` known), all compared without regard to case.
"""

from __future__ import annotations

import difflib
import re
import string

from bindmgr.errors import PlanError
from bindmgr.model import Config, Desired
from bindmgr.plan.names import compile_pattern

MOST_SUGGESTED = 3


def _base_of(pattern: str) -> re.Pattern[str] | None:
    """A regex finding the base domain in a name the pattern generates; None without {domain}."""
    regex, seen = [], False
    for literal, field, _, _ in string.Formatter().parse(pattern):
        regex.append(re.escape(literal))
        if field == "n":
            regex.append("[1-9][0-9]*")
        elif field == "domain":
            regex.append("(?P=base)" if seen else "(?P<base>.+)")
            seen = True
    return re.compile("".join(regex), re.IGNORECASE) if seen else None


def check_domain(config: Config, desired: Desired) -> None:
    """Raise PlanError unless `desired.domain` is a domain MDaemon's files know (see above)."""
    wanted = desired.domain.casefold()
    names = [d.name for d in config.all_domains()]
    if any(name.casefold() == wanted for name in names):
        return
    owned = compile_pattern(desired.pattern, desired.domain)
    if any(owned.number(name) is not None for name in names):
        return
    base = _base_of(desired.pattern)
    candidates: dict[str, None] = {}  # a generated name is offered as its base
    for name in names:
        match = base.fullmatch(name) if base is not None else None
        candidates[(match.group("base") if match else name).casefold()] = None
    close = difflib.get_close_matches(wanted, list(candidates), n=MOST_SUGGESTED, cutoff=0.6)
    if close:
        names_shown = close[0] if len(close) == 1 else f"{', '.join(close[:-1])} or {close[-1]}"
        guess = f"did you mean {names_shown}?"
    else:
        guess = f"the Default Domain is {config.default.name}"
    raise PlanError(
        f"base domain {desired.domain!r} is not a domain MDaemon knows: neither the Default "
        f"Domain, a secondary domain nor the base of a {desired.pattern} name; {guess}",
        hint="correct --domain (or the bindings file's domain); to create names under a new "
        "base domain on purpose, add --new-domain",
    )
