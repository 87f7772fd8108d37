"""Story grouping replayed offline from a record of bench/story_events.py: the same figures in about 2 s.

    python bench/story_events.py --record /tmp/decisions.jsonl.gz      (once: the real replay, ~25 s)
    python bench/story_replay.py /tmp/decisions.jsonl.gz [--set STORY_THRESHOLD=0.21 ...] [--json]

The record holds every story decision's inputs, in the order the pipeline made them (bench/story_record.py):
each article's text as read, its publication time, the copy it is of, its cycle. This replays them through
the current monitor.stages.stories (profile_article, is_brief, best_story) against an in-memory copy of the
store's candidate lookup, and prints what story_events.py prints: score.py's report of the grouping, the
top-level alerts per event (an article alerts when it starts a story: the bench's watchlist matches
everything, in one channel), the events without an alert of their own, and the own corpus beside them.
Without `--set`, and with the code the record was made with, it must make the bench's grouping: it says
whether it did ("same grouping as recorded"; tests/test_story_replay.py checks it). `--set NAME=VALUE`
overrides a number constant of monitor.stages.stories for this run (both replays and the own corpus).

What it does not replay: fetching, extraction and copy detection (recorded: they do not depend on story
grouping), and the story window (the bench's 66 stream-hours take under a minute of real time, so every
article is in every later one's window). Where the product could drift from this copy: the lookup
(StoryIndex, mirroring monitor/storage/stories.py) and the turns (replay_decisions, mirroring
pipeline/item_stages.py and stories/decision_order.py); a change to either there must be made here too,
and the test fails until it is.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import json
import math
import re
import sys
import time
from collections import Counter, defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bench.stories import load_corpus, story_grouping_scores  # noqa: E402
from bench.story_events import (  # noqa: E402
    DEFAULT_DATA,
    alert_figures,
    load_articles,
    load_scorer,
    own_corpus_line,
    partition,
    report,
)
from bench.story_record import Decision, read_record  # noqa: E402
from monitor.models import StoryMember  # noqa: E402
from monitor.stages import stories  # noqa: E402
from monitor.storage import schema  # noqa: E402
from monitor.storage import stories as stored  # noqa: E402

_CONSTANT = re.compile(r"[A-Z][A-Z0-9_]*")  # the public ones: a private constant is no setting


@dataclass
class Stored:
    """An article as the store keeps it for later decisions (its row: id, story, profile, published)."""

    number: int  # the store's id: the order articles were recorded in
    name: str
    story: int  # the number of its story's first article
    profile: str | None  # JSON, as stored; a copy's too (it is a member, only not indexed)
    published: datetime


class StoryIndex:
    """An in-memory copy of the store's story lookup (storage/stories.py, StoryQueries.story_members)."""

    def __init__(self) -> None:
        self.articles: list[Stored] = []
        self.by_name: dict[str, Stored] = {}
        self.keys: dict[str, list[int]] = defaultdict(list)  # the story_keys table: key -> numbers, ascending
        self.members: dict[int, list[Stored]] = defaultdict(list)  # story -> its profiled articles

    def add(
        self,
        name: str,
        story: int | None,
        profile: stories.StoryProfile | None,
        published: datetime,
        *,
        copy: bool,
    ) -> Stored:
        """Record an article (storage/stories.py index_story): a story of its own when `story` is None;
        indexed by its profile's keys unless it is a copy (item_stages.py _story_record)."""
        number = len(self.articles)
        article = Stored(
            number,
            name,
            number if story is None else story,
            # A headline alone is stored without a profile (item_stages.py _story_record).
            profile.to_json() if profile is not None and not profile.headline else None,
            published,
        )
        self.articles.append(article)
        self.by_name[name] = article
        if article.profile is not None:
            self.members[article.story].append(article)
        if profile is not None and not copy and not profile.headline:
            for key in dict.fromkeys(schema.fitted_key(k, schema.STORY_KEY_LENGTH) for k in profile.keys):
                self.keys[key].append(number)
        return article

    def story_members(self, keys: tuple[str, ...]) -> list[StoryMember]:
        return [member for story in self._stories_sharing(keys) for member in self._members_of(story)]

    def _stories_sharing(self, keys: tuple[str, ...]) -> list[int]:
        """storage/stories.py _stories_sharing: per key its ARTICLES_PER_KEY newest (newest first, which
        breaks most_common's ties as the query's order does), the MAX_STORY_CANDIDATES sharing most, and
        their stories (of profiled articles), those sharing most first, at most MAX_STORIES_COMPARED."""
        shared: Counter[int] = Counter()
        for key in dict.fromkeys(schema.fitted_key(k, schema.STORY_KEY_LENGTH) for k in keys):
            shared.update(reversed(self.keys[key][-stored.ARTICLES_PER_KEY :]))
        best = [number for number, _ in shared.most_common(stored.MAX_STORY_CANDIDATES)]
        ranked = dict.fromkeys(self.articles[n].story for n in best if self.articles[n].profile is not None)
        return list(ranked)[: stored.MAX_STORIES_COMPARED]

    def _members_of(self, story: int) -> list[StoryMember]:
        """storage/stories.py _members_of: the story's MEMBERS_COMPARED newest profiled members, each with
        when the story started (the earliest of theirs and its first article's publication)."""
        newest = self.members[story][::-1][: stored.MEMBERS_COMPARED]
        if not newest:
            return []
        started = min(a.published for a in (*newest, self.articles[story]))
        return [
            StoryMember(
                article_id=a.number,
                story_id=story,
                profile=a.profile,
                published=a.published,
                story_started=started,
            )
            for a in newest
        ]


