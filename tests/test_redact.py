"""Secrets never shown: the masking of URLs and of free text, whatever the spelling (redact.py).

The secrets generated here are fenced by a marker no other part of the URL can hold (upper-case, while
hosts, paths and user names are lower-case): a masking that leaks any end of the secret leaks a marker.
"""

from __future__ import annotations

import string
from urllib.parse import quote

from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import make_url

from monitor.logs import mask_credentials
from monitor.redact import mask_secrets, mask_url

MARK = "QZX"
SCHEMES = ("postgresql", "postgres", "postgresql+psycopg", "sqlite", "http", "https")
STORE_SCHEMES = ("postgresql", "postgres", "postgresql+psycopg")
SECRET_PARAMETERS = ("password", "token", "api_key", "apikey", "secret", "sig", "auth", "access_token",
                     "X-Amz-Signature", "client_secret", "key", "Passwd")  # fmt: skip

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
