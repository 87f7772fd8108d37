"""What a watchlist gives a search provider: its phrases (each term with its aliases), and a query plan
per provider with the notes that say what was left out and why."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from ...config import Config, WatchlistConfig


@dataclass(frozen=True)
class SearchTerm:
    """A watchlist's term as a search provider may ask for it: the term first, then its aliases."""

    name: str
    phrases: tuple[str, ...]
    case_sensitive: bool


@dataclass(frozen=True)
class QueryPlan:
    """The queries a provider gets for one watchlist, or why it cannot search it (`refused`)."""

    watchlist: str
    queries: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()
    refused: str | None = None


def search_terms(watchlist: WatchlistConfig) -> tuple[list[SearchTerm], list[str]]:
    """The watchlist's searchable terms, and notes on those no provider can search (patterns)."""
    terms, notes = [], []
    for term in watchlist.terms:
        if term.regex is not None or term.term is None:  # a named regex matches by its pattern
            notes.append(f"regex {term.regex!r} left out: a pattern cannot be searched for")
            continue
        terms.append(SearchTerm(term.term, (term.term, *term.aliases), term.case_sensitive))
    return terms, notes


def searched_watchlists(config: Config) -> tuple[list[WatchlistConfig], list[str]]:
    """The watchlists search runs for, and a note for each one it does not (and why)."""
    searched, notes = [], []
    for watchlist in config.watchlists:
        if not watchlist.search:
            notes.append(f"{watchlist.name}: not searched (search: false)")
        elif watchlist.feeds:
            # Its articles must come from feeds with one of its tags; a search hit comes from no feed.
            notes.append(
                f"{watchlist.name}: not searched (limited to feeds tagged {', '.join(watchlist.feeds)})"
            )
        else:
            searched.append(watchlist)
    return searched, notes


def or_group(parts: list[str]) -> str:
    """The parts OR'd, in parentheses when there are several."""
    return parts[0] if len(parts) == 1 else "(" + " OR ".join(parts) + ")"


def or_queries(parts: list[str], fits: Callable[[str], bool]) -> list[str]:
    """The parts OR'd in as few groups as `fits` allows, in order (a part that fits alone always gets a
    group of its own; one that does not is the caller's to leave out beforehand)."""
    queries: list[str] = []
    group: list[str] = []
    for part in parts:
        if group and not fits(or_group([*group, part])):
            queries.append(or_group(group))
            group = []
        group.append(part)
    return [*queries, or_group(group)] if group else queries
