"""Copy detection and story grouping on the labelled corpus (tests/fixtures/stories), and their cost.

Prints pairwise precision, recall and F1 of near-copy detection as the service does it (LSH band
candidates, then the MinHash similarity threshold) and of story grouping (copies join their original's
story; other articles the best-scoring story within the window, at several thresholds), then the time
per article for the near-copy lookup, the story lookup and the insert with 10,000 and 100,000 stored
articles in a real SQLite store.

    python bench/stories.py [--sizes 10000 100000]
"""

from __future__ import annotations

import argparse
import itertools
import json
import random
import string
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from sqlalchemy import insert, select  # noqa: E402

from monitor.stages.neardup import COPY_THRESHOLD, Signature, best_copy, sign_text  # noqa: E402
from monitor.stages.stories import STORY_THRESHOLD, StoryMember, StoryProfile, best_story, profile_article  # noqa: E402
from monitor.storage import ArticleKey, ArticleRecord, SQLStorage, open_storage, schema  # noqa: E402

WINDOW = timedelta(hours=72)  # the default stories.window
CORPUS = REPO / "tests" / "fixtures" / "stories" / "corpus.jsonl"


def load_corpus() -> list[dict[str, str]]:
    return [json.loads(line) for line in CORPUS.read_text(encoding="utf-8").splitlines() if line.strip()]


def copy_detection_scores(articles: list[dict[str, str]]) -> dict[str, float]:
    """Pairwise. Truth: the same original (copy_of, or itself). Predicted: a shared band, similar enough."""
    signatures = {a["id"]: sign_text(a["text"]) for a in articles}
    original = {a["id"]: a.get("copy_of") or a["id"] for a in articles}
    tp = fp = fn = 0
    for a, b in itertools.combinations(articles, 2):
        sa, sb = signatures[a["id"]], signatures[b["id"]]
        predicted = bool(
            sa and sb and set(sa.bands) & set(sb.bands) and sa.similarity(sb.values) >= COPY_THRESHOLD
        )
        truth = original[a["id"]] == original[b["id"]]
        tp += truth and predicted
        fp += predicted and not truth
        fn += truth and not predicted
    return _scores(len(articles), tp, fp, fn)


def group_stories(articles: list[dict[str, str]], threshold: float = STORY_THRESHOLD) -> dict[str, str]:
    """Story of each article, decided as the pipeline does, in publication order.

    A near-copy joins its original's story; otherwise the article joins the story whose members within
    WINDOW it is most like (stages/stories.best_story), if it scores what the story's age requires.
    """
    ordered = sorted(articles, key=lambda a: a["published"])
    story: dict[str, str] = {}
    seen: list[tuple[dict[str, str], StoryProfile | None, Signature | None]] = []
    members: list[StoryMember] = []
    started: dict[str, datetime] = {}
    number_of = {a["id"]: n for n, a in enumerate(ordered)}
    for number, article in enumerate(ordered):
        published = datetime.fromisoformat(article["published"])
        profile = profile_article(article["title"], article["text"])
        signature = sign_text(article["text"])
        recent = [s for s in seen if published - datetime.fromisoformat(s[0]["published"]) <= WINDOW]
        copied = _copy_of(signature, recent)
        joined = copied or _same_story_as(profile, members, published, threshold, ordered)
        story[article["id"]] = story[joined] if joined else article["id"]
        started.setdefault(story[article["id"]], published)
        seen.append((article, profile, signature))
        # A copy is not indexed, as in the store; a headline alone is stored without a profile.
        if profile is not None and not copied and not profile.headline:
            first = number_of[story[article["id"]]]
            members.append(
                StoryMember(number, first, profile.to_json(), published, started[story[article["id"]]])
            )
    return story


def _copy_of(
    signature: Signature | None, recent: list[tuple[dict[str, str], Any, Signature | None]]
) -> str | None:
    if signature is None:
        return None
    scored = [
        (other["id"], signature.similarity(theirs.values))
        for other, _, theirs in recent
        if theirs is not None and set(theirs.bands) & set(signature.bands)
    ]
    return _best_above(scored, COPY_THRESHOLD)


def _same_story_as(
    profile: StoryProfile | None,
    members: list[StoryMember],
    published: datetime,
    threshold: float,
    ordered: list[dict[str, str]],
) -> str | None:
    """The article id naming the story this one joins: members sharing a key are the candidates, and
    their whole stories (within WINDOW) are compared, as storage.story_members reads them."""
    if profile is None:
        return None
    keys = set(profile.keys)
    recent = [m for m in members if published - m.published <= WINDOW]
    sharing = {m.story_id for m in recent if keys & set(StoryProfile.from_json(m.profile).keys)}
    found = best_story(profile, [m for m in recent if m.story_id in sharing], published, threshold)
    return None if found is None else ordered[found.story_id]["id"]


