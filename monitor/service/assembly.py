"""Assembly: the collaborators a pipeline needs, built from the configuration and always closed."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import TypeVar

from ..config import Config
from ..delivery.notifiers.base import Notifier
from ..delivery.notifiers.console import ConsoleNotifier
from ..delivery.notifiers.slack import SlackNotifier
from ..delivery.outbox import Outbox, delivery_fingerprint, post_interval
from ..delivery.rerouting import Routes
from ..http.client import HostLimiter, HttpClient
from ..logs import log_event
from ..pipeline.feed_cycle import Pipeline, utcnow
from ..storage import open_storage
from .fleet import fleet_membership

T = TypeVar("T")


async def with_pipeline(config: Config, action: Callable[[Pipeline], Awaitable[T]]) -> T:
    """Build the collaborators, run `action(pipeline)`, and always close them."""
    storage = open_storage(config.storage_url, lease=config.fleet.lease)
    notifier = make_notifier(config)
    hosts = HostLimiter(
        config.fetch.per_host_concurrency,
        config.fetch.per_host_delay.total_seconds(),
        feed_concurrency=config.poll.per_host_concurrency,
    )
    http = HttpClient(
        timeout=config.fetch.timeout.total_seconds(),
        user_agent=config.fetch.resolved_user_agent(),
        allow_private_addresses=config.fetch.allow_private_addresses,
        host_limiter=hosts,
        max_redirects=config.fetch.max_redirects,
    )
    outbox = Outbox(
        storage,
        notifier,
        config_fingerprint=delivery_fingerprint(config),
        clock=utcnow,
        pace=post_interval(config, notifier),
        routes=Routes.from_config(config),
    )
    pipeline = Pipeline(config, storage, http, outbox)
    try:
        async with fleet_membership(pipeline):
            return await action(pipeline)
    finally:
        await http.close()
        await notifier.close()
        storage.close()


def make_notifier(config: Config) -> Notifier:
    """Slack when a token is set; otherwise the console, so the service runs with no Slack at all."""
    token = config.slack.token()
    if not token:
        reason = f"${config.slack.token_env} is not set; alerts are printed, not posted"
        log_event(logging.getLogger("monitor"), logging.WARNING, "notifier.console", reason=reason)
        return ConsoleNotifier()
    return SlackNotifier(
        token, api_url=config.slack.resolved_api_url(), timeout=config.slack.timeout.total_seconds()
    )
