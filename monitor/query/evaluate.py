"""Evaluating a compiled query on one article: whether it holds, and the occurrences that made it hold.

A query compiles once (compile_query), when the watchlists are compiled; evaluating it runs each leaf's
pattern at most once per article field (ArticleText caches the spans, shared by every watchlist).

What is reported as hits: the occurrences of the leaves outside NOT that took part in making the
query true. A true OR reports the occurrences of each true side; AND reports all its sides'; NOT
reports none (it can only veto); NEAR reports only the occurrences that have a partner within reach,
so "Alibaba NEAR/5 PLA" with ten Alibabas and one PLA nearby reports that pair, not ten mentions.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

from ..text import normalise_text
from .anchors import AnchorIndex, FoundAnchors
from .patterns import CompiledTerm, phrase_term, prefix_term
from .positions import WordPositions
from .syntax import And, Leaf, Near, Node, Not, Query, Scope

_FIELDS: tuple[Scope, ...] = ("title", "text")


@dataclass(frozen=True)
class Occurrence:
    """One place where a query's leaf matched."""

    field: Scope
    start: int
    end: int
    text: str
    term: str  # the configured term's name, or the query's word as written


@dataclass(frozen=True)
class QueryResult:
    matched: bool
    occurrences: tuple[Occurrence, ...] = ()


_FALSE = QueryResult(False)


class ArticleText:
    """An article's normalised headline and body, with the spans and word positions found in them.

    With an AnchorIndex of the terms' phrases, one pass per field finds where they can match, and each
    term checks only those places (monitor.query.anchors); without, each term scans the texts.
    """

    def __init__(self, title: str, text: str, index: AnchorIndex | None = None):
        self._texts: dict[Scope, str] = {"title": title, "text": text}
        self._index = index
        self._found: dict[Scope, FoundAnchors | None] = {}
        # By the term's id: hashing a term hashes its compiled regex, which costs more than the lookup.
        # The term is kept in the value, so that its id cannot be reused while this article is read.
        self._occurrences: dict[tuple[int, Scope], tuple[CompiledTerm, tuple[Occurrence, ...]]] = {}
        self._words: dict[Scope, WordPositions] = {}

    def found(self, field: Scope) -> FoundAnchors | None:
        """Where the index's anchors are in the field; None without an index."""
        if self._index is None:
            return None
        if field not in self._found:
            self._found[field] = self._index.find(self._texts[field])
        return self._found[field]

    def occurrences(self, term: CompiledTerm, field: Scope) -> tuple[Occurrence, ...]:
        key = (id(term), field)
        if key not in self._occurrences:
            spans = term.spans(self._texts[field], self.found(field))
            found = tuple(Occurrence(field, s.start, s.end, s.text, term.term) for s in spans)
            self._occurrences[key] = (term, found)
        return self._occurrences[key][1]

    def words(self, field: Scope) -> WordPositions:
        if field not in self._words:
            self._words[field] = WordPositions.of(self._texts[field])
        return self._words[field]


class _Evaluable(Protocol):
    def evaluate(self, article: ArticleText) -> QueryResult: ...

    def terms(self) -> Iterator[CompiledTerm]: ...

    # Terms one of which occurs whenever the node is true with occurrences.
    def needs(self) -> frozenset[CompiledTerm]: ...

    # Whether the node can be true with no occurrences (through a NOT).
    def bare(self) -> bool: ...


@dataclass(frozen=True)
class CompiledQuery:
    source: str
    root: _Evaluable

    def terms(self) -> Iterator[CompiledTerm]:
        """The terms of its leaves, NOT's included."""
        return self.root.terms()

    def needs(self) -> frozenset[CompiledTerm]:
        """Terms one of which must occur for the query to report a hit (an article with none of them
        cannot match, so it need not be evaluated)."""
        return self.root.needs()

    def evaluate(self, article: ArticleText) -> QueryResult:
        """Whether the query holds, with its hits once each, headline first, in reading order."""
        result = self.root.evaluate(article)
        if not result.matched:
            return result
        # The same text can be reached twice ("PLA OR People's Liberation Army" with PLA's alias).
        unique = {(o.field, o.start, o.end): o for o in reversed(result.occurrences)}
        ordered = sorted(unique.values(), key=lambda o: (_FIELDS.index(o.field), o.start))
        return QueryResult(True, tuple(ordered))


def reference_key(text: str) -> str:
    """How a query's word or phrase is compared with the names of the configured terms."""
    return " ".join(normalise_text(text).split()).casefold()


def compile_query(query: Query, named_terms: Mapping[str, CompiledTerm]) -> CompiledQuery:
    """Compile each leaf once: a configured term (by reference_key), a literal phrase, or a prefix."""
    return CompiledQuery(query.source, _compile(query.root, named_terms))


def _compile(node: Node, named: Mapping[str, CompiledTerm]) -> _Evaluable:
    if isinstance(node, Leaf):
        return _LeafNode(_term_for(node, named), node.scope)
    if isinstance(node, Not):
        return _NotNode(_compile(node.operand, named))
    if isinstance(node, Near):
        return _NearNode(_compile(node.left, named), _compile(node.right, named), node.distance)
    operands = tuple(_compile(operand, named) for operand in node.operands)
    return _AndNode(operands) if isinstance(node, And) else _OrNode(operands)


def _term_for(leaf: Leaf, named: Mapping[str, CompiledTerm]) -> CompiledTerm:
    if leaf.kind == "prefix":
        return prefix_term(leaf.text)
    return named.get(reference_key(leaf.text)) or phrase_term(leaf.text)


