"""Imports point down the layers of the design (DESIGN.md), lazy imports inside functions
included, and no two modules import each other, directly or around a cycle.

Every `import` and `from ... import` in optiad/ is read from the source (ast), wherever it
stands.  A lower layer that needs something from a higher one gets it by registration (the
higher layer registers a lowering, a hook, a method), never by importing upward.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent / "optiad"

# Lowest first.  A module may import its own layer and the layers below; the package
# `optiad` (its __init__, the public API) sits above everything.
LAYERS = [
    ("leaves", ["optiad.errors", "optiad.ir", "optiad.printing", "optiad.debug",
                "optiad.phases", "optiad.version", "optiad.blas_threads", "optiad.lazy"]),
    ("primitive records and tracing", ["optiad.tracing", "optiad.known_values",
                                       "optiad.tracer_questions", "optiad.primitives.core",
                                       "optiad.primitives.elementwise",
                                       "optiad.primitives.special",
                                       "optiad.primitives.special_bessel",
                                       "optiad.primitives.reductions",
                                       "optiad.primitives.shape", "optiad.primitives.updates",
                                       "optiad.primitives.objects", "optiad.primitives.linalg",
                                       "optiad.primitives.einsum",
                                       "optiad.primitives.decompositions",
                                       "optiad.primitives.matrix_functions",
                                       "optiad.primitives.ordering",
                                       "optiad.primitives.factorizations",
                                       "optiad.primitives.patterns",
                                       "optiad.primitives"]),
    ("the NumPy front end", ["optiad.numpy"]),
    ("transforms", ["optiad.transforms", "optiad.primitives.control", "optiad.control"]),
    ("codegen", ["optiad.codegen", "optiad.codegen.cache_size"]),
    ("backends", ["optiad.backends"]),
    ("api", ["optiad.staging", "optiad.api", "optiad.jacobians", "optiad.testing",
             "optiad.coloring", "optiad.sparse_derivatives",
             "optiad.compressed"]),
    ("optimize and ode", ["optiad.optimize", "optiad.ode"]),
    ("many solves", ["optiad.many"]),
    ("the package", ["optiad"]),
]


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {module_name(p): p for p in sorted(ROOT.rglob("*.py"))}


def layer_of(module: str) -> int:
    """The layer whose most specific prefix names the module."""
    best, best_length = None, -1
    for position, (_, prefixes) in enumerate(LAYERS):
        for prefix in prefixes:
            if (module == prefix or module.startswith(prefix + ".")) and \
                    len(prefix) > best_length:
                best, best_length = position, len(prefix)
    if best is None:
        raise AssertionError(f"{module} is in no layer: add it to LAYERS in this test")
    return best


def imports_of(module: str) -> list[tuple[str, int]]:
    path = MODULES[module]
    return imports_in(path.read_text(), module, path.name == "__init__.py")


def imports_in(source: str, module: str, is_package: bool) -> list[tuple[str, int]]:
    """(imported optiad module, line) for every import statement in the source, those inside
    functions included."""
    package = module if is_package else module.rpartition(".")[0]
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found += [(alias.name, node.lineno) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[:len(package.split(".")) - node.level + 1]
                base = ".".join(anchor + ([node.module] if node.module else []))
            for alias in node.names:
                candidate = f"{base}.{alias.name}"     # `from optiad import numpy` is a module
                found.append((candidate if candidate in MODULES else base, node.lineno))
    return [(name, line) for name, line in found if name in MODULES and name != module]


GRAPH = {module: imports_of(module) for module in MODULES}


def test_every_module_has_a_layer():
    for module in MODULES:
        layer_of(module)


@pytest.mark.parametrize("module", sorted(MODULES))
def test_imports_point_down(module):
    upward = [f"line {line}: {target} ({LAYERS[layer_of(target)][0]})"
              for target, line in GRAPH[module] if layer_of(target) > layer_of(module)]
    assert not upward, f"{module} ({LAYERS[layer_of(module)][0]}) imports upward: {upward}"


def test_no_import_cycles():
    cycles = strongly_connected([m for m in MODULES], lambda m: [t for t, _ in GRAPH[m]])
    assert not cycles, "import cycles: " + "; ".join(" <-> ".join(sorted(c)) for c in cycles)


def strongly_connected(nodes, successors):
    """Tarjan's algorithm: the components of more than one node."""
    index, low, stack, on_stack, components, counter = {}, {}, [], set(), [], [0]

    def visit(node):
        index[node] = low[node] = counter[0]
        counter[0] += 1
        stack.append(node)
        on_stack.add(node)
        for other in successors(node):
            if other not in index:
                visit(other)
                low[node] = min(low[node], low[other])
            elif other in on_stack:
                low[node] = min(low[node], index[other])
        if low[node] == index[node]:
            component = []
            while True:
                other = stack.pop()
                on_stack.discard(other)
                component.append(other)
                if other == node:
                    break
            if len(component) > 1:
                components.append(component)
    for node in nodes:
        if node not in index:
            visit(node)
    return components


def test_the_check_sees_lazy_imports_and_cycles():
    source = "import numpy\n\ndef f():\n    from optiad.codegen import plan\n" \
             "    from . import core\n"
    assert imports_in(source, "optiad.primitives.shape", False) == [
        ("optiad.codegen.plan", 4), ("optiad.primitives.core", 5)]
    graph = {"a": ["b"], "b": ["c"], "c": ["a"], "d": []}
    assert sorted(map(sorted, strongly_connected(list(graph), graph.__getitem__))) == \
        [["a", "b", "c"]]


def test_no_file_is_over_500_lines():
    # a file that grows past that is two concerns (DESIGN.md)
    long = {module: n for module, path in MODULES.items()
            if (n := len(path.read_text().splitlines())) > 500}
    assert not long, long
