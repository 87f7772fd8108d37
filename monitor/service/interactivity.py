"""The buttons on alerts for `run`: Socket Mode opened with the app-level token, presses handled by the
interaction desk (delivery/interactions.py), and buttons on alerts only once Slack accepted the token, so
no alert carries a button nobody listens for."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from ..delivery.interactions import InteractionDesk
from ..delivery.notifiers.slack import SlackNotifier
from ..delivery.slack_socket import SlackSocket
from ..logs import log_event
from ..pipeline.feed_cycle import Pipeline

log = logging.getLogger("monitor.service")


async def start_interactivity(pipeline: Pipeline) -> SlackSocket | None:
    """Socket Mode when the app-level token is set and alerts go to Slack; None (no buttons) otherwise."""
    settings = pipeline.config.slack
    token = settings.app_token()
    notifier = pipeline.outbox.notifier
    if not token:
        log_event(log, logging.INFO, "slack.buttons_off", reason=f"${settings.app_token_env} is not set")
        return None
    if not isinstance(notifier, SlackNotifier):
        log_event(log, logging.WARNING, "slack.buttons_off",
                  reason=f"${settings.app_token_env} is set, but alerts are printed, not posted")  # fmt: skip
        return None
    desk = InteractionDesk(pipeline.storage, pipeline.clock)

    async def handle(payload: dict[str, Any]) -> None:
        outcomes = await asyncio.to_thread(desk.handle, payload)  # store work, off the event loop
        if "recorded" in outcomes:
            pipeline.outbox.wake()  # the alert's rewrite is queued

    def buttons_off() -> None:  # a token revoked while `run` is up: later alerts carry no dead buttons
        notifier.interactive = False

    socket = SlackSocket(token, api_url=settings.resolved_api_url(), handle=handle,
                         ping_interval=settings.socket_ping_interval.total_seconds(),
                         on_refused=buttons_off)  # fmt: skip
    if not await socket.start():
        return None
    notifier.interactive = True
    log_event(log, logging.INFO, "slack.socket_mode", app_token_env=settings.app_token_env,
              buttons="relevant, not relevant, mute story, mute outlet")  # fmt: skip
    return socket
