"""The validated configuration: monitor.yaml (service, feeds) + watchlists.yaml (+ optional sites.yaml).

Loaded once by the CLI and passed in; nothing reads configuration at the point of use.
YAML is read with ruamel.yaml, which keeps line numbers, so every error names the file and line.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import re
import urllib.parse
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

import soupsieve
from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationInfo,
    field_validator,
    model_validator,
)
from sqlalchemy import make_url
from sqlalchemy.exc import ArgumentError

from .. import __version__
from ..errors import ConfigError
from ..models import SiteRule
from ..query import Query, compile_user_regex, parse_query, reference_key
from ..redact import (
    mask_configured_url,
    remember_configured_url,
    remember_secret,
    sends_secrets_in_clear,
)
from ..text import normalise_text
from .cron import parse_crontab, parse_timezone
from .yaml_source import read_yaml, validate

DEFAULT_CONFIG_PATH = Path("config/monitor.yaml")


_UNIT_SECONDS = {"d": 86400, "h": 3600, "m": 60, "s": 1}
# A number and a unit, or several, largest unit first: 30s, 10m, 2h, 3d, 1h30m, 1d12h, 1.5h. One unit at
# most once and in that order, so "30m1h" (a typo more often than not) is refused. Plain groups and a
# lookahead only: schema.py hands the same text to editors as an ECMA-262 JSON Schema pattern.
DURATION_PATTERN = r"^\s*(?=\d)" + "".join(rf"(?:(\d+(?:\.\d+)?)\s*{u}\s*)?" for u in _UNIT_SECONDS) + "$"
_DURATION = re.compile(DURATION_PATTERN)


def parse_duration(value: Any, *, allow_zero: bool = False) -> timedelta:
    """Turn "30s", "10m", "2h", "3d" or "1h30m" into a timedelta."""
    if isinstance(value, timedelta):
        return value
    match = _DURATION.match(value) if isinstance(value, str) else None
    if not match:
        raise ValueError(
            f"expected a duration such as 30s, 10m, 2h or 3d, or units combined largest first "
            f"such as 1h30m, got {value!r}"
        )
    sizes = _UNIT_SECONDS.values()
    seconds = sum(float(number) * size for number, size in zip(match.groups(), sizes, strict=True) if number)
    if seconds <= 0 and not allow_zero:
        raise ValueError(f"a duration must be longer than zero, got {value!r}")
    return timedelta(seconds=seconds)


def duration_text(span: timedelta) -> str:
    """A duration as it is written in the config: "90s", "10m", "2h", "3d"."""
    seconds = span.total_seconds()
    for unit in ("d", "h", "m"):
        if seconds >= _UNIT_SECONDS[unit] and seconds % _UNIT_SECONDS[unit] == 0:
            return f"{seconds / _UNIT_SECONDS[unit]:.0f}{unit}"
    return f"{seconds:g}s"


Duration = Annotated[timedelta, BeforeValidator(parse_duration)]
DurationOrZero = Annotated[timedelta, BeforeValidator(lambda v: parse_duration(v, allow_zero=True))]


def _require_http_url(value: str) -> str:
    try:
        parts = urlsplit(value)
    except ValueError:  # its message quotes a piece of the URL (a password holding `[`), unmasked
        raise ValueError(f"cannot read {mask_configured_url(value)!r} as a URL (brackets?)") from None
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ValueError(f"expected an http:// or https:// URL, got {mask_configured_url(value)!r}")
    return value


HttpUrl = Annotated[str, BeforeValidator(lambda v: _require_http_url(str(v)) if isinstance(v, str) else v)]


def _require_token_encrypted(url: str) -> str:
    """The bot token goes in every call's headers: plain http only to this machine (a local fake)."""
    if sends_secrets_in_clear(url):
        raise ValueError(
            f"plain http to a host that is not this machine would send the bot token unencrypted "
            f"({mask_configured_url(url)}); use https:// (plain http is accepted only to a loopback address "
            "such as 127.0.0.1, for a local fake)"
        )
    return url


