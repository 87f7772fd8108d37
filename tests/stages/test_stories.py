"""Story grouping on the labelled corpus (tests/fixtures/stories): targets, near misses, guards."""

from __future__ import annotations

import math
import random
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import wordfreq

from monitor.data.zipf import zipf_frequency
from monitor.stages import stories
from monitor.stages.stories import (
    STORY_THRESHOLD,
    StoryMember,
    StoryProfile,
    best_story,
    profile_article,
    required_score,
)
from monitor.text import normalise_text

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
from bench.stories import group_stories, load_corpus, story_grouping_scores

CORPUS = {article["id"]: article for article in load_corpus()}
T0 = datetime(2025, 11, 15, 9, tzinfo=UTC)


def profile(article_id: str) -> StoryProfile:
    article = CORPUS[article_id]
    found = profile_article(article["title"], article["text"])
    assert found is not None
    return found


def test_grouping_meets_the_targets_on_the_labelled_corpus() -> None:
    scores = story_grouping_scores(list(CORPUS.values()))
    # Issue 5's targets: precision >= 0.95, recall >= 0.85. Measured: 1.000 and 1.000 (97 pairs).
    assert scores["precision"] >= 0.95 and scores["recall"] >= 0.85, scores


def test_the_threshold_is_not_on_a_knife_edge() -> None:
    # Thresholds from 0.21 to 0.28 group the corpus exactly: the one used is no lucky point. (At 0.20 a
    # day-later report of a recall clears a 7-hour-old near miss by more times its bar than its own story,
    # 0.31 over 0.291 against 0.576 over 0.55: docs/stories.md.)
    for threshold in (0.21, STORY_THRESHOLD, 0.25, 0.275, 0.28):
        scores = story_grouping_scores(list(CORPUS.values()), threshold)
        assert scores["fp"] == 0 and scores["fn"] == 0, (threshold, scores)


def test_near_miss_stories_stay_apart() -> None:
    story = group_stories(list(CORPUS.values()))
    # Same company, different event; same event type, different company (README of the corpus).
    for a, b in [("s01", "s02"), ("s01", "s03"), ("s03", "s13"), ("s04", "s05"), ("s06", "s07"),
                 ("s08", "s09"), ("s15", "s16"), ("s17", "s18")]:  # fmt: skip
        groups_a = {story[i] for i, article in CORPUS.items() if article["story"] == a}
        groups_b = {story[i] for i, article in CORPUS.items() if article["story"] == b}
        assert not groups_a & groups_b, (a, b)


def member(article_id: str, number: int, story: int, at: datetime, started: datetime) -> StoryMember:
    return StoryMember(number, story, profile(article_id).to_json(), at, started)


def test_the_two_seed_articles_are_one_story() -> None:
    # The finance blog's and Mint's write-ups of the Alibaba-PLA memo share no sentence, only the event.
    blog, mint = profile("s01-a1"), profile("s01-a2")
    assert blog.similarity(mint) >= STORY_THRESHOLD
    found = best_story(mint, [member("s01-a1", 1, 1, T0, T0)], T0 + timedelta(hours=2))
    # A story of one member: its centroid is that member, so the story's score is the pair's.
    assert found is not None and found.story_id == 1 and found.like_article == 1
    assert found.score == pytest.approx(blog.similarity(mint), abs=1e-3)


def test_the_bar_rises_with_the_storys_age() -> None:
    # Same-kind events (a coach fired, the same coach hired years later) share names; one event's reports
    # bunch up in its first day. A report of a day-old story must score more, up to a ceiling.
    assert required_score(timedelta(0)) == STORY_THRESHOLD
    # Published before the story began: as far from it as after.
    assert required_score(timedelta(hours=-6)) == required_score(timedelta(hours=6)) > STORY_THRESHOLD
    assert required_score(timedelta(days=1)) == pytest.approx(
        STORY_THRESHOLD + stories.THRESHOLD_RISE_PER_DAY
    )
    assert required_score(timedelta(days=30)) == stories.THRESHOLD_CEILING
    blog, mint = profile("s01-a1"), profile("s01-a2")
    score = blog.similarity(mint)
    days = (score - STORY_THRESHOLD) / stories.THRESHOLD_RISE_PER_DAY
    if score < stories.THRESHOLD_CEILING:  # the pair's score is under the ceiling: old enough, it stays out
        late = T0 + timedelta(days=days + 0.1)
        assert best_story(mint, [member("s01-a1", 1, 1, T0, T0)], late) is None
    soon = T0 + timedelta(days=max(days - 0.1, 0))
    assert best_story(mint, [member("s01-a1", 1, 1, T0, T0)], soon) is not None


