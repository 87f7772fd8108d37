"""`search:` in monitor.yaml: news search providers queried with each watchlist's terms (issue 16 §3).

Absent: no search at all. A search hit is only a lead: its article goes through the same pipeline as a
feed item and alerts only when the article itself matches (monitor/sources/search/).
"""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Literal

from pydantic import Field, field_validator, model_validator

from .durations import Duration
from .fields import HttpUrl, StrictModel

Provider = Literal["gdelt", "google_news", "bing_news"]

# GDELT's index is updated every 15 minutes (research §3.1), and a round of queries at its one request
# per 5-8 s takes a while: rounds closer together than this would only ask for what was just asked.
SHORTEST_SEARCH_INTERVAL = timedelta(minutes=5)

# Google News editions are written hl=<lang[-REGION]>&gl=<COUNTRY>&ceid=<COUNTRY>:<lang> (research §1.1:
# `hl=en-US&gl=US&ceid=US:en`; gnews and pygooglenews build them so). A combination Google does not
# have redirects to /rss/unsupported: the forms are checked here, the combination on the first request.
_HL = re.compile(r"[a-z]{2,3}(-[A-Za-z0-9]{2,8})?")
_GL = re.compile(r"[A-Z]{2}")
_CEID = re.compile(r"([A-Z]{2}):([a-z]{2,3}(-[A-Za-z0-9]{2,8})?)")


class SearchEndpoints(StrictModel):
    """Where each provider is asked; tests point them at local fakes."""

    gdelt: HttpUrl = "https://api.gdeltproject.org/api/v2/doc/doc"
    google_news: HttpUrl = "https://news.google.com/rss/search"
    bing_news: HttpUrl = "https://www.bing.com/news/search"


class GoogleNewsEdition(StrictModel):
    """The Google News edition searched: language, country, and Google's name for the pair."""

    hl: str = "en-US"
    gl: str = "US"
    ceid: str = "US:en"

    @model_validator(mode="after")
    def _one_edition(self) -> GoogleNewsEdition:
        if not _HL.fullmatch(self.hl):
            raise ValueError(f"hl {self.hl!r} is no language: write it like en-US, en, zh-CN")
        if not _GL.fullmatch(self.gl):
            raise ValueError(f"gl {self.gl!r} is no country: write it in capitals like US, GB, CN")
        ceid = _CEID.fullmatch(self.ceid)
        if not ceid:
            raise ValueError(f"ceid {self.ceid!r} must be COUNTRY:language like US:en (Google's edition id)")
        if ceid.group(1) != self.gl:
            raise ValueError(
                f"ceid {self.ceid!r} names another country than gl {self.gl!r}: Google News answers such "
                f"an edition with /rss/unsupported; write ceid: {self.gl}:{self.hl.split('-')[0]}"
            )
        if ceid.group(2).split("-")[0] != self.hl.split("-")[0]:
            raise ValueError(
                f"ceid {self.ceid!r} names another language than hl {self.hl!r}: Google News answers such "
                "an edition with /rss/unsupported"
            )
        return self


class SearchSettings(StrictModel):
    providers: list[Provider] = Field(min_length=1)
    # Each watchlist's queries, per provider, at most this often.
    interval: Duration = Field(default=timedelta(minutes=15), ge=SHORTEST_SEARCH_INTERVAL)
    endpoints: SearchEndpoints = SearchEndpoints()
    # Only read when google_news is listed.
    google_news: GoogleNewsEdition = GoogleNewsEdition()

    @field_validator("providers")
    @classmethod
    def _each_provider_once(cls, providers: list[Provider]) -> list[Provider]:
        repeated = sorted({p for p in providers if providers.count(p) > 1})
        if repeated:
            raise ValueError(f"the provider {repeated[0]!r} is listed twice")
        return providers

    def endpoint(self, provider: Provider) -> str:
        return str(getattr(self.endpoints, provider))
