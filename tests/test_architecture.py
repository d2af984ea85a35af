"""The architecture stays visible: a pure core, thin edges, one-way imports, small modules."""

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "bindmgr"
BASE = {"errors", "model", "__init__"}
# Values or bytes in, values or bytes out: no sockets, processes, terminals or event loops.
PURE = {
    "inicodec",
    "iniblock",
    "inifile",
    "layout",
    "names",
    "desired",
    "simulate",
    "plan",
    "jsondoc",
    "checkfile",
    "planfile",
    "report_common",
    "report_text",
    "report_markdown",
    "report",
    "verify",
    "mdaemon",
    "inspection",
    "bindings",
    "probetext",
    "verdict",
}
# The named places that touch the host: files, sockets, processes, the terminal.
EDGES = {
    "hostinfo",
    "probe",
    "faultpoint",
    "safewrite",
    "lock",
    "backup",
    "transaction",
    "restart",
    "appdir",
    "console",
}
COMPOSE = {"commands": 1, "applying": 2, "cli": 3, "__main__": 4}
IO_MODULES = {"socket", "psutil", "netifaces", "asyncio", "subprocess", "select", "signal"}


def _imports(name: str) -> tuple[set[str], set[str]]:
    tree = ast.parse((PACKAGE / f"{name}.py").read_text(encoding="utf-8"))
    internal: set[str] = set()
    external: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module:
            if node.module == "bindmgr":
                internal |= {a.name for a in node.names if a.name != "__version__"}
            elif node.module.startswith("bindmgr."):
                internal.add(node.module.split(".")[1])
            else:
                external.add(node.module.split(".")[0])
        elif isinstance(node, ast.Import):
            external |= {a.name.split(".")[0] for a in node.names}
    return internal, external


MODULES = sorted(p.stem for p in PACKAGE.glob("*.py"))


def test_every_module_has_a_place() -> None:
    placed = BASE | PURE | EDGES | set(COMPOSE)
    assert set(MODULES) == placed


@pytest.mark.parametrize("name", MODULES)
def test_imports_flow_one_way(name: str) -> None:
    internal, external = _imports(name)
    if name in BASE:
        assert internal == set()
    elif name in PURE:
        assert internal <= BASE | PURE, internal - BASE - PURE
        assert not external & IO_MODULES, external & IO_MODULES
    elif name in EDGES:
        assert internal <= BASE | PURE | EDGES, internal - BASE - PURE - EDGES
    else:
        rank = COMPOSE[name]
        later = {m for m, r in COMPOSE.items() if r >= rank}
        assert not internal & later, internal & later


def test_no_import_cycles() -> None:
    graph = {name: _imports(name)[0] & set(MODULES) for name in MODULES}
    done: set[str] = set()

    def visit(node: str, path: tuple[str, ...]) -> None:
        assert node not in path, " -> ".join((*path, node))
        if node in done:
            return
        for nxt in graph[node]:
            visit(nxt, (*path, node))
        done.add(node)

    for name in MODULES:
        visit(name, ())


@pytest.mark.parametrize("name", MODULES)
def test_modules_stay_small_and_say_what_they_do(name: str) -> None:
    source = (PACKAGE / f"{name}.py").read_text(encoding="utf-8")
    assert len(source.splitlines()) <= 420
    if name not in {"__main__"}:
        assert ast.get_docstring(ast.parse(source)), f"{name} needs a docstring with its contract"