def test_a_short_piece_naming_only_the_company_joins_no_story() -> None:
    # Its names vector is all "alibaba", like every Alibaba story's: the guards keep it on its own.
    piece = profile_article(
        "Regulators question Alibaba",
        "Regulators asked Alibaba about its cloud contracts with state customers this week. " * 5,
    )
    assert piece is not None
    assert piece.similarity(profile("s01-a2")) == 0.0


def test_teasers_are_not_profiled_headlines_are_and_profiles_survive_json() -> None:
    assert profile_article("Alibaba", "Alibaba denies the report.") is None  # 4 words
    headline = profile_article("Alibaba", "Alibaba denied the report on Sunday.")  # 6: a headline alone
    assert headline is not None and headline.headline
    assert StoryProfile.from_json(headline.to_json()) == headline
    blog = profile("s01-a1")
    assert not blog.headline and StoryProfile.from_json(blog.to_json()).similarity(blog) > 0.99
    assert "alibaba" in blog.keys and len(blog.keys) <= 12


def test_the_compact_frequency_table_gives_wordfreqs_own_values() -> None:
    # monitor/data/zipf_en.bin stands in for wordfreq's English dict (37 MiB resident): every word the
    # corpus has, a sample of wordfreq's list, figures (smashed and weighed by digit_freq) and words
    # its tokenizer splits or changes must get the value wordfreq gives them.
    corpus = "\n".join(normalise_text(a["title"] + "\n" + a["text"]) for a in CORPUS.values())
    words = sorted({token.casefold() for token in stories._TOKEN.findall(corpus)})
    listed = random.Random(6).sample(list(wordfreq.iter_wordlist("en")), 20_000)
    figures = [str(n) for n in range(0, 2100, 7)] + ["3.5", "12,000", "07", "1.2.3", "2024s", "100m"]
    tricky = ["state-of-the-art", "don't", "don’t", "o'neill", "北京", "naïve", "straße", "", "u.s", "zzqxj"]
    for word in words + listed + figures + tricky:
        assert zipf_frequency(word) == wordfreq.zipf_frequency(word, "en"), word


def test_profiles_and_stories_are_the_same_as_with_wordfreq(monkeypatch: pytest.MonkeyPatch) -> None:
    with_table = {key: profile_article(a["title"], a["text"]) for key, a in CORPUS.items()}
    grouped = group_stories(list(CORPUS.values()))
    stories._cached_zipf.cache_clear()
    monkeypatch.setattr(stories, "zipf_frequency", lambda word: wordfreq.zipf_frequency(word, "en"))
    try:
        assert {key: profile_article(a["title"], a["text"]) for key, a in CORPUS.items()} == with_table
        assert group_stories(list(CORPUS.values())) == grouped
    finally:
        stories._cached_zipf.cache_clear()


def test_a_piece_sharing_only_the_company_with_a_story_joins_it_not() -> None:
    # Story level too: however many members a story has, one shared name ("Alibaba") is not enough. The
    # piece is a brief (13 distinct words), which may join on one shared name, but only on its other
    # words: with "alibaba" among them its words cosine with the memo story is 0.26, over the bar.
    piece = profile_article(
        "Regulators question Alibaba",
        "Regulators asked Alibaba about its cloud contracts with state customers this week. " * 5,
    )
    assert piece is not None
    memo = [member(i, n, 1, T0, T0) for n, i in enumerate(("s01-a1", "s01-a2", "s01-a3", "s01-a5"), 1)]
    assert best_story(piece, memo, T0) is None


def test_days_and_months_are_words_not_names() -> None:
    # Two stories of one Friday would otherwise share their heaviest name.
    found = profile_article(
        "Xinchuang shares fall on Friday",
        "Shares of Xinchuang Memory fell on Friday in Shanghai after the listing in March. " * 4,
    )
    assert found is not None
    assert {"xinchuang", "shanghai"} <= found.names.keys()
    assert not {"friday", "march"} & found.names.keys()
    assert {"friday", "march"} <= found.words.keys()


@pytest.mark.parametrize("quote", ["'", "’"])
def test_a_plural_possessive_is_the_name_itself(quote: str) -> None:
    # "Sixers'" is the name "sixers", as "Alibaba's" is "alibaba"; an apostrophe inside a name stays.
    found = profile_article(
        f"Sixers{quote} coach fired",
        f"The Sixers{quote} coach Jim O{quote}Brien was fired by Philadelphia, the Sixers said. " * 3,
    )
    assert found is not None
    assert {"sixers", "o'brien"} <= found.names.keys()  # the text's curly apostrophes are normalised
    assert not any(name.endswith(quote) for name in found.names.keys() | found.words.keys())


