"""Query parsing: every operator, the precedence, and every error with its column and what was expected."""

from __future__ import annotations

import pytest

from monitor.query import QuerySyntaxError, parse_query
from monitor.query.syntax import And, Leaf, Near, Node, Not


def shape(query: str) -> str:
    """The parsed tree as a compact s-expression, to compare with what a reader expects."""
    return _shape(parse_query(query).root)


def _shape(node: Node) -> str:
    if isinstance(node, Leaf):
        scope = f"{node.scope}:" if node.scope else ""
        text = (
            f'"{node.text}"'
            if node.kind == "phrase"
            else f"{node.text}*"
            if node.kind == "prefix"
            else node.text
        )
        return scope + text
    if isinstance(node, Not):
        return f"(NOT {_shape(node.operand)})"
    if isinstance(node, Near):
        return f"(NEAR/{node.distance} {_shape(node.left)} {_shape(node.right)})"
    name = "AND" if isinstance(node, And) else "OR"
    return f"({name} {' '.join(_shape(o) for o in node.operands)})"


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("Alibaba", "Alibaba"),
        ("A AND B", "(AND A B)"),
        ("A OR B", "(OR A B)"),
        ("NOT A B", "(AND (NOT A) B)"),
        ("A NOT B", "(AND A (NOT B))"),  # NOT after an operand: "and not", through the implicit AND
        ("A -B", "(AND A (NOT B))"),
        ("A \u2013B", "(AND A (NOT B))"),  # an en dash pasted from a document is a minus too
        ("--A B", "(AND (NOT (NOT A)) B)"),
        ('"zero-day"', '"zero-day"'),
        ("“PLA filament”", '"PLA filament"'),  # curly quotes
        ("A NEAR/5 B", "(NEAR/5 A B)"),
        ("A NEAR/0 B", "(NEAR/0 A B)"),
        ("chip*", "chip*"),
        ("title:PLA", "title:PLA"),
        ('text:"PLA filament"', 'text:"PLA filament"'),
        ("Title:PLA", "title:PLA"),
        ("title: PLA", "title:PLA"),
        ("title:(A OR B)", "(OR title:A title:B)"),
        ("title:(title:A OR B)", "(OR title:A title:B)"),
        ("-title:filament A", "(AND (NOT title:filament) A)"),
        ("T-Head People's U.S. 10:30", "(AND T-Head People's U.S. 10:30)"),
        ("平头哥 NEAR/10 芯片", "(NEAR/10 平头哥 芯片)"),
        ("(A)", "A"),
        ("((A OR B))", "(OR A B)"),
    ],
)
def test_operators(query: str, expected: str) -> None:
    assert shape(query) == expected


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        # NOT > field > NEAR > AND (written or implicit) > OR
        ("A OR B AND C", "(OR A (AND B C))"),
        ("A AND B OR C", "(OR (AND A B) C)"),
        ("A OR B C", "(OR A (AND B C))"),
        ("A B NEAR/3 C", "(AND A (NEAR/3 B C))"),
        ("A NEAR/3 B C", "(AND (NEAR/3 A B) C)"),
        ("A NEAR/3 B OR C", "(OR (NEAR/3 A B) C)"),
        ("A NEAR/3 B NEAR/5 C", "(NEAR/5 (NEAR/3 A B) C)"),  # left to right
        ("A NEAR/3 (B OR C)", "(NEAR/3 A (OR B C))"),
        ("(A OR B) NEAR/3 (C NEAR/2 D)", "(NEAR/3 (OR A B) (NEAR/2 C D))"),
        ("A B NOT C OR D", "(OR (AND A B (NOT C)) D)"),
        ("NOT (A OR B) C", "(AND (NOT (OR A B)) C)"),
        ("title:A NEAR/3 B", "(NEAR/3 title:A B)"),
        ("A AND B C AND D", "(AND A B C D)"),
        ("A OR B OR C", "(OR A B C)"),
        (
            '(Alibaba OR "T-Head") NEAR/30 (PLA OR military OR "zero-day") NOT title:"PLA filament"',
            '(AND (NEAR/30 (OR Alibaba "T-Head") (OR PLA military "zero-day")) (NOT title:"PLA filament"))',
        ),
    ],
)
def test_precedence(query: str, expected: str) -> None:
    assert shape(query) == expected


def test_leaves_keep_their_source_positions() -> None:
    query = parse_query('A OR title:"B c" NEAR/2 dx*')
    assert [(leaf.text, leaf.offset, leaf.scope) for leaf in query.leaves()] == [
        ("A", 0, None),
        ("B c", 11, "title"),
        ("dx", 24, None),
    ]


def test_positive_leaves_leave_out_what_is_under_not() -> None:
    query = parse_query("A NOT B -(C OR D) E")
    assert [leaf.text for leaf in query.positive_leaves()] == ["A", "E"]


