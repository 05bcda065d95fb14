"""compare's architecture, read from its source: no import cycles, nothing imports the runner."""

from __future__ import annotations

import ast
from pathlib import Path

import classbalance

PACKAGE = Path(classbalance.__file__).parent / "compare"
PREFIX = "classbalance.compare"
ENTRY_POINTS = {"__init__", "command"}  # the package's public face and the command line


def compare_imports(path: Path) -> set[str]:
    """Modules of compare that ``path`` imports anywhere (module level or inside functions)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [node.module] + [f"{node.module}.{alias.name}" for alias in node.names]
        else:
            continue
        for name in names:
            if name == PREFIX:  # the package itself: its __init__ imports the rest
                found.add("__init__")
            elif name.startswith(PREFIX + "."):
                module = name[len(PREFIX) + 1 :].split(".")[0]
                if (PACKAGE / f"{module}.py").exists():
                    found.add(module)
    return found


def import_graph() -> dict[str, set[str]]:
    return {p.stem: compare_imports(p) - {p.stem} for p in PACKAGE.glob("*.py")}


def cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import cycle of ``graph`` (its modules in order), or None."""
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                return [*stack[stack.index(nxt) :], nxt]
            if nxt not in state and (found := visit(nxt)):
                return found
        stack.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state and (found := visit(node)):
            return found
    return None


def test_no_import_cycle_inside_compare():
    """The modules of compare import each other without a cycle (function-level imports count)."""
    graph = import_graph()
    assert cycle(graph) is None, " -> ".join(cycle(graph) or [])


def test_cycle_finder_finds_a_cycle():
    """The check can fail: a planted cycle is reported."""
    assert cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": set()}) == ["a", "b", "c", "a"]
    assert cycle({"a": {"b"}, "b": set()}) is None


def test_only_the_entry_points_import_the_runner():
    """Types live in config; no module of compare but the entry points needs the runner."""
    importers = {m for m, deps in import_graph().items() if "runner" in deps}
    assert importers <= ENTRY_POINTS, importers


def test_no_module_is_named_by_label_kind_and_none_is_over_600_lines():
    """One task model: no multilabel*.py beside the single-label modules; modules stay small."""
    names = [p.stem for p in PACKAGE.glob("*.py")]
    assert not [n for n in names if "multilabel" in n or "single" in n], names
    long = {p.name: n for p in PACKAGE.glob("*.py") if (n := len(p.read_text().splitlines())) > 600}
    assert not long, long
