"""Prometheus metrics (prometheus-client), one registry per process, served by ops.py at /metrics.

Names follow Prometheus conventions: `news_monitor_<thing>_<unit>`, counters end in `_total`.
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

REGISTRY = CollectorRegistry(auto_describe=True)

FEED_POLLS = Counter(
    "news_monitor_feed_polls_total",
    "Feed polls, by result: ok (new content), not_modified (304), error.",
    ["result"],
    registry=REGISTRY,
)
FEED_POLL_SECONDS = Histogram(
    "news_monitor_feed_poll_duration_seconds",
    "Time to poll one feed and process its new items (one feed's cycle).",
    buckets=(0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120),
    registry=REGISTRY,
)
ITEMS = Counter(
    "news_monitor_items_total",
    "Feed items, by outcome: seen, matched (an alert or a thread reply queued), digest, copy, no_match, "
    "duplicate, too_old, first_poll, postponed, failed.",
    ["outcome"],
    registry=REGISTRY,
)
ALERTS_SENT = Counter("news_monitor_alerts_sent_total", "Alerts posted.", registry=REGISTRY)
ALERTS_FAILED = Counter(
    "news_monitor_alerts_failed_total",
    "Failed posts, by kind: retry (kept in the outbox) or permanent (waits for a config change).",
    ["kind"],
    registry=REGISTRY,
)
OUTBOX_PENDING = Gauge("news_monitor_outbox_pending", "Alerts waiting in the outbox.", registry=REGISTRY)
OUTBOX_FAILED = Gauge("news_monitor_outbox_failed", "Alerts failed permanently.", registry=REGISTRY)
LAST_POLL = Gauge(
    "news_monitor_last_poll_timestamp_seconds",
    "When the last feed poll finished (Unix time).",
    registry=REGISTRY,
)
HOST_WAITS = Counter(
    "news_monitor_host_waits_total",
    "Requests held back by per-host politeness, by request (page, robots, feed) and reason: delay "
    "(between starts to one host; pages only) or pause (the host's Retry-After).",
    ["request", "reason"],
    registry=REGISTRY,
)
# News search (monitor/sources/search/), per provider. The last error's text is in `status`.
SEARCH_QUERIES = Counter(
    "news_monitor_search_queries_total", "Search requests sent, by provider.", ["provider"], registry=REGISTRY
)
SEARCH_HITS = Counter(
    "news_monitor_search_hits_total",
    "Search hits (leads) received, by provider.",
    ["provider"],
    registry=REGISTRY,
)
SEARCH_NEW_ARTICLES = Counter(
    "news_monitor_search_new_articles_total",
    "Search hits that were new articles (not already seen through a feed or an earlier round), by provider.",
    ["provider"],
    registry=REGISTRY,
)
SEARCH_ALERTS = Counter(
    "news_monitor_search_alerts_total",
    "Search hits whose article matched and queued an alert or thread reply, by provider.",
    ["provider"],
    registry=REGISTRY,
)
SEARCH_ERRORS = Counter(
    "news_monitor_search_errors_total",
    "Failed search requests, by provider and kind: query (the provider refused the query), rate_limited "
    "(HTTP 429), failed (no usable answer).",
    ["provider", "kind"],
    registry=REGISTRY,
)
# The buttons on alerts (delivery/interactions.py), read from the store at each scrape: the whole fleet's.
INTERACTIONS = Gauge(
    "news_monitor_interactions",
    "Presses of alert buttons recorded in the store, by action (relevant, not_relevant, mute_story, "
    "mute_outlet) and watchlist.",
    ["action", "watchlist"],
    registry=REGISTRY,
)
JUDGED_ALERTS = Gauge(
    "news_monitor_watchlist_judged_alerts",
    "Alerts judged Relevant or Not relevant, per watchlist (each alert's latest judgement).",
    ["watchlist"],
    registry=REGISTRY,
)
PRECISION = Gauge(
    "news_monitor_watchlist_precision",
    "Alerts judged relevant / alerts judged, per watchlist (absent until one is judged).",
    ["watchlist"],
    registry=REGISTRY,
)