@pytest.mark.parametrize(
    ("query", "column", "message"),
    [
        ("Alibaba AND )", 13, "expected a term, phrase or '(' after AND, found ')'"),
        ("Alibaba AND", 12, "expected a term, phrase or '(' after AND, found the end of the query"),
        ("A OR OR B", 6, "expected a term, phrase or '(' after OR, found OR"),
        ("A NEAR/3", 9, "expected a term, phrase or '(' after NEAR/3, found the end of the query"),
        ("NOT", 4, "expected a term, phrase or '(' after NOT, found the end of the query"),
        ("A NOT AND B", 7, "expected a term, phrase or '(' after NOT, found AND"),
        ("title:", 7, "expected a term, phrase or '(' after title:, found the end of the query"),
        ("title:NOT A", 7, "expected a term, phrase or '(' after title:, found NOT"),
        ("OR A", 1, "expected a term, phrase or '(' at the start of the query, found OR"),
        ("NEAR/5 A", 1, "expected a term, phrase or '(' at the start of the query, found NEAR/5"),
        ("()", 2, "expected a term, phrase or '(' after '(', found ')'"),
        ("(A OR B", 8, "expected ')' to close the '(' at column 1, found the end of the query"),
        ("((A) OR B", 10, "expected ')' to close the '(' at column 1, found the end of the query"),
        ("A )", 3, "expected an operator or the end of the query, found ')', which closes no '('"),
        ("", 1, "expected a term, phrase or '(', found an empty query"),
        ("   ", 1, "expected a term, phrase or '(', found an empty query"),
        ('A "unclosed', 3, 'expected a closing " for the phrase that starts here, found none'),
        ('A ""', 3, "expected words inside the quotes, found an empty phrase"),
        ('"--"', 1, 'expected words inside the quotes, found "--", which has no letters or digits'),
        ("A , B", 3, "expected a term, phrase or '(', found ','"),
        ("A and B", 3, "expected AND in capitals, or \"and\" in quotes, found 'and'"),
        ("A Or B", 3, "expected OR in capitals, or \"Or\" in quotes, found 'Or'"),
        ("not A", 1, "expected NOT in capitals"),
        ("A NEAR B", 3, "expected NEAR/ and a number of words, e.g. NEAR/5"),
        ("A near/5 B", 3, "expected NEAR/ and a number of words"),
        ("A NEAR/x B", 3, "found 'NEAR/x'"),
        ("A NEAR/-1 B", 3, "found 'NEAR/-1'"),
        ("- A", 1, "expected a term right after '-', with no space (-PLA excludes PLA), found '-'"),
        ("(A -)", 4, "expected a term right after '-'"),
        ("A -", 3, "expected a term right after '-'"),
        ("author:Smith", 1, "expected title: or text: (put a word with a colon in quotes"),
        ("c*", 1, "expected at least 2 letters before *, found 'c*'"),
        ("A ch*p", 5, "expected * only at the end of a word (chip*), found 'ch*p'"),
        ("A ch**", 5, "expected * only at the end of a word"),
        ("*", 1, "expected at least 2 letters before *"),
        ("title:(text:A)", 8, "expected no other field inside title:( ), found 'text:'"),
        (
            "(A B) NEAR/5 C",
            1,
            "expected a term, phrase or OR group on each side of NEAR/5, found terms joined by AND",
        ),
        ("A NEAR/5 (B AND C)", 10, "on each side of NEAR/5, found terms joined by AND"),
        ("A NEAR/5 -B", 10, "on each side of NEAR/5, found an excluded term (NOT or -)"),
        ("NOT A NEAR/5 B", 1, "on each side of NEAR/5, found an excluded term"),  # NOT binds tighter
        ("A NEAR/5 (B OR NOT C)", 16, "found an excluded term"),
        ("NOT A", 1, "expected at least one term outside NOT: an alert needs something the article mentions"),
        ("-A -title:B", 1, "found only excluded terms"),
    ],
)
def test_errors_say_where_and_what_was_expected(query: str, column: int, message: str) -> None:
    with pytest.raises(QuerySyntaxError) as caught:
        parse_query(query)
    assert caught.value.column == column
    assert str(caught.value).startswith(f"column {column}: ")
    assert message in str(caught.value)


def test_a_query_over_several_lines_reports_line_and_column() -> None:
    with pytest.raises(QuerySyntaxError) as caught:
        parse_query("(Alibaba OR T-Head)\n  NEAR/30\n  (PLA OR )")
    assert (caught.value.line, caught.value.column) == (3, 11)
    assert str(caught.value).startswith("line 3, column 11: expected a term, phrase or '(' after OR")


def test_a_folded_query_ending_in_a_line_break_reads_as_one_line() -> None:
    with pytest.raises(QuerySyntaxError, match=r"^column 5: "):
        parse_query("A OR\n")


def test_the_error_is_a_value_error_carrying_its_parts() -> None:
    with pytest.raises(ValueError) as caught:
        parse_query("Alibaba AND )")
    error = caught.value
    assert isinstance(error, QuerySyntaxError)
    assert (error.offset, error.expected, error.found) == (12, "a term, phrase or '(' after AND", "')'")
