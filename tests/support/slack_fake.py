"""A local, stdlib-only fake of the Slack Web API that the real slack_sdk clients talk to.

    with SlackFake(channels=["#news-alerts"]) as fake:
        client = WebClient(token=fake.token, base_url=fake.api_url)
        client.chat_postMessage(channel="#news-alerts", text="hello")
        assert fake.messages("#news-alerts")[0]["text"] == "hello"

It follows /work/shared/SLACK.md §7.3 (points 1-10; no webhook). Where real Slack is lenient the fake is
deliberately stricter, so tests catch bugs that production would hide:

* Unknown channels are ``channel_not_found``; nothing is auto-created. Pre-register with
  ``SlackFake(channels=[...])`` or ``add_channel()``.
* chat.postMessage accepts an ID, ``#name`` or ``name``; chat.update accepts only the ID, as its docs require.
* Strict threads (default): a ``thread_ts`` that is not a top-level message in that channel gets
  ``thread_not_found``. Real Slack may answer ``ok`` and hide the reply (SLACK.md §9.6, python-slack-sdk#840).
  A ``thread_ts`` sent as a JSON number gets ``invalid_thread_ts`` (real Slack: ``ok``, invisible reply).
* Rate limiting is off by default (``rate_limit=True`` turns it on): the first bot version does not pace.
  When on, chat.postMessage (replies included) spends one token of a per-channel bucket (1/s, burst 3) after
  auth and channel checks and before payload validation; an empty bucket answers HTTP 429, ``Retry-After``.

``messages()`` returns dicts with ``channel`` (ID), ``ts``, ``text``, ``blocks``, ``thread_ts``,
``reply_broadcast``, ``unfurl_links``, ``unfurl_media`` (None when not sent), ``args`` (every argument as
received, token removed) and ``history`` (every version, original first, current last).

Scopes: every authenticated answer carries ``x-oauth-scopes`` (the token's scopes, comma-separated, as
Slack sends it and ``check --online`` reads it from auth.test). ``conversations.info`` and
``conversations.list`` need ``channels:read`` (public) / ``groups:read`` (private) and answer
``missing_scope`` with ``needed`` and ``provided`` otherwise; chat.postMessage to a public channel the bot
is not in succeeds when ``chat:write.public`` is granted. The default scopes (DEFAULT_SCOPES) leave
``chat:write.public`` out, so a non-member gets ``not_in_channel``; ``set_scopes()`` changes them.

conversations.info takes an ID only (a name is ``channel_not_found``, as on Slack); private channels the bot
is not in, and deleted ones, are ``channel_not_found``; archived ones answer with ``is_archived: true``.
conversations.list pages with ``limit`` and ``cursor`` (``response_metadata.next_cursor``, empty at the end),
honours ``types`` and ``exclude_archived``, and lists private channels only to members.

Not emulated: org-wide tokens (``team_not_found``), ``msg_blocks_too_long`` (its limit is undocumented),
attachment validation, incoming webhooks, scopes of chat.* other than ``chat:write.public``.
"""

from __future__ import annotations

import base64
import binascii
import copy
import json
import math
import threading
import time
import urllib.parse
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from email import policy
from email.parser import BytesParser
from http.server import BaseHTTPRequestHandler
from typing import Any

from tests.support.loopback import LoopbackServer

DEFAULT_TOKEN = "xoxb-test-token"
TEAM_ID = "T0000001"
BOT_USER_ID = "U0000001"
BOT_ID = "B0000001"

API_METHODS = (
    "chat.postMessage",
    "chat.update",
    "auth.test",
    "conversations.info",
    "conversations.list",
    "apps.connections.open",
)
DEFAULT_APP_TOKEN = "xapp-test-token"
# What a bot installed from a manifest asking for posting and reading channels gets; chat:write.public is
# left out so that, as before scopes were emulated, a channel the bot is not in answers not_in_channel.
DEFAULT_SCOPES = ("chat:write", "channels:read", "groups:read")
# conversations.list's page size when `limit` is not given, and its most (Slack documents both).
LIST_DEFAULT_LIMIT, LIST_MAX_LIMIT = 100, 1000
FAULT_KINDS = (
    "http_500_html",
    "http_503_html",
    "fatal_error",
    "internal_error",
    "service_unavailable",
    "drop_connection",
    "slow",
    "msg_blocks_too_long",  # not emulated from sizes (the limit is undocumented): scripted, to test fallbacks
)
REVOKED_TOKEN_ERRORS = ("token_revoked", "account_inactive", "token_expired")
MENTION_TOKENS = ("<!channel", "<!here", "<!everyone", "<!subteam^", "<@", "<#")

# Limits from SLACK.md §2.1/§2.2.
MAX_POST_TEXT = 40_000
MAX_UPDATE_TEXT = 4_000
MAX_BLOCKS = 50
MAX_BLOCK_ID = 255
MAX_TEXT_OBJECT = 3_000
MAX_HEADER_TEXT = 150
MAX_SECTION_FIELDS = 10
MAX_FIELD_TEXT = 2_000
MAX_CONTEXT_ELEMENTS = 10
MAX_ACTIONS_ELEMENTS = 25
MAX_MARKDOWN_BLOCK = 12_000
TRUNCATION_WARNING = (
    "[WARN] Your message was truncated but still posted. Messages should be no longer than 40,000 characters."
)


