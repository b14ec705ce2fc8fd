"""The layers of docs/architecture.md, kept true by reading the imports of every module.

What counts as an import between apps: ``import x`` and ``from x import y``
anywhere in a module, at module level or inside a function or method (a
function-level import is still a dependency; it only hides a circle), of a
module of another app. Not counted: imports under ``if TYPE_CHECKING:``
(annotations only, never run), imports within one app, and migrations
(Django loads them by app label, and they name other apps' models by
string; their ``dependencies`` are the migration graph's business).

An "app" is a package of ``openhotline/`` (``accounts``, ``crawler``, …);
``lib`` is the layer below them all. The top-level modules (``settings.py``,
``urls.py``, ``celery.py``, ``api.py``, ``cli.py``, …) are the project's
wiring and stay out of the app graph: ``urls.py`` and ``api.py`` import
every app by design, and apps import the Celery ``app`` object from
``celery.py`` (whose worker heartbeat, in turn, writes an ``ops`` model).
``settings.py`` is held to its own rule: it imports no app.
"""

from __future__ import annotations

import ast
import fnmatch
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "openhotline"
PROJECT = "(project)"


@dataclass(frozen=True)
class Import:
    module: str  # the importing module, dotted
    target: str  # the imported module (or name), dotted
    line: int


def module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def layer_of(module: str) -> str | None:
    """``accounts``, ``lib``, …, ``(project)`` for top-level modules; None outside the package."""
    parts = module.split(".")
    if parts[0] != "openhotline":
        return None
    if len(parts) == 1:
        return PROJECT
    if (PACKAGE / parts[1]).is_dir():
        return parts[1]
    return PROJECT


def source_files() -> Iterator[Path]:
    for path in sorted(PACKAGE.rglob("*.py")):
        if "migrations" in path.parts:
            continue
        yield path


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _runtime_nodes(tree: ast.AST) -> Iterator[ast.AST]:
    """Every node of ``tree`` except the bodies of ``if TYPE_CHECKING:`` blocks."""
    stack: list[ast.AST] = [tree]
    while stack:
        node = stack.pop()
        yield node
        if isinstance(node, ast.If) and _is_type_checking(node.test):
            stack.extend(node.orelse)
            continue
        stack.extend(ast.iter_child_nodes(node))


def imports_of(path: Path) -> Iterator[Import]:
    module = module_name(path)
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    tree = ast.parse(path.read_text(), filename=str(path))
    for node in _runtime_nodes(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield Import(module, alias.name, node.lineno)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - (node.level - 1)]
                prefix = ".".join(base + ([node.module] if node.module else []))
            else:
                prefix = node.module or ""
            # ``from openhotline import stats`` imports the app ``stats``.
            for alias in node.names:
                yield Import(module, f"{prefix}.{alias.name}", node.lineno)


def app_graph() -> dict[str, dict[str, list[Import]]]:
    """layer -> imported layer -> the imports that make the edge."""
    graph: dict[str, dict[str, list[Import]]] = defaultdict(lambda: defaultdict(list))
    for path in source_files():
        for imp in imports_of(path):
            source, target = layer_of(imp.module), layer_of(imp.target)
            if source is None or target is None or PROJECT in (source, target):
                continue
            if source != target:
                graph[source][target].append(imp)
    return graph


def find_cycle(graph: dict[str, dict[str, list[Import]]]) -> list[str] | None:
    """One cycle of the graph as a list of nodes (first == last), or None."""
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for nxt in sorted(graph.get(node, {})):
            if state.get(nxt) == 1:
                return [*path[path.index(nxt) :], nxt]
            if nxt not in state:
                found = visit(nxt)
                if found:
                    return found
        path.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state:
            found = visit(node)
            if found:
                return found
    return None


def describe(cycle: list[str], graph: dict[str, dict[str, list[Import]]]) -> str:
    lines = [" -> ".join(cycle)]
    for source, target in zip(cycle, cycle[1:], strict=False):
        for imp in graph[source][target][:5]:
            lines.append(
                f"  {source} -> {target}: {imp.module} line {imp.line} imports {imp.target}"
            )
    return "\n".join(lines)


def test_the_app_import_graph_has_no_cycles() -> None:
    graph = app_graph()
    cycle = find_cycle(graph)
    assert cycle is None, "import cycle between apps:\n" + describe(cycle or [], graph)


def module_graph() -> dict[str, dict[str, list[Import]]]:
    """module -> imported module of this package -> the import lines (same rules as above)."""
    graph: dict[str, dict[str, list[Import]]] = defaultdict(lambda: defaultdict(list))
    modules = {module_name(path) for path in source_files()}
    for path in source_files():
        for imp in imports_of(path):
            target = _module_of(imp.target)
            if target in modules and target != imp.module:
                graph[imp.module][target].append(imp)
    return graph


def test_no_modules_import_each_other_in_a_circle() -> None:
    # Within an app too (the circles assessment/priority<->tasks,
    # network forwarding->tasks->routing and stats rebuild<->sources were broken).
    graph = module_graph()
    cycle = find_cycle(graph)
    assert cycle is None, "import cycle between modules:\n" + describe(cycle or [], graph)


def _module_of(target: str) -> str:
    """``openhotline.matching.models.Match`` -> ``openhotline.matching.models`` (if a module)."""
    path = PACKAGE.parent.joinpath(*target.split("."))
    if path.with_suffix(".py").exists() or (path / "__init__.py").exists():
        return target
    return target.rpartition(".")[0]


