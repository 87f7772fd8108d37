"""The Slack fake, seen through the real slack_sdk clients (and plain urllib for raw HTTP details)."""

from __future__ import annotations

import asyncio
import json
import re
import urllib.parse
import urllib.request
from decimal import Decimal

import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry import ConnectionErrorRetryHandler, FixedValueRetryIntervalCalculator
from slack_sdk.web.async_client import AsyncWebClient

from tests.support.slack_fake import ManualClock, SlackFake, assert_no_mentions

TS_PATTERN = re.compile(r"^\d{10}\.\d{6}$")


@pytest.fixture
def client(slack_fake: SlackFake) -> WebClient:
    return WebClient(token=slack_fake.token, base_url=slack_fake.api_url, timeout=5)


def slack_error(call, *args, **kwargs) -> SlackApiError:
    """Run a client call that must fail and return the SlackApiError."""
    with pytest.raises(SlackApiError) as caught:
        call(*args, **kwargs)
    return caught.value


def post_error(client: WebClient, **kwargs) -> str:
    """The error code of a chat.postMessage call that must fail."""
    return slack_error(client.chat_postMessage, **kwargs).response["error"]


def section(text: str, text_type: str = "mrkdwn") -> dict:
    return {"type": "section", "text": {"type": text_type, "text": text}}


# --- posting, ts, channels ---


def test_post_returns_channel_id_string_ts_and_message(slack_fake, client):
    response = client.chat_postMessage(channel="#news-alerts", text="Chip export rules tighten")

    assert response["channel"] == slack_fake.channel_id("#news-alerts")
    assert TS_PATTERN.match(response["ts"])
    assert response["message"]["text"] == "Chip export rules tighten"
    assert response["message"]["ts"] == response["ts"]
    stored = slack_fake.messages()
    assert [(m["channel"], m["ts"], m["text"]) for m in stored] == [
        (response["channel"], response["ts"], "Chip export rules tighten")
    ]


def test_ts_strictly_increase_and_messages_keep_post_order(slack_fake, client):
    channels = ["#news-alerts", "#china-tech", "#news-alerts", "#china-tech", "#news-alerts"]
    stamps = [client.chat_postMessage(channel=ch, text=f"m{i}")["ts"] for i, ch in enumerate(channels)]

    assert [Decimal(ts) for ts in stamps] == sorted({Decimal(ts) for ts in stamps})
    assert [m["text"] for m in slack_fake.messages()] == ["m0", "m1", "m2", "m3", "m4"]
    assert [m["text"] for m in slack_fake.messages("#china-tech")] == ["m1", "m3"]


def test_ts_uses_the_injected_clock_for_its_epoch():
    with SlackFake(channels=["#news-alerts"], clock=ManualClock(1_700_000_000.5)) as fake:
        client = WebClient(token=fake.token, base_url=fake.api_url, timeout=5)
        first = client.chat_postMessage(channel="#news-alerts", text="a")["ts"]
        second = client.chat_postMessage(channel="#news-alerts", text="b")["ts"]

    assert (first, second) == ("1700000000.000001", "1700000000.000002")


def test_channel_resolves_by_hash_name_bare_name_and_id(slack_fake, client):
    channel_id = slack_fake.channel_id("#china-tech")
    for ref in ("#china-tech", "china-tech", channel_id):
        assert client.chat_postMessage(channel=ref, text=ref)["channel"] == channel_id

    assert [m["channel"] for m in slack_fake.messages()] == [channel_id] * 3


def test_add_channel_returns_a_new_id():
    with SlackFake() as fake:
        first, second = fake.add_channel("#a"), fake.add_channel("b")

    assert (first, second) == ("C0000001", "C0000002")


def test_post_stores_threading_and_unfurl_arguments(slack_fake, client):
    parent = client.chat_postMessage(channel="#news-alerts", text="parent")
    client.chat_postMessage(
        channel="#news-alerts",
        text="reply",
        thread_ts=parent["ts"],
        reply_broadcast=False,
        unfurl_links=False,
        unfurl_media=False,
        metadata={"event_type": "story", "event_payload": {"key": "k1"}},
    )

    reply = slack_fake.messages()[1]
    assert reply["thread_ts"] == parent["ts"]
    assert (reply["reply_broadcast"], reply["unfurl_links"], reply["unfurl_media"]) == (False, False, False)
    assert reply["args"]["metadata"]["event_payload"] == {"key": "k1"}
    assert [m["text"] for m in slack_fake.replies("#news-alerts", parent["ts"])] == ["reply"]


