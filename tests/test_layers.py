"""The file list is the architecture: each layer package imports only from the layers below it
(README, "Code map"), and no module imports itself back through others."""

import ast
import graphlib
from pathlib import Path

import pytest

import dvlite

PACKAGE = Path(dvlite.__file__).parent
# lowest first; the floor modules are importable from everywhere and import only each other
LAYERS = ["floor", "objects", "records", "git", "remote", "transfer", "render", "ops", "api", "cli"]
FLOOR = {"errors", "progress", "safepath", "secrets"}


def _module(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _layer(module: str) -> str:
    parts = module.split(".")
    if len(parts) == 1:
        return "top"  # dvlite/__init__.py: the lazy front door to the API
    if parts[1] in FLOOR:
        return "floor"
    return "cli" if parts[1] == "__main__" else parts[1]


def _imports(path: Path) -> set[str]:
    """Every dvlite module ``path`` imports, at the top or inside a function."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names if a.name.startswith("dvlite.")}
        elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith("dvlite"):
            for alias in node.names:  # `from dvlite.ops import add` names the module dvlite.ops.add
                sub = f"{node.module}.{alias.name}"
                found.add(
                    sub
                    if (PACKAGE.parent / (sub.replace(".", "/") + ".py")).exists()
                    else node.module
                )
    return {m for m in found if m != "dvlite"}


GRAPH = {_module(p): _imports(p) for p in sorted(PACKAGE.rglob("*.py"))}


def test_every_layer_is_a_package_with_a_docstring_saying_its_job() -> None:
    for layer in LAYERS[1:]:
        if layer == "api":
            continue
        init = PACKAGE / layer / "__init__.py"
        assert ast.get_docstring(ast.parse(init.read_text())), init
    assert {_layer(m) for m in GRAPH} <= {"top", *LAYERS}


@pytest.mark.parametrize("module", sorted(m for m in GRAPH if _layer(m) != "top"))
def test_a_layer_imports_only_from_below_it(module: str) -> None:
    rank = LAYERS.index(_layer(module))
    upward = sorted(m for m in GRAPH[module] if LAYERS.index(_layer(m)) > rank)
    assert not upward, f"{module} ({_layer(module)}) imports from above: {upward}"


def test_no_import_circle() -> None:
    packages = {m for m in GRAPH if (PACKAGE.parent / m.replace(".", "/")).is_dir()}
    # a package's __init__ re-exporting its modules is not a circle with them
    graph = {m: {d for d in deps if d not in packages} for m, deps in GRAPH.items()}
    try:
        tuple(graphlib.TopologicalSorter(graph).static_order())
    except graphlib.CycleError as exc:
        pytest.fail(f"import circle: {' -> '.join(exc.args[1])}")


def test_no_module_is_over_400_lines() -> None:
    long = {
        p.name: n for p in PACKAGE.rglob("*.py") if (n := len(p.read_text().splitlines())) > 400
    }
    assert not long
