"""The integration's structure (issue 10): no import cycles between its modules (imports for
the type checker included), and only the entry points know ``Installation``. Read from the
source with ``ast``."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "custom_components" / "connect_share"
ROOT_NAME = "custom_components.connect_share"
# Imports for the type checker count too: a module that names another's type depends on it.
COUNT_TYPE_CHECKING = True
# Home Assistant's entry points for an integration: the component and its platforms.
MAY_IMPORT_INSTALLATION = {
    "__init__",
    "binary_sensor",
    "button",
    "event",
    "sensor",
    "switch",
    "diagnostics",
    "repairs",
    "services",
    "media_source",
    "entity",
    "detection_entities",
    "panel_api.common",
    "panel_api.now",
    "panel_api.requests",
    "panel_api.footage",
    "panel_api.history",
    "panel_api.cameras",
    "panel",
}


def _module_name(path: Path) -> str:
    rel = path.relative_to(PACKAGE).with_suffix("")
    parts = [p for p in rel.parts if p != "__init__"]
    return ".".join(parts) or "__init__"


def _resolve(current: str, is_package: bool, level: int, module: str | None) -> str:
    base = current.split(".") if current != "__init__" else []
    if not is_package:
        base = base[:-1]
    if level > 1:
        base = base[: len(base) - (level - 1)]
    target = ".".join([*base, *(module.split(".") if module else [])])
    return target or "__init__"


def _runtime_imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    current = _module_name(path)
    is_package = path.name == "__init__.py"
    found: set[str] = set()

    def visit(nodes: list[ast.stmt], in_type_checking: bool) -> None:
        for node in nodes:
            if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
                visit(node.body, COUNT_TYPE_CHECKING is False)
                visit(node.orelse, in_type_checking)
                continue
            if isinstance(node, ast.ImportFrom) and not in_type_checking:
                if node.level:
                    target = _resolve(current, is_package, node.level, node.module)
                elif node.module and node.module.startswith(ROOT_NAME):
                    target = node.module.removeprefix(ROOT_NAME).lstrip(".") or "__init__"
                else:
                    continue
                found.add(target)
                for alias in node.names:  # "from . import audit" imports a module
                    candidate = f"{target}.{alias.name}" if target != "__init__" else alias.name
                    if (PACKAGE / Path(*candidate.split("."))).with_suffix(".py").exists():
                        found.add(candidate)
            for field in ("body", "orelse", "finalbody", "handlers"):
                inner = getattr(node, field, None)
                if isinstance(inner, list) and inner and isinstance(inner[0], ast.AST):
                    visit([n for n in inner if isinstance(n, ast.stmt)] or [], in_type_checking)
                    for handler in inner:
                        if isinstance(handler, ast.ExceptHandler):
                            visit(handler.body, in_type_checking)

    visit(tree.body, False)
    return found - {current}


def _graph() -> dict[str, set[str]]:
    modules = {_module_name(p): p for p in PACKAGE.rglob("*.py")}
    return {name: _runtime_imports(path) & set(modules) for name, path in modules.items()}


def test_no_import_cycles() -> None:
    graph = _graph()
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                cycle = [*stack[stack.index(nxt) :], nxt]
                raise AssertionError("import cycle: " + " -> ".join(cycle))
            if state.get(nxt) is None:
                visit(nxt)
        stack.pop()
        state[node] = 2

    # Packages import their submodules by design (protocol/__init__ re-exports); a package's
    # own __init__ is not part of a cycle through its children.
    # Importing any submodule first runs its parent packages' __init__; that is Python's
    # order, not a dependency between our modules.
    for name in list(graph):
        graph[name] = {t for t in graph[name] if t != "__init__" and not name.startswith(t + ".")}
    for node in sorted(graph):
        if state.get(node) is None:
            visit(node)


def test_only_entry_points_know_the_installation() -> None:
    graph = _graph()
    importers = {name for name, targets in graph.items() if "installation" in targets}
    assert importers <= MAY_IMPORT_INSTALLATION, sorted(importers - MAY_IMPORT_INSTALLATION)
    # The parts that hold the rules depend on the context, never on the installation.
    for part in ("access", "requests", "live", "sharing", "context", "outbox", "audit_log"):
        assert "installation" not in graph[part], part


def test_the_old_manager_is_gone() -> None:
    assert not (PACKAGE / "manager.py").exists()
    assert not (PACKAGE / "media" / "sessions.py").exists()
