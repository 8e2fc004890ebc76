"""The import graph flows one way (../shared/STYLE.md): a module imports, at import time, only from
its own layer or a lower one; nothing imports the ``pairs`` facade or ``pairs.cli``; packages form
no cycle. Imports inside functions (one-line conveniences such as ``Strategy.stream()``) are
allowed: they run after every module is loaded.
"""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[2] / "pairs"
# Higher imports lower; a package missing here is a failure (its layer must be decided).
LAYERS = {
    "cli": 7,
    "report": 6,
    "plot": 6,
    "stream": 5,
    "screening": 5,
    "evaluation": 5,
    "strategy": 4,
    "trading": 3,
    "coint": 3,
    "hedge": 2,
    "data": 1,
}


def _layer(module: str) -> tuple[str, int]:
    parts = module.split(".")
    top = parts[1] if len(parts) > 1 else ""
    name = top.removesuffix(".py")
    if name.startswith("_") or name in ("exceptions", ""):
        return name, 0
    return name, LAYERS[name]


def _module_imports(path: Path) -> list[tuple[str, int]]:
    """``(imported pairs module, line)`` of the imports that run when ``path`` is imported."""
    tree = ast.parse(path.read_text(), str(path))
    out: list[tuple[str, int]] = []

    def visit(nodes: list[ast.stmt]) -> None:
        for node in nodes:
            if isinstance(node, ast.Import):
                out.extend((a.name, node.lineno) for a in node.names if a.name.split(".")[0] == "pairs")
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                if node.module.split(".")[0] == "pairs":
                    out.append((node.module, node.lineno))
            elif isinstance(node, ast.If):  # TYPE_CHECKING blocks do not run
                if not (isinstance(node.test, ast.Name) and node.test.id == "TYPE_CHECKING"):
                    visit(node.body + node.orelse)
            elif isinstance(node, ast.Try):
                visit(node.body + node.orelse + node.finalbody)

    visit(tree.body)
    return out


def _modules() -> list[tuple[str, Path]]:
    out = []
    for path in sorted(PACKAGE.rglob("*.py")):
        rel = path.relative_to(PACKAGE.parent).with_suffix("")
        out.append((".".join(rel.parts).removesuffix(".__init__"), path))
    return out


def test_every_package_has_a_layer() -> None:
    tops = {_layer(name)[0] for name, _ in _modules()}
    assert tops - set(LAYERS) - {"exceptions", ""} == {t for t in tops if t.startswith("_")}


def test_imports_flow_down_and_never_reach_the_facade_or_the_cli() -> None:
    bad = []
    for name, path in _modules():
        if name == "pairs" or name.startswith("pairs.cli") or name == "pairs.__main__":
            continue  # the facade re-exports everything; the CLI is the top
        mine, rank = _layer(name)
        for target, line in _module_imports(path):
            theirs, their_rank = _layer(target)
            if target == "pairs" or theirs == "cli" or (theirs != mine and their_rank > rank):
                bad.append(f"{path.relative_to(PACKAGE.parent)}:{line} imports {target}")
    assert bad == []


def test_packages_form_no_cycle() -> None:
    graph: dict[str, set[str]] = {}
    for name, path in _modules():
        if name == "pairs":
            continue
        mine = _layer(name)[0]
        for target, _ in _module_imports(path):
            theirs = _layer(target)[0]
            if theirs != mine and target != "pairs":
                graph.setdefault(mine, set()).add(theirs)
    seen: dict[str, int] = {}

    def visit(node: str, trail: list[str]) -> None:
        if seen.get(node) == 1:
            raise AssertionError(f"import cycle: {' -> '.join([*trail, node])}")
        if seen.get(node) == 2:
            return
        seen[node] = 1
        for nxt in sorted(graph.get(node, ())):
            visit(nxt, [*trail, node])
        seen[node] = 2

    for node in sorted(graph):
        visit(node, [])