def story_of(
    index: StoryIndex, decision: Decision, profile: stories.StoryProfile | None, *, second: bool
) -> tuple[int | None, bool]:
    """The story an article joins and whether it is a copy, as item_stages.py _decide_and_record and
    stories/desk.py StoryDesk.story_of decide it: a copy takes its original's story; otherwise the best
    story of the candidates, on a second turn only one it could have joined in publication order
    (stories.joinable_late)."""
    copy_of = decision.second_copy_of if second else decision.copy_of
    # Copies are replayed as recorded, as found on that turn (a brief deferred here but not in the record gets
    # its first turn's: it could drift only if its original came later in its cycle). An original this replay
    # has not stored yet (deferred here, not there) is not in the store: the product would not find it.
    original = index.by_name.get(copy_of) if copy_of else None
    if original is not None:
        return original.story, True
    if profile is None:
        return None, False
    published = datetime.fromisoformat(decision.published)
    members = index.story_members(profile.keys)
    if second:
        members = stories.joinable_late(profile, published, members)
    # The threshold is passed: best_story's default was bound at its definition (--set changes the constant).
    found = stories.best_story(profile, members, published, threshold=stories.STORY_THRESHOLD)
    return (found.story_id if found else None), False


def replay_decisions(decisions: list[Decision]) -> dict[str, tuple[str, bool]]:
    """Per article: (the name of its story's first article, whether it started the story).

    The turns of pipeline/item_stages.py (_read_and_record): each cycle's first turns in the recorded order
    (publication order, stories/decision_order.py); a brief that would start a story (not a copy, on a
    "first" turn) is stored only after the rest of its cycle, in the same order, on its second turn."""
    index = StoryIndex()
    by_cycle: dict[int, list[Decision]] = defaultdict(list)
    for decision in decisions:
        by_cycle[decision.cycle].append(decision)
    for cycle in sorted(by_cycle):
        deferred = []
        for decision in by_cycle[cycle]:
            profile = stories.profile_article(decision.title, decision.text)
            story, copy = story_of(index, decision, profile, second=False)
            brief = profile is not None and stories.is_brief(profile)
            if story is None and not copy and brief and decision.turn == "first":
                deferred.append((decision, profile))
                continue
            _store(index, decision, story, profile, copy)
        for decision, profile in deferred:
            story, copy = story_of(index, decision, profile, second=True)
            _store(index, decision, story, profile, copy)
    return {a.name: (index.articles[a.story].name, a.story == a.number) for a in index.articles}


def _store(
    index: StoryIndex, decision: Decision, story: int | None, profile: stories.StoryProfile | None, copy: bool
) -> None:
    published = datetime.fromisoformat(decision.member_published)
    index.add(decision.id, story, profile, published, copy=copy)


def constants() -> dict[str, int | float]:
    """The number constants of monitor.stages.stories that --set may override."""
    return {
        name: value
        for name, value in vars(stories).items()
        if _CONSTANT.fullmatch(name) and isinstance(value, int | float) and not isinstance(value, bool)
    }