def test_a_briefs_words_guard_shrinks_with_its_words() -> None:
    # The same words cosine with a story (0.15, under the 0.2 guard): enough for a brief of 10 distinct
    # words, not for an article of 40. Both share the story's two names.
    story = [StoryProfile(words={"memo": 1.0}, names={"alibaba": 0.8, "pla": 0.6})]

    def article(distinct_words: int) -> StoryProfile:
        others = {f"w{n}": 1.0 for n in range(distinct_words - 1)}
        norm = math.sqrt(len(others) / (1 - 0.15**2))
        words = {"memo": 0.15, **{w: 1.0 / norm for w in others}}
        return StoryProfile(words=words, names={"alibaba": 0.8, "pla": 0.6})

    brief, longer = article(10), article(40)
    assert stories._cosine(brief.words, story[0].words) == pytest.approx(0.15)
    assert stories.story_similarity(brief, story) > 0
    assert stories.story_similarity(longer, story) == 0.0


CLIMB = [
    (
        "Climber Mark Vinar presumed dead after fall on Mount Cook",
        "Mark Vinar, an Australian doctor from Perth, is presumed dead after he fell from a ridge on Mount"
        " Cook on Thursday. His brother survived two nights in an ice cave high on the mountain before a"
        " rescue helicopter reached him. Police said the climber fell about 600 metres from the ridge.",
    ),
    (
        "Brother of climber who fell from Mount Cook ridge rescued",
        "Rescuers flew the brother of Mark Vinar off Mount Cook after he spent two nights in an ice cave."
        " Vinar fell from the ridge in bad weather and is presumed dead, police in Twizel said. The brothers"
        " from Perth had been climbing for a week.",
    ),
]


def test_a_brief_sharing_one_name_joins_its_story_on_its_other_words() -> None:
    # Agency briefs of one climbing accident name one or two things each (development set: ten briefs of
    # 17-33 words were six stories). Sharing only "australian" with the story, the brief's other words
    # (climber, brother, ice cave, ridge) say it is the same event.
    story = [member_of(title, text, n, T0) for n, (title, text) in enumerate(CLIMB, 1)]
    brief = profile_article(
        "AN AUSTRALIAN climber who survived two nights in an ice cave after his brother fell from the ridge",
        "AN AUSTRALIAN climber who survived two nights in an ice cave after his brother fell from the ridge"
        " is recovering.",
    )
    assert brief is not None and len(brief.words) < stories.BRIEF_DISTINCT_WORDS
    names = stories._centroid(StoryProfile.from_json(m.profile).names for m in story)
    assert brief.names.keys() & names.keys() == {"australian"}
    found = best_story(brief, story, T0 + timedelta(hours=3))
    assert found is not None and found.story_id == 1


def member_of(title: str, text: str, number: int, at: datetime) -> StoryMember:
    found = profile_article(title, text)
    assert found is not None
    return StoryMember(number, 1, found.to_json(), at, T0)


def test_a_brief_is_scored_against_its_storys_closest_member_too() -> None:
    # Among long reports a brief's few words weigh little in the centroid (0.20 here, under the bar of
    # 0.245 two hours on); the story's other brief shares most of them (0.33). Development set: this
    # tribute brief started a story of its own.
    vinar = (
        "Mark Vinar, an Australian climber from Perth, has been presumed dead after falling over half a"
        " kilometre from New Zealand's highest peak, Mount Cook."
    )
    story = [member_of(title, text, n, T0) for n, (title, text) in enumerate(CLIMB, 1)]
    story.append(member_of(vinar, vinar, 3, T0))
    tribute = (
        "A colleague has paid tribute to a Perth doctor feared dead after a fall from a mountain in New"
        " Zealand."
    )
    brief = profile_article(tribute, tribute)
    assert brief is not None and stories.is_brief(brief)
    profiles = [StoryProfile.from_json(m.profile) for m in story]
    assert stories._centroid_similarity(brief, profiles) < required_score(timedelta(hours=2))
    found = best_story(brief, story, T0 + timedelta(hours=2))
    assert found is not None and found.story_id == 1 and found.like_article == 3


@pytest.mark.parametrize(("name", "joins"), [("Vinar", True), ("Perth", False)])
def test_a_brief_sharing_one_name_english_does_not_know_joins_on_it(name: str, joins: bool) -> None:
    # "Vinar" is in no English word list: a brief naming only him is about him. "Perth" (or "Alibaba")
    # names a city in many stories, and the brief's other words (a battle to stay alive) are not the story's.
    title = f"{name} family speaks of a desperate battle to stay alive"
    brief = profile_article(
        title, f"The {name} family spoke to ONE News on Thursday about a battle to stay alive."
    )
    assert brief is not None and stories.is_brief(brief) and set(brief.names) == {name.casefold()}
    story = [member_of(title, text, n, T0) for n, (title, text) in enumerate(CLIMB, 1)]
    assert (best_story(brief, story, T0 + timedelta(hours=3)) is not None) is joins


