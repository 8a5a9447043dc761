"""The package's shape: folders that name the layers, modules short enough to read in one sitting,
imports that flow one way.

Layers, bottom to top (a module imports only from its own layer or the ones below):

    core                 the model, and inside it image -> patches -> windows -> ... -> model -> backbone
    checkpoints | dense  file formats, key names, loading, export | decoders for dense prediction
    train                data, the loop, the command line
    lab                  experiments, synthetic tasks, Grad-CAM
    plot | lesson        pictures | what notebooks need around the model
    exercises            on top

Folders on one layer sit beside each other: neither imports the other.

``swin_tutor/__init__.py`` is the public face: it may import any layer but exercises, and no module
of the package imports it. Imports made inside functions and through ``importlib`` count too.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "swin_tutor"
MAX_LINES = 250
LAYERS = {"core": 0, "checkpoints": 1, "dense": 1, "train": 2, "lab": 3, "plot": 4, "lesson": 4, "exercises": 5}
# order inside the core: the model's own layers (image -> patches -> windows -> ... -> model -> sizes)
CORE = {
    "validation": 0,
    "cache": 0,
    "compiled": 0,
    "patches": 1,
    "windows": 1,
    "masks": 2,
    "position_bias": 2,
    "attention": 3,
    "mlp": 3,
    "blocks": 4,
    "stages": 5,
    "model": 6,
    "config": 0,
    "sizes": 7,
    "flops": 7,
    "backbone": 8,
}


def _module_name(path: Path, root: Path = PACKAGE) -> str:
    parts = list(path.relative_to(root.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path, root: Path = PACKAGE) -> set[str]:
    """The swin_tutor modules ``path`` imports, at any depth of the file: ``import``, ``from ... import``
    (relative or absolute), and ``importlib.import_module("...")`` / ``__import__("...")`` with a literal."""
    name = _module_name(path, root)
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
                sub = root.parent / Path(*f"{target}.{alias.name}".split("."))
                if sub.with_suffix(".py").is_file() or (sub / "__init__.py").is_file():
                    found.add(f"{target}.{alias.name}")
        elif isinstance(node, ast.Call) and node.args and isinstance(node.args[0], ast.Constant):
            func = node.func
            called = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
            target = node.args[0].value
            if called in ("import_module", "__import__") and isinstance(target, str):
                if target.startswith("swin_tutor"):
                    found.add(target)
    return found - {name}


def _graph(root: Path = PACKAGE) -> dict[str, set[str]]:
    return {_module_name(p, root): _imports(p, root) for p in root.rglob("*.py")}


def _layer(module: str) -> tuple[str, int] | None:
    """(folder, layer) of a module, None for the package face itself."""
    parts = module.split(".")
    if len(parts) == 1:
        return None
    return parts[1], LAYERS[parts[1]]


def violations(graph: dict[str, set[str]]) -> list[str]:
    """Every import that runs back up a layer, sideways between plot / lesson / dense, up the core's own
    order, or into the package face."""
    found = []
    for module, deps in sorted(graph.items()):
        mine = _layer(module)
        for dep in sorted(deps):
            theirs = _layer(dep)
            if theirs is None:
                found.append(f"{module} imports the package face swin_tutor (import from the module instead)")
                continue
            if mine is None:
                if theirs[0] == "exercises":
                    found.append(f"the package face imports {dep}")
                continue
            if theirs[1] > mine[1] or (theirs[1] == mine[1] and theirs[0] != mine[0]):
                found.append(f"{module} ({mine[0]}, layer {mine[1]}) imports {dep} ({theirs[0]}, layer {theirs[1]})")
            elif mine[0] == theirs[0] == "core":
                a, b = module.split(".")[-1], dep.split(".")[-1]
                if a in CORE and b in CORE and CORE[b] > CORE[a]:
                    found.append(f"core.{a} (rank {CORE[a]}) imports core.{b} (rank {CORE[b]})")
    return found


def test_the_graph_sees_the_imports():
    graph = _graph()
    assert "swin_tutor.core.blocks" in graph["swin_tutor.core.stages"]
    assert "swin_tutor.train.loop" in graph["swin_tutor.train.cli"]
    assert "swin_tutor.core.model" in graph["swin_tutor.train.digits_model"]
    assert "swin_tutor.checkpoints.loading" in graph["swin_tutor.train.digits_model"]  # inside a function


def test_the_folders_are_the_layers():
    listed = sorted(p.name for p in PACKAGE.iterdir() if not p.name.startswith((".", "__pycache__")))
    modules = [name for name in listed if name.endswith(".py")]
    assert modules == ["__init__.py"], f"only the public face sits at the top, found {modules}"
    folders = {name for name in listed if (PACKAGE / name / "__init__.py").is_file()}
    assert folders <= set(LAYERS), f"a folder without a layer: {sorted(folders - set(LAYERS))}"
    core_modules = {p.stem for p in (PACKAGE / "core").glob("*.py")} - {"__init__"}
    assert core_modules <= set(CORE), f"core modules without a rank: {sorted(core_modules - set(CORE))}"


def test_imports_flow_one_way():
    assert violations(_graph()) == []


def test_subpackages_reexport_nothing():
    """Every name has one import path: a layer's __init__ holds its docstring, nothing else (the
    exercises' face and the package face aside)."""
    for init in PACKAGE.glob("*/__init__.py"):
        if init.parent.name == "exercises":
            continue
        tree = ast.parse(init.read_text())
        code = [n for n in tree.body if not (isinstance(n, ast.Expr) and isinstance(n.value, ast.Constant))]
        assert code == [], f"{init.relative_to(PACKAGE)} should hold only its docstring"


def _fake_package(tmp_path: Path, files: dict[str, str]) -> Path:
    root = tmp_path / "swin_tutor"
    for rel, text in {"__init__.py": "", **files}.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        (path.parent / "__init__.py").touch()
        path.write_text(text)
    return root


@pytest.mark.parametrize(
    "files, expected",
    [
        ({"core/model.py": "from swin_tutor.plot.axes import finish_axes\n", "plot/axes.py": ""}, "core.model (core"),
        ({"core/blocks.py": "def f():\n    from swin_tutor.train.loop import fit\n", "train/loop.py": ""}, "train"),
        ({"plot/axes.py": "import importlib\nimportlib.import_module('swin_tutor.lesson.images')\n"}, "lesson"),
        ({"core/windows.py": "from swin_tutor.core.model import SwinTransformer\n", "core/model.py": ""}, "rank"),
        ({"lab/tasks.py": "from swin_tutor import SwinTransformer\n"}, "package face"),
    ],
    ids=["up-a-layer", "inside-a-function", "importlib-sideways", "up-the-core", "into-the-face"],
)
def test_a_bad_import_is_caught(tmp_path, files, expected):
    """The check fails on deliberate bad imports, written into a throw-away copy of the layout."""
    found = violations(_graph(_fake_package(tmp_path, files)))
    assert len(found) == 1 and expected in found[0], found


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


@pytest.mark.parametrize("path", sorted(PACKAGE.rglob("*.py")), ids=lambda p: str(p.relative_to(PACKAGE)))
def test_modules_read_in_one_sitting(path):
    lines = len(path.read_text().splitlines())
    assert lines <= MAX_LINES, f"{path.relative_to(PACKAGE)} has {lines} lines (at most {MAX_LINES})"