class _Strict(BaseModel):
    # Unknown keys are errors: a typo such as `intervall:` must not silently fall back to a default.
    model_config = ConfigDict(extra="forbid", frozen=True)


_UNQUOTED_HASH = (
    'is empty; a channel starting with # must be quoted ("#news-alerts"): # begins a YAML comment'
)


def _require_channel(value: Any) -> Any:
    if value is None:
        raise ValueError(f"the channel {_UNQUOTED_HASH}")
    return value


Channel = Annotated[str, BeforeValidator(_require_channel), Field(min_length=1)]


class SlackSettings(_Strict):
    token_env: str = "SLACK_BOT_TOKEN"
    api_url: Annotated[HttpUrl, AfterValidator(_require_token_encrypted)] = "https://slack.com/api/"
    default_channel: Channel
    # Where `run` posts notices for operators (an invalid config edit, for now); none when unset.
    admin_channel: str | None = Field(default=None, min_length=1)
    # Slack allows about one message per second per channel (../shared/SLACK.md §3.1); posts to one
    # channel are spaced at least this far apart. Lower it only for a local fake.
    min_post_interval: DurationOrZero = timedelta(seconds=1)
    # How long one post may take. SIGTERM waits this long for the post in flight (an abandoned post that
    # Slack stored would be posted again after a restart), so it stays below Docker's 10 s stop timeout.
    timeout: Duration = timedelta(seconds=8)

    def resolved_api_url(self) -> str:
        """The Web API base URL; env SLACK_API_URL wins so tests and proxies need no config edit."""
        url = os.environ.get("SLACK_API_URL") or self.api_url
        if url != self.api_url:
            remember_configured_url(url)
            try:
                _require_token_encrypted(_require_http_url(url))
            except ValueError as exc:
                raise ConfigError(str(exc), key="SLACK_API_URL (environment)") from None
        return url if url.endswith("/") else url + "/"

    def token(self) -> str | None:
        """The bot token from the environment, or None to print alerts to the console instead."""
        token = os.environ.get(self.token_env) or None
        remember_secret(token)  # masked in every output from here on, whatever the message around it
        return token


class PollSettings(_Strict):
    # The interval of a feed without dates, and the first one of every feed; with `adaptive`, each feed
    # then gets an interval that follows how often it publishes, between min_interval and max_interval
    # (monitor/feed_schedule.py). A feed with its own `interval:` keeps it.
    interval: Duration = timedelta(minutes=10)
    adaptive: bool = True
    # Unset: 2 and 30 minutes, widened to include `interval` (a config written before adaptive polling,
    # with `interval: 6h`, keeps working). 30 minutes, not more: a quiet feed (a company's press
    # releases) is what a watcher least wants to hear of late; bench/adaptive.py shows the trade.
    min_interval: Duration | None = None
    max_interval: Duration | None = None
    max_age: Duration = timedelta(days=3)
    # A failing feed is retried after interval, 2x, 4x ... up to this (or its interval, if longer).
    max_backoff: Duration = timedelta(hours=6)
    # How many feeds are requested and parsed at once. Waiting on a server costs nothing, so this is set
    # for the network (100 at 50 ms latency poll 1,000 feeds in about half a second; bench/cycle.py).
    concurrency: int = Field(default=100, ge=1, le=500)
    # How many feeds of one host are requested at once, with no delay between starts (article pages
    # keep fetch.per_host_concurrency and fetch.per_host_delay): 1,000 feeds of one RSSHub instance or
    # search engine at 50 ms latency take about 1.6 s at 32 (bench/cycle.py --one-host), 6 s at 8. A
    # host that answers 429/503 with Retry-After pauses all of its feeds, and a 429 without it a minute.
    per_host_concurrency: int = Field(default=32, ge=1, le=500)

    @property
    def shortest(self) -> timedelta:
        return self.min_interval or min(DEFAULT_MIN_INTERVAL, self.interval)

    @property
    def longest(self) -> timedelta:
        return self.max_interval or max(DEFAULT_MAX_INTERVAL, self.interval)

    @model_validator(mode="after")
    def _interval_within_bounds(self) -> PollSettings:
        if not self.shortest <= self.interval <= self.longest:
            raise ValueError(
                f"poll.interval ({duration_text(self.interval)}) must lie between poll.min_interval "
                f"({duration_text(self.shortest)}) and poll.max_interval ({duration_text(self.longest)})"
            )
        return self