def test_auth_test_returns_identity(client):
    response = client.auth_test()

    assert response["ok"] is True
    assert response["team"] and response["user_id"].startswith("U") and response["bot_id"].startswith("B")


def test_unknown_method(client):
    error = slack_error(client.api_call, "chat.postMessageTypo")

    assert error.response["error"] == "unknown_method"


# --- auth ---


def test_missing_token_is_not_authed(slack_fake):
    anonymous = WebClient(token=None, base_url=slack_fake.api_url, timeout=5)

    assert post_error(anonymous, channel="#news-alerts", text="x") == "not_authed"
    assert slack_fake.messages() == []


def test_unknown_token_is_invalid_auth(slack_fake):
    stranger = WebClient(token="xoxb-not-ours", base_url=slack_fake.api_url, timeout=5)

    assert post_error(stranger, channel="#news-alerts", text="x") == "invalid_auth"


@pytest.mark.parametrize("reason", ["token_revoked", "account_inactive"])
def test_revoked_token(slack_fake, client, reason):
    slack_fake.revoke_token(error=reason)

    assert post_error(client, channel="#news-alerts", text="x") == reason
    assert slack_error(client.auth_test).response["error"] == reason


def test_form_body_may_carry_the_token_but_a_json_body_may_not(slack_fake):
    url = slack_fake.api_url + "chat.postMessage"
    form = urllib.parse.urlencode({"token": slack_fake.token, "channel": "#news-alerts", "text": "form"})
    as_json = json.dumps({"token": slack_fake.token, "channel": "#news-alerts", "text": "json"})

    form_reply = post_raw(url, form.encode(), "application/x-www-form-urlencoded")
    json_reply = post_raw(url, as_json.encode(), "application/json")

    assert form_reply["ok"] is True
    assert json_reply == {"ok": False, "error": "not_authed"}
    assert [m["text"] for m in slack_fake.messages()] == ["form"]


def post_raw(url: str, body: bytes, content_type: str) -> dict:
    request = urllib.request.Request(url, data=body, headers={"Content-Type": content_type}, method="POST")
    with urllib.request.urlopen(request, timeout=5) as response:
        return json.loads(response.read())


# --- channel errors ---


def test_unknown_channel_is_channel_not_found(client):
    assert post_error(client, channel="#nope", text="x") == "channel_not_found"


def test_channel_flags_map_to_errors(slack_fake, client):
    slack_fake.add_channel("#outside", member=False)
    slack_fake.add_channel("#old", archived=True)
    slack_fake.add_channel("#secret", private=True, member=False)
    slack_fake.set_channel("#china-tech", exists=False)

    errors = {
        ch: post_error(client, channel=ch, text="x") for ch in ("#outside", "#old", "#secret", "#china-tech")
    }

    assert errors == {
        "#outside": "not_in_channel",
        "#old": "is_archived",
        "#secret": "channel_not_found",
        "#china-tech": "channel_not_found",
    }
    assert slack_fake.messages() == []


# --- scopes and conversations ---


def test_every_authenticated_answer_names_the_token_scopes(slack_fake, client):
    assert client.auth_test().headers["x-oauth-scopes"] == "chat:write,channels:read,groups:read"
    slack_fake.set_scopes(["chat:write"])
    error = slack_error(client.chat_postMessage, channel="#nowhere", text="x")
    assert error.response.headers["x-oauth-scopes"] == "chat:write"
    anonymous = WebClient(token=None, base_url=slack_fake.api_url, timeout=5)
    assert "x-oauth-scopes" not in slack_error(anonymous.auth_test).response.headers


def test_chat_write_public_posts_in_a_public_channel_without_joining(slack_fake, client):
    slack_fake.add_channel("#outside", member=False)
    slack_fake.add_channel("#hidden", member=False, private=True)
    assert post_error(client, channel="#outside", text="x") == "not_in_channel"
    slack_fake.set_scopes(["chat:write", "chat:write.public"])
    assert client.chat_postMessage(channel="#outside", text="x")["ok"] is True
    assert post_error(client, channel="#hidden", text="x") == "channel_not_found"