def _best_above(scored: list[tuple[str, float]], threshold: float) -> str | None:
    above = [pair for pair in scored if pair[1] >= threshold]
    return max(above, key=lambda pair: pair[1])[0] if above else None


def story_grouping_scores(
    articles: list[dict[str, str]], threshold: float = STORY_THRESHOLD
) -> dict[str, float]:
    """Pairwise. Truth: the same labelled story. Predicted: put in the same story by group_stories."""
    predicted_story = group_stories(articles, threshold)
    tp = fp = fn = 0
    for a, b in itertools.combinations(articles, 2):
        predicted = predicted_story[a["id"]] == predicted_story[b["id"]]
        truth = a["story"] == b["story"]
        tp += truth and predicted
        fp += predicted and not truth
        fn += truth and not predicted
    return _scores(len(articles), tp, fp, fn)


def _scores(count: int, tp: int, fp: int, fn: int) -> dict[str, float]:
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"pairs": count * (count - 1) / 2, "tp": tp, "fp": fp, "fn": fn,
            "precision": precision, "recall": recall, "f1": f1}  # fmt: skip


@dataclass
class Costs:
    """Seconds per article with a given number of stored articles."""

    copy_lookup: float  # sign the text, read the articles sharing an LSH band, compare
    story_lookup: float  # profile the text, read the articles sharing a story key, score them
    insert: float  # record the article with its bands and story keys
    candidates: float  # story candidates scored per article, on average
    linear_scan: float  # the naive way: compare the signature with every stored one (kept in memory)


def lookup_cost(stored: int, probes: int = 200) -> Costs:
    """The per-article costs of near-copy and story lookups and of the insert, `stored` articles stored."""
    rng = random.Random(stored)
    now = datetime.now(UTC)
    since = now - WINDOW
    with tempfile.TemporaryDirectory() as folder:
        storage = open_storage(f"sqlite:///{folder}/bench.db")
        fill_store(storage, stored, rng, now)
        texts = [random_text(rng) for _ in range(probes)]
        started = time.perf_counter()
        for text in texts:
            signature = sign_text(text)
            assert signature is not None
            best_copy(signature, storage.near_copy_candidates(list(signature.bands), since=since))
        copy_lookup = (time.perf_counter() - started) / probes
        scored = 0
        started = time.perf_counter()
        for text in texts:
            profile = profile_article("Bench", text)
            assert profile is not None
            candidates = storage.story_members(list(profile.keys), since=since)
            best_story(profile, candidates, now)
            scored += len(candidates)
        story_lookup = (time.perf_counter() - started) / probes
        started = time.perf_counter()
        for n, text in enumerate(texts):
            insert_article(storage, stored + n, text, now)
        insert_time = (time.perf_counter() - started) / probes
        linear = linear_scan_cost(storage, texts[:LINEAR_SCAN_PROBES])
        storage.close()
    return Costs(copy_lookup, story_lookup, insert_time, scored / probes, linear)


# The naive scan takes a good part of a second per article at 100,000 stored: a few probes suffice.
LINEAR_SCAN_PROBES = 10


def linear_scan_cost(storage: SQLStorage, texts: list[str]) -> float:
    """Seconds per article to find a near-copy by comparing with every stored signature, held in memory
    (what a bot without an index does; its memory grows with the store, which the index's does not)."""
    with storage.engine.connect() as conn:
        stored = [bytes(row[0]) for row in conn.execute(select(schema.articles.c.signature)) if row[0]]
    started = time.perf_counter()
    for text in texts:
        signature = sign_text(text)
        assert signature is not None
        best_copy(signature, list(enumerate(stored)))
    return (time.perf_counter() - started) / len(texts)


def random_text(rng: random.Random) -> str:
    """300 words: random filler, and every tenth a name drawn from a Zipf distribution (a few names,
    like "Beijing", are in many articles; most are in few), so the story index has a realistic shape."""
    return " ".join(
        rng.choices(NAMES, cum_weights=NAME_WEIGHTS)[0] if i % 10 == 3 else rng.choice(VOCABULARY)
        for i in range(300)
    )


def _invented_name(number: int) -> str:
    letters = ""
    number += 26 * 26
    while number:
        letters += string.ascii_lowercase[number % 26]
        number //= 26
    return "Q" + letters


