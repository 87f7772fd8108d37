"""The providers by their names in `search.providers`, and each watchlist's query plan for one."""

from __future__ import annotations

from ...config import Config
from ...config.search import SearchSettings
from .bing_news import BingNews
from .gdelt import Gdelt
from .google_news import GoogleNews
from .leads import Provider
from .terms import QueryPlan, searched_watchlists


def make_provider(name: str, search: SearchSettings) -> Provider:
    if name == "gdelt":
        return Gdelt(search.endpoints.gdelt)
    if name == "google_news":
        return GoogleNews(search.endpoints.google_news, search.google_news)
    if name == "bing_news":
        return BingNews(search.endpoints.bing_news)
    raise ValueError(f"no search provider is called {name!r}")


def plans(config: Config, provider: Provider) -> tuple[list[QueryPlan], list[str]]:
    """Every searched watchlist's plan for the provider, and notes on the watchlists not searched."""
    watchlists, notes = searched_watchlists(config)
    return [provider.plan(watchlist) for watchlist in watchlists], notes


def round_queries(config: Config, provider: Provider) -> list[str]:
    """The queries of one round, in order, each once (two watchlists may ask the same)."""
    watchlist_plans, _ = plans(config, provider)
    return list(dict.fromkeys(query for plan in watchlist_plans for query in plan.queries))