def test_conversations_info_takes_an_id_and_hides_what_the_bot_cannot_see(slack_fake, client):
    archived = slack_fake.add_channel("#old", archived=True)
    hidden = slack_fake.add_channel("#hidden", member=False, private=True)
    info = client.conversations_info(channel=slack_fake.channel_id("#news-alerts"))["channel"]
    assert (info["name"], info["is_member"], info["is_archived"], info["is_private"]) == (
        "news-alerts",
        True,
        False,
        False,
    )
    assert client.conversations_info(channel=archived)["channel"]["is_archived"] is True
    for ref in ("#news-alerts", "news-alerts", hidden, "C7777777"):
        assert slack_error(client.conversations_info, channel=ref).response["error"] == "channel_not_found"


def test_reading_channels_needs_channels_read_and_says_so(slack_fake, client):
    slack_fake.set_scopes(["chat:write", "chat:write.public"])
    error = slack_error(client.conversations_list)
    assert error.response.data == {
        "ok": False,
        "error": "missing_scope",
        "needed": "channels:read",
        "provided": "chat:write,chat:write.public",
    }
    slack_fake.set_scopes(["chat:write", "channels:read"])
    private = slack_error(client.conversations_list, types="public_channel,private_channel").response
    assert private["needed"] == "groups:read"
    assert [c["name"] for c in client.conversations_list()["channels"]] == ["news-alerts", "china-tech"]


def test_conversations_list_pages_and_filters(slack_fake, client):
    slack_fake.add_channel("#old", archived=True)
    slack_fake.add_channel("#mine", private=True)
    slack_fake.add_channel("#theirs", private=True, member=False)
    slack_fake.add_channel("#gone")
    slack_fake.set_channel("#gone", exists=False)
    names, cursor, pages = [], None, 0
    while True:
        page = client.conversations_list(types="public_channel,private_channel", limit=2, cursor=cursor)
        names += [c["name"] for c in page["channels"]]
        pages += 1
        cursor = page["response_metadata"]["next_cursor"]
        if not cursor:
            break
    assert (names, pages) == (["news-alerts", "china-tech", "old", "mine"], 2)
    public = client.conversations_list(exclude_archived=True)["channels"]
    assert [c["name"] for c in public] == ["news-alerts", "china-tech"]
    assert slack_error(client.conversations_list, cursor="bm9wZQ==").response["error"] == "invalid_cursor"
    assert slack_error(client.conversations_list, limit=1001).response["error"] == "invalid_limit"


# --- payload validation ---


def test_section_text_over_3000_chars_is_invalid_blocks_with_json_pointer(client):
    error = slack_error(
        client.chat_postMessage, channel="#news-alerts", text="x", blocks=[section("a" * 3001)]
    )

    assert error.response.status_code == 200
    assert error.response["error"] == "invalid_blocks"
    assert error.response["response_metadata"]["messages"] == [
        "[ERROR] must be less than 3001 characters [json-pointer:/blocks/0/text/text]"
    ]


def test_section_text_of_exactly_3000_chars_is_accepted(client):
    assert client.chat_postMessage(channel="#news-alerts", text="x", blocks=[section("a" * 3000)])["ok"]


def test_mrkdwn_header_is_invalid_blocks(client):
    header = {"type": "header", "text": {"type": "mrkdwn", "text": "*Title*"}}
    error = slack_error(
        client.chat_postMessage, channel="#news-alerts", text="x", blocks=[section("a"), header]
    )

    assert error.response["error"] == "invalid_blocks"
    assert error.response["response_metadata"]["messages"] == [
        "[ERROR] must be a valid enum value [json-pointer:/blocks/1/text/type]"
    ]


def test_every_broken_limit_is_reported(client):
    blocks = [
        {"type": "header", "text": {"type": "plain_text", "text": "h" * 151}},
        {"type": "section", "fields": [{"type": "mrkdwn", "text": "f"}] * 11},
        {"type": "section", "fields": [{"type": "mrkdwn", "text": "f" * 2001}]},
        {"type": "context", "elements": [{"type": "mrkdwn", "text": "c"}] * 11},
        {"type": "divider", "block_id": "b" * 256},
        {"type": "section", "text": {"type": "markdown", "text": "t"}},
        {"type": "section", "text": {"type": "mrkdwn", "text": ""}},
    ]
    error = slack_error(client.chat_postMessage, channel="#news-alerts", text="x", blocks=blocks)

    pointers = [
        re.search(r"json-pointer:(\S+)]", m).group(1) for m in error.response["response_metadata"]["messages"]
    ]
    assert pointers == [
        "/blocks/0/text/text",
        "/blocks/1/fields",
        "/blocks/2/fields/0/text",
        "/blocks/3/elements",
        "/blocks/4/block_id",
        "/blocks/5/text/type",
        "/blocks/6/text/text",
    ]


