"""Loading: monitor.yaml and the files it names (watchlists.yaml, optional sites.yaml) -> one Config.

Loaded once by the CLI and passed in; nothing reads configuration at the point of use.
YAML is read with ruamel.yaml, which keeps line numbers, so every error names the file and line.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import re
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

from ..errors import ConfigError
from ..models import SiteRule
from ..redact import remember_configured_url
from .monitor_file import FeedConfig, MonitorFile
from .search import SearchSettings
from .settings import FetchSettings, FleetSettings, OpsSettings, PollSettings, SlackSettings, StoriesSettings
from .sites import SitesFile
from .storage_url import resolve_storage_url
from .watchlists import WatchlistConfig, WatchlistsFile
from .yaml_source import read_yaml, validate

DEFAULT_CONFIG_PATH = Path("config/monitor.yaml")


@dataclass(frozen=True)
class Config:
    """Everything the service needs, validated, with paths resolved."""

    path: Path
    slack: SlackSettings
    storage_url: str
    retention: timedelta
    poll: PollSettings
    fetch: FetchSettings
    ops: OpsSettings
    stories: StoriesSettings
    feeds: tuple[FeedConfig, ...]
    watchlists: tuple[WatchlistConfig, ...]
    site_rules: tuple[SiteRule, ...]
    watchlists_path: Path | None = None
    sites_path: Path | None = None
    fingerprint: str = ""  # changes when any setting, feed, watchlist or site rule changes (not comments)
    fleet: FleetSettings = dataclasses.field(default_factory=FleetSettings)
    search: SearchSettings | None = None  # None: no news search

    def files(self) -> tuple[Path, ...]:
        """Every file this configuration was read from (what `run` watches for edits)."""
        return tuple(p for p in (self.path, self.watchlists_path, self.sites_path) if p is not None)

    def channel_for(self, watchlist: WatchlistConfig) -> str:
        return watchlist.channel or self.slack.default_channel

    def feed_interval(self, feed: FeedConfig) -> timedelta:
        return feed.interval or self.poll.interval


# Overrides `storage:` when set, so one configuration serves a laptop (SQLite) and a fleet (PostgreSQL).
STORAGE_ENV, STORAGE_ENV_KEY = "NEWS_MONITOR_STORAGE", "storage"


def load_config(path: Path | str = DEFAULT_CONFIG_PATH) -> Config:
    """Read and validate monitor.yaml and the files it names; raise ConfigError listing every problem."""
    path = Path(path)
    raw = read_yaml(path)
    if os.environ.get(STORAGE_ENV) and isinstance(raw, dict):
        raw[STORAGE_ENV_KEY] = os.environ[STORAGE_ENV]  # one image, one config, any store (containers)
    _remember_configured_urls(raw)  # before validation: its errors quote what was written, keys too
    monitor = validate(MonitorFile, raw, path)
    watchlists, watchlists_path = _load_watchlists(monitor.watchlists, raw, path)
    _check_feed_tags(watchlists, monitor.feeds, watchlists_path or path)
    site_rules = _load_site_rules(monitor.sites, raw, path)
    sites_path = (path.parent / monitor.sites).resolve() if isinstance(monitor.sites, str) else None
    remember_configured_url(monitor.storage)  # expanded from the environment; masked wherever it appears
    remember_configured_url(monitor.slack.api_url)
    return Config(
        path=path,
        slack=monitor.slack,
        storage_url=resolve_storage_url(monitor.storage, path.parent),
        retention=monitor.retention,
        poll=monitor.poll,
        fetch=monitor.fetch,
        ops=monitor.ops,
        stories=monitor.stories,
        feeds=tuple(monitor.feeds),
        watchlists=watchlists,
        site_rules=site_rules,
        watchlists_path=watchlists_path,
        sites_path=sites_path,
        fingerprint=_fingerprint(monitor, watchlists, site_rules),
        fleet=monitor.fleet,
        search=monitor.search,
    )


def _remember_configured_urls(raw: Any) -> None:
    """Every URL written in monitor.yaml (feeds, storage, the Slack API; a key by mistake too) has its
    secrets remembered, so they are masked wherever they appear: userinfo whole, even when it holds a
    space that ends the URL in a message, and each query value wherever it follows `=`."""
    pending = [raw]
    while pending:
        value = pending.pop()
        if isinstance(value, dict):
            pending += [*value.keys(), *value.values()]
        elif isinstance(value, list):
            pending += value
        elif isinstance(value, str) and _STARTS_AS_URL.match(value) and "${" not in value:
            remember_configured_url(value.strip())  # `${NAME}`: the storage URL, remembered expanded


_STARTS_AS_URL = re.compile(r"\s*[A-Za-z][A-Za-z0-9+.\-]*://")


def _fingerprint(
    monitor: MonitorFile, watchlists: tuple[WatchlistConfig, ...], rules: tuple[SiteRule, ...]
) -> str:
    content = [
        monitor.model_dump(mode="json", exclude={"watchlists", "sites"}),
        [w.model_dump(mode="json") for w in watchlists],
        [dataclasses.asdict(rule) for rule in rules],
    ]
    return hashlib.sha256(json.dumps(content, sort_keys=True).encode()).hexdigest()


def _load_watchlists(
    value: str | list[Any], raw: Any, path: Path
) -> tuple[tuple[WatchlistConfig, ...], Path | None]:
    if isinstance(value, str):
        watchlists_path = (path.parent / value).resolve()
        parsed = validate(WatchlistsFile, read_yaml(watchlists_path, key="watchlists"), watchlists_path)
        lists, source = parsed.watchlists, watchlists_path
    else:
        parsed = validate(WatchlistsFile, {"watchlists": value}, path, raw_for_lines=raw)
        lists, source = parsed.watchlists, None
    _check_unique_names(lists, source or path)
    return tuple(lists), source


def _check_feed_tags(watchlists: tuple[WatchlistConfig, ...], feeds: list[FeedConfig], path: Path) -> None:
    """A watchlist limited to a tag no feed carries would silently never match: say so."""
    known = {tag for feed in feeds for tag in feed.tags}
    for index, watchlist in enumerate(watchlists):
        unknown = sorted(set(watchlist.feeds or ()) - known)
        if unknown:
            tags = ", ".join(sorted(known)) or "none"
            raise ConfigError(
                f"no feed in monitor.yaml has the tag {unknown[0]!r} (feed tags: {tags})",
                path=str(path),
                key=f"watchlists[{index}].feeds",
            )


def _check_unique_names(watchlists: list[WatchlistConfig], path: Path) -> None:
    seen: set[str] = set()
    for index, watchlist in enumerate(watchlists):
        if watchlist.name in seen:
            raise ConfigError(
                f"watchlist name {watchlist.name!r} is used twice; names must be unique",
                path=str(path),
                key=f"watchlists[{index}].name",
            )
        seen.add(watchlist.name)


def _load_site_rules(value: str | dict[str, Any] | None, raw: Any, path: Path) -> tuple[SiteRule, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        sites_path = (path.parent / value).resolve()
        sites = validate(SitesFile, read_yaml(sites_path, key="sites"), sites_path).sites
    else:
        sites = validate(SitesFile, {"sites": value}, path, raw_for_lines=raw).sites
    return tuple(
        SiteRule(domain=domain.lower().removeprefix("www."), content=rule.content, remove=tuple(rule.remove))
        for domain, rule in sites.items()
    )
