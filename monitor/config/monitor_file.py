"""The model of monitor.yaml: the service's settings, the storage URL and the feeds."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from pydantic import Field, ValidationInfo, field_validator

from ..redact import mask_configured_url
from .durations import Duration
from .fields import HttpUrl, StrictModel
from .search import SearchSettings
from .settings import FetchSettings, FleetSettings, OpsSettings, PollSettings, SlackSettings, StoriesSettings
from .storage_url import expand_environment, store_url_problem


class FeedConfig(StrictModel):
    url: HttpUrl
    name: str | None = None
    interval: Duration | None = None
    tags: list[str] = Field(default_factory=list)  # watchlists can be limited to feeds with a tag


class MonitorFile(StrictModel):
    """The shape of monitor.yaml; `watchlists` and `sites` may name other files."""

    slack: SlackSettings
    storage: str = "sqlite:///state/news-monitor.db"
    # How long articles' text is kept for `preview` and `backfill`.
    retention: Duration = timedelta(days=14)
    poll: PollSettings = PollSettings()
    fetch: FetchSettings = FetchSettings()
    ops: OpsSettings = OpsSettings()
    stories: StoriesSettings = StoriesSettings()
    fleet: FleetSettings = FleetSettings()
    # None: no news search (monitor/config/search.py); with it, feeds may be left out altogether.
    search: SearchSettings | None = None
    feeds: list[FeedConfig] = Field(default_factory=list, validate_default=True)
    watchlists: str | list[Any] = "watchlists.yaml"
    sites: str | dict[str, Any] | None = None

    @field_validator("storage")
    @classmethod
    def _known_database(cls, url: str) -> str:
        if not url.startswith(("sqlite:///", "postgresql://", "postgresql+", "postgres://")):
            raise ValueError(
                f"expected a database URL such as sqlite:///state/news-monitor.db or "
                f"postgresql://user@host/db, got {mask_configured_url(url)!r}"
            )
        url = expand_environment(url)
        problem = store_url_problem(url)
        if problem:
            raise ValueError(problem)
        return url

    @field_validator("feeds")
    @classmethod
    def _feeds_listed_once(cls, feeds: list[FeedConfig], info: ValidationInfo) -> list[FeedConfig]:
        # `search:` is declared, so validated, first; missing from info.data when it was invalid itself.
        if not feeds and "search" in info.data and info.data["search"] is None:
            raise ValueError(
                "no feeds to poll: list at least one under `feeds:`, or add `search:` with "
                "`providers: [gdelt]` to find articles by the watchlists' terms"
            )
        seen: set[str] = set()
        for feed in feeds:
            if feed.url in seen:
                raise ValueError(f"the feed {mask_configured_url(feed.url)} is listed twice")
            seen.add(feed.url)
        return feeds
