"""Secrets never shown: the masking of URLs and of free text, whatever the spelling (monitor/redact/).

The secrets generated here are fenced by a marker no other part of the URL can hold (upper-case, while
hosts, paths and user names are lower-case): a masking that leaks any end of the secret leaks a marker.
"""

from __future__ import annotations

import contextlib
import json
import string
import tempfile
from pathlib import Path
from urllib.parse import quote, urlsplit

import pytest
import yarl
from hypothesis import example, given, settings
from hypothesis import strategies as st
from sqlalchemy import make_url

from monitor import redact
from monitor.config import load_config
from monitor.errors import ConfigError
from monitor.logs import mask_credentials, safe_line
from monitor.redact import mask_secrets, mask_url, remembered

MARK = "QZX"
SCHEMES = ("postgresql", "postgres", "postgresql+psycopg", "sqlite", "http", "https")
STORE_SCHEMES = ("postgresql", "postgres", "postgresql+psycopg")
SECRET_PARAMETERS = ("password", "token", "api_key", "apikey", "secret", "sig", "auth", "access_token",
                     "X-Amz-Signature", "client_secret", "key", "Passwd", "ticket")  # fmt: skip

any_characters = st.text(st.characters(blacklist_categories=("Cs",)), max_size=20)
no_whitespace = st.text(st.characters(blacklist_categories=("Cs", "Zs", "Zl", "Zp", "Cc")), max_size=20)
user_names = st.text(string.ascii_lowercase + string.digits + "-._~", max_size=8)  # empty too
hosts = st.sampled_from(["db.example", "127.0.0.1", "localhost", "news.example.org", "[::1]"])
ports = st.sampled_from(["", ":5432", ":1", ":8080"])
paths = st.text(string.ascii_lowercase + string.digits + "/.-@", max_size=15).map(lambda p: "/" + p)


def fenced(secret: str) -> str:
    return f"{MARK}{secret}{MARK}"


@st.composite
def urls_with_a_password(draw: st.DrawFn, password: st.SearchStrategy[str], *, encode: bool) -> str:
    secret = fenced(draw(password))
    written = quote(secret, safe="") if encode else secret
    scheme, user = draw(st.sampled_from(SCHEMES)), draw(user_names)
    return f"{scheme}://{user}:{written}@{draw(hosts)}{draw(ports)}{draw(paths)}"


@st.composite
def urls_with_a_secret_parameter(draw: st.DrawFn, *, encode: bool) -> str:
    secret = fenced(draw(any_characters if encode else no_whitespace.filter(lambda s: "&" not in s)))
    written = quote(secret, safe="") if encode else secret
    name = draw(st.sampled_from(SECRET_PARAMETERS))
    others = draw(st.lists(st.sampled_from(["q=chips", "lang=en", "sslmode=require", "page=2"]), max_size=3))
    params = [*others]
    params.insert(draw(st.integers(0, len(others))), f"{name}={written}")
    separator = draw(st.sampled_from(["?", "#"]))
    url = f"{draw(st.sampled_from(SCHEMES))}://{draw(hosts)}{draw(ports)}{draw(paths)}"
    return url + separator + "&".join(params)


@given(urls_with_a_password(any_characters, encode=False))
def test_a_url_never_shows_its_password_whatever_it_holds(url: str) -> None:
    assert MARK not in mask_url(url)


@given(urls_with_a_password(any_characters, encode=True))
def test_a_percent_encoded_password_is_hidden_too(url: str) -> None:
    assert MARK not in mask_url(url)


@given(
    urls_with_a_password(no_whitespace, encode=False), st.sampled_from(["{}", "'{}'", '"{}"', "URL('{}')"])
)
def test_a_url_inside_a_message_never_shows_its_password(url: str, quoting: str) -> None:
    # What SQLAlchemy, psycopg and aiohttp put in exception messages, and what a log line quotes.
    message = f"storage: cannot open {quoting.format(url)}: connection refused; retrying"
    masked = mask_credentials(message)
    assert MARK not in masked
    assert masked.startswith("storage: cannot open ") and masked.endswith(" retrying")


@given(urls_with_a_secret_parameter(encode=True))
def test_secret_query_and_fragment_parameters_are_hidden(url: str) -> None:
    assert MARK not in mask_url(url)
    assert MARK not in mask_credentials(f"fetch: HTTP 500: url={url} (attempt 2)")


@given(urls_with_a_secret_parameter(encode=False))
def test_secret_parameters_written_raw_are_hidden(url: str) -> None:
    assert MARK not in mask_url(url)