def test_more_than_50_blocks_is_invalid_blocks(client):
    error = slack_error(client.chat_postMessage, channel="#news-alerts", text="x", blocks=[section("s")] * 51)

    assert error.response["response_metadata"]["messages"] == [
        "[ERROR] no more than 50 items allowed [json-pointer:/blocks]"
    ]


def test_form_blocks_are_a_json_string_and_malformed_ones_are_invalid_blocks_format(slack_fake, client):
    good = json.dumps([section("from a form")])
    client.api_call("chat.postMessage", data={"channel": "#news-alerts", "text": "x", "blocks": good})
    error = slack_error(
        client.api_call, "chat.postMessage", data={"channel": "#news-alerts", "text": "x", "blocks": "[{"}
    )

    assert slack_fake.requests()[0]["headers"]["content-type"] == "application/x-www-form-urlencoded"
    assert slack_fake.messages()[0]["blocks"] == [section("from a form")]
    assert error.response["error"] == "invalid_blocks_format"


def test_neither_text_nor_blocks_is_no_text(slack_fake, client):
    with pytest.warns(UserWarning, match="text"):  # the SDK itself warns before sending
        error = slack_error(client.chat_postMessage, channel="#news-alerts")

    assert error.response["error"] == "no_text"
    assert slack_fake.messages() == []


def test_post_text_over_40000_chars_is_truncated_with_a_warning(slack_fake, client):
    response = client.chat_postMessage(channel="#news-alerts", text="z" * 40_001)

    assert response["ok"] is True
    assert response["warning"] == "message_truncated"
    assert response["response_metadata"]["warnings"] == ["message_truncated"]
    assert len(slack_fake.messages()[0]["text"]) == 40_000


# --- chat.update ---


def test_update_replaces_text_and_blocks_and_keeps_history(slack_fake, client):
    posted = client.chat_postMessage(channel="#news-alerts", text="v1", blocks=[section("v1")])
    updated = client.chat_update(
        channel=posted["channel"], ts=posted["ts"], text="v2", blocks=[section("v2")]
    )

    assert (updated["ts"], updated["text"]) == (posted["ts"], "v2")
    [message] = slack_fake.messages()
    assert (message["text"], message["blocks"]) == ("v2", [section("v2")])
    assert [version["text"] for version in message["history"]] == ["v1", "v2"]


def test_update_text_over_4000_chars_is_msg_too_long(slack_fake, client):
    posted = client.chat_postMessage(channel="#news-alerts", text="v1")

    error = slack_error(client.chat_update, channel=posted["channel"], ts=posted["ts"], text="y" * 4001)

    assert error.response["error"] == "msg_too_long"
    assert slack_fake.messages()[0]["text"] == "v1"


def test_update_of_unknown_ts_is_message_not_found(slack_fake, client):
    channel_id = slack_fake.channel_id("#news-alerts")

    error = slack_error(client.chat_update, channel=channel_id, ts="1700000000.000001", text="x")

    assert error.response["error"] == "message_not_found"


def test_update_needs_the_channel_id_not_its_name(client):
    posted = client.chat_postMessage(channel="#news-alerts", text="v1")

    error = slack_error(client.chat_update, channel="#news-alerts", ts=posted["ts"], text="v2")

    assert error.response["error"] == "channel_not_found"


# --- threads ---


def test_reply_to_unknown_or_reply_ts_is_thread_not_found(slack_fake, client):
    parent = client.chat_postMessage(channel="#news-alerts", text="parent")
    reply = client.chat_postMessage(channel="#news-alerts", text="reply", thread_ts=parent["ts"])

    unknown = slack_error(client.chat_postMessage, channel="#news-alerts", text="x", thread_ts="1.000001")
    on_reply = slack_error(client.chat_postMessage, channel="#news-alerts", text="x", thread_ts=reply["ts"])
    other_channel = slack_error(
        client.chat_postMessage, channel="#china-tech", text="x", thread_ts=parent["ts"]
    )

    assert {e.response["error"] for e in (unknown, on_reply, other_channel)} == {"thread_not_found"}
    assert [m["text"] for m in slack_fake.messages()] == ["parent", "reply"]


