"""`news-monitor stories`: recent stories with their articles, and why each article was joined."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from ..logs import safe_line
from ..stages.neardup import COPY_THRESHOLD, Signature
from ..stages.stories import MEMBERS_COMPARED, StoryProfile, profile_article, shared_names, story_similarity
from ..storage import Story, StoryArticle
from ..text import cut

# Outcomes that mean an article matched a watchlist (its story is what a channel or a digest saw).
MATCHED = ("alerted", "replied", "same_story", "digest", "muted")


def build_stories(stories: list[Story], *, include_all: bool = False) -> list[dict[str, Any]]:
    """Stories as plain data (the --json output): by default those with an alert or several articles."""
    shown = [
        s
        for s in stories
        if include_all or len(s.articles) > 1 or any(a.outcome in MATCHED for a in s.articles)
    ]
    return [_story(story) for story in shown]


def _story(story: Story) -> dict[str, Any]:
    articles = []
    for index, article in enumerate(story.articles):
        entry = {
            "id": article.id,
            "outlet": article.source,
            "title": article.title,
            "url": article.url,
            "first_seen": article.first_seen_at.isoformat(timespec="seconds"),
            "outcome": article.outcome,
            "joined": _why_joined(article, story.articles[:index]),
        }
        articles.append(entry)
    return {
        "id": story.id,
        "title": story.articles[0].title,
        "outlets": story.outlets,
        "articles": articles,
    }


def _why_joined(article: StoryArticle, earlier: tuple[StoryArticle, ...]) -> dict[str, Any] | None:
    """For every article but the first: the earlier article it copies, or the story's score against its
    earlier members (what decided it, stages/stories.best_story), the one it is most like and the names
    they share."""
    if not earlier:
        return None
    copied = _copied(article, earlier)
    if copied is not None:
        return copied
    if article.outcome == "copy":
        return {"reason": "near-copy of an earlier article's text"}  # its original is gone or unsigned
    profiled = [
        (other, StoryProfile.from_json(other.story_profile)) for other in earlier if other.story_profile
    ]
    if article.story_profile is None:
        return _why_headline_joined(article, profiled)
    profile = StoryProfile.from_json(article.story_profile)
    if not profiled:
        return {"reason": "joined an earlier copy"}
    return _scored("same event", profile, profiled, closeness=profile.similarity)


def _why_headline_joined(
    article: StoryArticle, profiled: list[tuple[StoryArticle, StoryProfile]]
) -> dict[str, Any]:
    """A joined article without a stored profile that is no copy is a headline alone (stages/stories.py):
    the share of its words the story holds, read again from its title (all its text, or nearly: a headline
    alone has under 10 words), the member holding most of it, and the names they share."""
    reason = "headline alone: most of its words are in the story"
    headline = profile_article(article.title, "")
    if headline is None or not profiled:
        return {"reason": reason}
    return _scored(reason, headline, profiled, closeness=lambda member: story_similarity(headline, [member]))


def _scored(
    reason: str,
    profile: StoryProfile,
    profiled: list[tuple[StoryArticle, StoryProfile]],
    *,
    closeness: Callable[[StoryProfile], float],
) -> dict[str, Any]:
    """Why it joined: the story's score against its newest members, the member it is closest to (by
    `closeness`) and the names they share."""
    other, other_profile = max(profiled, key=lambda pair: closeness(pair[1]))
    members = [member for _, member in profiled[-MEMBERS_COMPARED:]]
    return {
        "reason": reason,
        "like": other.id,
        "score": round(story_similarity(profile, members), 2),
        "shared_names": shared_names(profile, other_profile),
    }


def _copied(article: StoryArticle, earlier: tuple[StoryArticle, ...]) -> dict[str, Any] | None:
    """The earlier article whose text this one's is (the same fingerprint: an exact copy, which the store
    records only as one), or, for a copy, the one its text is most like (stages/neardup.py)."""
    exact = next((e for e in earlier if article.fingerprint and e.fingerprint == article.fingerprint), None)
    if exact is not None:
        return {"reason": "exact copy", "copy_of": exact.id, "copy_of_url": exact.url, "similarity": 1.0}
    if article.signature is None:
        return None
    signed = [e for e in earlier if e.signature is not None and e.outcome != "copy"]
    if not signed:
        return None
    mine = Signature(values=article.signature, bands=())
    original = max(signed, key=lambda e: mine.similarity(e.signature or b""))
    similarity = round(mine.similarity(original.signature or b""), 2)
    # A copy whose original was not alerted in a channel posts the alert itself (outcome "alerted"): it
    # is still a copy, as its text says.
    if article.outcome != "copy" and similarity < COPY_THRESHOLD:
        return None
    return {
        "reason": "near-copy",
        "copy_of": original.id,
        "copy_of_url": original.url,
        "similarity": similarity,
    }


def render_stories(stories: list[dict[str, Any]], since: datetime) -> str:
    """The stories as text for a terminal, newest first."""
    if not stories:
        return f"no stories since {since:%Y-%m-%d %H:%M} UTC"
    blocks = []
    for story in stories:
        outlets = len(story["outlets"])
        header = (
            f"STORY {story['id']} · {outlets} outlet{'s' * (outlets != 1)} · "
            f"{len(story['articles'])} article{'s' * (len(story['articles']) != 1)} · "
            f"{_line(story['title'], 90)}"
        )
        lines = [header]
        for article in story["articles"]:
            seen = article["first_seen"][:16].replace("T", " ")
            outlet, title = _line(article["outlet"] or "?", 22), _line(article["title"], 70)
            lines.append(f"  #{article['id']:<6} {seen}  {outlet:<22} {article['outcome']:<10} {title}")
            lines.append(f"          {_line(article['url'], 120)}")
            if article["joined"]:
                lines.append(f"          joined: {_why(article['joined'])}")
        blocks.append("\n".join(lines))
    return "\n\n".join(blocks)


def _why(joined: dict[str, Any]) -> str:
    if "copy_of" in joined:
        return f"{joined['reason']} of #{joined['copy_of']} (similarity {joined['similarity']:.2f})"
    if joined["reason"] != "same event":
        return str(joined["reason"])
    names = ", ".join(joined["shared_names"]) or "none"
    return f"like #{joined['like']} (score {joined['score']:.2f}); shared names: {_line(names, 100)}"


def _line(text: str, limit: int) -> str:
    # Titles and URLs come from feeds: no control characters on the operator's terminal, and secrets
    # masked before the cut (a URL cut before its `@` no longer looks like credentials).
    return cut(safe_line(text), limit)
