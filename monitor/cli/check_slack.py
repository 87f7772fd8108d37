"""The Slack half of `check --online`: the token works, and the bot can post in every configured channel.

Nothing is posted. auth.test proves the token and names its scopes (Slack sends them in the
`x-oauth-scopes` header of every answer); conversations.list / conversations.info say whether each
channel exists, is archived, and has the bot as a member. A public channel the bot has not joined takes
its posts when the token has `chat:write.public` (SLACK.md §1.1). Reading channels needs `channels:read`
(and `groups:read` for private ones); without it the check says so instead of guessing.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import aiohttp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from ..config import Config
from ..delivery.notifiers.slack import FIXES, SlackNotifier, api_error
from ..redact import mask_configured_url
from .check_verdict import Verdict

# A channel ID as Slack writes it (public C…, older private G…); a name is lower case.
_CHANNEL_ID = re.compile(r"^[CG][A-Z0-9]{6,}$")
# conversations.list pages: Slack allows up to 1,000 a page; 100 pages is a workspace of 100,000 channels.
_PAGE_SIZE, _MAX_PAGES = 1000, 100
_LOOKUP_SCOPES_FIX = (
    "add the channels:read scope (and groups:read for private channels) to the Slack app's bot token and "
    "reinstall it (deploy/slack-app-manifest.yaml lists them), so the channels can be checked"
)


@dataclass
class ChannelUse:
    """A channel as the configuration writes it, and what routes there."""

    written: str
    uses: list[str] = field(default_factory=list)  # "default channel", "watchlist chips", ...
    files: set[str] = field(default_factory=set)  # where it is written

    @property
    def label(self) -> str:
        return f"{self.written} ({', '.join(self.uses)})"


@dataclass(frozen=True)
class Identity:
    """What auth.test says about the token."""

    user: str
    user_id: str
    team: str
    scopes: frozenset[str] | None  # None: Slack did not say


class LookupRefused(Exception):
    """Slack would not show a channel (missing_scope, an error, no answer): why, and what to do."""

    def __init__(self, reason: str, fix: str = _LOOKUP_SCOPES_FIX) -> None:
        super().__init__(reason)
        self.reason, self.fix = reason, fix


def configured_channels(config: Config) -> list[ChannelUse]:
    """Every channel the configuration posts to, each once, with what routes there."""
    found: dict[str, ChannelUse] = {}

    def add(channel: str, use: str, file: str) -> None:
        entry = found.setdefault(channel.lstrip("#").lower(), ChannelUse(channel))
        entry.uses.append(use)
        entry.files.add(file)

    add(config.slack.default_channel, "default channel", str(config.path))
    if config.slack.admin_channel:
        add(config.slack.admin_channel, "admin channel", str(config.path))
    for watchlist in config.watchlists:
        if watchlist.channel:
            add(watchlist.channel, f"watchlist {watchlist.name}", str(config.watchlists_path or config.path))
    return list(found.values())


async def check_slack(config: Config, token: str) -> list[Verdict]:
    """The token's verdict, then one per configured channel."""
    notifier = SlackNotifier(
        token, api_url=config.slack.resolved_api_url(), timeout=config.slack.timeout.total_seconds()
    )
    channels = configured_channels(config)
    try:
        identity = await _identify(notifier.client)
        if isinstance(identity, Verdict):
            not_checked = "not checked: the token does not work"
            return [identity] + [Verdict.failed(c.label, not_checked) for c in channels]
        verdicts = [_token_verdict(identity, config)]
        return verdicts + await _channel_verdicts(notifier.client, identity, channels)
    finally:
        await notifier.close()


async def _identify(client: AsyncWebClient) -> Identity | Verdict:
    try:
        response = await client.auth_test()
    except SlackApiError as exc:
        error = api_error(exc)
        return Verdict.failed("token", f"auth.test answered {error}", FIXES.get(error))
    except (TimeoutError, OSError, aiohttp.ClientError) as exc:
        where = mask_configured_url(str(client.base_url))
        return Verdict.failed(
            "token",
            f"cannot reach Slack at {where}: {exc.__class__.__name__}: {exc}",
            "check the network, a proxy ($HTTPS_PROXY) or slack.api_url",
        )
    return Identity(
        user=str(response.get("user") or "?"),
        user_id=str(response.get("user_id") or "?"),
        team=str(response.get("team") or "?"),
        scopes=_scopes(response.headers),
    )


def _scopes(headers: Mapping[str, Any]) -> frozenset[str] | None:
    for name, value in headers.items():
        if name.lower() == "x-oauth-scopes":
            text = value[0] if isinstance(value, list | tuple) and value else value
            return frozenset(scope.strip() for scope in str(text).split(",") if scope.strip())
    return None


def _token_verdict(identity: Identity, config: Config) -> Verdict:
    scopes = "unknown (Slack did not say)" if identity.scopes is None else ", ".join(sorted(identity.scopes))
    detail = f"works: bot @{identity.user} ({identity.user_id}) in {identity.team}; scopes: {scopes}"
    if identity.scopes is not None and "chat:write" not in identity.scopes:
        return Verdict.failed(
            "token",
            detail + "; it cannot post without chat:write",
            "add the chat:write scope to the Slack app's bot token and reinstall it",
        )
    return Verdict.passed(f"token (${config.slack.token_env})", detail)


