"""A record of the story decisions a pipeline replay made, with their inputs, for bench/story_replay.py.

    python bench/story_events.py --record /tmp/decisions.jsonl.gz   (writes it; story_replay.py reads it)

Per article decided, in the order of its first turn (pipeline/item_stages.py, _decide_and_record): its
cycle, title and text as read (the page's, or the feed's summary), when it was published (as the decision
counts it, and as the store keeps it for later decisions), the article it copies (near or exact: copy
detection does not depend on story grouping, so it is replayed as recorded) and whether it took a second
turn, with the copy found then; and, once the replay is over, the story the pipeline put it in.

The recorder wraps two methods of one pipeline object (not of the class): `_decide_and_record`, to see each
decision, and `_copy_of`, to see the copy it found. Both are private, so their parameters are checked when it
is installed: a changed signature stops the bench with a message saying what to update here.

The record holds the articles' texts: keep it beside the data it came from, never in the repository (the
story-events README: for measurement and development only, do not republish the texts).
"""

from __future__ import annotations

import gzip
import inspect
import json
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from monitor.pipeline.item_stages import ItemStages
from monitor.stages.stories import published_time

FORMAT = "news-monitor story decisions"
VERSION = 1

# The parameters the recorder's wrappers pass on (item_stages.py); a change there must be looked at here.
_WRAPPED = {
    "_decide_and_record": ["self", "item", "article", "now", "reading", "source", "turn"],
    "_copy_of": ["self", "url", "keys", "signature", "since"],
}


@dataclass
class Decision:
    """One article's story decision, as recorded (the JSON line's fields)."""

    id: str  # the article's name in the data set
    cycle: int  # the replay's cycle (1, 2, ...): a brief's second turn comes after the rest of it
    turn: str  # of its first decision: "first" (may be deferred, if a brief) or "only"
    title: str
    text: str
    published: str  # ISO time the decision counts from (stages/stories.published_time)
    member_published: str  # ISO time the store keeps, for decisions on later articles
    copy_of: str | None  # the article it copies (a name), as found on its first turn
    second_turn: bool = False
    second_copy_of: str | None = None  # as found on its second turn
    story: str | None = None  # the article that started its story in the recorded replay


@dataclass
class Record:
    """What a recording replay wrote: where its data came from, and its decisions in first-turn order."""

    header: dict[str, Any]
    decisions: list[Decision] = field(default_factory=list)


def check_wrapped() -> None:
    """Refuse to record if a wrapped method's parameters changed: the recorder would pass them wrong."""
    for name, expected in _WRAPPED.items():
        found = list(inspect.signature(getattr(ItemStages, name)).parameters)
        if found != expected:
            raise RuntimeError(
                f"story_record: ItemStages.{name} now takes ({', '.join(found)}), the recorder expects "
                f"({', '.join(expected)}): update bench/story_record.py's wrapper for it"
            )


class DecisionRecorder:
    """Records one pipeline's story decisions; `cycle` is set by the replay before each cycle."""

    def __init__(self, name_of: Callable[[str], str]):
        self.name_of = name_of  # an item's link -> the article's name in the data set
        self.cycle = 0
        self.decisions: list[Decision] = []
        self._by_link: dict[str, Decision] = {}
        self._name_of_id: dict[int, str] = {}  # stored article id -> name, for copies
        self._copy: int | None = None

    def install(self, stages: ItemStages) -> None:
        check_wrapped()
        decide, copy_of = stages._decide_and_record, stages._copy_of

        def copy_of_recorded(url: str, keys: Any, signature: Any, since: Any) -> Any:
            found = copy_of(url, keys, signature, since)
            self._copy = found[0]
            return found

        def decide_recorded(
            item: Any, article: Any, now: Any, reading: Any, source: Any, *, turn: str
        ) -> Any:
            self._copy = None
            decided = decide(item, article, now, reading, source, turn=turn)
            self._note(item, article, now, turn, decided)
            return decided

        stages._copy_of = copy_of_recorded  # type: ignore[method-assign]
        stages._decide_and_record = decide_recorded  # type: ignore[method-assign]

    def _note(self, item: Any, article: Any, now: Any, turn: str, decided: Any) -> None:
        copy = self._name_of_id[self._copy] if self._copy is not None else None
        if turn == "second":
            decision = self._by_link[item.link]
            decision.second_turn, decision.second_copy_of = True, copy
        else:
            decision = Decision(
                id=self.name_of(item.link),
                cycle=self.cycle,
                turn=turn,
                title=article.title,
                text=article.text,
                published=published_time(article.published, now).isoformat(),
                member_published=published_time(article.published or item.published, now).isoformat(),
                copy_of=copy,
            )
            self.decisions.append(decision)
            self._by_link[item.link] = decision
        if decided is not None:
            article_id = decided[2].article_id
            if article_id is None:  # a duplicate (another instance stored it): nothing decided here
                raise RuntimeError(
                    f"story_record: {item.link} was stored elsewhere; a replay has one instance"
                )
            self._name_of_id[article_id] = decision.id

    def write(self, path: Path, header: dict[str, Any], stories: dict[str, int]) -> None:
        """Write the record, each decision with the story it ended in (`stories`: name -> stored story id),
        named after the story's first article."""
        with gzip.open(path, "wt", encoding="utf-8") as handle:
            # The count: a record cut at a line's end is refused, not replayed short (read_record).
            counted = {"format": FORMAT, "version": VERSION, **header, "decisions": len(self.decisions)}
            handle.write(json.dumps(counted) + "\n")
            for decision in self.decisions:
                decision.story = self._name_of_id[stories[decision.id]]
                handle.write(json.dumps(asdict(decision), ensure_ascii=False) + "\n")


def read_record(path: Path) -> Record:
    """The record at `path`; a ValueError saying what is wrong with a file that is none, or not whole."""
    not_a_record = (
        f"{path}: not a whole record of story decisions (version {VERSION}) by bench/story_events.py"
    )
    try:
        opener = gzip.open if path.read_bytes()[:2] == b"\x1f\x8b" else open
        with opener(path, "rt", encoding="utf-8") as handle:
            lines = [json.loads(line) for line in handle if line.strip()]
        header = lines[0] if lines else {}
        if not isinstance(header, dict) or header.get("format") != FORMAT or header.get("version") != VERSION:
            raise ValueError(not_a_record)
        decisions = [Decision(**line) for line in lines[1:]]
    except (OSError, EOFError, UnicodeDecodeError, json.JSONDecodeError, TypeError) as exc:
        raise ValueError(f"{not_a_record}: {exc}") from None
    if header.get("decisions") != len(decisions):
        raise ValueError(
            f"{not_a_record}: {len(decisions)} decisions where its header says {header.get('decisions')}"
        )
    return Record(header, decisions)
