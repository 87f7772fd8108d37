"""Story stage: which stored story, if any, is this article another outlet's report of?

Two outlets writing up one event share few sentences (near-copy detection, neardup.py, cannot see it)
but many of the same rare words: the company, the product, the figures, the place. Two different events
about one company share the company's name and little else. So an article is described by two
weighted word vectors, and compared with the recent articles that share its most telling names:

- `words`: every word of title and text, weighted by how rare it is in general English (wordfreq's
  Zipf scale, read from the compact table in monitor/data; "said" weighs nothing, "Xinchuang" the
  most) and sublinearly by how often it occurs;
- `names`: capitalised words and figures only, weighted by rarity and by plain count, with the title
  counting three times: what the article is *about*. A passing mention of another story's company
  ("... days after Huawei's court case") adds little to it. A sentence's capitalised first word is a
  name only if it is rare as a word, or if a name follows it and it would be one inside a sentence
  ("Jim O'Brien was fired").

An article is compared with a *story*, not with its single most similar article: the story's members'
vectors are summed into a centroid (words and names), so one member's sidebar teaser or passing mention
weighs little, and a story that has taken in a wrong article is not pulled further off course by it.
The score is the mean of the two cosines with the centroid. The score a story must reach rises with its
age (the time from its first article to this one's publication): two events of one kind (a coach
fired, the same coach hired years later; two quakes at one place) share names and vocabulary, and are
rarely reported within hours of each other, while one event's reports bunch up in its first day.
An article that clears several stories joins the one it clears by the most times its bar.

Measured on the story-events development set (real news labelled by event, bench/story_events.py) and
on tests/fixtures/stories (bench/stories.py): docs/stories.md. A small embedding model
(all-MiniLM-L6-v2, shipped in a PyPI package) did no better on the fixtures and costs 1.4 GB of
installs: docs/stories.md.

Scripts written without spaces (Chinese, Japanese) have no capitalised names, so their articles are not
grouped here (each alerts on its own); their near-copies are still found (neardup.py).
"""

from __future__ import annotations

import json
import math
import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cached_property, lru_cache

from ..data.zipf import zipf_frequency
from ..models import StoryMember  # in models: storage reads members, and may not import a stage
from ..models import published_time as published_time  # in models too, still importable from here
from ..text import normalise_text

# The score a story must reach from an article published at its start; it rises by THRESHOLD_RISE_PER_DAY
# of the story's age, up to THRESHOLD_CEILING (a report that close to the story still joins it days
# later: a follow-up naming the same company, product and figures). Chosen on the story-events development
# set (docs/stories.md has the grid): lower thresholds or a slower rise merge same-kind events, higher
# ones split the events' short reports into extra alerts. The fixtures are grouped exactly with them.
STORY_THRESHOLD = 0.22
THRESHOLD_RISE_PER_DAY = 0.3
THRESHOLD_CEILING = 0.55
# Guards for articles with little to compare: a short piece whose one name is "Alibaba" has a names
# vector identical to every Alibaba story's. Two reports of one event also share vocabulary beyond names
# and more than one name. 0.2 was chosen on the development set with the bar above (docs/stories.md):
# 0.15 merged more same-kind events, 0.25 split more reports.
MIN_WORDS_SIMILARITY = 0.2
MIN_SHARED_NAMES = 2
# Below this many distinct words (a brief), the words guard is lowered in proportion: a brief's cosine
# with a story is low for lack of words. On the development set: recall 0.905 -> 0.922, one extra alert
# fewer, the same wrong pairs. A brief may also share a single name with a story, and is then scored on
# its words besides its names (story_similarity): recall 0.922 -> 0.925, two extra alerts fewer (a
# climbing accident's briefs), the same wrong pairs. Joining on one name English does not know, scored
# against each member too: recall 0.925 -> 0.927, 50 -> 49 top-level alerts, the same wrong pairs.
BRIEF_DISTINCT_WORDS = 20
# A story is compared through at most this many of its members (its newest): enough for a centroid,
# bounded work per article whatever the story's size.
MEMBERS_COMPARED = 24
# Zipf frequency of the commonest words ("the" is 7.7); weights are how far below it a word lies.
_ZIPF_CEILING = 7.0
# A capitalised word at least this common ("The", "But", "Monday") is not a name.
_NAME_MAX_ZIPF = 5.0
_OPENER_MAX_ZIPF = 3.5
# Vectors are cut to their heaviest entries before they are stored: the tail adds nothing to a cosine
# between two articles about one event, and the profile stays a few kilobytes.
WORDS_KEPT = 150
NAMES_KEPT = 60
# The names an article is indexed by; candidates are the articles sharing at least one.
KEYS_KEPT = 12
# Below this many words (a headline alone) there is too little for the cosines to tell stories apart.
# Briefs of 10-40 words are grouped: on the development set a third of the same-event pairs missed had one
# (a robbery's 13 agency briefs were 13 alerts); the story-level guards keep them from joining on a single
# name.
MIN_WORDS = 10
# A headline alone (an item whose page gave no text and whose feed gave no summary) of HEADLINE_MIN_WORDS
# to MIN_WORDS words joins a story that shares a name with it and whose words hold HEADLINE_COVERAGE of
# what it says besides the names it shares, by weight: "The parliament election is over in
# Turkmenistan." (0.82 of it in the election's story; development set: 47 -> 46 alerts, the one such
# item). Its other capitalised words count as what it says: in a Title Case headline most words look
# like names. Shorter ones ("Alibaba denies report") say too little: they stand alone. A headline is
# nobody's yardstick: it is stored without a profile, so no later article is compared with it.
HEADLINE_MIN_WORDS = 5
HEADLINE_COVERAGE = 0.75

