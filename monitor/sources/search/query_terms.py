"""A watchlist's `query:` as a provider's query: narrowed where the provider can say so, never narrower
than what the local match accepts (a hit is only a lead: the local match decides).

The query is written as an AND of OR groups of atoms (quoted phrases, words, `-x`), the one shape both
GDELT and Google News take without nested parentheses. What a provider cannot say is widened, never
narrowed: an unsearchable leaf (a pattern, a prefix such as chip*, a phrase the provider refuses) matches
anything; an OR with such an operand matches anything; an OR over an AND keeps the AND's first OR group;
NEAR becomes AND unless the provider has a form for it; a NOT is kept only over a plain, case-insensitive
phrase or term without excludes that the provider writes exactly, and dropped otherwise (it would
exclude more than the local query does). Each widening is noted for `check`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from ...config import TermConfig, WatchlistConfig
from ...query import parse_query, reference_key
from ...query.syntax import And, Leaf, Near, Node, Not, Or, place
from .terms import SearchTerm


@dataclass(frozen=True)
class Atom:
    text: str  # as the provider takes it: `"T-Head"`, `Alibaba`, `intitle:"PLA"`, `-"PLA filament"`
    negatable: bool = False  # a plain phrase or word the provider excludes exactly with a leading -
    positive: bool = True
    alone: bool = False  # not known to work inside an OR group (GDELT's nearN:)


Clause = tuple[Atom, ...]  # OR'd


@dataclass(frozen=True)
class Written:
    """A node as the provider's query: its clauses AND'd (none: anything), and whether it says exactly
    what the node does (only an exact node may be negated)."""

    clauses: tuple[Clause, ...] = ()
    exact: bool = False

    def positive(self) -> list[Clause]:
        return [clause for clause in self.clauses if all(atom.positive for atom in clause)]


ANYTHING = Written()


@dataclass(frozen=True)
class Dialect:
    """What one provider can say: `phrase` writes a literal word or phrase (None: it cannot); `term`
    writes a configured term's phrases by the provider's rules (its notes to the list); `title` writes
    a title-scoped atom (None: no title scope); `near` writes two words within n (None: it cannot)."""

    provider: str
    phrase: Callable[[str], str | None]
    term: Callable[[SearchTerm, list[str]], list[str]]
    title: Callable[[str], str] | None = None
    near: Callable[[str, str, int], str | None] | None = None


@dataclass
class _Translation:
    dialect: Dialect
    source: str
    terms: dict[str, TermConfig]
    notes: list[str] = field(default_factory=list)

    def node(self, node: Node) -> Written:
        if isinstance(node, Leaf):
            return self.leaf(node)
        if isinstance(node, Not):
            return self.negation(node)
        if isinstance(node, Near):
            return self.near(node)
        written = [self.node(operand) for operand in node.operands]
        return _all_of(written) if isinstance(node, And) else self.any_of(node, written)

    def leaf(self, leaf: Leaf) -> Written:
        shown = {"prefix": f"{leaf.text}*", "phrase": f'"{leaf.text}"'}.get(leaf.kind, leaf.text)
        if leaf.kind == "prefix":
            self.notes.append(
                f"{shown!r} left to the local match: {self.dialect.provider} has no prefix search"
            )
            return ANYTHING
        term = self.terms.get(reference_key(leaf.text))
        if term is not None and term.regex is not None:
            self.notes.append(f"{shown!r} left to the local match: a pattern cannot be searched for")
            return ANYTHING
        if term is not None and term.term is not None:
            phrases = (term.term, *term.aliases)
            texts = self.dialect.term(SearchTerm(term.term, phrases, term.case_sensitive), self.notes)
            exact = len(texts) == len(phrases) and not term.case_sensitive and not term.exclude
        else:
            text = self.dialect.phrase(leaf.text)
            if text is None:
                self.notes.append(f"{shown!r} left to the local match: {self.dialect.provider} refuses it")
            texts, exact = ([text] if text else []), True
        if not texts:
            return ANYTHING
        if leaf.scope == "title":
            if self.dialect.title is None:
                self.notes.append(
                    f"title:{shown} searched anywhere: {self.dialect.provider} has no title search"
                )
                return Written(((*(Atom(text) for text in texts),),))
            return Written(((*(Atom(self.dialect.title(text)) for text in texts),),))
        # text: is searched anywhere too, which is wider; the local match decides.
        return Written(((*(Atom(text, negatable=True) for text in texts),),), exact and leaf.scope is None)

    def any_of(self, node: Or, written: list[Written]) -> Written:
        firsts = [w.positive() for w in written]
        if not all(firsts):
            return ANYTHING  # one side can be anything: so can the OR
        if any(len(w.clauses) > 1 for w in written):
            self.notes.append(
                f"the OR at {place(self.source, node.offset)} searched by the first part of each side"
            )
        atoms = tuple(dict.fromkeys(atom for clauses in firsts for atom in clauses[0]))
        if any(atom.alone for atom in atoms):
            self.notes.append(
                f"the OR at {place(self.source, node.offset)} left to the local match: it holds a NEAR"
            )
            return ANYTHING
        return Written((atoms,), all(w.exact and len(w.clauses) == 1 for w in written))

    def negation(self, node: Not) -> Written:
        operand = self.node(node.operand)
        if operand.exact and len(operand.clauses) == 1 and all(a.negatable for a in operand.clauses[0]):
            return Written(tuple((Atom(f"-{atom.text}", positive=False),) for atom in operand.clauses[0]))
        self.notes.append(
            f"the NOT at {place(self.source, node.offset)} left to the local match: "
            f"{self.dialect.provider} cannot exclude exactly what it excludes"
        )
        return ANYTHING

    def near(self, node: Near) -> Written:
        words = [_one_word(side, self.terms) for side in (node.left, node.right)]
        if self.dialect.near is not None and words[0] and words[1]:
            text = self.dialect.near(words[0], words[1], node.distance)
            if text is not None:
                return Written(((Atom(text, alone=True),),))
        self.notes.append(f"NEAR/{node.distance} at {place(self.source, node.offset)} searched as AND")
        return Written(_all_of([self.node(node.left), self.node(node.right)]).clauses)


def _all_of(written: list[Written]) -> Written:
    clauses = tuple(dict.fromkeys(clause for w in written for clause in w.clauses))
    return Written(clauses, all(w.exact for w in written))


def _one_word(node: Node, terms: dict[str, TermConfig]) -> str | None:
    """The node's one word, when it is an unscoped word with no alias (a term's, or a literal's)."""
    if not isinstance(node, Leaf) or node.kind == "prefix" or node.scope == "title":
        return None
    term = terms.get(reference_key(node.text))
    if term is not None and (term.regex is not None or term.aliases or term.exclude):
        return None
    text = term.term if term is not None and term.term is not None else node.text
    return text if len(text.split()) == 1 else None


def written_query(watchlist: WatchlistConfig, dialect: Dialect) -> tuple[str | None, list[str]]:
    """The watchlist's query in the provider's words (positive groups first), and the notes on what it
    widened; None when nothing in it narrows the search (the caller falls back to the terms)."""
    if watchlist.query is None:
        return None, []
    terms = {reference_key(term.name): term for term in watchlist.terms}
    translation = _Translation(dialect, watchlist.query, terms)
    written = translation.node(parse_query(watchlist.query).root)
    if not written.positive():
        return None, translation.notes
    ordered = written.positive() + [c for c in written.clauses if c not in written.positive()]
    return " ".join(_group(clause) for clause in ordered), translation.notes


def _group(clause: Clause) -> str:
    texts = [atom.text for atom in clause]
    return texts[0] if len(texts) == 1 else "(" + " OR ".join(texts) + ")"
