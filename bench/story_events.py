"""Story grouping on real news labelled by event (the story-events development set), through the pipeline.

    python bench/story_events.py [--data FILE] [--step-minutes 30] [--shuffle SEED ...] [--json]
                                 [--record FILE]

The development set (../shared/benchmarks/story-events, 339 articles of 42 events from the ECB+ corpus;
its README says how to cite it) is replayed as a real stream delivers it: one local feed per outlet, each
article published at T0 + its `offset_h` hours (T0 = 66 hours ago, so the stream ends now), its page
served as HTML; its feed item carries the first paragraph as the summary (what the pipeline reads
when a page yields no article text: 30 of the articles are briefs under 40 words). Every
`--step-minutes` of stream time the outlets' feeds gain the articles published since, newest first,
and the real pipeline runs one cycle over all feeds (fetch, extract, match, story decisions, record).
A watchlist of common words matches every article, so every story decision shows as an alert or a
reply, as in a channel that sees everything.

Printed with score.py's definitions (it is imported from the data's folder): pairwise precision and
recall, B-cubed, alerts per story on the final grouping; then the top-level alerts the outbox really
holds per event, and the events with no alert of their own (all their articles joined other events'
stories); then, beside them, the same grouping's figures on the project's own corpus. With several
`--shuffle` seeds, each replay lists every feed's items in another order and delays every page by
another amount, and the groupings are compared: they must be the same.

`--record FILE` also writes every story decision's inputs (bench/story_record.py), which
bench/story_replay.py replays offline in about two seconds: record once, then re-measure grouping changes
on the record (the figures printed here are not changed by recording).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gzip
import hashlib
import importlib.util
import io
import json
import random
import sys
import tempfile
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from html import escape
from pathlib import Path
from types import ModuleType
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from aiohttp import web  # noqa: E402
from sqlalchemy import select  # noqa: E402

from bench.stories import load_corpus, story_grouping_scores  # noqa: E402
from bench.story_record import DecisionRecorder  # noqa: E402
from monitor.config import load_config  # noqa: E402
from monitor.pipeline.feed_cycle import Pipeline  # noqa: E402
from monitor.service.assembly import with_pipeline  # noqa: E402
from monitor.storage import schema  # noqa: E402

DEFAULT_DATA = REPO.parent / "shared" / "benchmarks" / "story-events" / "events-dev.jsonl.gz"
# ECB texts carry no outlet: each event's articles get different outlets from one pool (the README's
# advice), as many reports of one event come from many outlets.
OUTLETS = [f"Outlet {chr(65 + n // 26)}{chr(65 + n % 26)}" for n in range(30)]
CATCH_ALL = ["the", "a", "of", "to", "in", "and", "is", "on"]
STREAM_HOURS = 66


@dataclass
class Stream:
    """The articles, their outlets and what each outlet's feed lists now."""

    articles: list[dict[str, Any]]
    start: datetime
    outlet_of: dict[str, str] = field(default_factory=dict)
    published: dict[str, list[dict[str, Any]]] = field(default_factory=lambda: defaultdict(list))
    rng: random.Random | None = None  # shuffles feed order and page delays when set
    step_hours: float = 0.5  # stream time between two cycles

    def assign_outlets(self) -> None:
        rng = random.Random(20140526)
        by_event: dict[str, list[dict[str, Any]]] = defaultdict(list)
        for article in self.articles:
            by_event[article["story"]].append(article)
        for event in sorted(by_event):
            outlets = rng.sample(OUTLETS, k=min(len(OUTLETS), len(by_event[event])))
            for n, article in enumerate(by_event[event]):
                self.outlet_of[article["id"]] = outlets[n % len(outlets)]

    def time_of(self, article: dict[str, Any]) -> datetime:
        return self.start + timedelta(hours=article["offset_h"])

    def publish_until(self, hours: float) -> int:
        fresh = [a for a in self.articles if hours - self.step_hours < a["offset_h"] <= hours]
        for article in fresh:
            self.published[self.outlet_of[article["id"]]].insert(0, article)
        return len(fresh)


def feed_xml(stream: Stream, outlet: str, base: str) -> bytes:
    items = list(stream.published.get(outlet, []))[:50]
    if stream.rng is not None:
        stream.rng.shuffle(items)
    entries = "".join(
        f"<item><title>{escape(a['title'])}</title><link>{base}/a/{a['id']}.html</link>"
        f"<description>{escape(a['paragraphs'][0] if a['paragraphs'] else '')}</description>"
        f"<guid>{base}/a/{a['id']}.html</guid>"
        f"<pubDate>{stream.time_of(a).strftime('%a, %d %b %Y %H:%M:%S +0000')}</pubDate></item>"
        for a in items
    )
    return (f'<?xml version="1.0"?><rss version="2.0"><channel><title>{outlet}</title>'
            f"<link>{base}/</link>{entries}</channel></rss>").encode()  # fmt: skip