def parse_settings(pairs: list[str]) -> dict[str, int | float]:
    """NAME=VALUE pairs as typed values; a ValueError saying what is wrong for an unknown name or value."""
    known = constants()
    settings: dict[str, int | float] = {}
    for pair in pairs:
        name, equals, value = pair.partition("=")
        if not equals or name not in known:
            raise ValueError(
                f"--set {pair}: not NAME=VALUE with NAME a number constant of monitor.stages.stories "
                f"(one of: {', '.join(sorted(known))})"
            )
        try:
            number = type(known[name])(value)
        except ValueError:
            raise ValueError(
                f"--set {pair}: {name} is {type(known[name]).__name__} ({known[name]})"
            ) from None
        # Every one is a positive count, weight or bar: NaN, an infinity, 0 or less would replay nonsense
        # (NaN fails every comparison: nothing joins, and the figures look fine).
        if not math.isfinite(number) or number <= 0:
            raise ValueError(f"--set {pair}: {name} must be a positive finite number (now {known[name]})")
        settings[name] = number
    return settings


@contextlib.contextmanager
def overridden(settings: dict[str, int | float]) -> Iterator[None]:
    """monitor.stages.stories with these constants for the duration (MEMBERS_COMPARED in the store's lookup
    too: tests/test_storage_story_members.py keeps the two equal)."""
    modules = [stories, stored] if "MEMBERS_COMPARED" in settings else [stories]
    saved = [
        (module, name, getattr(module, name))
        for module in modules
        for name in settings
        if hasattr(module, name)
    ]
    try:
        for module, name, _ in saved:
            setattr(module, name, settings[name])
        yield
    finally:
        for module, name, value in saved:
            setattr(module, name, value)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("record", type=Path, help="written by bench/story_events.py --record")
    parser.add_argument("--data", type=Path, help="the data set (default: the record's, in ../shared)")
    parser.add_argument(
        "--set",
        dest="settings",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="override a number constant of monitor.stages.stories (repeatable)",
    )
    parser.add_argument("--details", type=int, default=0, help="also list the N worst merges and splits")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    try:
        settings = parse_settings(args.settings)
    except ValueError as exc:
        parser.error(str(exc))
    try:
        record = read_record(args.record)
    except ValueError as exc:
        parser.error(str(exc))
    data = args.data or DEFAULT_DATA.parent / record.header["data"]
    if not data.is_file():
        parser.error(f"the record's data set {data} is not there: give --data")
    recorded_sha = record.header.get("data_sha256")
    if recorded_sha and hashlib.sha256(data.read_bytes()).hexdigest() != recorded_sha:
        parser.error(f"{data} is not the data set the record was made with: give --data that file")
    articles = load_articles(data)
    scorer = load_scorer(data)
    began = time.perf_counter()
    with overridden(settings):
        grouping = replay_decisions(record.decisions)
        own = story_grouping_scores(load_corpus(), stories.STORY_THRESHOLD)
    seconds = time.perf_counter() - began
    mapping = {name: story for name, (story, _) in grouping.items()}
    moved = articles_moved(mapping, {d.id: d.story or d.id for d in record.decisions})
    scores = scorer.score(articles, mapping)
    alerts = alert_figures(
        articles, {name: (story, "", started) for name, (story, started) in grouping.items()}
    )
    if args.json:
        public = {k: v for k, v in scores.items() if not k.startswith("_")}
        print(
            json.dumps(
                {
                    "record": str(args.record),
                    "set": settings,
                    "score": public,
                    "outbox": alerts,
                    "own_corpus": own,
                    "articles_moved_from_record": moved,
                },
                indent=1,
            )
        )
        return 0
    print(
        f"offline replay of {args.record} ({len(record.decisions)} decisions, {seconds:.1f} s); set: "
        f"{' '.join(f'{k}={v}' for k, v in settings.items()) or 'nothing'}"
    )
    print(
        "same grouping as recorded"
        if not moved
        else f"grouping differs from the record: {moved} articles moved"
    )
    report(None, scores, alerts, scorer, False, {a["id"]: a["title"] for a in articles}, args.details)
    print(own_corpus_line(own))
    return 0


def articles_moved(mapping: dict[str, str], recorded: dict[str, str]) -> int:
    """How many articles are not with the same others as in the record (0: the same partition)."""
    theirs = {member: group for group in partition(recorded) for member in group}
    return sum(1 for group in partition(mapping) for member in group if theirs.get(member) != group)


if __name__ == "__main__":
    sys.exit(main())
