"""`search:` in monitor.yaml: news search providers queried with each watchlist's terms (issue 16 §3).

Absent: no search at all. A search hit is only a lead: its article goes through the same pipeline as a
feed item and alerts only when the article itself matches (monitor/sources/search/).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Literal

from pydantic import Field, field_validator

from .durations import Duration
from .fields import HttpUrl, StrictModel

Provider = Literal["gdelt", "google_news", "bing_news"]

# The providers this version can query; the others are accepted names of the contract, refused at load
# with a clear error until they land (a provider accepted here and missing at run time would fail rounds).
AVAILABLE_PROVIDERS = ("gdelt",)

# GDELT's index is updated every 15 minutes (research §3.1), and a round of queries at its one request
# per 5-8 s takes a while: rounds closer together than this would only ask for what was just asked.
SHORTEST_SEARCH_INTERVAL = timedelta(minutes=5)


class SearchEndpoints(StrictModel):
    """Where each provider is asked; tests point them at local fakes."""

    gdelt: HttpUrl = "https://api.gdeltproject.org/api/v2/doc/doc"
    google_news: HttpUrl = "https://news.google.com/rss/search"
    bing_news: HttpUrl = "https://www.bing.com/news/search"


class SearchSettings(StrictModel):
    providers: list[Provider] = Field(min_length=1)
    # Each watchlist's queries, per provider, at most this often.
    interval: Duration = Field(default=timedelta(minutes=15), ge=SHORTEST_SEARCH_INTERVAL)
    endpoints: SearchEndpoints = SearchEndpoints()

    @field_validator("providers")
    @classmethod
    def _each_provider_once(cls, providers: list[Provider]) -> list[Provider]:
        repeated = sorted({p for p in providers if providers.count(p) > 1})
        if repeated:
            raise ValueError(f"the provider {repeated[0]!r} is listed twice")
        missing = [p for p in providers if p not in AVAILABLE_PROVIDERS]
        if missing:
            raise ValueError(
                f"the provider {missing[0]!r} is not available in this version of news-monitor yet "
                f"(available: {', '.join(AVAILABLE_PROVIDERS)}); remove it from search.providers"
            )
        return providers

    def endpoint(self, provider: Provider) -> str:
        return str(getattr(self.endpoints, provider))
