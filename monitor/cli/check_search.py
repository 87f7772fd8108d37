"""`check`'s part for news search: the queries each provider will get, and what it cannot express."""

from __future__ import annotations

from ..config import Config, duration_text
from ..sources.search.rounds import make_provider, plans


def search_lines(config: Config) -> tuple[list[str], int]:
    """Lines showing every provider's queries, watchlist by watchlist; and how many it refuses."""
    if config.search is None:
        return ["  search: off (add `search:` to monitor.yaml to search news by the watchlists' terms)"], 0
    interval = duration_text(config.search.interval)
    lines, refused = [f"  search: {', '.join(config.search.providers)}, every {interval}"], 0
    for name in config.search.providers:
        provider = make_provider(name, config.search.endpoint(name))
        watchlist_plans, skipped = plans(config, provider)
        lines.append(f"    {name} at {config.search.endpoint(name)}:")
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
    return lines, refused
