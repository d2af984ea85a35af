"""The architecture stays visible: stages in folders, imports that follow the flow, small modules.

A module's rules come from where it is saved:

- `model` and `errors` import nothing of bindmgr;
- `ini/`, the lossless INI library, imports only those;
- a stage (`read/`, `plan/`, `check/`, `apply/`) imports the base, `ini/` and earlier stages;
- `report/` and `formats/` render and encode: they import pure modules only, never an edge;
- only `commands/` and `cli` compose; `cli` is the top, `console` is the terminal edge;
- the PURE modules take values or bytes and return values or bytes: they import no socket,
  process, terminal or event-loop module, and only other pure modules.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable, Mapping
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "bindmgr"

BASE = frozenset({"model", "errors", "__init__"})
# The flow, in order: a room may import the rooms before it (and itself), never one after it.
STAGES = ("ini", "read", "plan", "check", "apply")
RENDER = frozenset({"report", "formats"})
TOP = {"console": 0, "commands": 1, "parser": 1, "cli": 2, "api": 2, "__main__": 3}
# Values or bytes in, values or bytes out, whatever folder they sit in.
PURE_ROOMS = frozenset({"ini", "plan", "report", "formats"})
PURE_MODULES = frozenset(
    {
        "read.layout",
        "read.config",
        "read.clues",
        "read.detect",
        "read.layout_text",
        "read.ownini",
        "read.weblists",
        "check.verdict",
        "check.hints",
        "check.events",
        "check.answer",
        "check.protocol",
        "check.cert",
        "check.dnsanswer",
        "apply.edit",
        "apply.proof",
        "apply.blocked",
    }
)
IO_MODULES = frozenset(
    {"socket", "psutil", "netifaces", "asyncio", "subprocess", "select", "signal", "ssl"}
)


def module_names() -> list[str]:
    names = []
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(PACKAGE).with_suffix("").parts
        if parts[-1] == "__init__" and len(parts) > 1:
            parts = (*parts[:-1], "__init__")
        names.append(".".join(parts))
    return names


MODULES = module_names()


def room(module: str) -> str:
    return module.split(".", 1)[0]


def is_pure(module: str) -> bool:
    return room(module) in PURE_ROOMS or module in PURE_MODULES or module in BASE


def imports_of(source: str, known: Iterable[str]) -> tuple[set[str], set[str]]:
    """(bindmgr modules imported, other top-level packages imported) by `source`."""
    known = set(known)
    internal: set[str] = set()
    external: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.ImportFrom) and node.module:
            if node.module == "bindmgr" or node.module.startswith("bindmgr."):
                base = node.module.removeprefix("bindmgr").lstrip(".")
                for alias in node.names:
                    sub = f"{base}.{alias.name}" if base else alias.name
                    if sub in known:
                        internal.add(sub)
                    elif base:
                        internal.add(base if base in known else f"{base}.__init__")
                    elif alias.name != "__version__":
                        internal.add(alias.name)
            else:
                external.add(node.module.split(".")[0])
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.startswith("bindmgr."):
                    internal.add(alias.name.removeprefix("bindmgr."))
                else:
                    external.add(alias.name.split(".")[0])
    return internal, external


def allowed(importer: str, imported: str) -> bool:
    """May `importer` import `imported`? (the folder rules above)"""
    src, dst = room(importer), room(imported)
    if importer in BASE or (is_pure(importer) and not is_pure(imported)):
        return False
    if dst in BASE or imported in BASE or src == dst:
        return True
    if src in STAGES:
        return dst in STAGES and STAGES.index(dst) < STAGES.index(src)
    if src in RENDER:
        return dst in RENDER or dst in STAGES
    if src in TOP:
        return dst not in TOP or TOP[dst] < TOP[src]
    return False


def violations(graph: Mapping[str, tuple[set[str], set[str]]]) -> list[str]:
    """Every broken rule in an import graph {module: (bindmgr imports, external imports)}."""
    found = []
    for module, (internal, external) in sorted(graph.items()):
        for imported in sorted(internal):
            if not allowed(module, imported):
                found.append(f"{module} imports {imported}")
        if is_pure(module):
            for name in sorted(external & IO_MODULES):
                found.append(f"{module} is pure but imports {name}")
    return found


def graph() -> dict[str, tuple[set[str], set[str]]]:
    return {
        name: imports_of((PACKAGE / f"{name.replace('.', '/')}.py").read_text("utf-8"), MODULES)
        for name in MODULES
    }


def test_every_module_is_in_a_known_room() -> None:
    rooms = set(STAGES) | RENDER | set(TOP) | BASE
    assert {room(m) for m in MODULES} <= rooms, {room(m) for m in MODULES} - rooms


def test_imports_follow_the_folder_rules() -> None:
    assert violations(graph()) == []


@pytest.mark.parametrize(
    ("module", "imports", "external"),
    [
        ("model", {"errors"}, set()),  # the base imports nothing of bindmgr
        ("ini.codec", {"read.layout"}, set()),  # ini/ knows nothing of MDaemon
        ("read.config", {"plan.planner"}, set()),  # a stage never imports a later one
        ("check.verdict", {"check.host"}, set()),  # a pure module imports no edge
        ("plan.planner", set(), {"socket"}),  # nor a socket
        ("report.text", {"apply.transaction"}, set()),  # renderers import no edge
        ("apply.transaction", {"commands.apply"}, set()),  # only commands compose
        ("commands.plan", {"cli"}, set()),  # and cli sits on top of them
    ],
)
def test_the_rules_catch_a_wrong_import(module: str, imports: set[str], external: set[str]) -> None:
    assert violations({module: (imports, external)}) != []


def test_the_rules_let_the_flow_through() -> None:
    flow = {
        "ini.file": ({"ini.codec", "errors", "model"}, set()),
        "read.appdir": ({"ini.file", "read.config"}, set()),
        "apply.restart": ({"check.host"}, {"time"}),
        "formats.plan": ({"formats.check", "plan.desired"}, {"json"}),
        "commands.apply": ({"apply.transaction", "report.text", "console"}, set()),
        "cli": ({"commands.plan", "console"}, {"argparse"}),
    }
    assert violations(flow) == []


def test_no_import_cycles() -> None:
    edges = {name: imports & set(MODULES) for name, (imports, _) in graph().items()}
    done: set[str] = set()

    def visit(node: str, path: tuple[str, ...]) -> None:
        assert node not in path, " -> ".join((*path, node))
        if node in done:
            return
        for nxt in edges[node]:
            visit(nxt, (*path, node))
        done.add(node)

    for name in MODULES:
        visit(name, ())


def test_package_faces_are_empty() -> None:
    """No re-exports: one import path per name, and nothing loaded that a command does not use."""
    for init in PACKAGE.glob("*/__init__.py"):
        assert init.read_text("utf-8").strip() == "", f"{init} must stay empty"


@pytest.mark.parametrize("name", MODULES)
def test_modules_stay_small_and_say_what_they_do(name: str) -> None:
    source = (PACKAGE / f"{name.replace('.', '/')}.py").read_text(encoding="utf-8")
    assert len(source.splitlines()) <= 420
    if name not in {"__main__"} and not name.endswith(".__init__"):
        assert ast.get_docstring(ast.parse(source)), f"{name} needs a docstring with its contract"