class ManualClock:
    """A clock that tests move by hand, so rate-limit tests never sleep."""

    def __init__(self, start: float = 1_700_000_000.0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


# --- Block Kit validation (SLACK.md §2.2); messages mimic Slack's "[ERROR] … [json-pointer:…]" ---


def validate_blocks(blocks: list[Any]) -> list[str]:
    """Return Slack-style error strings for every limit the blocks break (empty when valid)."""
    errors = []
    if len(blocks) > MAX_BLOCKS:
        errors.append(_error(f"no more than {MAX_BLOCKS} items allowed", "/blocks"))
    for index, block in enumerate(blocks):
        errors.extend(_block_errors(block, f"/blocks/{index}"))
    return errors


def _error(message: str, pointer: str) -> str:
    return f"[ERROR] {message} [json-pointer:{pointer}]"


def _block_errors(block: Any, pointer: str) -> list[str]:
    if not isinstance(block, dict):
        return [_error("must be an object", pointer)]
    if "type" not in block:
        return [_error("missing required field: type", pointer)]
    errors = _optional_string(block, "block_id", pointer, MAX_BLOCK_ID)
    block_type = block["type"]
    if block_type in _BLOCK_VALIDATORS:
        errors += _BLOCK_VALIDATORS[block_type](block, pointer)
    elif block_type not in _UNCHECKED_BLOCK_TYPES:
        errors.append(_error("must be a valid enum value", f"{pointer}/type"))
    return errors


def _required_string(container: dict, key: str, pointer: str, max_len: int) -> list[str]:
    value = container.get(key)
    if value is None:
        return [_error(f"missing required field: {key}", pointer)]
    if not isinstance(value, str):
        return [_error("must be a string", f"{pointer}/{key}")]
    if not value:
        return [_error("must be more than 0 characters", f"{pointer}/{key}")]
    if len(value) > max_len:
        return [_error(f"must be less than {max_len + 1} characters", f"{pointer}/{key}")]
    return []


def _optional_string(container: dict, key: str, pointer: str, max_len: int) -> list[str]:
    return _required_string(container, key, pointer, max_len) if key in container else []


def _text_object_errors(obj: Any, pointer: str, max_len: int, plain_only: bool = False) -> list[str]:
    if not isinstance(obj, dict):
        return [_error("must be an object", pointer)]
    allowed = ("plain_text",) if plain_only else ("plain_text", "mrkdwn")
    errors = [] if obj.get("type") in allowed else [_error("must be a valid enum value", f"{pointer}/type")]
    return errors + _required_string(obj, "text", pointer, max_len)


def _list_errors(container: dict, key: str, pointer: str, max_items: int) -> list[str]:
    value = container.get(key)
    if not isinstance(value, list):
        return [_error(f"missing required field: {key}", pointer)]
    if not value:
        return [_error("must contain at least 1 item", f"{pointer}/{key}")]
    if len(value) > max_items:
        return [_error(f"no more than {max_items} items allowed", f"{pointer}/{key}")]
    return []


def _section_errors(block: dict, pointer: str) -> list[str]:
    if "text" not in block and "fields" not in block:
        return [_error("must provide either text or fields", pointer)]
    errors = []
    if "text" in block:
        errors += _text_object_errors(block["text"], f"{pointer}/text", MAX_TEXT_OBJECT)
    if "fields" in block:
        errors += _fields_errors(block, pointer)
    accessory = block.get("accessory")
    if isinstance(accessory, dict) and accessory.get("type") == "button":
        errors += _button_errors(accessory, f"{pointer}/accessory")
    return errors


def _fields_errors(block: dict, pointer: str) -> list[str]:
    errors = _list_errors(block, "fields", pointer, MAX_SECTION_FIELDS)
    for index, item in enumerate(block["fields"] if isinstance(block["fields"], list) else []):
        errors += _text_object_errors(item, f"{pointer}/fields/{index}", MAX_FIELD_TEXT)
    return errors


def _header_errors(block: dict, pointer: str) -> list[str]:
    if "text" not in block:
        return [_error("missing required field: text", pointer)]
    return _text_object_errors(block["text"], f"{pointer}/text", MAX_HEADER_TEXT, plain_only=True)


def _context_errors(block: dict, pointer: str) -> list[str]:
    errors = _list_errors(block, "elements", pointer, MAX_CONTEXT_ELEMENTS)
    for index, element in enumerate(block.get("elements") or []):
        element_pointer = f"{pointer}/elements/{index}"
        if isinstance(element, dict) and element.get("type") == "image":
            errors += _required_string(element, "image_url", element_pointer, 3_000)
            errors += _required_string(element, "alt_text", element_pointer, 2_000)
        else:
            errors += _text_object_errors(element, element_pointer, MAX_TEXT_OBJECT)
    return errors


def _actions_errors(block: dict, pointer: str) -> list[str]:
    errors = _list_errors(block, "elements", pointer, MAX_ACTIONS_ELEMENTS)
    for index, element in enumerate(block.get("elements") or []):
        if isinstance(element, dict) and element.get("type") == "button":
            errors += _button_errors(element, f"{pointer}/elements/{index}")
    return errors


def _button_errors(button: dict, pointer: str) -> list[str]:
    errors = _text_object_errors(button.get("text"), f"{pointer}/text", 75, plain_only=True)
    errors += _optional_string(button, "url", pointer, 3_000)
    errors += _optional_string(button, "value", pointer, 2_000)
    return errors + _optional_string(button, "action_id", pointer, 255)


def _image_errors(block: dict, pointer: str) -> list[str]:
    errors = [] if "slack_file" in block else _required_string(block, "image_url", pointer, 3_000)
    errors += _required_string(block, "alt_text", pointer, 2_000)
    if "title" in block:
        errors += _text_object_errors(block["title"], f"{pointer}/title", 2_000, plain_only=True)
    return errors


def _markdown_errors(block: dict, pointer: str) -> list[str]:
    return _required_string(block, "text", pointer, MAX_MARKDOWN_BLOCK)


_BLOCK_VALIDATORS: dict[str, Callable[[dict, str], list[str]]] = {
    "section": _section_errors,
    "header": _header_errors,
    "context": _context_errors,
    "actions": _actions_errors,
    "image": _image_errors,
    "markdown": _markdown_errors,
    "divider": lambda block, pointer: [],
}
# Real block types whose details the bot never uses; accepted without checking their contents.
_UNCHECKED_BLOCK_TYPES = frozenset({"rich_text", "input", "file", "video", "table", "context_actions"})


# --- Mentions ---


def find_mentions(messages: Iterable[dict]) -> list[str]:
    """Describe each mention token in any string of the messages (text, blocks, attachments, history)."""
    found = []
    for message in messages:
        # history holds every version (the current one last); attachments are only kept in the raw args.
        versions = [{"text": v["text"], "blocks": v["blocks"]} for v in message["history"]]
        content = {"history": versions, "attachments": message["args"].get("attachments")}
        for pointer, value in _strings(content, ""):
            found += [
                f"{message['channel']}/{message['ts']}{pointer}: {t!r} in {value!r}"
                for t in _tokens_in(value)
            ]
    return found


def assert_no_mentions(fake: SlackFake) -> None:
    """Fail when any stored message could notify people or link users/channels (SLACK.md §4)."""
    found = find_mentions(fake.messages())
    assert not found, "messages contain mention tokens:\n" + "\n".join(found)


def _strings(value: Any, pointer: str) -> Iterator[tuple[str, str]]:
    if isinstance(value, str):
        yield pointer, value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from _strings(item, f"{pointer}/{key}")
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _strings(item, f"{pointer}/{index}")


def _tokens_in(text: str) -> list[str]:
    return [token for token in MENTION_TOKENS if token in text]


# --- Internal records ---


class _SlackError(Exception):
    """An API failure to send back as ``{"ok": false, "error": ...}``."""

    def __init__(self, error: str, *, status: int = 200, headers: dict | None = None, **extra: Any) -> None:
        super().__init__(error)
        self.status = status
        self.headers = headers or {}
        self.payload = {"ok": False, "error": error, **extra}


@dataclass
class _Channel:
    id: str
    name: str
    exists: bool = True
    member: bool = True
    archived: bool = False
    private: bool = False


@dataclass
class _Fault:
    kind: str
    remaining: int
    seconds: float


@dataclass
class _Reply:
    status: int = 200
    body: bytes = b""
    content_type: str = "application/json; charset=utf-8"
    headers: dict[str, str] = field(default_factory=dict)
    logged: Any = None  # what requests() shows as the response
    drop: bool = False
    delay: float = 0.0


@dataclass
class _ApiRequest:
    method: str
    http_method: str
    path: str
    query: str
    headers: dict[str, str]
    raw_body: bytes


class _TokenBucket:
    """Per-channel budget: ``rate`` tokens a second up to ``burst``; one token per message."""

    def __init__(self, rate: float, burst: int, now: float) -> None:
        self.rate, self.burst = rate, burst
        self.tokens, self.updated = float(burst), now

    def take(self, now: float) -> float:
        """Spend a token; return 0 when allowed, else the seconds until one is available."""
        self.tokens = min(self.burst, self.tokens + max(0.0, now - self.updated) * self.rate)
        self.updated = now
        if self.tokens >= 1:
            self.tokens -= 1
            return 0.0
        return (1 - self.tokens) / self.rate


def _json_reply(payload: dict, status: int = 200, headers: dict | None = None) -> _Reply:
    body = json.dumps(payload).encode()
    return _Reply(status=status, body=body, headers=headers or {}, logged=payload)


def _html_reply(status: int, title: str) -> _Reply:
    page = f"<html><head><title>{status} {title}</title></head><body><h1>{title}</h1></body></html>"
    return _Reply(status=status, body=page.encode(), content_type="text/html; charset=utf-8", logged=page)


def _fault_reply(kind: str) -> _Reply:
    if kind == "http_500_html":
        return _html_reply(500, "Internal Server Error")
    if kind == "http_503_html":
        return _html_reply(503, "Service Unavailable")
    if kind == "drop_connection":
        return _Reply(status=0, drop=True)
    return _json_reply({"ok": False, "error": kind})  # fatal_error, internal_error, service_unavailable


# --- Request bodies ---


def _parse_args(request: _ApiRequest) -> dict[str, Any]:
    """Query string plus body, as Slack reads them; raises _SlackError for a body it cannot read."""
    args: dict[str, Any] = dict(urllib.parse.parse_qsl(request.query, keep_blank_values=True))
    if not request.raw_body:
        return args
    media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media_type == "application/json":
        args.update(_parse_json_body(request.raw_body))
    elif media_type in ("application/x-www-form-urlencoded", "text/plain", ""):
        args.update(
            urllib.parse.parse_qsl(request.raw_body.decode("utf-8", "replace"), keep_blank_values=True)
        )
    elif media_type == "multipart/form-data":
        args.update(_parse_multipart(request.headers["content-type"], request.raw_body))
    else:
        raise _SlackError("invalid_post_type")
    return args


def _parse_json_body(raw: bytes) -> dict[str, Any]:
    try:
        body = json.loads(raw)
    except ValueError:
        # Our best guess at the code: Slack documents invalid_form_data for forms but nothing for bad JSON.
        raise _SlackError("invalid_json") from None
    if not isinstance(body, dict):
        raise _SlackError("invalid_json")
    body.pop("token", None)  # Slack ignores a token inside a JSON body; it must be the bearer header
    return body


def _parse_multipart(content_type: str, raw: bytes) -> dict[str, str]:
    head = f"Content-Type: {content_type}\r\n\r\n".encode("latin-1")
    message = BytesParser(policy=policy.HTTP).parsebytes(head + raw)
    if not message.is_multipart():
        raise _SlackError("invalid_form_data")
    fields = {}
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        payload = part.get_payload(decode=True)
        if name and isinstance(payload, bytes):
            fields[str(name)] = payload.decode("utf-8", "replace")
    return fields


def _decode_blocks(value: Any) -> list | None:
    """Blocks come as a list (JSON body) or a JSON string (forms); anything else is invalid_blocks_format."""
    if value is None or value == "":
        return None
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            raise _SlackError("invalid_blocks_format") from None
    if not isinstance(value, list):
        raise _SlackError("invalid_blocks_format")
    return value


def _as_bool(value: Any) -> bool | None:
    if value is None or isinstance(value, bool):
        return value
    return str(value).lower() in ("1", "true")


def _bearer_token(headers: dict[str, str]) -> str | None:
    scheme, _, token = headers.get("authorization", "").partition(" ")
    return (token.strip() or None) if scheme.lower() == "bearer" else None


# --- The fake ---


class SlackFake(LoopbackServer):
    """Fake Slack Web API on 127.0.0.1:<ephemeral> for chat.postMessage, chat.update and auth.test."""

    def __init__(
        self,
        channels: Iterable[str] = (),
        *,
        token: str = DEFAULT_TOKEN,
        strict_threads: bool = True,
        rate_limit: bool = False,
        rate_per_second: float = 1.0,
        burst: int = 3,
        clock: Callable[[], float] = time.time,
        scopes: Iterable[str] = DEFAULT_SCOPES,
    ) -> None:
        super().__init__()
        self.handler = _SlackHandler
        self.token = token
        self.strict_threads = strict_threads
        self.rate_limit = rate_limit
        # Slack documents ~1 msg/s per channel with "short bursts >1 allowed" (SLACK.md §3.1) but no burst
        # size; 3 is our choice, small enough that an unpaced bot trips it in a test.
        self._rate_per_second, self._burst = rate_per_second, burst
        self._clock = clock
        self._lock = threading.RLock()
        self._tokens: dict[str, str] = {token: "ok"}
        # Socket Mode (tests/support/socket_mode_fake.py): apps.connections.open takes only an app-level
        # token and answers with the URL `socket_url()` gives; every other method refuses an app token.
        self.app_token = DEFAULT_APP_TOKEN
        self.socket_url: Callable[[], str] | None = None
        self._scopes: tuple[str, ...] = tuple(scopes)
        self._channels: dict[str, _Channel] = {}
        self._clear_recorded_state()
        for name in channels:
            self.add_channel(name)

    # -- lifecycle: start(), stop() and `with` come from LoopbackServer --

    @property
    def url(self) -> str:
        """Root URL of the server, e.g. ``http://127.0.0.1:5123``."""
        return self.root_url

    @property
    def api_url(self) -> str:
        """The ``base_url`` to give WebClient / AsyncWebClient."""
        return f"{self.url}/api/"

    # -- configuration --

    def add_channel(
        self,
        name: str,
        *,
        channel_id: str | None = None,
        member: bool = True,
        archived: bool = False,
        private: bool = False,
    ) -> str:
        """Register a channel (``#name`` or ``name``) and return its ID, e.g. ``C0000001``."""
        bare_name = name.lstrip("#")
        with self._lock:
            if self._find_channel(bare_name) is not None:
                raise ValueError(f"channel {name!r} already exists")
            channel_id = channel_id or f"C{len(self._channels) + 1:07d}"
            self._channels[channel_id] = _Channel(channel_id, bare_name, True, member, archived, private)
            return channel_id

    def set_channel(
        self,
        channel: str,
        *,
        exists: bool | None = None,
        member: bool | None = None,
        archived: bool | None = None,
        private: bool | None = None,
    ) -> None:
        """Change a channel's flags; ``exists=False`` makes it answer channel_not_found (deleted)."""
        changes = {"exists": exists, "member": member, "archived": archived, "private": private}
        with self._lock:
            record = self._channel_or_raise(channel)
            for flag, value in changes.items():
                if value is not None:
                    setattr(record, flag, value)

    def channel_id(self, channel: str) -> str:
        """The ID of a registered channel given by ID, ``#name`` or ``name``."""
        with self._lock:
            return self._channel_or_raise(channel).id

    def set_scopes(self, scopes: Iterable[str]) -> None:
        """The scopes the bot token was granted (what x-oauth-scopes says and missing_scope checks)."""
        with self._lock:
            self._scopes = tuple(scopes)

    def add_token(self, token: str) -> None:
        """Accept another token (for example a second workspace's bot)."""
        with self._lock:
            self._tokens[token] = "ok"

    def revoke_token(self, token: str | None = None, error: str = "token_revoked") -> None:
        """Make a token (default: the bot's) fail with token_revoked, account_inactive or token_expired."""
        if error not in REVOKED_TOKEN_ERRORS:
            raise ValueError(f"error must be one of {REVOKED_TOKEN_ERRORS}, not {error!r}")
        with self._lock:
            self._tokens[token or self.token] = error

    def inject(self, method: str, kind: str, *, times: int = 1, seconds: float = 3.0) -> None:
        """Make the next ``times`` calls of ``method`` fail with ``kind`` (queued after earlier injections).

        ``slow`` processes the call normally (the message IS stored) and replies after ``seconds``: the
        "timed out but delivered" case of SLACK.md §3.2. ``drop_connection`` closes the socket before any
        processing. ``http_5xx_html`` send an HTML page; the other kinds are HTTP 200 ``ok:false`` bodies.
        """
        if method not in API_METHODS:
            raise ValueError(f"method must be one of {API_METHODS}, not {method!r}")
        if kind not in FAULT_KINDS:
            raise ValueError(f"kind must be one of {FAULT_KINDS}, not {kind!r}")
        with self._lock:
            self._faults.setdefault(method, deque()).append(_Fault(kind, times, seconds))

    def clear_faults(self) -> None:
        """Drop the faults still queued (Slack is back), keeping messages and requests."""
        with self._lock:
            self._faults = {}

    # -- inspection --

    def messages(self, channel: str | None = None) -> list[dict[str, Any]]:
        """Stored messages (copies) in post order, current text after updates; optionally one channel's."""
        with self._lock:
            wanted = None if channel is None else self._channel_or_raise(channel).id
            return [copy.deepcopy(m) for m in self._messages if wanted in (None, m["channel"])]

    def replies(self, channel: str, thread_ts: str) -> list[dict[str, Any]]:
        """Stored replies under one parent message, in post order."""
        return [m for m in self.messages(channel) if m["thread_ts"] == thread_ts]

    def requests(self, method: str | None = None) -> list[dict[str, Any]]:
        """Every API request (copies): method, headers (lower-case keys), user_agent, body, status, etc."""
        with self._lock:
            return [copy.deepcopy(r) for r in self._requests if method in (None, r["method"])]

    def reset(self) -> None:
        """Forget messages, requests, queued faults and rate budgets; keep channels and tokens."""
        with self._lock:
            self._clear_recorded_state()

    def _clear_recorded_state(self) -> None:
        self._messages: list[dict[str, Any]] = []
        self._by_key: dict[tuple[str, str], dict[str, Any]] = {}
        self._requests: list[dict[str, Any]] = []
        self._faults: dict[str, deque[_Fault]] = {}
        self._buckets: dict[str, _TokenBucket] = {}
        self._last_epoch, self._last_seq = 0, 0

    # -- request handling (called from the HTTP handler threads) --

    def _handle_api(self, request: _ApiRequest) -> _Reply:
        with self._lock:
            fault = self._take_fault(request.method)
            if fault is not None and fault.kind != "slow":
                reply = _fault_reply(fault.kind)
            else:
                reply = self._process(request)
            if fault is not None and fault.kind == "slow":
                reply.delay = fault.seconds
            self._record(request, reply, fault)
            return reply

    def _take_fault(self, method: str) -> _Fault | None:
        queue = self._faults.get(method)
        if not queue:
            return None
        fault = queue[0]
        fault.remaining -= 1
        if fault.remaining <= 0:
            queue.popleft()
        return fault

    def _process(self, request: _ApiRequest) -> _Reply:
        if request.method not in API_METHODS:  # Slack answers this before looking at the token
            return _json_reply({"ok": False, "error": "unknown_method", "req_method": request.method})
        try:
            args = _parse_args(request)
            self._authenticate(request, args)
        except _SlackError as error:
            return _json_reply(error.payload, error.status, error.headers)
        # Slack names the token's scopes on every answer to an authenticated call.
        scopes = {"x-oauth-scopes": ",".join(self._scopes)}
        try:
            return _json_reply(self._call(request.method, args), headers=scopes)
        except _SlackError as error:
            return _json_reply(error.payload, error.status, {**scopes, **error.headers})

    def _call(self, method: str, args: dict[str, Any]) -> dict[str, Any]:
        if method == "chat.postMessage":
            return self._post_message(args)
        if method == "chat.update":
            return self._update_message(args)
        if method == "conversations.info":
            return self._conversations_info(args)
        if method == "conversations.list":
            return self._conversations_list(args)
        if method == "apps.connections.open":
            if self.socket_url is None:
                raise _SlackError("internal_error", note="the fake has no Socket Mode server")
            return {"ok": True, "url": self.socket_url()}
        return self._auth_test()

    def _record(self, request: _ApiRequest, reply: _Reply, fault: _Fault | None) -> None:
        try:
            body: Any = _parse_args(request)
        except _SlackError:
            body = None
        self._requests.append(
            {
                "method": request.method,
                "http_method": request.http_method,
                "path": request.path,
                "headers": dict(request.headers),
                "user_agent": request.headers.get("user-agent"),
                "body": body,
                "raw_body": request.raw_body.decode("utf-8", "replace"),
                "status": None if reply.drop else reply.status,
                "response": reply.logged,
                "fault": fault.kind if fault else None,
            }
        )

    def _authenticate(self, request: _ApiRequest, args: dict[str, Any]) -> None:
        token = _bearer_token(request.headers) or args.pop("token", None)
        args.pop("token", None)
        if not token:
            raise _SlackError("not_authed")
        if (token == self.app_token) != (request.method == "apps.connections.open"):
            raise _SlackError(
                "not_allowed_token_type" if token in (self.app_token, *self._tokens) else "invalid_auth"
            )
        if token == self.app_token:
            return
        state = self._tokens.get(token)
        if state is None:
            raise _SlackError("invalid_auth")
        if state != "ok":
            raise _SlackError(state)

    def _auth_test(self) -> dict[str, Any]:
        return {
            "ok": True,
            "url": "https://fake-workspace.slack.com/",
            "team": "Fake Workspace",
            "user": "news-monitor",
            "team_id": TEAM_ID,
            "user_id": BOT_USER_ID,
            "bot_id": BOT_ID,
            "is_enterprise_install": False,
        }

    # -- channels --

    def _find_channel(self, ref: str) -> _Channel | None:
        if ref in self._channels:
            return self._channels[ref]
        bare_name = ref.lstrip("#")
        return next((c for c in self._channels.values() if c.name == bare_name), None)

    def _channel_or_raise(self, ref: str) -> _Channel:
        channel = self._find_channel(ref)
        if channel is None:
            raise ValueError(f"unknown channel {ref!r}; known: {[c.name for c in self._channels.values()]}")
        return channel

    def _resolve_channel(self, ref: Any, *, allow_name: bool, posting: bool = False) -> _Channel:
        if not isinstance(ref, str) or not ref:
            raise _SlackError("channel_not_found")
        channel = self._find_channel(ref) if allow_name else self._channels.get(ref)
        if channel is None or not self._visible(channel):
            raise _SlackError("channel_not_found")  # private channels the bot cannot see look absent
        if channel.archived:
            raise _SlackError("is_archived")
        if not channel.member and not (posting and self._posts_without_joining(channel)):
            raise _SlackError("not_in_channel")
        return channel

    @staticmethod
    def _visible(channel: _Channel) -> bool:
        return channel.exists and (channel.member or not channel.private)

    def _posts_without_joining(self, channel: _Channel) -> bool:
        """chat:write.public: post in a public channel the bot has not joined (SLACK.md §1.1)."""
        return not channel.private and "chat:write.public" in self._scopes

    # -- conversations.info / conversations.list --

    def _require_scope(self, scope: str) -> None:
        if scope not in self._scopes:
            raise _SlackError("missing_scope", needed=scope, provided=",".join(self._scopes))

    def _conversations_info(self, args: dict[str, Any]) -> dict[str, Any]:
        ref = args.get("channel")
        channel = self._channels.get(ref) if isinstance(ref, str) else None  # an ID only, as on Slack
        if channel is None or not self._visible(channel):
            # The scope is checked against the kind of channel asked about; one never found needs the
            # public one to tell.
            self._require_scope("channels:read")
            raise _SlackError("channel_not_found")
        self._require_scope("groups:read" if channel.private else "channels:read")
        return {"ok": True, "channel": _conversation(channel)}

    def _conversations_list(self, args: dict[str, Any]) -> dict[str, Any]:
        types = [t.strip() for t in str(args.get("types") or "public_channel").split(",") if t.strip()]
        known = {"public_channel": "channels:read", "private_channel": "groups:read"}
        if not types or any(t not in known and t not in ("im", "mpim") for t in types):
            raise _SlackError("invalid_types")
        for kind in types:
            if kind in known:
                self._require_scope(known[kind])
        limit = _list_limit(args.get("limit"))
        start = _cursor_offset(args.get("cursor"))
        skip_archived = _as_bool(args.get("exclude_archived")) or False
        listed = [
            c
            for c in self._channels.values()
            if self._visible(c)
            and ("private_channel" if c.private else "public_channel") in types
            and not (skip_archived and c.archived)
        ]
        page = listed[start : start + limit]
        after = start + limit
        next_cursor = _cursor_for(after) if after < len(listed) else ""
        return {
            "ok": True,
            "channels": [_conversation(c) for c in page],
            "response_metadata": {"next_cursor": next_cursor},
        }

    # -- chat.postMessage / chat.update --

    def _post_message(self, args: dict[str, Any]) -> dict[str, Any]:
        channel = self._resolve_channel(args.get("channel"), allow_name=True, posting=True)
        self._spend_rate_budget(channel)
        text, blocks = self._message_content(args)
        thread_ts = self._thread_parent(channel, args.get("thread_ts"))
        response: dict[str, Any] = {"ok": True}
        if text is not None and len(text) > MAX_POST_TEXT:
            text = text[:MAX_POST_TEXT]
            response["warning"] = "message_truncated"
            response["response_metadata"] = {
                "warnings": ["message_truncated"],
                "messages": [TRUNCATION_WARNING],
            }
        message = self._store_message(channel, args, text, blocks, thread_ts)
        return {**response, "channel": channel.id, "ts": message["ts"], "message": _public_message(message)}

    def _update_message(self, args: dict[str, Any]) -> dict[str, Any]:
        channel = self._resolve_channel(args.get("channel"), allow_name=False)
        ts = args.get("ts")
        message = self._by_key.get((channel.id, ts)) if isinstance(ts, str) else None
        if message is None:
            raise _SlackError("message_not_found")
        text, blocks = self._message_content(args)
        if text is not None and len(text) > MAX_UPDATE_TEXT:
            raise _SlackError("msg_too_long")
        # Fields left out of an update keep their old value, as Slack keeps omitted blocks.
        message["text"] = message["text"] if text is None else text
        message["blocks"] = message["blocks"] if blocks is None else blocks
        message["history"].append({"text": message["text"], "blocks": message["blocks"], "args": args})
        public = _public_message(message)
        return {"ok": True, "channel": channel.id, "ts": ts, "text": message["text"], "message": public}

    def _spend_rate_budget(self, channel: _Channel) -> None:
        if not self.rate_limit:
            return
        now = self._clock()
        bucket = self._buckets.setdefault(channel.id, _TokenBucket(self._rate_per_second, self._burst, now))
        wait = bucket.take(now)
        if wait > 0:
            retry_after = str(max(1, math.ceil(wait)))
            raise _SlackError("ratelimited", status=429, headers={"Retry-After": retry_after})

    def _message_content(self, args: dict[str, Any]) -> tuple[str | None, list | None]:
        """Validated (text, blocks); raises no_text / markdown_text_conflict / invalid_blocks(_format)."""
        text = None if args.get("text") is None else str(args["text"])
        blocks = _decode_blocks(args.get("blocks"))
        if args.get("markdown_text") and (text or blocks):
            raise _SlackError("markdown_text_conflict")
        if not (text or blocks or args.get("attachments") or args.get("markdown_text")):
            raise _SlackError("no_text")
        errors = validate_blocks(blocks) if blocks else []
        if errors:
            raise _SlackError("invalid_blocks", response_metadata={"messages": errors})
        return text, blocks

    def _thread_parent(self, channel: _Channel, thread_ts: Any) -> str | None:
        if thread_ts is None or thread_ts == "":
            return None
        if not isinstance(thread_ts, str):
            hint = (
                f"thread_ts must be a string such as '1602251441.001700', got JSON {type(thread_ts).__name__}"
            )
            raise _SlackError("invalid_thread_ts", response_metadata={"messages": [f"[ERROR] {hint}"]})
        if not self.strict_threads:
            return thread_ts
        parent = self._by_key.get((channel.id, thread_ts))
        if parent is None or parent["thread_ts"] is not None:
            hint = "no such message" if parent is None else "that ts is a reply; thread on its parent"
            messages = [f"[ERROR] {hint} (strict fake; real Slack may hide the reply instead)"]
            raise _SlackError("thread_not_found", response_metadata={"messages": messages})
        return thread_ts

    def _store_message(
        self,
        channel: _Channel,
        args: dict[str, Any],
        text: str | None,
        blocks: list | None,
        thread_ts: str | None,
    ) -> dict[str, Any]:
        ts = self._next_ts()
        message = {
            "channel": channel.id,
            "ts": ts,
            "text": text,
            "blocks": blocks,
            "thread_ts": thread_ts,
            "reply_broadcast": _as_bool(args.get("reply_broadcast")),
            "unfurl_links": _as_bool(args.get("unfurl_links")),
            "unfurl_media": _as_bool(args.get("unfurl_media")),
            "args": copy.deepcopy(args),
        }
        message["history"] = [{"text": text, "blocks": blocks, "args": message["args"]}]
        self._messages.append(message)
        self._by_key[(channel.id, ts)] = message
        return message

    def _next_ts(self) -> str:
        """``<epoch>.<6-digit seq>``, strictly increasing across the workspace, hence unique per channel."""
        epoch = max(int(self._clock()), self._last_epoch)
        seq = self._last_seq + 1 if epoch == self._last_epoch else 1
        if seq > 999_999:
            epoch, seq = epoch + 1, 1
        self._last_epoch, self._last_seq = epoch, seq
        return f"{epoch}.{seq:06d}"

    # -- /_fake/ inspection routes --

    def _handle_inspection(self, http_method: str, path: str, query: str) -> _Reply:
        params = dict(urllib.parse.parse_qsl(query))
        try:
            if (http_method, path) == ("GET", "/_fake/messages"):
                return _json_reply({"ok": True, "messages": self.messages(params.get("channel"))})
            if (http_method, path) == ("GET", "/_fake/requests"):
                return _json_reply({"ok": True, "requests": self.requests(params.get("method"))})
            if (http_method, path) == ("POST", "/_fake/reset"):
                self.reset()
                return _json_reply({"ok": True})
        except ValueError as error:
            return _json_reply({"ok": False, "error": str(error)}, status=400)
        return _json_reply({"ok": False, "error": "unknown_fake_route"}, status=404)


def _conversation(channel: _Channel) -> dict[str, Any]:
    """A conversation object as conversations.info and conversations.list return one (a subset)."""
    return {
        "id": channel.id,
        "name": channel.name,
        "is_channel": not channel.private,
        "is_group": channel.private,
        "is_im": False,
        "is_mpim": False,
        "is_private": channel.private,
        "created": 1449252889,
        "is_archived": channel.archived,
        "is_general": False,
        "name_normalized": channel.name,
        "is_shared": False,
        "is_ext_shared": False,
        "is_org_shared": False,
        "is_member": channel.member,
        "topic": {"value": "", "creator": "", "last_set": 0},
        "purpose": {"value": "", "creator": "", "last_set": 0},
        "previous_names": [],
    }


def _list_limit(value: Any) -> int:
    if value is None or value == "":
        return LIST_DEFAULT_LIMIT
    try:
        limit = int(value)
    except (TypeError, ValueError):
        raise _SlackError("invalid_limit") from None
    if not 1 <= limit <= LIST_MAX_LIMIT:
        raise _SlackError("invalid_limit")
    return limit


def _cursor_for(offset: int) -> str:
    """An opaque cursor, base64 like Slack's (``dGVhbTpDMDYxRkE1UEI=``)."""
    return base64.b64encode(f"offset:{offset}".encode()).decode()


def _cursor_offset(cursor: Any) -> int:
    if not cursor:
        return 0
    try:
        kind, _, offset = base64.b64decode(str(cursor), validate=True).decode().partition(":")
        if kind == "offset" and offset.isdigit():
            return int(offset)
    except (binascii.Error, UnicodeDecodeError):
        pass
    raise _SlackError("invalid_cursor")


def _public_message(message: dict[str, Any]) -> dict[str, Any]:
    """The ``message`` object Slack echoes back for a bot post."""
    public = {
        "type": "message",
        "subtype": "bot_message",
        "text": message["text"] or "",
        "ts": message["ts"],
        "user": BOT_USER_ID,
        "bot_id": BOT_ID,
        "team": TEAM_ID,
    }
    if message["blocks"]:
        public["blocks"] = copy.deepcopy(message["blocks"])
    if message["thread_ts"]:
        public["thread_ts"] = message["thread_ts"]
    return public


class _SlackHandler(BaseHTTPRequestHandler):
    """Turns HTTP into _ApiRequest records; all behaviour lives in SlackFake."""

    def do_GET(self) -> None:
        self._handle("GET")

    def do_POST(self) -> None:
        self._handle("POST")

    def _handle(self, http_method: str) -> None:
        fake: SlackFake = self.server.owner  # type: ignore[attr-defined]
        split = urllib.parse.urlsplit(self.path)
        # Read the whole body first, even for a dropped connection: closing with unread data would turn
        # "no response" into a reset while the client is still sending.
        raw_body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        if split.path.startswith("/_fake/"):
            reply = fake._handle_inspection(http_method, split.path, split.query)
        elif split.path.startswith("/api/"):
            headers = {key.lower(): value for key, value in self.headers.items()}
            method = split.path.removeprefix("/api/")
            request = _ApiRequest(method, http_method, split.path, split.query, headers, raw_body)
            reply = fake._handle_api(request)
        else:
            reply = _Reply(status=404, body=b"not found", content_type="text/plain")
        self._send(reply, fake._stopping)

    def _send(self, reply: _Reply, stopping: threading.Event) -> None:
        if reply.delay:
            stopping.wait(reply.delay)
        if reply.drop:
            self.close_connection = True
            return
        try:
            self.send_response(reply.status)
            self.send_header("Content-Type", reply.content_type)
            self.send_header("Content-Length", str(len(reply.body)))
            for name, value in reply.headers.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(reply.body)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up (e.g. its timeout fired during a "slow" fault)

    def log_message(self, format: str, *args: Any) -> None:
        """Silence per-request logging; tests inspect fake.requests() instead."""
