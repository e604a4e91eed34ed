"""Imports go down the pipeline: no stage imports a later one, and no module cycles.

The layers, lowest first, are the ones docs/architecture.md draws. A module may import
from its own layer and the layers below it; an import of a higher layer (at the top of
a module, inside a function, or under ``TYPE_CHECKING``) fails this test, and so does
any cycle of imports between modules. The test reads the package's source with
``ast``, so it sees the imports a run would not reach.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "src" / "policybrief"

# lowest first; a module's layer is the first entry its dotted name starts with
LAYERS: list[tuple[str, ...]] = [
    ("policybrief", "policybrief.model", "policybrief.errors", "policybrief.messages",
     "policybrief.schemas", "policybrief.citations"),
    ("policybrief.load",),
    ("policybrief.check",),
    ("policybrief.assemble",),
    ("policybrief.render",),
    ("policybrief.publish",),
    ("policybrief.pipeline",),
    ("policybrief.commands",),
]


def module_name(path: Path, root: Path = PACKAGE) -> str:
    parts = list(path.relative_to(root.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def layer_of(module: str) -> int:
    best, found = -1, -1
    for number, names in enumerate(LAYERS):
        for name in names:
            if (module == name or module.startswith(name + ".")) and len(name) > best:
                best, found = len(name), number
    if found < 0:
        raise AssertionError(f"{module} is in no layer: add it to LAYERS and to "
                             "docs/architecture.md")
    return found


def type_only(tree: ast.AST) -> set[int]:
    """The ids of the import statements under ``if TYPE_CHECKING:``."""
    found: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            found.update(id(n) for stmt in node.body for n in ast.walk(stmt))
    return found


def imports(root: Path = PACKAGE, typing: bool = True) -> dict[str, set[str]]:
    """Each module of the package → the package's modules it imports (anywhere in it;
    without ``typing``, leaving out the imports only the type checker makes)."""
    modules = {module_name(p, root): p for p in sorted(root.rglob("*.py"))}
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        found: set[str] = set()
        tree = ast.parse(path.read_text("utf-8"), str(path))
        skip = set() if typing else type_only(tree)
        for node in ast.walk(tree):
            targets: list[str] = []
            if id(node) in skip:
                continue
            if isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                if node.level:
                    base = package.split(".")
                    base = base[:len(base) - node.level + 1]
                    start = ".".join(base + ([node.module] if node.module else []))
                else:
                    start = node.module or ""
                # ``from . import x``: x may be a module of its own
                targets = [f"{start}.{a.name}" for a in node.names
                           if f"{start}.{a.name}" in modules]
                if len(targets) < len(node.names):  # and the rest names in ``start``
                    targets.append(start)
            for target in targets:
                while target and target not in modules:
                    target = target.rpartition(".")[0]
                if target and target != name and target.startswith(root.name):
                    found.add(target)
        # a package's __init__ is imported on the way to any of its modules: not an edge
        graph[name] = {t for t in found if not name.startswith(t + ".")}
    return graph


def upward(graph: dict[str, set[str]]) -> list[str]:
    return sorted(f"{m} imports {t}" for m, targets in graph.items() for t in targets
                  if layer_of(t) > layer_of(m))


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for nxt in sorted(graph.get(node, ())):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                top = stack.pop()
                component.append(top)
                if top == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_imports_go_down_the_pipeline() -> None:
    assert upward(imports()) == []


def test_no_import_cycles() -> None:
    """A cycle only the type checker follows (``if TYPE_CHECKING:``) cannot break an
    import, and lets two modules of one stage name each other's types."""
    assert cycles(imports(typing=False)) == []


def test_every_module_has_a_layer() -> None:
    for module in imports():
        layer_of(module)


def write(root: Path, files: dict[str, str]) -> Path:
    package = root / "policybrief"
    for rel, text in files.items():
        path = package / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, "utf-8")
    return package


@pytest.mark.parametrize("files", [
    {"load/__init__.py": "", "load/a.py": "def f():\n    from ..check import b\n",
     "check/__init__.py": "", "check/b.py": ""},
    {"load/__init__.py": "", "load/a.py": "from typing import TYPE_CHECKING\n"
     "if TYPE_CHECKING:\n    from policybrief.pipeline import X\n", "pipeline.py": ""},
])
def test_an_upward_import_is_caught(tmp_path: Path, files: dict[str, str]) -> None:
    package = write(tmp_path, {"__init__.py": "", **files})
    assert upward(imports(package)) == [
        "policybrief.load.a imports " + ("policybrief.check.b" if "check/b.py" in files
                                         else "policybrief.pipeline")]


def test_a_cycle_is_caught(tmp_path: Path) -> None:
    package = write(tmp_path, {"__init__.py": "", "load/__init__.py": "",
                               "load/a.py": "from . import b\n",
                               "load/b.py": "def f():\n    from .a import g\n",
                               "load/c.py": "from typing import TYPE_CHECKING\n"
                                            "if TYPE_CHECKING:\n    from .d import D\n",
                               "load/d.py": "from .c import C\n"})
    assert upward(imports(package)) == []
    assert cycles(imports(package, typing=False)) == [["policybrief.load.a",
                                                       "policybrief.load.b"]]
    assert cycles(imports(package)) == [["policybrief.load.a", "policybrief.load.b"],
                                        ["policybrief.load.c", "policybrief.load.d"]]
