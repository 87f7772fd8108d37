"""Story rules (stages/stories.py) on inputs their first tests did not try (an outside review): a
follow-up writing its own year, a bar of 0, a title's apostrophes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from monitor.models import StoryMember
from monitor.stages import stories
from monitor.stages.stories import StoryProfile, best_story, profile_article, required_score, story_similarity

T0 = datetime(2026, 3, 2, 8, tzinfo=UTC)

FLOODS = (
    "Floods in Queensland force thousands from their homes",
    "Floods in Queensland forced thousands of people from their homes in Rockhampton and Bundaberg on Monday,"
    " the worst flooding on the Fitzroy River since 2013. Premier David Crisafulli said evacuation centres"
    " were full and the Bureau of Meteorology warned of more rain.",
)


def follow_up(year_written: str) -> StoryProfile:
    found = profile_article(
        "Queensland floods: Fitzroy River peaks at Rockhampton",
        "The Fitzroy River peaked at Rockhampton on Tuesday, keeping thousands of people from their homes in"
        f" Queensland, in the worst flooding of {year_written}. Premier David Crisafulli said evacuation"
        " centres in Rockhampton and Bundaberg were full and the Bureau of Meteorology warned of more rain.",
    )
    assert found is not None
    return found


@pytest.mark.parametrize("year_written", ["2013", "2026"])
def test_a_day_later_follow_up_writing_its_own_year_stays_in_its_story(year_written: str) -> None:
    # 734293a: at the ceiling, a report writing a later year (up to its own) than its story is another
    # event. A follow-up 36 hours on writes the year it is in ("the worst flooding of 2026") while the
    # first report wrote only the last flood's year (2013): it scores 0.71 where 0.55 is asked, far above
    # the bar, and still starts a new story (a second alert for one flood). With "2013" it joins.
    first = profile_article(*FLOODS)
    assert first is not None
    story = [StoryMember(1, 1, first.to_json(), T0, T0)]
    late = T0 + timedelta(hours=36)
    report = follow_up(year_written)
    assert required_score(late - T0) == stories.THRESHOLD_CEILING
    assert story_similarity(report, [first]) > 0.7
    found = best_story(report, story, late)
    assert found is not None and found.story_id == 1


def test_a_zero_threshold_does_not_divide_by_zero() -> None:
    # 8cea54f: best_story ranks stories by score / required; `threshold` moves the bar (bench/stories.py
    # sweeps it), and at 0 a story begun when the article was published requires 0: ZeroDivisionError.
    article = follow_up("2013")
    story = [StoryMember(1, 1, article.to_json(), T0, T0)]
    assert required_score(timedelta(0), 0.0) == 0.0
    found = best_story(article, story, T0, threshold=0.0)
    assert found is not None and found.story_id == 1


BODY = (
    "Jim O{q}Brien was fired by the Philadelphia Sixers on Monday after a losing season, the team said."
    " O{q}Brien had coached the Sixers for two seasons."
)


# The apostrophe lookalikes normalise_text folds to "'" in an article's text (text/normalise.py).
@given(st.sampled_from(["\u2018", "\u2019", "\u201a", "\u201b", "\u2032", "\uff07"]))
def test_a_title_names_a_person_whatever_its_apostrophe(quote: str) -> None:
    # 384bc5d reads "Jim O'Brien" as two names; the text's curly apostrophes are folded (df51751's test
    # says so), but the title is not normalised: "O’Brien" in a title is the name "o’brien", another
    # name than the text's "o'brien" and than the title of an outlet that types "'". Titles count three
    # times, so two outlets' reports of one firing share less than they should.
    straight = profile_article("Sixers fire coach Jim O'Brien", BODY.format(q="'"))
    other = profile_article(f"Sixers fire coach Jim O{quote}Brien", BODY.format(q=quote))
    assert straight is not None and other is not None
    assert other.names == straight.names