def page_html(stream: Stream, article: dict[str, Any]) -> bytes:
    published = stream.time_of(article).isoformat()
    paragraphs = "".join(f"<p>{escape(p)}</p>" for p in article["paragraphs"])
    title = escape(article["title"])
    return (f"<html><head><title>{title}</title>"
            f'<meta property="article:published_time" content="{published}"></head><body>'
            f"<article><h1>{title}</h1>{paragraphs}</article></body></html>").encode()  # fmt: skip


def make_app(stream: Stream, base: list[str]) -> web.Application:
    by_id = {a["id"]: a for a in stream.articles}

    async def feed(request: web.Request) -> web.Response:
        outlet = request.match_info["outlet"].replace("-", " ")
        return web.Response(body=feed_xml(stream, outlet, base[0]), content_type="application/rss+xml")

    async def page(request: web.Request) -> web.Response:
        if stream.rng is not None:
            await asyncio.sleep(stream.rng.random() * 0.05)
        return web.Response(body=page_html(stream, by_id[request.match_info["id"]]), content_type="text/html")

    app = web.Application()
    app.router.add_get("/feed/{outlet}.xml", feed)
    app.router.add_get("/a/{id}.html", page)
    return app


def write_config(folder: Path, base: str) -> Path:
    monitor = {
        "slack": {"default_channel": "#events", "token_env": "NEWS_MONITOR_BENCH_NO_TOKEN"},
        "storage": f"sqlite:///{folder}/state.db",
        "fetch": {"allow_private_addresses": True, "per_host_delay": "0s", "per_host_concurrency": 16,
                  "respect_robots_txt": False},
        "poll": {"max_age": "4d", "per_host_concurrency": 50, "adaptive": False},
        "feeds": [{"url": f"{base}/feed/{o.replace(' ', '-')}.xml", "name": o} for o in OUTLETS],
        "watchlists": [{"name": "everything", "terms": CATCH_ALL}],
    }  # fmt: skip
    path = folder / "monitor.yaml"
    path.write_text(json.dumps(monitor), encoding="utf-8")
    return path


async def replay(
    stream: Stream, folder: Path, recorder: DecisionRecorder | None = None
) -> dict[str, tuple[int, str, bool]]:
    """Run the stream through the pipeline; per article id: (story id, outcome, posted an alert).

    `recorder`: records the story decisions' inputs (bench/story_record.py)."""
    base = [""]
    runner = web.AppRunner(make_app(stream, base))
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    base[0] = f"http://127.0.0.1:{port}"
    config = load_config(write_config(folder, base[0]))

    async def cycles(pipeline: Pipeline) -> dict[str, tuple[int, str, bool]]:
        if recorder is not None:
            recorder.install(pipeline)
        hours = 0.0
        while hours < max(a["offset_h"] for a in stream.articles) + stream.step_hours:
            hours += stream.step_hours
            if stream.publish_until(hours):
                if recorder is not None:
                    recorder.cycle += 1
                await pipeline.run_cycle()
        return read_grouping(pipeline, base[0])

    try:
        with contextlib.redirect_stdout(io.StringIO()):  # the console notifier is not started
            return await with_pipeline(config, cycles)
    finally:
        await runner.cleanup()


def article_name(link: str) -> str:
    """The data set's id of the article a link of the local site serves (/a/<id>.html)."""
    return link.rsplit("/", 1)[1].removesuffix(".html")


def read_grouping(pipeline: Pipeline, base: str) -> dict[str, tuple[int, str, bool]]:
    articles, alerts = schema.articles, schema.alerts
    engine = pipeline.storage.engine  # type: ignore[attr-defined]
    with engine.connect() as conn:
        rows = conn.execute(
            select(articles.c.id, articles.c.url, articles.c.story_id, articles.c.outcome)
        ).all()
        alerted = {
            r.article_id for r in conn.execute(select(alerts.c.article_id).where(alerts.c.kind == "alert"))
        }
    prefix = f"{base}/a/"
    return {
        row.url[len(prefix) : -len(".html")]: (int(row.story_id or row.id), row.outcome, row.id in alerted)
        for row in rows
        if row.url.startswith(prefix)
    }


