"""The layout's rules, read from every module's imports with ``ast`` (those inside functions
too): what may import what, and no import cycle, between modules or between monitor's rooms.
``docs/architecture.md`` is the map these rules keep true."""

from __future__ import annotations

import ast
import functools
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("spiders", "monitor", "storage")
# Libraries that pure code (page reading and judging) must not load.
IMPURE = ("scrapy", "twisted", "sqlalchemy", "alembic", "apprise", "redis", "scrapy_redis")


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


@functools.cache
def parsed(path: Path) -> ast.Module:
    """A module's syntax tree, read once for every rule."""
    return ast.parse(path.read_text(encoding="utf-8"))


def imports_of(path: Path, name: str | None = None) -> Iterator[tuple[str, int]]:
    """Every module that ``path`` (module ``name``) imports, anywhere in it, with the line:
    ``from a.b import c`` gives ``a.b.c`` when that is a module of ours, else ``a.b``."""
    tree = parsed(path)
    package = (name or module_name(path)).split(".")
    if path.name != "__init__.py":
        package = package[:-1]
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name, node.lineno
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[: len(package) - node.level + 1]
                module = ".".join(base + ([node.module] if node.module else []))
            else:
                module = node.module or ""
            for alias in node.names:
                candidate = f"{module}.{alias.name}"
                yield (candidate if candidate in MODULES else module), node.lineno


MODULES = {
    module_name(path): path for package in PACKAGES for path in (ROOT / package).rglob("*.py")
}


def own(name: str) -> str | None:
    """The module of ours that an imported name is, or lies in."""
    while name and name not in MODULES:
        name = name.rpartition(".")[0]
    return name or None


@functools.cache
def graph() -> dict[str, set[str]]:
    edges: dict[str, set[str]] = {}
    for name, path in MODULES.items():
        edges[name] = set()
        for imported, _ in imports_of(path):
            target = own(imported)
            if target and target != name and not name.startswith("storage.migrations"):
                edges[name].add(target)
    return edges


def room(module: str) -> str:
    """``monitor.runs.plan`` is in ``monitor.runs``; ``spiders`` and ``storage`` are one room
    each, and so is each module at ``monitor``'s top (``monitor.errors``)."""
    parts = module.split(".")
    return ".".join(parts[:2]) if parts[0] == "monitor" and len(parts) > 1 else parts[0]


def violations(rule: str) -> list[str]:
    found = []
    for name, path in sorted(MODULES.items()):
        for imported, line in imports_of(path):
            where = f"{path.relative_to(ROOT)}:{line} imports {imported}"
            top = imported.split(".")[0]
            if rule == "spiders" and name.startswith("spiders"):
                if top == "monitor" and not imported.startswith(
                    ("monitor.pages", "monitor.runs.queue_keys")
                ):
                    found.append(where)
            elif rule == "pure" and name.startswith(("monitor.pages", "monitor.judging")):
                if top in IMPURE or (top == "storage" and imported != "storage.records"):
                    found.append(where)
            elif rule == "storage" and name.startswith("storage") and top in ("monitor", "spiders"):
                found.append(where)
    return found


@pytest.mark.parametrize("rule", ["spiders", "pure", "storage"])
def test_dependency_rules_hold(rule: str) -> None:
    assert violations(rule) == []


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one node (Tarjan's algorithm)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in edges.get(node, ()):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
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

    for node in sorted(edges):
        if node not in index:
            visit(node)
    return found


def test_no_import_cycle_between_modules() -> None:
    assert cycles(graph()) == []


def test_no_import_cycle_between_rooms() -> None:
    """Rooms (``monitor.pages``, ``monitor.runs``, ``spiders`` ...) import one way too. An
    import of a module that imports nothing of ours (the Redis queue keys, which the worker
    spider shares with ``monitor.runs``) cannot close a cycle, so it does not count."""
    edges = graph()
    rooms: dict[str, set[str]] = {}
    for name, targets in edges.items():
        rooms.setdefault(room(name), set()).update(
            room(t) for t in targets if room(t) != room(name) and edges[t]
        )
    assert cycles(rooms) == []


def test_the_checker_sees_imports_inside_functions_and_cycles(tmp_path: Path) -> None:
    """The rules above are only as good as the reading of imports: an import hidden in a
    function, or written relative, is still an import, and a cycle through it a cycle."""
    probe = tmp_path / "probe.py"
    probe.write_text(
        "import json\n"
        "def f():\n"
        "    from storage.db import Store\n"
        "    from . import plan\n"
        "    from .lifecycle import start_run\n"
    )
    found = [name for name, _ in imports_of(probe, "monitor.runs.probe")]
    assert found == ["json", "storage.db", "monitor.runs.plan", "monitor.runs.lifecycle"]
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert cycles({"a": {"b"}, "b": set()}) == []