DEFAULT_MIN_INTERVAL = timedelta(minutes=2)
DEFAULT_MAX_INTERVAL = timedelta(minutes=30)


class FetchSettings(_Strict):
    timeout: Duration = timedelta(seconds=20)
    allow_private_addresses: bool = False
    # Who to contact about this crawler (a URL or mailto:); it goes into the User-Agent, as site
    # operators expect from a polite bot.
    contact: str | None = None
    user_agent: str | None = None  # overrides the whole User-Agent when set
    respect_robots_txt: bool = True  # for article pages; feeds are the operator's choice
    per_host_concurrency: int = Field(default=2, ge=1, le=50)
    per_host_delay: DurationOrZero = timedelta(seconds=1)  # between request starts to one host
    max_feed_bytes: int = Field(default=10_000_000, ge=1024)
    max_page_bytes: int = Field(default=5_000_000, ge=1024)
    max_redirects: int = Field(default=10, ge=0, le=30)

    def resolved_user_agent(self) -> str:
        if self.user_agent:
            return self.user_agent
        about = f"+{self.contact}" if self.contact else "self-hosted news monitor"
        return f"news-monitor/{__version__} ({about})"


class OpsSettings(_Strict):
    """The /healthz and /metrics endpoints of `run`, and its periodic summary line."""

    summary_interval: Duration = timedelta(minutes=5)  # how often `run` logs service.summary

    enabled: bool = False
    host: str = "127.0.0.1"  # 0.0.0.0 exposes them to the network: only behind a firewall
    port: int = Field(default=9464, ge=1, le=65535)
    # They have no authentication, so no client may hold connections (file descriptors) for long:
    header_timeout: Duration = timedelta(seconds=10)  # to send a request's line and headers
    # No effect: each connection serves one request (Connection: close). Accepted so old configs load.
    idle_timeout: Duration = timedelta(seconds=15)
    max_connections: int = Field(default=64, ge=1, le=10_000)


class FleetSettings(_Strict):
    """Several instances on one PostgreSQL store (README "Scaling out")."""

    # How long an instance's claims on the items it is reading and on its unsent alerts outlive it:
    # about the longest they wait for another instance after it dies (its feeds wait for their next
    # poll time, at least this long). Claims are renewed every fifth of it while the instance lives
    # (monitor/fleet.py); bench/failover.py measures the takeover time and the writes it costs.
    lease: Duration = Field(default=timedelta(seconds=15), ge=timedelta(seconds=3), le=timedelta(hours=1))


class StoriesSettings(_Strict):
    # Articles first seen within this window are compared for near-copies and grouped into stories.
    window: Duration = timedelta(hours=72)
    # A thread reply is also shown in the channel when it makes the story reach this many outlets.
    broadcast_at: int | None = Field(default=None, ge=2, le=1000)
    # Story decisions are taken in publication order (monitor/decision_order.py): a read article waits
    # for the cycle's other articles still being read, at most this long.
    settle: DurationOrZero = Field(default=timedelta(seconds=10), le=timedelta(minutes=10))


class FeedConfig(_Strict):
    url: HttpUrl
    name: str | None = None
    interval: Duration | None = None
    tags: list[str] = Field(default_factory=list)  # watchlists can be limited to feeds with a tag


def _require_words(phrase: str) -> str:
    """A term must still have a letter or digit after normalisation (invisible characters vanish)."""
    if not re.search(r"\w", normalise_text(phrase)):
        raise ValueError(f"{phrase!r} has no letters or digits to match")
    return phrase


Phrase = Annotated[str, AfterValidator(_require_words)]


def _require_regex(source: str) -> str:
    compile_user_regex(source)  # checked here, at load: its ValueError says what is wrong
    return source


UserRegex = Annotated[str, AfterValidator(_require_regex)]