# Words with their inner apostrophes and hyphens ("O'Brien"); a possessive's "'s" is left out, so
# "Alibaba's" is the name "Alibaba", and so is a plural possessive's trailing apostrophe ("Sixers'" is
# "Sixers"; it was a name of its own, shared with no other spelling).
_TOKEN = re.compile(r"\d+(?:[.,]\d+)*%?|\w(?:[\w-]|[’'](?=\w)(?![sS]\b))*")
_SENTENCE_BREAK = re.compile(r"(?<=[.!?:])\s+|\n+")


@dataclass(frozen=True)
class StoryProfile:
    """What an article is about, as two unit-length weighted word vectors, and its index keys."""

    words: dict[str, float]
    names: dict[str, float]
    headline: bool = False  # a headline alone (HEADLINE_MIN_WORDS): compared by what of it a story holds

    @cached_property
    def keys(self) -> tuple[str, ...]:
        return tuple(sorted(self.names, key=self.names.__getitem__, reverse=True)[:KEYS_KEPT])

    def to_json(self) -> str:
        stored = {"w": self.words, "n": self.names, **({"h": 1} if self.headline else {})}
        return json.dumps(stored, ensure_ascii=False, separators=(",", ":"))

    @classmethod
    def from_json(cls, data: str) -> StoryProfile:
        loaded = json.loads(data)
        return cls(words=loaded["w"], names=loaded["n"], headline=bool(loaded.get("h")))

    def similarity(self, other: StoryProfile) -> float:
        """The mean of the words and names cosines; 0 when the guards say there is too little in common."""
        words = _cosine(self.words, other.words)
        if words < MIN_WORDS_SIMILARITY or len(self.names.keys() & other.names.keys()) < MIN_SHARED_NAMES:
            return 0.0
        return (words + _cosine(self.names, other.names)) / 2


@dataclass(frozen=True)
class StoryMatch:
    """The story an article joins: the score against its members, what it had to reach, and the member
    the article is most like (what the logs and `stories` show)."""

    story_id: int
    score: float
    required: float
    like_article: int