VOCABULARY = [f"w{i}" for i in range(20_000)]
NAMES = [_invented_name(i) for i in range(20_000)]
NAME_WEIGHTS = list(itertools.accumulate(1 / rank for rank in range(1, len(NAMES) + 1)))
# Profiling costs ~2.5 ms per article: the store is filled from a pool of distinct texts' profiles.
PROFILE_POOL = 5_000


def fill_store(storage: SQLStorage, count: int, rng: random.Random, now: datetime) -> None:
    """`count` signed and profiled articles with their index rows, in bulk (setting up is not measured)."""
    pool = [(sign_text(text), profile_article("Bench", text)) for text in (random_text(rng) for _ in
            range(min(count, PROFILE_POOL)))]  # fmt: skip
    articles, bands, keys = [], [], []
    for n in range(count):
        signature, profile = pool[n % len(pool)]
        assert signature is not None and profile is not None
        articles.append({"id": n + 1, "feed_url": "bench://feed", "url": f"https://bench.example/{n}",
                         "title": f"t{n}", "text": "", "first_seen_at": now, "outcome": "no_match",
                         "matches": "[]", "signature": signature.values, "story_id": n + 1,
                         "source": "bench", "story_profile": profile.to_json()})  # fmt: skip
        bands.extend({"band_key": key, "article_id": n + 1, "first_seen_at": now} for key in signature.bands)
        keys.extend({"key": key, "article_id": n + 1, "first_seen_at": now} for key in profile.keys)
    with storage.engine.begin() as conn:
        conn.execute(insert(schema.articles), articles)
        conn.execute(insert(schema.near_dup_bands), bands)
        conn.execute(insert(schema.story_keys), keys)


def insert_article(storage: SQLStorage, n: int, text: str, now: datetime) -> None:
    signature = sign_text(text)
    profile = profile_article("Bench", text)
    url = f"https://bench.example/{n}"
    record = ArticleRecord("bench://feed", str(n), url, None, f"t{n}", text, now, now, None, "no_match",
                           signature=signature.values if signature else None,
                           bands=signature.bands if signature else (), source="bench",
                           story_profile=profile.to_json() if profile else None,
                           story_keys=profile.keys if profile else ())  # fmt: skip
    storage.record_article(record, [ArticleKey("url", url)], [])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", type=int, nargs="*", default=[10_000, 100_000])
    parser.add_argument("--json", type=Path, help="also write the cost figures to this file (bench/run.py)")
    args = parser.parse_args()
    corpus = load_corpus()
    scores = copy_detection_scores(corpus)
    pairs = int(scores["pairs"])
    print(f"copy detection on {CORPUS.relative_to(REPO)} ({pairs} pairs, threshold {COPY_THRESHOLD}):")
    print(f"  tp {scores['tp']}  fp {scores['fp']}  fn {scores['fn']}  precision {scores['precision']:.3f}  "
          f"recall {scores['recall']:.3f}  F1 {scores['f1']:.3f}")  # fmt: skip
    hours = WINDOW.total_seconds() / 3600
    print(f"story grouping ({pairs} pairs, window {hours:.0f}h, threshold {STORY_THRESHOLD}):")
    for threshold in sorted({0.15, 0.175, 0.2, STORY_THRESHOLD, 0.25, 0.275, 0.3, 0.35, 0.4}):
        s = story_grouping_scores(corpus, threshold)
        mark = "  <- used" if threshold == STORY_THRESHOLD else ""
        print(f"  threshold {threshold:.3f}: tp {s['tp']}  fp {s['fp']}  fn {s['fn']}  precision "
              f"{s['precision']:.3f}  recall {s['recall']:.3f}  F1 {s['f1']:.3f}{mark}")  # fmt: skip
    if args.sizes:
        print("cost per article (SQLite, all stored articles inside the story window):")
    rows = []
    for size in args.sizes:
        cost = lookup_cost(size)
        print(f"  {size:>7} stored: near-copy lookup {cost.copy_lookup * 1000:.2f} ms, story lookup "
              f"{cost.story_lookup * 1000:.2f} ms ({cost.candidates:.0f} candidates scored), "
              f"insert {cost.insert * 1000:.2f} ms; a linear scan: {cost.linear_scan * 1000:.1f} ms"
              )  # fmt: skip
        ours = (cost.copy_lookup + cost.insert) * 1000
        rows.append({"scenario": f"dedup: near-copy lookup + insert, {size:,} stored", "ours": round(ours, 2),
                     "baseline": round(cost.linear_scan * 1000, 2), "unit": "ms/article",
                     "target": "within 1.5x from 10,000 to 100,000 stored",
                     "note": f"story lookup {cost.story_lookup * 1000:.2f} ms more"})  # fmt: skip
    if args.json:
        args.json.write_text(json.dumps(rows, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
