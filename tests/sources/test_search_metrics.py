"""/metrics counts each search provider's queries, hits, new articles and alerts, read from `run` in a
real process (GDELT and Google News fakes; one query each, so no pacing wait)."""

from __future__ import annotations

import time

from tests.faults.test_operations import free_port, get
from tests.sources.search_fakes import GOOGLE_PATH, fixture, recent, serve
from tests.sources.test_search_gdelt import GDELT_PATH, gdelt_answer, serve_pages
from tests.support.world import World

EVENTUALLY = 30.0  # generous: CI's two cores are busy


def test_metrics_count_each_providers_queries_hits_new_articles_and_alerts(world: World) -> None:
    mint, weather = serve_pages(world)
    world.web.add(
        GDELT_PATH, gdelt_answer([mint, weather]), content_type="application/json", conditional=False
    )
    world.settings["search"] = {"providers": ["gdelt"], "endpoints": {"gdelt": world.web.url(GDELT_PATH)}}
    serve(world, "google_news", GOOGLE_PATH, recent(fixture("google_news", "search.xml")))
    port = free_port()
    world.settings["ops"] = {"enabled": True, "port": port}
    service = world.spawn("run")
    expected = [
        'news_monitor_search_queries_total{provider="gdelt"} 1.0',
        'news_monitor_search_hits_total{provider="gdelt"} 2.0',
        'news_monitor_search_new_articles_total{provider="gdelt"} 2.0',
        'news_monitor_search_alerts_total{provider="gdelt"} 1.0',
        'news_monitor_search_queries_total{provider="google_news"} 1.0',
        'news_monitor_search_hits_total{provider="google_news"} 2.0',
        # Google's Mint hit is a new article (keyed on its guid: the publisher URL is not known) of the
        # story GDELT's hit started: its thread reply ("Also reported by Mint") is its alert. Its weather
        # hit is new and matches nothing.
        'news_monitor_search_new_articles_total{provider="google_news"} 2.0',
        'news_monitor_search_alerts_total{provider="google_news"} 1.0',
    ]
    try:
        deadline, body = time.monotonic() + EVENTUALLY, ""
        while time.monotonic() < deadline and not all(line in body for line in expected):
            time.sleep(0.2)
            _, body = get(f"http://127.0.0.1:{port}/metrics") if _listening(port) else (0, "")
        missing = [line for line in expected if line not in body]
        assert not missing, body[-3000:]
        assert "news_monitor_search_errors_total{" not in body  # no error of any provider or kind
    finally:
        service.terminate()
        service.communicate(timeout=15)


def _listening(port: int) -> bool:
    import socket

    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) == 0
