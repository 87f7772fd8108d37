"""The package's layout is its architecture: imports run one way, top to bottom, and never in a circle.

Read from the source with the stdlib `ast`, so the test sees every import, including those inside functions
(a lazy import is still a dependency). Imports under `if TYPE_CHECKING:` are left out: they are types for
the checker, never run.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "monitor"

# A module may import its own part and parts of a lower rank only (monitor/__init__.py's docstring draws
# this tree). Modules at the package root are the foundations every part may use.
RANKS = {
    "cli": 8,
    "service": 7,
    "pipeline": 6,
    "feedback": 5,
    "stories": 5,
    "sources": 5,
    "stages": 4,
    "delivery": 4,
    "storage": 3,
    "config": 2,
    "query": 1,
    "http": 1,
    "data": 1,
}
FOUNDATION = 0
# Foundations grown into folders: they count as the root's modules.
FOUNDATION_PACKAGES = {"redact", "text"}

# The stages: none imports another (the pipeline passes records between them). Their private helpers
# (extract's boilerplate, poll's feed_parse, ...) are not stages.
STAGES = {"poll", "fetch", "extract", "match", "dedupe", "neardup", "stories", "summarise"}


def modules() -> dict[str, Path]:
    """Every module of the package by dotted name (Alembic's migration scripts are loaded by Alembic)."""
    found = {}
    for path in PACKAGE.rglob("*.py"):
        if "migrations" in path.relative_to(PACKAGE).parts:
            continue
        parts = ["monitor", *path.relative_to(PACKAGE).with_suffix("").parts]
        if parts[-1] == "__init__":
            parts.pop()
        found[".".join(parts)] = path
    return found


MODULES = modules()


def imported_modules(name: str) -> Iterator[str]:
    """The package's modules that `name` imports when it runs."""
    path = MODULES[name]
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    tree = ast.parse(path.read_text(encoding="utf-8"))
    type_only = {
        id(node) for block in ast.walk(tree) if _is_type_checking_block(block) for node in ast.walk(block)
    }
    for node in ast.walk(tree):
        if id(node) in type_only:
            continue
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names if alias.name.startswith("monitor"))
        elif isinstance(node, ast.ImportFrom):
            base = _absolute(node, package)
            if base.split(".")[0] != "monitor":
                continue
            for alias in node.names:
                submodule = f"{base}.{alias.name}"
                yield submodule if submodule in MODULES else base


def _is_type_checking_block(node: ast.AST) -> bool:
    return isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test)


def _absolute(node: ast.ImportFrom, package: str) -> str:
    if not node.level:
        return node.module or ""
    parts = package.split(".")
    base = parts[: len(parts) - (node.level - 1)]
    return ".".join(base + ([node.module] if node.module else []))


def part(name: str) -> str:
    """The part of the tree a module belongs to: its top folder, or "" for the root's foundations."""
    parts = name.split(".")
    folder = parts[1] if len(parts) > 2 or (len(parts) == 2 and parts[1] in RANKS) else ""
    return "" if folder in FOUNDATION_PACKAGES else folder


def rank(name: str) -> int:
    return RANKS.get(part(name), FOUNDATION)


GRAPH = {name: sorted(set(imported_modules(name)) - {name}) for name in MODULES}


def test_every_part_of_the_tree_has_a_rank() -> None:
    folders = {p.name for p in PACKAGE.iterdir() if p.is_dir() and (p / "__init__.py").exists()}
    missing = "give a new folder its rank in RANKS and a line in monitor/__init__.py's docstring"
    assert folders == set(RANKS) | FOUNDATION_PACKAGES, missing


def test_imports_run_one_way_top_to_bottom() -> None:
    upward = [
        f"{name} imports {target}"
        for name, targets in GRAPH.items()
        for target in targets
        if part(target) != part(name) and rank(target) >= rank(name) and name != "monitor.__main__"
    ]
    assert upward == []


def test_stages_do_not_import_each_other() -> None:
    def stage(name: str) -> str | None:
        parts = name.split(".")
        return parts[2] if len(parts) == 3 and parts[1] == "stages" and parts[2] in STAGES else None

    crossings = [
        f"{name} imports {target}"
        for name, targets in GRAPH.items()
        for target in targets
        if stage(name) and stage(target) and stage(name) != stage(target)
    ]
    assert crossings == []


def test_no_module_imports_itself_through_others() -> None:
    cycle = find_cycle(GRAPH)
    assert cycle == [], " -> ".join(cycle)


def find_cycle(graph: dict[str, list[str]]) -> list[str]:
    """One import cycle, as the list of modules around it, or [] (depth-first search, three colours)."""
    state: dict[str, str] = {}
    stack: list[str] = []

    def visit(name: str) -> list[str]:
        state[name] = "open"
        stack.append(name)
        for target in graph.get(name, []):
            if state.get(target) == "open":
                return [*stack[stack.index(target) :], target]
            if target not in state and (found := visit(target)):
                return found
        stack.pop()
        state[name] = "done"
        return []

    for name in sorted(graph):
        if name not in state and (found := visit(name)):
            return found
    return []


@pytest.mark.parametrize(
    ("graph", "expected"),
    [
        ({"a": ["b"], "b": ["c"], "c": []}, []),
        ({"a": ["b"], "b": ["c"], "c": ["a"]}, ["a", "b", "c", "a"]),
        ({"a": ["b", "c"], "b": [], "c": ["c"]}, ["c", "c"]),
    ],
)
def test_the_cycle_finder_finds_cycles(graph: dict[str, list[str]], expected: list[str]) -> None:
    assert find_cycle(graph) == expected