def profile_article(title: str, text: str) -> StoryProfile | None:
    """The article's story profile, or None when the text is too short to compare."""
    # The title is normalised as the text is: one outlet's "O’Brien" is another's "O'Brien".
    title, text = normalise_text(title), normalise_text(text)
    body_tokens = _TOKEN.findall(text)
    if len(body_tokens) < HEADLINE_MIN_WORDS:
        # No text to speak of (a page that failed, a feed without summaries): the headline is all there is.
        text, body_tokens = title, _TOKEN.findall(title)
    if len(body_tokens) < HEADLINE_MIN_WORDS:
        return None
    words: Counter[str] = Counter(t.casefold() for t in body_tokens if _is_content(t))
    for token in _TOKEN.findall(title):
        if _is_content(token):
            words[token.casefold()] += 2
    names = Counter(_names(text))
    for name in _names(title):
        names[name] += 3
    return StoryProfile(
        words=_unit({w: (1 + math.log(n)) * _rarity(w) for w, n in words.items()}, WORDS_KEPT),
        names=_unit({w: n * _rarity(w) for w, n in names.items()}, NAMES_KEPT),
        headline=len(body_tokens) < MIN_WORDS,
    )


def best_story(
    profile: StoryProfile,
    members: Iterable[StoryMember],
    published: datetime,
    threshold: float = STORY_THRESHOLD,
) -> StoryMatch | None:
    """The story the article reports, if any: the one whose members it is most like by the most above
    what the story's age requires (required_score; `threshold` moves that bar, for bench/stories.py)."""
    by_story: dict[int, list[StoryMember]] = {}
    for member in members:
        by_story.setdefault(member.story_id, []).append(member)
    best: tuple[float, StoryMatch] | None = None
    for story_id, story in by_story.items():
        newest = sorted(story, key=lambda m: m.published)[-MEMBERS_COMPARED:]
        profiles = [StoryProfile.from_json(m.profile) for m in newest]
        required = required_score(published - min(m.story_started for m in story), threshold)
        if profile.headline and required >= THRESHOLD_CEILING:
            continue  # a headline's share is no cosine: it joins only within the rising bar's reach
        score = story_similarity(profile, profiles)
        # Cleared by how many times its bar, not by how much: the bar rises with the story's age, and the
        # same lead over a day-old story's bar is weaker evidence than over a new story's.
        cleared = score / required if required else math.inf  # (a bar of 0: bench/stories.py's sweep)
        if score >= required and (best is None or cleared > best[0]):
            # The member it is most like, scored as the story is (a brief sharing one name included).
            like = max(
                zip(newest, profiles, strict=True), key=lambda pair: story_similarity(profile, [pair[1]])
            )[0]
            best = (cleared, StoryMatch(story_id, score, required, like.article_id))
    return best[1] if best else None


def joinable_late(
    brief: StoryProfile, published: datetime, members: Iterable[StoryMember]
) -> list[StoryMember]:
    """The members of the stories a brief may join on its second turn (pipeline/item_stages.py), decided
    after articles published later than it: a story begun by the time it was published, or one begun
    after it whose first article would have joined the brief's own story, as in publication order the
    brief would have started one and that article met it first.

    A 10-word feed summary ("Alibaba's chip unit T-Head will supply 72% of the chips") published two
    hours before the Alibaba memo's reports would otherwise join their story, which in publication order
    it could not (a full report does not join a brief that shares one name with it); an agency flash six
    minutes before its event's first full report does join it, as that report would have joined the
    flash."""
    by_story: dict[int, list[StoryMember]] = {}
    for member in members:
        by_story.setdefault(member.story_id, []).append(member)
    kept: list[StoryMember] = []
    for story in by_story.values():
        first = min(story, key=lambda m: (m.published, m.article_id))
        # A headline alone starts a story nothing joins (it is stored without a profile): what of it the
        # later story holds decides (best_story), as it would have decided for the headline after it.
        if first.story_started > published and not brief.headline:
            as_story = StoryMember(first.article_id, 0, brief.to_json(), published, published)
            if best_story(StoryProfile.from_json(first.profile), [as_story], first.published) is None:
                continue
        kept.extend(story)
    return kept


def story_similarity(profile: StoryProfile, members: list[StoryProfile]) -> float:
    """The mean of the words and names cosines with the members' centroid; 0 when a guard fails.

    A brief is also scored against each member alone, and the best of those counts: among long
    reports its few words weigh little in the centroid, while another brief of the event shares most of
    them (development set: a climbing accident's agency briefs, "a Perth doctor feared dead after a fall"
    and "Mark Vinar ... from Perth ... presumed dead after falling", 0.20 with their story, 0.33 with the
    second)."""
    if profile.headline:
        return _headline_coverage(profile, members)
    score = _centroid_similarity(profile, members)
    if is_brief(profile) and len(members) > 1:
        # A member that shares no name with the brief scores 0 (the names guard): not scored.
        alike = [member for member in members if member.names.keys() & profile.names.keys()]
        score = max([score, *(_centroid_similarity(profile, [member]) for member in alike)])
    return score


