"""The shape of the package, read from its source: the import graph of ``aelab/`` and the length of functions.

Nothing here imports aelab: each module's ``import`` statements are read with :mod:`ast`. Only
module-level imports make an edge of the graph, since they are the ones that run when a module is first
imported, and so the ones whose order can matter. Imports inside a function (deferred on purpose, as
``aelab.data`` does for its built-in sources) and imports under ``if TYPE_CHECKING:`` run at another
time and do not count.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "aelab"
MAX_FUNCTION_LINES = 60
# The files whose functions are held to MAX_FUNCTION_LINES here; the rest of aelab/ joins as it is split.
SHORT_FUNCTION_FILES = ("data.py", "sources.py", "uploads.py", "errors.py", "train.py", "plane.py")


def module_name(path: Path) -> str:
    """``aelab/ui/cache.py`` → ``aelab.ui.cache``; a package's ``__init__.py`` is the package."""
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {module_name(path): path for path in sorted(PACKAGE.rglob("*.py"))}


def is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def import_nodes(tree: ast.AST, module_level_only: bool) -> list[ast.Import | ast.ImportFrom]:
    """The import statements of a module; with ``module_level_only``, not those in functions or TYPE_CHECKING."""
    found: list[ast.Import | ast.ImportFrom] = []

    def visit(node: ast.AST) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.Import | ast.ImportFrom):
                found.append(child)
            elif module_level_only and isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda):
                continue
            elif module_level_only and isinstance(child, ast.If) and is_type_checking(child.test):
                for other in child.orelse:
                    visit(other)
            else:
                visit(child)

    visit(tree)
    return found


def imported_names(module: str, node: ast.Import | ast.ImportFrom) -> list[str]:
    """The absolute module names one statement imports (``from pkg import sub`` names ``pkg.sub`` when it is one)."""
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names]
    base = node.module or ""
    if node.level:  # relative: climb from the importing module's package
        package = module if MODULES.get(module, Path()).name == "__init__.py" else module.rpartition(".")[0]
        for _ in range(node.level - 1):
            package = package.rpartition(".")[0]
        base = f"{package}.{base}" if base else package
    return [f"{base}.{alias.name}" if f"{base}.{alias.name}" in MODULES else base for alias in node.names]


def imports_of(module: str, module_level_only: bool = True) -> set[str]:
    """Every module that ``module`` imports (within aelab or not)."""
    tree = ast.parse(MODULES[module].read_text(encoding="utf-8"))
    return {name for node in import_nodes(tree, module_level_only) for name in imported_names(module, node)}


def import_graph() -> dict[str, set[str]]:
    """aelab's modules, each with the aelab modules it imports at module level."""
    return {module: {name for name in imports_of(module) if name in MODULES and name != module} for module in MODULES}


def cycle_from(module: str, graph: dict[str, set[str]], path: list[str], done: set[str]) -> list[str] | None:
    """A cycle reached by walking on from ``path`` + ``module``, or None; ``done`` gathers modules in none."""
    path = [*path, module]
    for target in sorted(graph[module]):
        if target in path:
            return [*path[path.index(target) :], target]
        if target not in done and (cycle := cycle_from(target, graph, path, done)):
            return cycle
    done.add(module)
    return None


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Cycles of the graph, each as a path of modules that ends where it starts; empty when there are none."""
    found: list[list[str]] = []
    done: set[str] = set()
    for start in sorted(graph):
        if start not in done and (cycle := cycle_from(start, graph, [], done)):
            found.append(cycle)
            done.update(cycle)  # one report per tangle: the next run finds any cycle left after fixing it
    return found


def test_the_graph_reads_real_edges() -> None:
    graph = import_graph()
    assert "aelab.data" in graph["aelab.sources"]  # sources builds its Datasets with data's make_dataset
    assert "aelab.sources" not in graph["aelab.data"]  # data asks sources for its entries inside a function
    assert "aelab.sources" in imports_of("aelab.data", module_level_only=False)


def test_cycles_are_found_and_named() -> None:
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}, "e": set()}
    assert cycles(graph) == [["a", "b", "c", "a"]]
    assert cycles({"a": {"b"}, "b": set()}) == []


def test_no_import_cycle_among_aelab_modules() -> None:
    found = cycles(import_graph())
    assert not found, "import cycles at module level: " + "; ".join(" → ".join(cycle) for cycle in found)


@pytest.mark.parametrize("module", [m for m in MODULES if m != "aelab.ui" and not m.startswith("aelab.ui.")])
def test_the_library_never_imports_streamlit_or_the_ui(module: str) -> None:
    """Not even inside a function: the library must run where Streamlit is not installed."""
    names = imports_of(module, module_level_only=False)
    upward = sorted(n for n in names if n.split(".")[0] == "streamlit" or n == "aelab.ui" or n.startswith("aelab.ui."))
    assert not upward, f"{module} imports {', '.join(upward)}"


@pytest.mark.parametrize("filename", SHORT_FUNCTION_FILES)
def test_functions_are_at_most_60_lines(filename: str) -> None:
    """From the first decorator or ``def`` to the last line of the body, docstring included."""
    tree = ast.parse((PACKAGE / filename).read_text(encoding="utf-8"))
    long = [
        f"{node.name} ({length} lines)"
        for node in ast.walk(tree)
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
        and (length := node.end_lineno - min([node.lineno, *(d.lineno for d in node.decorator_list)]) + 1)
        > MAX_FUNCTION_LINES
    ]
    assert not long, f"aelab/{filename}: {', '.join(long)} longer than {MAX_FUNCTION_LINES} lines"