@given(urls_with_a_secret_parameter(encode=True), st.sampled_from(['"{}"', "'{}'", "<{}>", "({})"]))
def test_a_quoted_url_keeps_its_closing_quote(url: str, quoting: str) -> None:
    # A log value (`article_url="…?token=…"`) stays one value: masking hid the closing quote with the
    # secret it ended, and the next key read as part of it.
    masked = mask_credentials(f"fetch.failed article_url={quoting.format(url)} reason=x")
    assert MARK not in masked
    assert masked.startswith("fetch.failed article_url=" + quoting[0])
    assert masked.endswith(quoting[-1] + " reason=x")


@given(
    st.sampled_from(STORE_SCHEMES),
    user_names,
    any_characters.map(lambda s: quote(fenced(s), safe="")),
    hosts.filter(lambda h: not h.startswith("[")),
    ports,
)
def test_a_well_formed_store_url_reads_as_sqlalchemy_renders_it(
    scheme: str, user: str, password: str, host: str, port: str
) -> None:
    url = f"{scheme}://{user}:{password}@{host}{port}/news"
    assert mask_url(url) == make_url(url).render_as_string(hide_password=True)


def test_the_spellings_the_review_found() -> None:
    assert mask_url("postgresql://news:pa/ss@db/news") == "postgresql://news:***@db/news"
    assert mask_url("postgresql://:s3cret@db/news") == "postgresql://:***@db/news"
    assert mask_url("postgres://news:s3cret@db/news") == "postgres://news:***@db/news"
    assert mask_url("postgresql://db/news?password=s3cret") == "postgresql://db/news?password=***"
    assert mask_url("postgresql://news:p@ss@db/news") == "postgresql://news:***@db/news"
    # Other URLs lose the whole userinfo: a user name alone is often the token.
    assert mask_url("https://reader:s3cret@feeds.example/rss") == "https://***@feeds.example/rss"
    assert mask_url("https://ghp_s3cret@feeds.example/rss") == "https://***@feeds.example/rss"


def test_a_socket_mode_urls_ticket_is_hidden_in_the_line_the_sdk_logs() -> None:
    # slack-sdk's line when it cannot dial the URL apps.connections.open answered (seen in a `run` log).
    line = (
        "Failed to connect (error: 404, message='Invalid response status', "
        "url='wss://wss-primary.slack.com/link/?ticket=0f1e2d3c-QZX&app_id=A0000001'); Retrying..."
    )
    assert mask_secrets(line) == line.replace("0f1e2d3c-QZX", "***")


def test_what_is_not_a_secret_is_left_as_it_is() -> None:
    for url in (
        "https://mastodon.social/@Gargron.rss",
        "https://news.example/rss?q=chips&lang=en#top",
        "sqlite:////srv/news@home/news-monitor.db",
        "postgresql://news@db.example:5432/news",
        "http://127.0.0.1:8080/feed.xml",
    ):
        assert mask_url(url) == url
    assert mask_secrets("feed.polled feed_url=https://example.com/rss items=3") == (
        "feed.polled feed_url=https://example.com/rss items=3"
    )


def test_tokens_and_passwords_outside_urls() -> None:
    masked = mask_secrets("auth failed for xoxb-1234-5678-abcdef; conninfo host=db password=s3cret dbname=n")
    assert "abcdef" not in masked and "s3cret" not in masked
    assert "host=db" in masked and "dbname=n" in masked


# --- Configured URLs: their secrets remembered at load, whatever they hold (review round 3) ---

# Any character a YAML string can hold but `$` (`${NAME}`) and the line and URL breaks that end a URL
# in a YAML file: spaces included, `/ @ : ? #` included.
config_passwords = st.text(
    st.characters(blacklist_categories=("Cs", "Cc", "Zl", "Zp"), blacklist_characters="$"),
    min_size=1,
    max_size=16,
)


def _load(feed_url: str) -> None:
    """Load a configuration naming `feed_url`; a refusal (a password urlsplit cannot read) must not
    show the password either, and remembers it all the same."""
    with tempfile.TemporaryDirectory() as folder:
        try:
            load_config(_feed_config(folder, feed_url))
        except ConfigError as error:
            assert MARK not in str(error)


def _feed_config(folder: str, feed_url: str) -> str:
    monitor = {
        "slack": {"default_channel": "#news-alerts", "token_env": "NEWS_MONITOR_NO_TOKEN"},
        "feeds": [{"url": feed_url}],
        "watchlists": [{"name": "chips", "terms": ["Alibaba"]}],
    }
    path = Path(folder) / "monitor.yaml"
    path.write_text(json.dumps(monitor, ensure_ascii=False), encoding="utf-8")  # JSON is YAML
    return str(path)


