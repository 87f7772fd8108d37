"""`check`'s part for news search: the queries each provider will get, and what it cannot express."""

from __future__ import annotations

import math

from ..config import Config, duration_text
from ..sources.search.google_news import TERMS_NOTICE
from ..sources.search.leads import Provider
from ..sources.search.providers import make_provider, plans, round_queries


def search_lines(config: Config) -> tuple[list[str], int]:
    """Lines showing every provider's queries, watchlist by watchlist; and how many it refuses."""
    if config.search is None:
        return ["  search: off (add `search:` to monitor.yaml to search news by the watchlists' terms)"], 0
    interval = duration_text(config.search.interval)
    lines, refused = [f"  search: {', '.join(config.search.providers)}, every {interval}"], 0
    for name in config.search.providers:
        provider = make_provider(name, config.search)
        watchlist_plans, skipped = plans(config, provider)
        lines.append(f"    {name} at {config.search.endpoint(name)}: {_round_size(config, provider)}")
        for plan in watchlist_plans:
            if plan.refused:
                refused += 1
                lines.append(
                    f"      {plan.watchlist}: REFUSED: {plan.refused} (or set `search: false` on it)"
                )
            for query in plan.queries:
                lines.append(f"      {plan.watchlist}: {query}")
            lines += [f"        note: {note}" for note in plan.notes]
        lines += [f"      {note}" for note in skipped]
        if name == "google_news":
            lines.append(f"      note: {TERMS_NOTICE}")
    return lines, refused


def _round_size(config: Config, provider: Provider) -> str:
    """How many requests a round sends and how long its pacing makes it; a warning when it outlasts
    the interval (the next round then starts late)."""
    assert config.search is not None
    requests = len(round_queries(config, provider))
    seconds = max(requests - 1, 0) * provider.request_gap
    if requests <= 1:
        text = "1 request a round" if requests else "no requests a round"
    else:
        took = f"{seconds:g} s" if seconds < 60 else f"{math.ceil(seconds / 60)} min"
        text = f"{requests} requests a round, one every {provider.request_gap:g} s: about {took}"
    interval = config.search.interval
    if seconds > interval.total_seconds():
        text += (
            f"; WARNING: longer than search.interval ({duration_text(interval)}): rounds start late; "
            "search fewer terms or aliases, or set a longer interval"
        )
    return text
