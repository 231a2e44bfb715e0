"""The house stays clean: every import follows the data flow and no modules import each other in a
circle. Imports are read from the source with `ast` (function-local imports included: a lazy import
is still a dependency), so nothing is executed.

Layers, bottom to top (a package may import its own modules and any lower layer; packages on one
layer never import each other):
    warehouse -> transforms -> ingest | features | backtest -> expectations | generator -> orchestration -> benchmarks
"""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
LAYERS = [("warehouse",), ("transforms",), ("ingest", "features", "backtest"), ("expectations", "generator"),
          ("orchestration",), ("benchmarks",)]
LEVEL = {pkg: i for i, layer in enumerate(LAYERS) for pkg in layer}


def project_modules() -> dict[str, Path]:
    """module name -> file, for every .py file of the layered packages."""
    out = {}
    for pkg in LEVEL:
        for path in sorted((ROOT / pkg).rglob("*.py")):
            parts = list(path.relative_to(ROOT).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            out[".".join(parts)] = path
    return out


def imports_of(name: str, path: Path, modules: dict[str, Path]) -> set[str]:
    """Project modules that `name` imports (a `from pkg import sub` naming a submodule counts as the
    submodule; relative imports resolved)."""
    tree = ast.parse(path.read_text(), str(path))
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            targets = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                up = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join(up + ([base] if base else []))
            targets = [f"{base}.{a.name}" if f"{base}.{a.name}" in modules else base for a in node.names]
        else:
            continue
        for t in targets:
            while t and t not in modules:
                t = t.rpartition(".")[0]
            if t and t != name:
                found.add(t)
    return found


def import_graph() -> dict[str, set[str]]:
    modules = project_modules()
    return {name: imports_of(name, path, modules) for name, path in modules.items()}


def layer_violations(graph: dict[str, set[str]]) -> list[str]:
    bad = []
    for src, targets in graph.items():
        a = src.split(".")[0]
        for dst in sorted(targets):
            b = dst.split(".")[0]
            if a != b and LEVEL[b] >= LEVEL[a]:
                bad.append(f"{src} -> {dst} ({a} is on layer {LEVEL[a]}, {b} on layer {LEVEL[b]})")
    return bad


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index, low, stack, on, out = {}, {}, [], set(), []
    counter = [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in graph.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return out


def test_no_import_runs_against_the_layer_order():
    assert layer_violations(import_graph()) == []


def test_no_modules_import_each_other_in_a_circle():
    assert cycles(import_graph()) == []


def test_the_checks_catch_what_they_are_for():
    """The checker itself: an upward import and a two-module circle are both reported."""
    graph = {"transforms.a": {"ingest.b"}, "ingest.b": {"transforms.a"}, "warehouse.c": set()}
    assert layer_violations(graph) == ["transforms.a -> ingest.b (transforms is on layer 1, ingest on layer 2)"]
    assert cycles(graph) == [["ingest.b", "transforms.a"]]
    assert layer_violations({"ingest.x": {"features.y"}}) != []       # side by side: no imports across


@pytest.mark.parametrize("pkg", sorted(LEVEL))
def test_every_layered_package_is_read(pkg):
    assert any(m.split(".")[0] == pkg for m in project_modules())