@dataclass(frozen=True)
class _LeafNode:
    term: CompiledTerm
    scope: Scope | None

    def evaluate(self, article: ArticleText) -> QueryResult:
        fields = _FIELDS if self.scope is None else (self.scope,)
        found = tuple(o for field in fields for o in article.occurrences(self.term, field))
        return QueryResult(True, found) if found else _FALSE

    def terms(self) -> Iterator[CompiledTerm]:
        yield self.term

    def needs(self) -> frozenset[CompiledTerm]:
        return frozenset([self.term])

    def bare(self) -> bool:
        return False


@dataclass(frozen=True)
class _NotNode:
    operand: _Evaluable

    def evaluate(self, article: ArticleText) -> QueryResult:
        return _FALSE if self.operand.evaluate(article).matched else QueryResult(True)

    def terms(self) -> Iterator[CompiledTerm]:
        return self.operand.terms()

    def needs(self) -> frozenset[CompiledTerm]:
        return frozenset()  # a true NOT has no occurrences

    def bare(self) -> bool:
        return True


@dataclass(frozen=True)
class _AndNode:
    operands: tuple[_Evaluable, ...]

    def evaluate(self, article: ArticleText) -> QueryResult:
        found: list[Occurrence] = []
        for operand in self.operands:  # stops at the first false side: the rest need not run
            result = operand.evaluate(article)
            if not result.matched:
                return _FALSE
            found.extend(result.occurrences)
        return QueryResult(True, tuple(found))

    def terms(self) -> Iterator[CompiledTerm]:
        return (term for operand in self.operands for term in operand.terms())

    def needs(self) -> frozenset[CompiledTerm]:
        # All sides are true, so a side that cannot be true without occurrences has them.
        sides = [operand.needs() for operand in self.operands if not operand.bare()]
        if sides:
            return min(sides, key=len)
        return frozenset().union(*(operand.needs() for operand in self.operands))

    def bare(self) -> bool:
        return all(operand.bare() for operand in self.operands)


@dataclass(frozen=True)
class _OrNode:
    operands: tuple[_Evaluable, ...]

    def evaluate(self, article: ArticleText) -> QueryResult:
        results = [operand.evaluate(article) for operand in self.operands]  # every true side has hits
        if not any(r.matched for r in results):
            return _FALSE
        return QueryResult(True, tuple(o for r in results if r.matched for o in r.occurrences))

    def terms(self) -> Iterator[CompiledTerm]:
        return (term for operand in self.operands for term in operand.terms())

    def needs(self) -> frozenset[CompiledTerm]:
        return frozenset().union(*(operand.needs() for operand in self.operands))

    def bare(self) -> bool:
        return any(operand.bare() for operand in self.operands)


@dataclass(frozen=True)
class _NearNode:
    left: _Evaluable
    right: _Evaluable
    distance: int

    def evaluate(self, article: ArticleText) -> QueryResult:
        left = self.left.evaluate(article)
        right = self.right.evaluate(article) if left.matched else _FALSE
        if not right.matched:
            return _FALSE
        found = [
            o
            for field in _FIELDS  # a headline and a body are separate texts: no NEAR across them
            for o in _partnered(left.occurrences, right.occurrences, field, self.distance, article)
        ]
        return QueryResult(True, tuple(found)) if found else _FALSE

    def terms(self) -> Iterator[CompiledTerm]:
        yield from self.left.terms()
        yield from self.right.terms()

    def needs(self) -> frozenset[CompiledTerm]:
        # A true NEAR has a partnered occurrence on each side: either side's needs will do.
        return min(self.left.needs(), self.right.needs(), key=len)

    def bare(self) -> bool:
        return False


def _partnered(
    left: Sequence[Occurrence], right: Sequence[Occurrence], field: Scope, distance: int, article: ArticleText
) -> list[Occurrence]:
    """The occurrences on either side that have one on the other side within `distance` words."""
    left = [o for o in left if o.field == field]
    right = [o for o in right if o.field == field]
    if not left or not right:
        return []
    words = article.words(field)
    left_words = [words.words_covered(o.start, o.end) for o in left]
    right_words = [words.words_covered(o.start, o.end) for o in right]
    left_reach, right_reach = _Reach.of(left_words), _Reach.of(right_words)
    return [o for o, w in zip(left, left_words, strict=True) if right_reach.has_partner(w, distance)] + [
        o for o, w in zip(right, right_words, strict=True) if left_reach.has_partner(w, distance)
    ]


@dataclass(frozen=True)
class _Reach:
    """One side's word spans sorted by first word, with the furthest last word seen so far."""

    firsts: list[int]
    furthest_lasts: list[int]

    @classmethod
    def of(cls, spans: Sequence[tuple[int, int]]) -> _Reach:
        ordered = sorted(spans)
        furthest, running = [], -1
        for _, last in ordered:
            running = max(running, last)
            furthest.append(running)
        return cls([first for first, _ in ordered], furthest)

    def has_partner(self, span: tuple[int, int], distance: int) -> bool:
        # Words between spans [f1, l1] and [f2, l2] = max(f1, f2) - min(l1, l2) - 1 (or 0 if they
        # overlap); that is <= distance exactly when f2 <= l1 + distance + 1 and l2 >= f1 - distance - 1.
        first, last = span
        count = bisect.bisect_right(self.firsts, last + distance + 1)
        return count > 0 and self.furthest_lasts[count - 1] >= first - distance - 1