def test_the_cycle_finder_finds_a_cycle_and_names_its_imports() -> None:
    # The assertion above is only as good as this search: a cycle must be found.
    edge = Import("openhotline.a.x", "openhotline.b.y", 3)
    back = Import("openhotline.b.y", "openhotline.a.z", 7)
    graph = {"a": {"b": [edge]}, "b": {"a": [back]}, "c": {"a": [edge]}}
    cycle = find_cycle(graph)
    assert cycle == ["a", "b", "a"]
    assert "openhotline.b.y line 7 imports openhotline.a.z" in describe(cycle, graph)
    assert find_cycle({"a": {"b": [edge]}, "b": {}}) is None


def test_the_import_walk_sees_function_level_imports_and_skips_type_checking(
    tmp_path: Path,
) -> None:
    sample = tmp_path / "sample.py"
    sample.write_text(
        "from typing import TYPE_CHECKING\n"
        "if TYPE_CHECKING:\n"
        "    from openhotline.stats import models\n"
        "def f():\n"
        "    from openhotline.reports.models import Report\n"
    )
    tree = ast.parse(sample.read_text())
    found = [n.module for n in _runtime_nodes(tree) if isinstance(n, ast.ImportFrom) and n.module]
    assert "openhotline.reports.models" in found
    assert "openhotline.stats" not in found


def _apps_imported_by(paths: list[Path]) -> dict[str, list[str]]:
    found: dict[str, list[str]] = defaultdict(list)
    for path in paths:
        for imp in imports_of(path):
            layer = layer_of(imp.target)
            if layer is None or layer == "lib":
                continue
            if layer != PROJECT:
                found[layer].append(f"{imp.module} line {imp.line} imports {imp.target}")
            elif layer == PROJECT and imp.target not in ("openhotline", "openhotline.lib"):
                found[PROJECT].append(f"{imp.module} line {imp.line} imports {imp.target}")
    return dict(found)


def test_settings_imports_no_app() -> None:
    assert _apps_imported_by([PACKAGE / "settings.py"]) == {}


def test_lib_imports_no_app() -> None:
    paths = sorted((PACKAGE / "lib").rglob("*.py"))
    assert paths
    assert _apps_imported_by(paths) == {}


# Views and API modules: the audited write happens in a ``do_*`` action.
VIEW_PATTERNS = ("*views*.py", "api.py", "*_api.py")


def view_modules() -> list[Path]:
    return [
        path
        for path in source_files()
        if any(fnmatch.fnmatch(path.name, pattern) for pattern in VIEW_PATTERNS)
    ]


def record_calls(path: Path) -> list[str]:
    """Calls of ``openhotline.audit.log.record`` in ``path``, under any name it is imported by."""
    tree = ast.parse(path.read_text(), filename=str(path))
    names: set[str] = set()  # names bound to the function
    modules: set[str] = set()  # names bound to openhotline.audit.log
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module == "openhotline.audit.log":
            names |= {a.asname or a.name for a in node.names if a.name == "record"}
        elif isinstance(node, ast.ImportFrom) and node.module == "openhotline.audit":
            modules |= {a.asname or a.name for a in node.names if a.name == "log"}
        elif isinstance(node, ast.Import):
            modules |= {
                a.asname for a in node.names if a.name == "openhotline.audit.log" and a.asname
            }
    calls = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        if (isinstance(func, ast.Name) and func.id in names) or (
            isinstance(func, ast.Attribute)
            and func.attr == "record"
            and isinstance(func.value, ast.Name)
            and func.value.id in modules
        ):
            calls.append(f"{module_name(path)} line {node.lineno}")
    return calls


def test_the_record_call_finder_sees_a_call() -> None:
    audit_log = PACKAGE / "audit" / "log.py"
    assert "def record(" in audit_log.read_text()
    # An action module that calls record() is found, so an empty answer below means something.
    assert record_calls(PACKAGE / "evidence" / "actions.py")


def test_no_view_or_api_module_calls_record() -> None:
    modules = view_modules()
    assert any(p.name == "api.py" for p in modules)
    offenders = [call for path in modules for call in record_calls(path)]
    assert offenders == []


# docs/architecture.md is the map; these keep it from drifting from the code.
ARCHITECTURE_DOC = PACKAGE.parent / "docs" / "architecture.md"


def test_the_architecture_doc_lists_every_periodic_task() -> None:
    from django.conf import settings

    doc = ARCHITECTURE_DOC.read_text()
    tasks = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    assert tasks
    # The doc names a task by app and function: ``network.tasks.sweep``.
    missing = sorted(t for t in tasks if t.removeprefix("openhotline.") not in doc)
    assert missing == []


def test_the_architecture_doc_lists_every_event() -> None:
    doc = ARCHITECTURE_DOC.read_text()
    events = []
    for path in sorted(PACKAGE.glob("*/signals.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if (
                isinstance(node, ast.Assign)
                and isinstance(node.value, ast.Call)
                and isinstance(node.value.func, ast.Name)
                and node.value.func.id == "Signal"
            ):
                events += [t.id for t in node.targets if isinstance(t, ast.Name)]
    assert "media_stored" in events and "url_assessed" in events
    assert sorted(e for e in events if f"`{e}(" not in doc) == []