def load_articles(data: Path) -> list[dict[str, Any]]:
    """The data set's articles (gzip of JSON lines)."""
    with gzip.open(data, "rt", encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


def load_scorer(data: Path) -> ModuleType:
    spec = importlib.util.spec_from_file_location("story_events_score", data.parent / "score.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def alert_figures(
    articles: list[dict[str, Any]], grouping: dict[str, tuple[int, str, bool]]
) -> dict[str, Any]:
    """Top-level alerts per event as the outbox holds them, and the events with none of their own."""
    alerts: Counter[str] = Counter(a["story"] for a in articles if grouping.get(a["id"], (0, "", False))[2])
    events = sorted({a["story"] for a in articles})
    return {
        "events": len(events),
        "alerts": sum(alerts.values()),
        "alerts_per_event": sum(alerts.values()) / len(events),
        "extra_alerts": sum(max(alerts[e] - 1, 0) for e in events),
        "events_without_alert": [e for e in events if alerts[e] == 0],
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--step-minutes", type=float, default=30.0)
    parser.add_argument("--shuffle", type=int, nargs="*", default=[], help="seeds: replay once per seed")
    parser.add_argument("--details", type=int, default=0, help="also list the N worst merges and splits")
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--record", type=Path, help="also write the story decisions' inputs here (gzip)")
    args = parser.parse_args()
    if args.record and len(args.shuffle) > 1:
        parser.error("--record records one replay: give at most one --shuffle seed")
    if args.record and (args.record.is_dir() or not args.record.parent.is_dir()):
        parser.error(f"--record {args.record}: not a file in an existing folder (checked before the replay)")
    articles = load_articles(args.data)
    scorer = load_scorer(args.data)
    results = []
    for seed in args.shuffle or [None]:
        stream = Stream(articles, datetime.now(UTC).replace(microsecond=0) - timedelta(hours=STREAM_HOURS))
        stream.assign_outlets()
        stream.rng = random.Random(seed) if seed is not None else None
        stream.step_hours = args.step_minutes / 60
        recorder = DecisionRecorder(article_name) if args.record else None
        with tempfile.TemporaryDirectory() as folder:
            grouping = asyncio.run(replay(stream, Path(folder), recorder))
        mapping = {article_id: story for article_id, (story, _, _) in grouping.items()}
        if recorder is not None:
            data_sha256 = hashlib.sha256(args.data.read_bytes()).hexdigest()
            header = {"data": args.data.name, "data_sha256": data_sha256, "step_minutes": args.step_minutes,
                      "seed": seed}  # fmt: skip
            recorder.write(args.record, header, mapping)
        results.append((seed, mapping, scorer.score(articles, mapping), alert_figures(articles, grouping)))
    for seed, _, scores, alerts in results:
        report(seed, scores, alerts, scorer, args.json, {a["id"]: a["title"] for a in articles}, args.details)
    print(own_corpus_line(story_grouping_scores(load_corpus())))
    if len(results) > 1:
        same = all(partition(r[1]) == partition(results[0][1]) for r in results[1:])
        print(f"same grouping for every order ({len(results)} replays): {'yes' if same else 'NO'}")
        return 0 if same else 1
    return 0


def own_corpus_line(own: dict[str, float]) -> str:
    return (f"beside it, the project's own corpus (tests/fixtures/stories, bench/stories.py): pairwise "
            f"precision {own['precision']:.3f}, recall {own['recall']:.3f} ({own['tp']} of "
            f"{own['tp'] + own['fn']} pairs; {own['fp']} wrong)")  # fmt: skip


def partition(mapping: dict[str, int]) -> set[frozenset[str]]:
    groups: dict[int, set[str]] = defaultdict(set)
    for article_id, story in mapping.items():
        groups[story].add(article_id)
    return {frozenset(group) for group in groups.values()}


def report(
    seed: int | None,
    scores: dict[str, Any],
    alerts: dict[str, Any],
    scorer: ModuleType,
    as_json: bool,
    titles: dict[str, str],
    details: int,
) -> None:
    if as_json:
        public = {k: v for k, v in scores.items() if not k.startswith("_")}
        print(json.dumps({"seed": seed, "score": public, "outbox": alerts}, indent=1))
        return
    print(f"replay{'' if seed is None else f' (order seed {seed})'}:")
    scorer.print_report(scores, titles, details)
    print(f"top-level alerts    {alerts['alerts']} for {alerts['events']} events: "
          f"{alerts['alerts_per_event']:.2f} per event, {alerts['extra_alerts']} extra; "
          f"events without an alert of their own: {len(alerts['events_without_alert'])} "
          f"{' '.join(alerts['events_without_alert'])}")  # fmt: skip


if __name__ == "__main__":
    sys.exit(main())
