"""The service's settings in monitor.yaml: slack, poll, fetch, ops, fleet and stories."""

from __future__ import annotations

import os
from datetime import timedelta
from typing import Annotated

from pydantic import AfterValidator, Field, model_validator

from .. import __version__
from ..errors import ConfigError
from ..redact import mask_configured_url, remember_configured_url, remember_secret, sends_secrets_in_clear
from .durations import Duration, DurationOrZero, duration_text
from .fields import Channel, HttpUrl, StrictModel, require_http_url


def _require_token_encrypted(url: str) -> str:
    """The bot token goes in every call's headers: plain http only to this machine (a local fake)."""
    if sends_secrets_in_clear(url):
        raise ValueError(
            f"plain http to a host that is not this machine would send the bot token unencrypted "
            f"({mask_configured_url(url)}); use https:// (plain http is accepted only to a loopback address "
            "such as 127.0.0.1, for a local fake)"
        )
    return url


class SlackSettings(StrictModel):
    token_env: str = "SLACK_BOT_TOKEN"
    # The environment variable holding the app-level token (xapp-…, scope connections:write). Set: `run`
    # connects over Socket Mode and alerts carry buttons (Relevant, Not relevant, Mute story, Mute outlet);
    # unset: no buttons, and nothing else changes.
    app_token_env: str = "SLACK_APP_TOKEN"
    # How often `run` pings its Socket Mode connection. slack-sdk replaces a connection that leaves a
    # ping unanswered for half this, or answers none of its own for 4 of them, so a connection that died
    # without a close frame (a NAT or proxy dropping it) is replaced within about 2 to 5 of these; 5 s is
    # slack-sdk's own default. Shorter costs a ping frame per interval, nothing more.
    socket_ping_interval: Duration = Field(
        default=timedelta(seconds=5), ge=timedelta(seconds=0.5), le=timedelta(minutes=1)
    )
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
                _require_token_encrypted(require_http_url(url))
            except ValueError as exc:
                raise ConfigError(str(exc), key="SLACK_API_URL (environment)") from None
        return url if url.endswith("/") else url + "/"

    def token(self) -> str | None:
        """The bot token from the environment, or None to print alerts to the console instead."""
        token = os.environ.get(self.token_env) or None
        remember_secret(token)  # masked in every output from here on, whatever the message around it
        return token

    def app_token(self) -> str | None:
        """The app-level token for Socket Mode from the environment, or None: alerts without buttons."""
        token = os.environ.get(self.app_token_env) or None
        remember_secret(token)
        return token


class PollSettings(StrictModel):
    # The interval of a feed without dates, and the first one of every feed; with `adaptive`, each feed
    # then gets an interval that follows how often it publishes, between min_interval and max_interval
    # (monitor/pipeline/feed_schedule.py). A feed with its own `interval:` keeps it.
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


class FetchSettings(StrictModel):
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


class OpsSettings(StrictModel):
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


class FleetSettings(StrictModel):
    """Several instances on one PostgreSQL store (README "Scaling out")."""

    # How long an instance's claims on the items it is reading and on its unsent alerts outlive it:
    # about the longest they wait for another instance after it dies (its feeds wait for their next
    # poll time, at least this long). Claims are renewed every fifth of it while the instance lives
    # (monitor/service/fleet.py); bench/failover.py measures the takeover time and the writes it costs.
    lease: Duration = Field(default=timedelta(seconds=15), ge=timedelta(seconds=3), le=timedelta(hours=1))


class StoriesSettings(StrictModel):
    # Articles first seen within this window are compared for near-copies and grouped into stories.
    window: Duration = timedelta(hours=72)
    # A thread reply is also shown in the channel when it makes the story reach this many outlets.
    broadcast_at: int | None = Field(default=None, ge=2, le=1000)
    # Story decisions are taken in publication order (monitor/stories/decision_order.py): a read article waits
    # for the cycle's other articles still being read, at most this long.
    settle: DurationOrZero = Field(default=timedelta(seconds=10), le=timedelta(minutes=10))
