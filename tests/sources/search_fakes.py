"""Local fakes of the search providers, serving their real answer formats (tests/fixtures/search/*/)."""

from __future__ import annotations

import re
from email.utils import format_datetime
from pathlib import Path
from urllib.parse import parse_qs, quote

from tests.support.world import World, hours_ago

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "search"
GOOGLE_PATH = "/rss/search"
BING_PATH = "/news/search"
MINT_TITLE = "Alibaba fires back at allegations of assisting Chinese Military"


def fixture(provider: str, name: str) -> str:
    return (FIXTURES / provider / name).read_text(encoding="utf-8")


def recent(answer: str, hours: float = 1) -> str:
    """The answer with every item's pubDate `hours` ago (the fixtures' dates would be too old)."""
    when = format_datetime(hours_ago(hours), usegmt=True)
    return re.sub(r"<pubDate>[^<]*</pubDate>", f"<pubDate>{when}</pubDate>", answer)


def bing_answer(urls: list[str], name: str = "search.xml") -> str:
    """Bing's answer with each item's apiclick `url=` parameter (in order) pointing at `urls`."""
    found = iter(urls)
    answer = re.sub(
        r"url=[^&]*&amp;", lambda _: f"url={_bing_escape(next(found))}&amp;", fixture("bing_news", name)
    )
    return recent(answer)


def serve(world: World, provider: str, path: str, answer: str) -> str:
    """Serve `answer` at `path` and list the provider in `search:` with its endpoint there."""
    endpoint = world.web.add(path, answer, content_type="application/rss+xml", conditional=False)
    search = world.settings.setdefault("search", {"providers": [], "endpoints": {}})
    if provider not in search["providers"]:
        search["providers"].append(provider)
    search["endpoints"][provider] = world.web.url(path)
    return endpoint


def queries(world: World, path: str) -> list[dict[str, list[str]]]:
    return [parse_qs(request["query"]) for request in world.web.requests(path)]


def next_round_due(world: World) -> None:
    """Time passes: every provider's next round is due (what a later cron run of `once` would see)."""
    world.store.execute("UPDATE search_providers SET next_round_at = NULL")


def _bing_escape(url: str) -> str:
    """Percent-encoded as Bing writes it: every reserved character, in lowercase hex."""
    return re.sub(r"%[0-9A-F]{2}", lambda m: m.group(0).lower(), quote(url, safe=""))
