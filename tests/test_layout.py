"""The package's shape: modules short enough to read in one sitting, imports that flow one way.

Layers of the model (image -> patches -> windows -> position -> attention -> blocks -> model): a core
module imports only from its own or lower layers, and never from the modules beside the model (data,
training, plotting, checkpoints, exercises), which may import any core module. No import cycle at all.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "swin_tutor"
MAX_LINES = 250
# rank of each core module; every other module of the package sits beside the core, above it
CORE = {
    "validation": 0,
    "cache": 0,
    "patches": 1,
    "windows": 1,
    "masks": 2,
    "position_bias": 2,
    "attention": 3,
    "mlp": 3,
    "blocks": 4,
    "stages": 5,
    "model": 6,
    "sizes": 7,
}


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path) -> set[str]:
    """The swin_tutor modules ``path`` imports (at any depth of the file, relative or absolute)."""
    name = _module_name(path)
    package = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names if a.name.split(".")[0] == "swin_tutor"}
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            if target.split(".")[0] != "swin_tutor":
                continue
            found.add(target)
            for alias in node.names:  # "from . import cli" imports a module, not a name
                sub = PACKAGE.parent / Path(*f"{target}.{alias.name}".split("."))
                if sub.with_suffix(".py").is_file() or (sub / "__init__.py").is_file():
                    found.add(f"{target}.{alias.name}")
    return found - {name}


def _graph() -> dict[str, set[str]]:
    return {_module_name(p): _imports(p) for p in PACKAGE.rglob("*.py")}


def test_the_graph_sees_the_imports():
    graph = _graph()
    assert "swin_tutor.blocks" in graph["swin_tutor.stages"]
    assert "swin_tutor.train" in graph["swin_tutor.train.cli"]  # "from . import fit"
    assert "swin_tutor.model" in graph["swin_tutor.digits_model"]


def test_no_import_cycle():
    graph, state, path = _graph(), {}, []

    def visit(node: str) -> None:
        state[node] = "open"
        path.append(node)
        for dep in sorted(graph.get(node, ())):
            if state.get(dep) == "open":
                cycle = path[path.index(dep) :] + [dep]
                pytest.fail("import cycle: " + " -> ".join(cycle))
            if dep not in state:
                visit(dep)
        path.pop()
        state[node] = "done"

    for node in sorted(graph):
        if node not in state:
            visit(node)


@pytest.mark.parametrize("module", sorted(CORE))
def test_core_imports_flow_down(module):
    deps = _imports(PACKAGE / f"{module}.py")
    for dep in deps:
        short = dep.removeprefix("swin_tutor.")
        assert short in CORE, f"core module {module} imports {dep}, which sits beside the model"
        assert CORE[short] <= CORE[module], f"{module} (layer {CORE[module]}) imports {short} (layer {CORE[short]})"


@pytest.mark.parametrize("path", sorted(PACKAGE.rglob("*.py")), ids=lambda p: str(p.relative_to(PACKAGE)))
def test_modules_read_in_one_sitting(path):
    lines = len(path.read_text().splitlines())
    assert lines <= MAX_LINES, f"{path.relative_to(PACKAGE)} has {lines} lines (at most {MAX_LINES})"
