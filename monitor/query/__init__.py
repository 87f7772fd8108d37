"""Watchlist queries: `(Alibaba OR "T-Head") NEAR/30 (PLA OR military) NOT title:"PLA filament"`.

    lexer.py     the query's text -> tokens
    parser.py    tokens -> a tree of nodes (syntax.py) with source positions, or QuerySyntaxError
    evaluate.py  tree + the watchlist's compiled terms -> CompiledQuery; CompiledQuery x article -> hits
    positions.py word positions, for NEAR
    patterns.py  the patterns terms and query words compile to (phrases, prefixes, time-bounded regexes)

docs/query-language.md describes the language for analysts. Nothing here reads the configuration:
monitor.config validates queries with parse_query, monitor.stages.match compiles and runs them.
"""

from .evaluate import ArticleText, CompiledQuery, Occurrence, QueryResult, compile_query, reference_key
from .parser import parse_query
from .patterns import REGEX_TIMEOUT, CompiledTerm, RegexTimeout, compile_user_regex
from .syntax import Query, QuerySyntaxError

__all__ = [
    "REGEX_TIMEOUT",
    "ArticleText",
    "CompiledQuery",
    "CompiledTerm",
    "Occurrence",
    "Query",
    "QueryResult",
    "QuerySyntaxError",
    "RegexTimeout",
    "compile_query",
    "compile_user_regex",
    "parse_query",
    "reference_key",
]