class TermConfig(_Strict):
    """A phrase with its aliases (`term:`), or a pattern (`regex:`, which `term:` may name)."""

    term: Phrase | None = None
    regex: UserRegex | None = None  # the `regex` package's syntax, run on normalised text
    case_sensitive: bool = False
    aliases: list[Phrase] = Field(default_factory=list)
    exclude: list[Phrase] = Field(default_factory=list)

    @model_validator(mode="after")
    def _term_or_regex(self) -> TermConfig:
        if self.term is None and self.regex is None:
            raise ValueError("a term needs `term:` (a word or phrase) or `regex:` (a pattern)")
        if self.regex is not None and self.aliases:
            raise ValueError("aliases are for phrases; with regex:, write alternatives in the pattern: (a|b)")
        return self

    @property
    def name(self) -> str:
        """What hits are reported under and a query refers to: the term, else the regex itself."""
        return self.term or self.regex or ""


def _term_from_plain_string(value: Any) -> Any:
    return {"term": value} if isinstance(value, str) else value


class WatchlistConfig(_Strict):
    name: str = Field(min_length=1)
    channel: str | None = Field(default=None, min_length=1)
    # Not written: none (then a query is needed); written: at least one.
    terms: list[Annotated[TermConfig, BeforeValidator(_term_from_plain_string)]] = Field(
        default_factory=list, min_length=1
    )
    # When given, the query decides (docs/query-language.md); the terms are what its words can name.
    query: str | None = None
    # How many mentions an article needs; a mention in the headline counts TITLE_WEIGHT times.
    min_mentions: int = Field(default=1, ge=1, le=1000)
    priority: Literal["low", "normal", "high"] = "normal"
    notify: Literal["here"] | None = None  # @here with the alert; only for priority: high
    feeds: list[str] | None = None  # only articles from feeds with one of these tags
    # `immediate`: an alert per story as it comes; `digest`: one message per `digest` schedule (cron, in
    # `timezone`) listing the stories since the previous one.
    delivery: Literal["immediate", "digest"] = "immediate"
    digest: str | None = None
    timezone: str = "UTC"

    @model_validator(mode="before")
    @classmethod
    def _channel_written_but_empty(cls, data: Any) -> Any:
        if isinstance(data, dict) and "channel" in data and data["channel"] is None:
            raise ValueError(f"channel {_UNQUOTED_HASH}")
        return data

    @model_validator(mode="after")
    def _here_only_when_high(self) -> WatchlistConfig:
        if self.notify == "here" and self.priority != "high":
            raise ValueError("notify: here is only allowed with priority: high (it pings everyone online)")
        return self

    @model_validator(mode="after")
    def _terms_or_query(self) -> WatchlistConfig:
        if not self.terms and self.query is None:
            raise ValueError("a watchlist needs `terms:`, a `query:`, or both")
        return self

    @model_validator(mode="after")
    def _digest_schedule_with_digest_delivery(self) -> WatchlistConfig:
        if self.delivery == "digest" and self.digest is None:
            raise ValueError(
                'delivery: digest needs a schedule: add `digest: "0 8 * * 1-5"` (cron: minute hour '
                "day-of-month month weekday, in `timezone`, UTC unless set)"
            )
        if self.delivery == "immediate" and self.digest is not None:
            raise ValueError(
                "`digest:` is a schedule for digests, but this watchlist alerts immediately: "
                "add `delivery: digest`, or remove `digest:`"
            )
        return self

    @field_validator("digest")
    @classmethod
    def _digest_is_a_crontab(cls, schedule: str | None) -> str:
        if schedule is None:  # validators see only what was written: this is `digest:` with nothing after it
            raise ValueError(
                'the digest schedule is empty; write one, e.g. "0 8 * * 1-5", or leave the key out'
            )
        parse_crontab(schedule)  # its ValueError says what is wrong; the time zone does not change that
        return schedule

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, name: str) -> str:
        parse_timezone(name)
        return name

    @field_validator("query")
    @classmethod
    def _query_parses_and_uses_every_term(cls, query: str | None, info: ValidationInfo) -> str:
        if query is None:  # validators see only what was written: this is `query:` with nothing after it
            raise ValueError("the query is empty; write one, or leave the key out")
        # A QuerySyntaxError is a ValueError: "column 18: expected a term, phrase or '(' after AND".
        _check_query_uses_terms(parse_query(query), info.data.get("terms", []))
        return query


