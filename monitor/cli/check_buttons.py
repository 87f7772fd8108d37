"""`check --online` for the buttons on alerts: the app-level token opens Socket Mode connections.

`apps.connections.open` hands out a WebSocket URL and opens nothing until that URL is dialled, so asking
for one is the cheapest real test of the token (a refused one is otherwise seen only in `run`'s log, and
its alerts would carry no buttons)."""

from __future__ import annotations

import aiohttp
from slack_sdk.errors import SlackApiError

from ..config import Config
from ..delivery.notifiers.slack import api_error, slack_web_client
from ..delivery.slack_socket import FIXES, may_dial
from ..redact import mask_configured_url
from .check_verdict import Verdict


async def check_buttons(config: Config) -> list[Verdict]:
    """Whether Slack accepts the app-level token; nothing to check (no verdict) without one."""
    token = config.slack.app_token()
    return [await _check_app_token(config, token)] if token else []


async def _check_app_token(config: Config, token: str) -> Verdict:
    settings = config.slack
    api_url = settings.resolved_api_url()
    client = slack_web_client(api_url, token=token)  # as `run` asks
    subject = f"buttons (app-level token from ${settings.app_token_env})"
    try:
        response = await client.apps_connections_open(app_token=token)
    except SlackApiError as exc:
        error = api_error(exc)
        return Verdict.failed(subject, f"apps.connections.open answered {error}", FIXES.get(error))
    except (TimeoutError, OSError, aiohttp.ClientError) as exc:
        where = mask_configured_url(api_url)
        return Verdict.failed(subject, f"cannot reach Slack at {where}: {exc.__class__.__name__}: {exc}")
    if not may_dial(str(response.get("url") or ""), api_url=api_url):  # as `run` refuses it
        fix = "Slack answers wss://: slack.api_url (or $SLACK_API_URL) is not Slack's API"
        return Verdict.failed(subject, "apps.connections.open answered a URL that is not wss://", fix)
    return Verdict.passed(subject, "Slack opens Socket Mode connections for it: alerts carry buttons")