def test_non_strict_threads_accept_any_thread_ts_like_real_slack(slack_fake, client):
    slack_fake.strict_threads = False

    response = client.chat_postMessage(channel="#news-alerts", text="orphan", thread_ts="1.000001")

    assert response["ok"] and slack_fake.messages()[0]["thread_ts"] == "1.000001"


def test_float_thread_ts_is_rejected(slack_fake, client):
    parent = client.chat_postMessage(channel="#news-alerts", text="parent")

    error = slack_error(
        client.chat_postMessage, channel="#news-alerts", text="x", thread_ts=float(parent["ts"])
    )

    assert error.response["error"] == "invalid_thread_ts"
    assert slack_fake.requests()[-1]["body"]["thread_ts"] == float(parent["ts"])


# --- rate limiting ---


def test_rate_limit_per_channel_answers_429_with_retry_after():
    clock = ManualClock()
    with SlackFake(channels=["#news-alerts", "#china-tech"], rate_limit=True, burst=2, clock=clock) as fake:
        client = WebClient(token=fake.token, base_url=fake.api_url, timeout=5)
        client.chat_postMessage(channel="#news-alerts", text="1")
        client.chat_postMessage(channel="#news-alerts", text="2")
        limited = slack_error(client.chat_postMessage, channel="#news-alerts", text="3")
        other_channel = client.chat_postMessage(channel="#china-tech", text="other")
        clock.advance(1.0)
        after_wait = client.chat_postMessage(channel="#news-alerts", text="4")

        assert limited.response.status_code == 429
        assert limited.response.headers["Retry-After"] == "1"
        assert limited.response.data == {"ok": False, "error": "ratelimited"}
        assert other_channel["ok"] and after_wait["ok"]
        assert [m["text"] for m in fake.messages()] == ["1", "2", "other", "4"]


def test_rate_limit_is_off_by_default(slack_fake, client):
    for i in range(10):
        client.chat_postMessage(channel="#news-alerts", text=str(i))

    assert len(slack_fake.messages()) == 10


# --- injected faults ---


@pytest.mark.parametrize(("kind", "status"), [("http_500_html", 500), ("http_503_html", 503)])
def test_html_server_errors_reach_the_sdk_as_status_codes(slack_fake, client, kind, status):
    slack_fake.inject("chat.postMessage", kind)

    error = slack_error(client.chat_postMessage, channel="#news-alerts", text="x")

    assert error.response.status_code == status
    assert error.response["error"].startswith("Received a response in a non-JSON format")
    assert client.chat_postMessage(channel="#news-alerts", text="next")["ok"]  # times=1 is used up
    assert [m["text"] for m in slack_fake.messages()] == ["next"]


@pytest.mark.parametrize("kind", ["fatal_error", "internal_error", "service_unavailable"])
def test_ok_false_faults_are_http_200(slack_fake, client, kind):
    slack_fake.inject("chat.postMessage", kind, times=2)

    errors = [slack_error(client.chat_postMessage, channel="#news-alerts", text="x") for _ in range(2)]

    assert [(e.response.status_code, e.response["error"]) for e in errors] == [(200, kind)] * 2
    assert client.chat_postMessage(channel="#news-alerts", text="next")["ok"]


def test_dropped_connection_is_a_connection_error_without_retry(slack_fake):
    no_retry = WebClient(token=slack_fake.token, base_url=slack_fake.api_url, timeout=5, retry_handlers=[])
    slack_fake.inject("chat.postMessage", "drop_connection")

    with pytest.raises(ConnectionError):
        no_retry.chat_postMessage(channel="#news-alerts", text="x")

    assert slack_fake.messages() == []
    assert slack_fake.requests()[0]["fault"] == "drop_connection"


def test_dropped_connection_is_retried_by_the_default_connection_handler(slack_fake):
    handler = ConnectionErrorRetryHandler(interval_calculator=FixedValueRetryIntervalCalculator(0.0))
    client = WebClient(
        token=slack_fake.token, base_url=slack_fake.api_url, timeout=5, retry_handlers=[handler]
    )
    slack_fake.inject("chat.postMessage", "drop_connection")

    assert client.chat_postMessage(channel="#news-alerts", text="x")["ok"]
    assert [r["fault"] for r in slack_fake.requests()] == ["drop_connection", None]
    assert len(slack_fake.messages()) == 1


