"""Parsing a watchlist query into a tree (monitor.query.syntax), or a QuerySyntaxError saying where.

The grammar, lowest precedence first (docs/query-language.md explains it with examples):

    query   = or END
    or      = and { "OR" and }
    and     = near { ["AND"] near }          two operands side by side are ANDed
    near    = unary { "NEAR/n" unary }       left to right: A NEAR/3 B NEAR/5 C = (A NEAR/3 B) NEAR/5 C
    unary   = ("NOT" | "-") unary | FIELD primary | primary
    primary = "(" or ")" | WORD | PHRASE | PREFIX
    FIELD   = "title:" | "text:"

So NOT binds tightest, then a field prefix, then NEAR, then AND, then OR: `A B NOT C OR D` reads
`(A AND B AND (NOT C)) OR D`, which is how `... NOT title:"PLA filament"` excludes a headline.

Why a hand-written recursive-descent parser and not lark: the grammar is six rules, and the errors
are the feature. Lark reports "Unexpected token Token('RPAR', ')'), expected one of: WORD, ESCAPED_STRING,
LPAR, ..." in its own terminal names; turning that into "expected a term, phrase or '(' after AND"
means re-deriving, per state, what the analyst was in the middle of, which is what each function
here already knows. It also saves a dependency, and the checks that are not context-free (what may
stand beside NEAR, conflicting fields, a query with nothing to find) sit where the parts are built.
"""

from __future__ import annotations

import dataclasses

from .lexer import Token, tokenize
from .syntax import And, Leaf, LeafKind, Near, Node, Not, Or, Query, QuerySyntaxError, Scope, place

_OPERAND_START = frozenset({"(", "word", "phrase", "prefix", "not", "minus", "field"})
_TERM = "a term, phrase or '('"
_LEAF_KINDS: dict[str, LeafKind] = {"word": "word", "phrase": "phrase", "prefix": "prefix"}


def parse_query(source: str) -> Query:
    """The query's tree; QuerySyntaxError (a ValueError) names the column and what was expected."""
    query = Query(source, _Parser(source).parse())
    if not any(query.positive_leaves()):
        raise QuerySyntaxError(
            source, 0, "at least one term outside NOT: an alert needs something the article mentions",
            "only excluded terms",
        )  # fmt: skip
    return query


class _Parser:
    def __init__(self, source: str):
        self.source = source
        self.tokens = tokenize(source)
        self.index = 0

    def parse(self) -> Node:
        if self._peek().kind == "end":
            raise QuerySyntaxError(self.source, 0, _TERM, "an empty query")
        root = self._or(None, "at the start of the query")
        extra = self._peek()
        if extra.kind != "end":  # only a ')' can be left over: everything else starts or joins an operand
            raise self._error(extra, "an operator or the end of the query", "')', which closes no '('")
        return root

    def _or(self, scope: Scope | None, after: str) -> Node:
        operands = [self._and(scope, after)]
        while self._peek().kind == "or":
            operator = self._take()
            operands.append(self._and(scope, f"after {operator.text}"))
        return operands[0] if len(operands) == 1 else Or(tuple(operands), operands[0].offset)

    def _and(self, scope: Scope | None, after: str) -> Node:
        operands = [self._near(scope, after)]
        while self._peek().kind == "and" or self._peek().kind in _OPERAND_START:
            if self._peek().kind == "and":
                after = f"after {self._take().text}"
            operands.append(self._near(scope, after))
        return operands[0] if len(operands) == 1 else And(tuple(operands), operands[0].offset)

    def _near(self, scope: Scope | None, after: str) -> Node:
        left = self._unary(scope, after)
        while self._peek().kind == "near":
            operator = self._take()
            right = self._unary(scope, f"after {operator.text}")
            self._require_positional(left, operator)
            self._require_positional(right, operator)
            left = Near(left, right, operator.distance, left.offset)
        return left

    def _unary(self, scope: Scope | None, after: str) -> Node:
        token = self._peek()
        if token.kind in ("not", "minus"):
            self._take()
            return Not(self._unary(scope, f"after {token.describe()}"), token.offset)
        if token.kind == "field":
            self._take()
            field: Scope = "title" if token.text == "title:" else "text"
            if scope not in (None, field):
                raise self._error(token, f"no other field inside {scope}:( )", token.describe())
            return self._primary(field, f"after {token.text}")
        return self._primary(scope, after)

    def _primary(self, scope: Scope | None, after: str) -> Node:
        token = self._take()
        if token.kind == "(":
            return self._group(token, scope)
        if token.kind in ("word", "phrase", "prefix"):
            return Leaf(_LEAF_KINDS[token.kind], token.text, token.offset, scope)
        raise self._error(token, f"{_TERM} {after}", token.describe())

    def _group(self, opening: Token, scope: Scope | None) -> Node:
        inner = self._or(scope, "after '('")
        closing = self._take()
        if closing.kind != ")":
            where = place(self.source, opening.offset)
            raise self._error(closing, f"')' to close the '(' at {where}", closing.describe())
        # The group is reported from its '(' (a NEAR error points at "(A AND B)", not at "A").
        return dataclasses.replace(inner, offset=opening.offset)

    def _require_positional(self, node: Node, operator: Token) -> None:
        """NEAR needs places in the text on both sides: terms, phrases, OR groups of them, or a NEAR."""
        if isinstance(node, Or):
            for operand in node.operands:
                self._require_positional(operand, operator)
        elif isinstance(node, Not):
            expected = f"a term, phrase or OR group on each side of {operator.text}"
            raise QuerySyntaxError(self.source, node.offset, expected, "an excluded term (NOT or -)")
        elif isinstance(node, And):
            expected = f"a term, phrase or OR group on each side of {operator.text}"
            found = 'terms joined by AND (words side by side are ANDed: quote a "phrase")'
            raise QuerySyntaxError(self.source, node.offset, expected, found)

    def _peek(self) -> Token:
        return self.tokens[self.index]

    def _take(self) -> Token:
        token = self.tokens[self.index]
        if token.kind != "end":
            self.index += 1
        return token

    def _error(self, token: Token, expected: str, found: str) -> QuerySyntaxError:
        return QuerySyntaxError(self.source, token.offset, expected, found)
