"""The offline story replay (bench/story_replay.py) groups a record as the pipeline replay that wrote it did.

A pipeline replay of bench/story_events.py records its story decisions (bench/story_record.py); replayed
offline through the same monitor.stages.stories, they must make the same partition and the same top-level
alerts. If this fails, the offline copy of the store's candidate lookup or of the briefs' second turn has
drifted from the product (storage/stories.py, pipeline/item_stages.py): fix the copy, not the test.

Always on the labelled corpus (tests/fixtures/stories) streamed over 24 hours, with a brief of each third
article published minutes before it (briefs that would start a story take a second turn); and on four
topics of the story-events development set where ../shared has it.
"""

from __future__ import annotations

import asyncio
import gzip
import json
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # the repo root: bench/ is not installed

from bench.stories import load_corpus
from bench.story_events import DEFAULT_DATA, Stream, article_name, partition, replay
from bench.story_record import DecisionRecorder, read_record
from bench.story_replay import overridden, parse_settings, replay_decisions
from monitor.stages import stories

STREAM_HOURS = 24.0


def corpus_stream() -> list[dict[str, Any]]:
    """The labelled corpus as story-events articles, its 46 days pressed into STREAM_HOURS, with briefs."""
    corpus = sorted(load_corpus(), key=lambda a: a["published"])
    first, last = (datetime.fromisoformat(corpus[n]["published"]) for n in (0, -1))
    articles = []
    for n, article in enumerate(corpus):
        offset = (datetime.fromisoformat(article["published"]) - first) / (last - first) * STREAM_HOURS
        articles.append(
            {
                "id": article["id"],
                "story": article["story"],
                "title": article["title"],
                "paragraphs": article["text"].split("\n\n"),
                "offset_h": offset + 0.5,
            }
        )
        if n % 3 == 0:  # the first 15 words, on an agency's wire three minutes earlier
            articles.append(
                {
                    "id": f"{article['id']}-brief",
                    "story": article["story"],
                    "title": " ".join(article["title"].split()[:6]),
                    "paragraphs": [" ".join(article["text"].split()[:15])],
                    "offset_h": offset + 0.45,
                }
            )
    return articles


def record_and_replay(
    articles: list[dict[str, Any]], folder: Path
) -> tuple[Any, dict[str, tuple[int, str, bool]]]:
    """Replay through the pipeline with a recorder; the record as read back, and the pipeline's grouping."""
    hours = max(a["offset_h"] for a in articles) + 1
    stream = Stream(articles, datetime.now(UTC).replace(microsecond=0) - timedelta(hours=hours))
    stream.assign_outlets()
    recorder = DecisionRecorder(article_name)
    grouping = asyncio.run(replay(stream, folder, recorder))
    path = folder / "decisions.jsonl.gz"
    recorder.write(path, {"data": "test"}, {name: story for name, (story, _, _) in grouping.items()})
    return read_record(path), grouping


def assert_same_grouping(articles: list[dict[str, Any]], folder: Path) -> Any:
    record, grouping = record_and_replay(articles, folder)
    offline = replay_decisions(record.decisions)
    assert len(record.decisions) == len(articles) == len(grouping)
    assert partition({name: story for name, (story, _) in offline.items()}) == partition(
        {name: story for name, (story, _, _) in grouping.items()}
    )
    assert {name for name, (_, started) in offline.items() if started} == {
        name for name, (_, _, alerted) in grouping.items() if alerted
    }
    return record


@pytest.mark.timeout(180)
def test_offline_replay_groups_the_corpus_stream_as_the_pipeline(tmp_path: Path) -> None:
    record = assert_same_grouping(corpus_stream(), tmp_path)
    # The paths the copy mirrors are taken: copies, briefs' second turns, joins, several cycles.
    assert sum(d.copy_of is not None for d in record.decisions) >= 5
    assert sum(d.second_turn for d in record.decisions) >= 2
    assert len({d.story for d in record.decisions}) < len(record.decisions) / 2
    assert len({d.cycle for d in record.decisions}) > 10


@pytest.mark.timeout(180)
@pytest.mark.skipif(not DEFAULT_DATA.is_file(), reason=f"story-events development set not at {DEFAULT_DATA}")
def test_offline_replay_groups_development_topics_as_the_pipeline(tmp_path: Path) -> None:
    # 76ers coaches (joins across two events), Klitschko fights (copies of copies), Mount Cook accidents
    # and Doctor Who (briefs that took a second turn in the full replay).
    with gzip.open(DEFAULT_DATA, "rt", encoding="utf-8") as handle:
        articles = [
            a for a in map(json.loads, handle) if a["story"].split("ecb")[0] in {"5", "7", "23", "39"}
        ]
    record = assert_same_grouping(articles, tmp_path)
    assert sum(d.second_turn for d in record.decisions) >= 1


def test_settings_override_the_story_stage_and_are_restored() -> None:
    shipped = (stories.STORY_THRESHOLD, stories.BRIEF_DISTINCT_WORDS)
    settings = parse_settings(["STORY_THRESHOLD=0.3", "BRIEF_DISTINCT_WORDS=15"])
    assert settings == {"STORY_THRESHOLD": 0.3, "BRIEF_DISTINCT_WORDS": 15}
    with overridden(settings):
        assert (stories.STORY_THRESHOLD, stories.BRIEF_DISTINCT_WORDS) == (0.3, 15)
    assert shipped == (stories.STORY_THRESHOLD, stories.BRIEF_DISTINCT_WORDS)


@pytest.mark.parametrize("pair", ["STORY_THRESHOLDS=0.3", "STORY_THRESHOLD", "MIN_WORDS=1.5", "_TOKEN=x"])
def test_unknown_or_ill_typed_settings_are_refused(pair: str) -> None:
    with pytest.raises(ValueError, match="--set"):
        parse_settings([pair])