def is_brief(profile: StoryProfile) -> bool:
    """A brief: too few distinct words for the guards made for full reports."""
    return len(profile.words) < BRIEF_DISTINCT_WORDS


def _centroid_similarity(profile: StoryProfile, members: list[StoryProfile]) -> float:
    centroid = _centroid(m.words for m in members)
    words = _cosine(profile.words, centroid)
    names = _centroid(m.names for m in members)
    # A brief has few words to share: its words guard shrinks with them.
    if words < MIN_WORDS_SIMILARITY * min(1.0, len(profile.words) / BRIEF_DISTINCT_WORDS):
        return 0.0
    shared = profile.names.keys() & names.keys()
    if len(shared) >= MIN_SHARED_NAMES or (
        len(shared) == 1 and is_brief(profile) and _unknown_name(min(shared))
    ):
        return (words + _cosine(profile.names, names)) / 2
    if shared and is_brief(profile):
        # A brief often names one or two things, and may share one name with its story. That name
        # cannot vouch for itself (a piece whose one name is "Alibaba" is like every Alibaba story): the
        # score is the cosine of the words besides the brief's names, what it says happened.
        return _cosine_without(profile.words, centroid, profile.names.keys())
    return 0.0


def _headline_coverage(headline: StoryProfile, members: list[StoryProfile]) -> float:
    """What of a headline's words besides the names it shares with the story the story's words hold (by
    weight), if it shares one and that is at least HEADLINE_COVERAGE; else 0. Its few words are too few
    for a cosine: "parliament", "election" and "over" with "Turkmenistan" score 0.18 against the
    election's story, whose words hold 0.82 of them. The shared names cannot vouch for themselves, and
    its other capitalised words are what it says ("China Tightens the Screws on Nvidia With Customs
    Checks" shares Nvidia with a Taiwan exports story, whose words hold "china" and "with" only)."""
    # Figures are names of nothing: a headline sharing only "2026" or "10" with a story shares no name.
    shared = {
        name for name in headline.names.keys() & _centroid(m.names for m in members) if name[0].isalpha()
    }
    said = {word: weight for word, weight in headline.words.items() if word not in shared}
    if not shared or not said:
        return 0.0
    words = _centroid(m.words for m in members)
    held = sum(weight for word, weight in said.items() if word in words) / sum(said.values())
    return held if held >= HEADLINE_COVERAGE else 0.0


def _unknown_name(name: str) -> bool:
    """A name general English does not know at all (wordfreq has no entry: a surname like "Vinar"): unlike
    "Alibaba" or "Perth", it names one person or thing, which a brief sharing it is about. Figures are not
    names of anything."""
    return not name[0].isdigit() and _zipf(name) == 0.0


def required_score(age: timedelta, threshold: float = STORY_THRESHOLD) -> float:
    """What an article must score to join a story begun this long before it (or after it: an article
    published days before a story began is as likely to report another event)."""
    days = abs(age.total_seconds()) / 86_400
    return min(threshold + THRESHOLD_RISE_PER_DAY * days, max(THRESHOLD_CEILING, threshold))


def shared_names(a: StoryProfile, b: StoryProfile, limit: int = 6) -> list[str]:
    """The names two articles share, heaviest first: what `stories` shows as the reason they were joined."""
    shared = set(a.names) & set(b.names)
    return sorted(shared, key=lambda name: a.names[name] * b.names[name], reverse=True)[:limit]


def _names(text: str) -> list[str]:
    """Capitalised words that are not sentence openers or common words, and figures of two or more digits."""
    found = []
    for sentence in _SENTENCE_BREAK.split(text):
        tokens = _TOKEN.findall(sentence)
        for position, token in enumerate(tokens):
            if token[0].isdigit():
                if len(token) >= 2:
                    found.append(token.rstrip("%"))
            elif token[0].isupper() and _is_name(
                token.casefold(), opens_sentence=position == 0 and not _name_follows(tokens)
            ):
                found.append(token.casefold())
    return found