def test_slow_reply_times_out_the_client_but_the_message_was_delivered(slack_fake):
    impatient = WebClient(token=slack_fake.token, base_url=slack_fake.api_url, timeout=1)
    # A 30 s reply: a client timeout that did not hold would get it, ok, instead of raising (no
    # wall-clock bound: CI's 2 cores are busy, and the exception already says the timeout held).
    slack_fake.inject("chat.postMessage", "slow", seconds=30)

    with pytest.raises(TimeoutError):
        impatient.chat_postMessage(channel="#news-alerts", text="maybe")

    assert [m["text"] for m in slack_fake.messages()] == ["maybe"]  # unknown outcome: do not blindly re-post


def test_inject_rejects_unknown_kinds_and_methods(slack_fake):
    with pytest.raises(ValueError, match="kind"):
        slack_fake.inject("chat.postMessage", "http_502")
    with pytest.raises(ValueError, match="method"):
        slack_fake.inject("chat.post_message", "fatal_error")


# --- inspection ---


def test_requests_record_method_headers_body_response_and_user_agent(slack_fake, client):
    client.chat_postMessage(channel="#news-alerts", text="hello")

    [request] = slack_fake.requests("chat.postMessage")
    assert request["user_agent"].startswith("Python/") and "slackclient/" in request["user_agent"]
    assert request["headers"]["authorization"] == f"Bearer {slack_fake.token}"
    assert request["headers"]["content-type"].startswith("application/json")
    assert request["body"] == {"channel": "#news-alerts", "text": "hello"}
    assert request["status"] == 200 and request["response"]["ok"] is True
    assert slack_fake.requests("auth.test") == []


def test_http_inspection_routes_and_reset(slack_fake, client):
    client.chat_postMessage(channel="#news-alerts", text="seen over http")

    with urllib.request.urlopen(slack_fake.url + "/_fake/messages?channel=%23news-alerts", timeout=5) as r:
        messages = json.loads(r.read())["messages"]
    with urllib.request.urlopen(slack_fake.url + "/_fake/requests?method=chat.postMessage", timeout=5) as r:
        requests = json.loads(r.read())["requests"]
    reset = urllib.request.Request(slack_fake.url + "/_fake/reset", data=b"", method="POST")
    with urllib.request.urlopen(reset, timeout=5) as r:
        assert json.loads(r.read()) == {"ok": True}

    assert [m["text"] for m in messages] == ["seen over http"]
    assert len(requests) == 1
    assert slack_fake.messages() == [] and slack_fake.requests() == []
    assert client.chat_postMessage(channel="#news-alerts", text="channels survive reset")["ok"]


def test_assert_no_mentions_catches_broadcasts_in_text_and_blocks(slack_fake, client):
    client.chat_postMessage(
        channel="#news-alerts", text="Markets fall &lt;!channel&gt;", blocks=[section("ok")]
    )
    assert_no_mentions(slack_fake)  # escaped text is safe

    client.chat_postMessage(channel="#news-alerts", text="safe", blocks=[section("Markets fall <!channel>")])

    with pytest.raises(AssertionError, match="<!channel"):
        assert_no_mentions(slack_fake)


def test_assert_no_mentions_sees_text_replaced_by_an_update(slack_fake, client):
    posted = client.chat_postMessage(channel="#news-alerts", text="fine")
    client.chat_update(channel=posted["channel"], ts=posted["ts"], text="ping <@U0ADMIN>")

    with pytest.raises(AssertionError, match="<@"):
        assert_no_mentions(slack_fake)


# --- async client ---


def test_async_client_posts_a_thread(slack_fake):
    async def post_parent_and_reply() -> tuple[str, str]:
        client = AsyncWebClient(token=slack_fake.token, base_url=slack_fake.api_url, timeout=5)
        parent = await client.chat_postMessage(channel="#news-alerts", text="parent")
        reply = await client.chat_postMessage(channel=parent["channel"], text="reply", thread_ts=parent["ts"])
        return parent["ts"], reply["ts"]

    parent_ts, reply_ts = asyncio.run(post_parent_and_reply())

    assert Decimal(reply_ts) > Decimal(parent_ts)
    assert [m["text"] for m in slack_fake.replies("#news-alerts", parent_ts)] == ["reply"]
    assert all("slackclient/" in r["user_agent"] for r in slack_fake.requests())