def mixed(of: dict[str, float], cosine: float, other: str) -> dict[str, float]:
    """A unit vector whose cosine with the unit vector `of` is `cosine` (the rest on words `of` lacks)."""
    rest = math.sqrt(1 - cosine * cosine) / math.sqrt(len(of))
    return {**{w: cosine * v for w, v in of.items()}, **{f"{other}{w}": rest for w in of}}


def test_an_article_clearing_two_stories_joins_the_one_it_clears_by_more_times_its_bar() -> None:
    # 0.30 where a new story asks 0.22 (1.36 times) against 0.57 where a 20-hour-old story asks 0.47
    # (1.21 times, though 0.10 over it against 0.08): the same lead over an old story's high bar is weaker
    # evidence than over a new story's (development set: two wrong joins into years-older same-kind events).
    words = {f"word{n}": 0.2 for n in range(25)}
    names = {f"name{n}": 0.5 for n in range(4)}
    article = StoryProfile(words=words, names=names)
    young = StoryProfile(words=mixed(words, 0.30, "y"), names=mixed(names, 0.30, "y"))
    old = StoryProfile(words=mixed(words, 0.57, "o"), names=mixed(names, 0.57, "o"))
    at = T0 + timedelta(hours=20)
    members = [
        StoryMember(1, 1, old.to_json(), T0, T0),
        StoryMember(2, 2, young.to_json(), at, at),
    ]
    assert stories.story_similarity(article, [young]) == pytest.approx(0.30)
    assert stories.story_similarity(article, [old]) == pytest.approx(0.57)
    assert required_score(at - T0) == pytest.approx(0.47)
    found = best_story(article, members, at)
    assert found is not None and found.story_id == 2


@pytest.mark.parametrize(
    ("sentence", "first_is_a_name"),
    [
        ("Jim O'Brien was fired by the Sixers on Monday.", True),  # a first name before a name
        ("German Chancellor Scholz met the press.", True),  # as "the German chancellor" mid-sentence
        ("Mark Vinar, 43, is presumed dead.", False),  # "mark" is too common a word for a name anywhere
        ("The Sixers fired their coach.", False),
        ("Investors sold ALIBABA shares.", False),
        ("Officials in Perth said so.", False),  # the second word is no name
    ],
)
def test_a_sentences_first_word_before_a_name_is_read_as_inside_a_sentence(
    sentence: str, first_is_a_name: bool
) -> None:
    first = sentence.split()[0].casefold()
    assert (first in stories._names(sentence)) is first_is_a_name


ELECTION_REPORTS = [
    (
        "Turkmenistan votes in a parliamentary election",
        "Voters in Turkmenistan cast ballots on Sunday in a parliamentary election that the government says"
        " is a step towards democracy. Candidates for the Mejlis were all approved by President Gurbanguly"
        " Berdimuhamedov, and observers from the OSCE were not invited to Ashgabat.",
    ),
    (
        "Turkmenistan's parliamentary election ends with high turnout",
        "Turkmenistan's parliamentary election ended on Sunday evening with a turnout of more than 90 per"
        " cent, the Central Election Commission in Ashgabat said. The new parliament, the Mejlis, has 125"
        " seats.",
    ),
]


@pytest.mark.parametrize(
    ("headline", "joins"),
    [
        ("The parliament election is over in Turkmenistan.", True),
        ("Turkmenistan opens a new gas pipeline to China.", False),  # a name shared, nothing else said
        ("The parliament election is over in Kyrgyzstan.", False),  # what it says, but no name shared
        ("Turkmenistan votes.", False),  # too short to say anything: no profile
        ("Election commission says parliament has 125 seats", False),  # shares a figure, no name
    ],
)
def test_a_headline_alone_joins_the_story_that_holds_what_it_says(headline: str, joins: bool) -> None:
    # An item whose page gave no text and whose feed no summary: its title is all there is. Its few words
    # make a poor cosine; what of them the story holds tells its event.
    story = [member_of(title, text, n, T0) for n, (title, text) in enumerate(ELECTION_REPORTS, 1)]
    found_profile = profile_article(headline, headline)
    if found_profile is None:
        assert not joins
        return
    assert found_profile.headline
    assert (best_story(found_profile, story, T0 + timedelta(hours=9)) is not None) is joins