async def _channel_verdicts(
    client: AsyncWebClient, identity: Identity, channels: list[ChannelUse]
) -> list[Verdict]:
    by_name: dict[str, dict[str, Any]] = {}
    listing_refused: LookupRefused | None = None
    if any(not _is_id(channel.written) for channel in channels):
        try:
            by_name = await _list_channels(client, identity.scopes)
        except LookupRefused as exc:
            listing_refused = exc
    verdicts = []
    for channel in channels:
        try:
            if listing_refused is not None and not _is_id(channel.written):
                raise listing_refused
            found = await _find(client, channel, by_name)
        except LookupRefused as exc:
            verdicts.append(Verdict.failed(channel.label, f"cannot check: {exc.reason}", exc.fix))
            continue
        verdicts.append(_channel_verdict(channel, found, identity, by_name))
    return verdicts


def _is_id(channel: str) -> bool:
    return bool(_CHANNEL_ID.match(channel))


async def _find(
    client: AsyncWebClient, channel: ChannelUse, by_name: dict[str, dict[str, Any]]
) -> dict[str, Any] | None:
    """The channel's conversation object, or None when the bot cannot see one of that name or ID."""
    if not _is_id(channel.written):
        return by_name.get(channel.written.lstrip("#").lower())
    try:
        response = await client.conversations_info(channel=channel.written)
    except SlackApiError as exc:
        if exc.response.get("error") == "channel_not_found":
            return None
        raise _refusal(exc) from None
    except (TimeoutError, OSError, aiohttp.ClientError) as exc:
        raise _no_answer(exc) from None
    conversation = response.get("channel")
    return conversation if isinstance(conversation, dict) else None


async def _list_channels(client: AsyncWebClient, scopes: frozenset[str] | None) -> dict[str, dict[str, Any]]:
    """Every channel the bot can see, by lower-case name (private ones only with groups:read)."""
    types = (
        "public_channel,private_channel" if scopes is None or "groups:read" in scopes else "public_channel"
    )
    found: dict[str, dict[str, Any]] = {}
    cursor = None
    for _ in range(_MAX_PAGES):
        try:
            page = await client.conversations_list(
                types=types, limit=_PAGE_SIZE, cursor=cursor, exclude_archived=False
            )
        except SlackApiError as exc:
            raise _refusal(exc) from None
        except (TimeoutError, OSError, aiohttp.ClientError) as exc:
            raise _no_answer(exc) from None
        for conversation in page.get("channels") or []:
            found[str(conversation.get("name", "")).lower()] = conversation
        cursor = (page.get("response_metadata") or {}).get("next_cursor")
        if not cursor:
            break
    return found


def _refusal(exc: SlackApiError) -> LookupRefused:
    error = api_error(exc)
    if error == "missing_scope":
        needed = exc.response.get("needed") or "channels:read"
        return LookupRefused(f"the token lacks {needed}, which reading channels needs")
    return LookupRefused(
        f"Slack answered {error}", FIXES.get(error, "try again; if it persists, see Slack's status")
    )


def _no_answer(exc: BaseException) -> LookupRefused:
    reason = f"Slack did not answer ({exc.__class__.__name__}: {exc})".replace(": )", ")")
    return LookupRefused(reason, "check the network, a proxy ($HTTPS_PROXY) or slack.api_url")


def _channel_verdict(
    channel: ChannelUse, found: dict[str, Any] | None, identity: Identity, by_name: dict[str, Any]
) -> Verdict:
    where = " and ".join(sorted(channel.files))
    if found is None:
        guess = difflib.get_close_matches(channel.written.lstrip("#").lower(), list(by_name), n=1)
        hint = f" (did you mean #{guess[0]}?)" if guess else ""
        return Verdict.failed(
            channel.label,
            "no channel of that name or ID that the bot can see",
            f"correct it in {where}{hint}; a private channel must have the bot invited "
            f"(/invite @{identity.user})",
        )
    name = f"#{found.get('name')}"
    seen_as = f"{name}: " if _is_id(channel.written) else ""  # an ID says nothing to a reader; its name does
    if found.get("is_archived"):
        return Verdict.failed(
            channel.label,
            f"{seen_as}the channel is archived",
            f"unarchive it, or route {', '.join(channel.uses)} elsewhere in {where}",
        )
    if identity.scopes is not None and "chat:write" not in identity.scopes:
        return Verdict.failed(channel.label, f"{seen_as}it exists, but the token cannot post (no chat:write)")
    if found.get("is_member"):
        return Verdict.passed(channel.label, f"{seen_as}the bot is a member")
    if not found.get("is_private") and identity.scopes is not None and "chat:write.public" in identity.scopes:
        return Verdict.passed(
            channel.label, f"{seen_as}public, and the bot posts without joining (chat:write.public)"
        )
    known = "" if identity.scopes is not None else " (the token's scopes are unknown)"
    return Verdict.failed(
        channel.label,
        f"{seen_as}the bot is not a member{known}",
        f"invite it (/invite @{identity.user} in {name}), or add the chat:write.public scope "
        "to the Slack app and reinstall it",
    )
