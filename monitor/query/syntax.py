"""A parsed query: its tree of nodes, each with its place in the source, and the error for a bad one."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Literal

Scope = Literal["title", "text"]
LeafKind = Literal["word", "phrase", "prefix"]


class QuerySyntaxError(ValueError):
    """A query that cannot be parsed: where (1-based column, and line for multi-line queries) and why.

    A ValueError, so pydantic reports it as the `query:` key's problem with the file and line.
    """

    def __init__(self, source: str, offset: int, expected: str, found: str | None = None):
        self.offset = offset
        self.line, self.column = line_and_column(source, offset)
        self.expected = expected
        self.found = found
        message = f"{place(source, offset)}: expected {expected}"
        super().__init__(f"{message}, found {found}" if found else message)


def line_and_column(source: str, offset: int) -> tuple[int, int]:
    """1-based line and column of a 0-based offset."""
    before = source[:offset]
    return before.count("\n") + 1, offset - (before.rfind("\n") + 1) + 1


def place(source: str, offset: int) -> str:
    """Where `offset` is: "column 18", or "line 2, column 5" in a query written over several lines."""
    line, column = line_and_column(source, offset)
    # A folded YAML scalar (query: >) ends in a line break but reads as one line.
    return f"column {column}" if "\n" not in source.strip() else f"line {line}, column {column}"


@dataclass(frozen=True)
class Leaf:
    """A bare word (which may name a configured term), a "quoted phrase", or a prefix such as chip*."""

    kind: LeafKind
    text: str  # as written, without the quotes or the *
    offset: int  # 0-based, in the query's source
    scope: Scope | None = None  # title: or text:; None for both


@dataclass(frozen=True)
class Not:
    operand: Node
    offset: int


@dataclass(frozen=True)
class And:
    operands: tuple[Node, ...]
    offset: int


@dataclass(frozen=True)
class Or:
    operands: tuple[Node, ...]
    offset: int


@dataclass(frozen=True)
class Near:
    """Both sides within `distance` words of each other, in either order."""

    left: Node
    right: Node
    distance: int
    offset: int


Node = Leaf | Not | And | Or | Near


@dataclass(frozen=True)
class Query:
    source: str
    root: Node

    def leaves(self) -> Iterator[Leaf]:
        return _leaves(self.root, positive_only=False)

    def positive_leaves(self) -> Iterator[Leaf]:
        """The leaves outside every NOT: the ones whose occurrences are reported as hits."""
        return _leaves(self.root, positive_only=True)


def _leaves(node: Node, *, positive_only: bool) -> Iterator[Leaf]:
    if isinstance(node, Leaf):
        yield node
    elif isinstance(node, Not):
        if not positive_only:
            yield from _leaves(node.operand, positive_only=False)
    elif isinstance(node, Near):
        yield from _leaves(node.left, positive_only=positive_only)
        yield from _leaves(node.right, positive_only=positive_only)
    else:
        for operand in node.operands:
            yield from _leaves(operand, positive_only=positive_only)
