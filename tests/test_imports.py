"""The package's imports point one way and form no cycle.

Layers, lowest first; a module may import its own layer and the layers below, never above:
foundation (errors, registry, scene, wire) <- robots <- hardware <- envs <- policies <-
training / benchmarks / serving <- leaderboards <- cli. Every import counts, those inside
functions too (a lazy import is still a dependency). Inside a layer, a few packages are kept
apart (`envs/tasks` knows nothing of backends), and no set of modules may import each other
round in a cycle.
"""

from __future__ import annotations

import ast
from pathlib import Path

import librobot_gym

PACKAGE = Path(librobot_gym.__file__).parent
LAYERS = (
    ("foundation", ("librobot_gym.errors", "librobot_gym.registry", "librobot_gym.scene",
                    "librobot_gym.wire")),
    ("robots", ("librobot_gym.robots",)),
    ("hardware", ("librobot_gym.hardware",)),
    ("envs", ("librobot_gym.envs",)),
    ("policies", ("librobot_gym.policies",)),
    ("training/benchmarks/serving", ("librobot_gym.training", "librobot_gym.benchmarks",
                                     "librobot_gym.serving")),
    ("leaderboards", ("librobot_gym.leaderboards",)),
    ("cli", ("librobot_gym.cli", "librobot_gym")),  # the package's __init__ registers envs
)
# Kept apart inside a layer: (importer prefix, forbidden prefixes, why).
APART = (
    ("librobot_gym.envs.tasks", ("librobot_gym.envs.sim", "librobot_gym.envs.real",
                                 "librobot_gym.envs.core"), "tasks know nothing of backends"),
)


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {module_name(p): p for p in PACKAGE.rglob("*.py")}


def layer_of(module: str) -> int:
    best = (-1, -1)  # (prefix length, layer): the longest matching prefix decides
    for index, (_, prefixes) in enumerate(LAYERS):
        for prefix in prefixes:
            if module == prefix or module.startswith(prefix + "."):
                best = max(best, (len(prefix), index))
    assert best[1] >= 0, f"{module} is in no layer: add it to LAYERS"
    return best[1]


def imports_of(module: str) -> set[str]:
    """The package's modules that `module` imports, anywhere in its body."""
    path = MODULES[module]
    tree = ast.parse(path.read_text(), str(path))
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                base = f"{anchor}.{base}" if base else anchor
            names = [f"{base}.{alias.name}" if f"{base}.{alias.name}" in MODULES else base
                     for alias in node.names]
        else:
            continue
        for name in names:
            while name and name not in MODULES:  # `import a.b.c` of an attribute: its module
                name = name.rpartition(".")[0]
            if name.startswith("librobot_gym") and name != module:
                found.add(name)
    return found


GRAPH = {module: imports_of(module) for module in MODULES}


def test_every_import_points_down():
    upward = []
    for module, targets in sorted(GRAPH.items()):
        for target in sorted(targets):
            if layer_of(target) > layer_of(module):
                upward.append(f"{module} ({LAYERS[layer_of(module)][0]}) imports {target} "
                              f"({LAYERS[layer_of(target)][0]})")
            for importer, forbidden, why in APART:
                if module.startswith(importer) and target.startswith(forbidden):
                    upward.append(f"{module} imports {target}: {why}")
    print(f"{len(MODULES)} modules, {sum(map(len, GRAPH.values()))} imports checked")
    assert not upward, "imports that point up:\n" + "\n".join(upward)


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components with more than one module (Tarjan's algorithm)."""
    index, low, on_stack, stack, found = {}, {}, set(), [], []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in graph.get(node, ()):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_no_import_cycles():
    # A package's __init__ that re-exports its modules is imported by them only as their
    # parent; edges from a module to its own parent package are how Python loads it, not a
    # dependency the module chose, so they are left out.
    graph = {module: {t for t in targets if not module.startswith(t + ".")}
             for module, targets in GRAPH.items()}
    found = cycles(graph)
    assert not found, "import cycles:\n" + "\n".join(" <-> ".join(c) for c in found)


def test_the_checker_sees_a_cycle_and_an_upward_import():
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert layer_of("librobot_gym.robots.arms.so100") < layer_of("librobot_gym.hardware.driver")
    assert "librobot_gym.hardware.drivers" in GRAPH["librobot_gym.hardware.twin.scheme"]
