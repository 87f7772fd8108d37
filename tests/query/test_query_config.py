"""`query:` and `regex:` in watchlists.yaml: what loads, and each mistake with file, line and column."""

from __future__ import annotations

from pathlib import Path

import pytest

from monitor.cli.main import main
from monitor.config import load_config
from monitor.errors import ConfigError

MONITOR = """\
slack:
  default_channel: "#news-alerts"
feeds:
  - url: https://example.com/rss.xml
watchlists: watchlists.yaml
"""

EXAMPLE = """\
watchlists:
  - name: alibaba-military
    terms:
      - {term: PLA, case_sensitive: true, aliases: ["People's Liberation Army"]}
    query: '(Alibaba OR "T-Head") NEAR/30 (PLA OR military OR "zero-day") NOT title:"PLA filament"'
"""


def write(tmp_path: Path, watchlists: str) -> Path:
    (tmp_path / "watchlists.yaml").write_text(watchlists, encoding="utf-8")
    (tmp_path / "monitor.yaml").write_text(MONITOR, encoding="utf-8")
    return tmp_path / "monitor.yaml"


def problem_of(tmp_path: Path, watchlists: str) -> ConfigError:
    with pytest.raises(ConfigError) as caught:
        load_config(write(tmp_path, watchlists))
    return caught.value


def test_the_example_from_the_issue_loads(tmp_path: Path) -> None:
    [watchlist] = load_config(write(tmp_path, EXAMPLE)).watchlists
    assert watchlist.query is not None and watchlist.query.startswith("(Alibaba")
    assert [t.term for t in watchlist.terms] == ["PLA"]


def test_a_query_needs_no_terms(tmp_path: Path) -> None:
    [watchlist] = load_config(
        write(tmp_path, "watchlists:\n  - name: a\n    query: Alibaba cloud\n")
    ).watchlists
    assert watchlist.terms == []


def test_check_names_file_line_key_and_column(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    watchlists = EXAMPLE.replace("(PLA OR military", "(PLA AND ) military")
    path = write(tmp_path, watchlists)
    assert main(["--config", str(path), "check"]) == 2
    where = (tmp_path / "watchlists.yaml").resolve()
    assert (
        f"{where}:5: watchlists[0].query: column 40: expected a term, phrase or '(' after AND, found ')'"
        in capsys.readouterr().err
    )


def test_a_multi_line_query_error_names_its_line_in_the_query(tmp_path: Path) -> None:
    watchlists = "watchlists:\n  - name: a\n    query: |\n      Alibaba\n      NEAR/5 (PLA OR)\n"
    problem = problem_of(tmp_path, watchlists)
    assert (problem.line, problem.key) == (3, "watchlists[0].query")
    assert problem.reason.startswith("line 2, column 15: expected a term, phrase or '(' after OR")


def test_a_folded_query_reports_a_column(tmp_path: Path) -> None:
    watchlists = "watchlists:\n  - name: a\n    query: >\n      Alibaba AND\n      (cloud OR\n"
    problem = problem_of(tmp_path, watchlists)
    assert problem.reason == (
        "column 22: expected a term, phrase or '(' after OR, found the end of the query"
    )


@pytest.mark.parametrize(
    ("watchlist", "key", "reason"),
    [
        ("    channel: '#x'\n", "watchlists[0]", "a watchlist needs `terms:`, a `query:`, or both"),
        ("    query:\n", "watchlists[0].query", "the query is empty; write one, or leave the key out"),
        (
            "    query: ''\n",
            "watchlists[0].query",
            "column 1: expected a term, phrase or '(', found an empty query",
        ),
        ("    terms: []\n    query: A\n", "watchlists[0].terms", "List should have at least 1 item"),
        (
            "    terms: [Alibaba, Tencent]\n    query: Alibaba cloud\n",
            "watchlists[0].query",
            "terms[1] ('Tencent') is not used in the query, so it would never match: write Tencent",
        ),
        (
            "    terms: [{regex: 'T-?Head'}]\n    query: Alibaba\n",
            "watchlists[0].query",
            "terms[0] (regex 'T-?Head') has no name the query can use: add `term: <name>` to it",
        ),
        (
            "    terms: [PLA, {term: pla, case_sensitive: true}]\n    query: PLA\n",
            "watchlists[0].query",
            "terms[0] and terms[1] are both named 'pla'; the query could not tell them apart",
        ),
        ("    query: NOT Alibaba\n", "watchlists[0].query", "found only excluded terms"),
    ],
)
def test_watchlist_mistakes(tmp_path: Path, watchlist: str, key: str, reason: str) -> None:
    problem = problem_of(tmp_path, "watchlists:\n  - name: a\n" + watchlist)
    assert problem.key == key
    assert reason in problem.reason
    assert problem.line is not None


@pytest.mark.parametrize(
    ("term", "key", "reason"),
    [
        ("{regex: 'T-(Head'}", "watchlists[0].terms[0].regex", "invalid regex 'T-(Head': missing )"),
        ("{regex: 'x*'}", "watchlists[0].terms[0].regex", "matches an empty text"),
        ("{regex: 'T-?Head', aliases: [x]}", "watchlists[0].terms[0]", "aliases are for phrases"),
        (
            "{case_sensitive: true}",
            "watchlists[0].terms[0]",
            "a term needs `term:` (a word or phrase) or `regex:`",
        ),
        ("{regx: 'T-?Head'}", "watchlists[0].terms[0].regx", "unknown key 'regx' (did you mean 'regex'?)"),
    ],
)
def test_term_mistakes(tmp_path: Path, term: str, key: str, reason: str) -> None:
    problem = problem_of(tmp_path, f"watchlists:\n  - name: a\n    terms:\n      - {term}\n")
    assert (problem.line, problem.key) == (4, key)
    assert reason in problem.reason


def test_a_regex_term_without_a_query_loads(tmp_path: Path) -> None:
    watchlists = (
        "watchlists:\n  - name: a\n    terms:\n      - {regex: 'T-?Head\\b', case_sensitive: false}\n"
    )
    [watchlist] = load_config(write(tmp_path, watchlists)).watchlists
    assert watchlist.terms[0].regex == "T-?Head\\b" and watchlist.terms[0].name == "T-?Head\\b"