def _name_follows(tokens: list[str]) -> bool:
    """The sentence's second word is a name (capitalised, not shouted, rare enough): its first word, if
    capitalised and rare enough for a name inside a sentence, is then a first name ("Jim O'Brien was
    fired"), not a word capitalised only for opening the sentence."""
    if len(tokens) < 2:
        return False
    second = tokens[1]
    return second[0].isupper() and not second.isupper() and _is_name(second.casefold(), opens_sentence=False)


def _is_name(word: str, *, opens_sentence: bool) -> bool:
    # A sentence's first word is capitalised anyway: there it is a name only if it is rare as a word too.
    if word in _CALENDAR_WORDS:
        return False
    return _zipf(word) < (_OPENER_MAX_ZIPF if opens_sentence else _NAME_MAX_ZIPF)


# Days and months are capitalised but name no event: two stories of one Friday would share "Friday" as
# their heaviest name (on the story-events set "friday", "saturday" and "sunday" were among the names
# most shared by wrongly joined pairs). They still count as words.
_CALENDAR_WORDS = frozenset(
    [
        "monday",
        "tuesday",
        "wednesday",
        "thursday",
        "friday",
        "saturday",
        "sunday",
        "january",
        "february",
        "march",
        "april",
        "may",
        "june",
        "july",
        "august",
        "september",
        "october",
        "november",
        "december",
        "jan",
        "feb",
        "mar",
        "apr",
        "jun",
        "jul",
        "aug",
        "sep",
        "sept",
        "oct",
        "nov",
        "dec",
    ]
)


def _is_content(token: str) -> bool:
    return len(token) > 2 or token[0].isdigit()


def _rarity(word: str) -> float:
    return max(0.0, _ZIPF_CEILING - _zipf(word))


# A lookup in the table costs ~5 us, a cached one 0.1 us; the first 1,000-feed cycle of bench/memory.py
# asks for ~6,500 words. Every entry costs ~180 bytes and its word, so the cache is capped well below the
# ~200,000 distinct words a long-running service may meet (that would be ~36 MiB), and a word longer
# than _LONGEST_CACHED_WORD (a page's 10,000-letter "word") is looked up uncached: at most ~20 MiB.
_LONGEST_CACHED_WORD = 40


def _zipf(word: str) -> float:
    return zipf_frequency(word) if len(word) > _LONGEST_CACHED_WORD else _cached_zipf(word)


@lru_cache(maxsize=50_000)
def _cached_zipf(word: str) -> float:
    return zipf_frequency(word)


def _unit(vector: dict[str, float], kept: int) -> dict[str, float]:
    heaviest = sorted(vector.items(), key=lambda item: item[1], reverse=True)[:kept]
    norm = math.sqrt(sum(weight * weight for _, weight in heaviest)) or 1.0
    return {word: round(weight / norm, 5) for word, weight in heaviest if weight > 0}


def _centroid(vectors: Iterable[dict[str, float]]) -> dict[str, float]:
    total: Counter[str] = Counter()
    for vector in vectors:
        total.update(vector)
    norm = math.sqrt(sum(weight * weight for weight in total.values())) or 1.0
    return {word: weight / norm for word, weight in total.items()}


def _cosine_without(a: dict[str, float], b: dict[str, float], left_out: Iterable[str]) -> float:
    """The cosine of two vectors with some of their words left out (the rest renormalised)."""
    left = set(left_out)
    a = {word: weight for word, weight in a.items() if word not in left}
    b = {word: weight for word, weight in b.items() if word not in left}
    norms = math.sqrt(sum(w * w for w in a.values())) * math.sqrt(sum(w * w for w in b.values()))
    return _cosine(a, b) / norms if norms else 0.0


def _cosine(a: dict[str, float], b: dict[str, float]) -> float:
    if len(a) > len(b):
        a, b = b, a
    return sum(weight * b.get(word, 0.0) for word, weight in a.items())