def _renderings(url: str) -> list[str]:
    """How a configured URL reaches an output: as written, as yarl sends it, in a message, in a log
    value, with a relative link's path after it, as a configuration key path."""
    shown = [url, f"{url}/news/1", f"feeds[1].{url}: unknown key", f'article_url="{url}" reason="HTTP 404"']
    with contextlib.suppress(ValueError):
        shown.append(f"fetch: HTTP 500: url={yarl.URL(url)}")
    return shown


@settings(max_examples=60)
@given(user=user_names, password=config_passwords, path=paths)
@example(user="reader", password="open sesame99", path="/private/feed.xml")  # the review's
@example(user="", password="][", path="/")  # urlsplit's error quoted what follows the `]`
@example(user="", password="@ ", path="/")  # a message's URL cut at the space, inside the password
def test_a_configured_feed_password_never_appears_in_any_output(user: str, password: str, path: str) -> None:
    secret = fenced(password)
    url = f"http://{user}:{secret}@127.0.0.1:8080{path}"
    _load(url)
    for text in _renderings(url):
        masked = mask_secrets(text)
        assert MARK not in masked, (text, masked)
        assert MARK not in safe_line(text)


@settings(max_examples=60)
@given(
    name=st.text(string.ascii_lowercase + "_", min_size=1, max_size=8),
    value=no_whitespace.filter(lambda s: not {"&", "#", ";", "$"} & set(s)),
)
def test_a_configured_query_value_under_any_name_never_appears_in_any_output(name: str, value: str) -> None:
    from monitor.redact import mask_configured_url

    secret = fenced(value)
    url = f"https://feeds.example/private.xml?user=desk&{name}={secret}"
    _load(url)
    assert MARK not in mask_configured_url(url)
    for text in _renderings(url):
        assert MARK not in mask_secrets(text), text


# What can surround an `@` in a URL: hosts and ports, and `@ : / ? # =` where parsers disagree.
url_parts = st.text(string.ascii_lowercase + string.digits + "@:/?#.=&-", max_size=12)


@st.composite
def urls_with_an_at(draw: st.DrawFn) -> str:
    scheme = draw(st.sampled_from(["http", "https", "ftp"]))
    userinfo = draw(st.one_of(st.just(""), url_parts.map(lambda u: u + "@")))
    return f"{scheme}://{userinfo}{draw(hosts)}{draw(ports)}{draw(url_parts)}"


def _host(url: str) -> str | None:
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - a URL with no valid port has no host a request could go to
    except ValueError:
        return None
    return parts.hostname


@settings(max_examples=400)
@given(urls_with_an_at())
def test_the_masked_url_shows_no_host_but_the_one_the_url_goes_to(url: str) -> None:
    # The host a request goes to is urlsplit's (and yarl's, which aiohttp uses) reading; masking may
    # hide it (`***`), never show another: a link must not pass for one to a site it does not go to.
    masked = mask_url(url)
    assert _host(masked) in (_host(url), "***", None), masked
    assert mask_credentials(f"article_url={url} reason=x").startswith(f"article_url={masked} ")


def test_the_hosts_the_review_saw_made_up() -> None:
    assert mask_url("http://127.0.0.1:43193#@public.example/g") == "http://127.0.0.1:43193#***"
    assert mask_url("http://u:p@h.example:80/x@y.example") == "http://***@h.example:80/***"
    assert mask_url("http://reader:pa/ss@feeds.example/rss") == "http://***"  # yarl refuses it
    # A path holding `@` with no `:` before it is a path, not userinfo (Mastodon, Medium).
    assert mask_url("https://medium.com/feed/@alice") == "https://medium.com/feed/@alice"


def test_a_slack_message_masks_what_it_shows_and_links_to(monkeypatch: pytest.MonkeyPatch) -> None:
    from monitor.delivery.notifiers.slack_message import link_target, notice_message, reply_message
    from monitor.models import StoryReply

    monkeypatch.setattr(remembered, "_remembered", dict(remembered._remembered))  # this test's own registry
    monkeypatch.setattr(remembered, "_remembered_values", dict(remembered._remembered_values))
    secret = fenced("t0ken")
    url = f"https://reader:{secret}@news.example/a?api_key={secret}"
    redact.remember_configured_url(url)  # as loading a configuration with this feed URL does
    reply = StoryReply(channel="#c", story_id=1, outlet=f"Feed {url}", title="", url=url)
    notice = notice_message(f"monitor.yaml:24: feeds[1].{url}: unknown key 'https://***@news.example/a'")
    for message in (reply_message(reply), notice):
        assert MARK not in json.dumps(message.api_args()), message
    assert "news.example" in reply_message(reply).text  # the real host still beside the link
    # A stranger's link keeps its parameters, whatever their names: it must still open its page.
    assert link_target("https://news.example/a?keyword=chips&design=1&key=abc") == (
        "https://news.example/a?keyword=chips&amp;design=1&amp;key=abc"
    )