def _check_query_uses_terms(query: Query, terms: list[TermConfig]) -> None:
    """Every term of a watchlist with a query must be named in it: an unused one would never match."""
    used = {reference_key(leaf.text) for leaf in query.leaves() if leaf.kind != "prefix"}
    named: dict[str, int] = {}
    for index, term in enumerate(terms):
        if term.term is None:
            raise ValueError(
                f"terms[{index}] (regex {term.regex!r}) has no name the query can use: "
                f"add `term: <name>` to it and write that name in the query"
            )
        key = reference_key(term.term)
        if key in named:
            raise ValueError(
                f"terms[{named[key]}] and terms[{index}] are both named {term.term!r}; "
                f"the query could not tell them apart"
            )
        named[key] = index
        if key not in used:
            raise ValueError(
                f"terms[{index}] ({term.term!r}) is not used in the query, so it would never match: "
                f"write {term.term} in the query, or remove the term"
            )


class WatchlistsFile(_Strict):
    watchlists: list[WatchlistConfig] = Field(min_length=1)


def _require_css_selector(selector: str) -> str:
    try:
        soupsieve.compile(selector)
    except soupsieve.SelectorSyntaxError as exc:
        raise ValueError(f"invalid CSS selector {selector!r}: {exc.args[0] if exc.args else exc}") from None
    return selector


CssSelector = Annotated[str, AfterValidator(_require_css_selector)]


class SiteRuleConfig(_Strict):
    content: CssSelector | None = None
    remove: list[CssSelector] = Field(default_factory=list)


class SitesFile(_Strict):
    sites: dict[str, SiteRuleConfig] = Field(default_factory=dict)


class MonitorFile(_Strict):
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
    feeds: list[FeedConfig] = Field(min_length=1)
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
        url = _expand_environment(url)
        problem = store_url_problem(url)
        if problem:
            raise ValueError(problem)
        return url

    @field_validator("feeds")
    @classmethod
    def _feeds_listed_once(cls, feeds: list[FeedConfig]) -> list[FeedConfig]:
        seen: set[str] = set()
        for feed in feeds:
            if feed.url in seen:
                raise ValueError(f"the feed {mask_configured_url(feed.url)} is listed twice")
            seen.add(feed.url)
        return feeds


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


def _expand_environment(url: str) -> str:
    """`${NAME}` in the storage URL is the environment variable NAME: a password stays out of the file."""

    def value_of(found: re.Match[str]) -> str:
        name = found.group(1)
        if name not in os.environ:
            raise ValueError(f"the environment variable {name} named in the URL (${{{name}}}) is not set")
        return urllib.parse.quote(os.environ[name], safe="")

    return re.sub(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}", value_of, url)


def store_url_problem(url: str) -> str | None:
    """What makes a store URL unusable in a way that would leak its password, or None.

    SQLAlchemy ends the password at its first `@`: with an unescaped `@` in it, the rest of the password
    is read as the host, which the database driver then prints in every connection error."""
    try:
        host = make_url(url).host or ""
    except ArgumentError:
        return f"cannot read {mask_configured_url(url)} as a database URL"
    if "@" in host:
        return (
            f"the user name or password in {mask_configured_url(url)} holds an @: write it as %40 "
            "(unescaped, the database would be looked for at a host made of the rest of the password)"
        )
    return None


def resolve_storage_url(url: str, base_dir: Path) -> str:
    """Make a relative sqlite path absolute against the config file's folder."""
    prefix = "sqlite:///"
    if not url.startswith(prefix) or url == "sqlite:///:memory:":
        return url
    db_path = Path(url[len(prefix) :])
    if not db_path.is_absolute():
        db_path = (base_dir / db_path).resolve()
    return prefix + str(db_path)


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
