"""The story desk: is an article a copy, which story does it report, and what does it post to Slack?

The pipeline asks these three questions of every article it reads, under its record lock, right before
storing the article (pipeline/item_stages.py, ItemStages._decide_and_record). The stages compare texts
(stages/neardup.py, stages/stories.py); the desk looks the candidates up in the store and turns the
answer into outbox entries: a story's first alert in a channel, then one thread reply per new outlet.
"""

from __future__ import annotations

import logging
from datetime import datetime

from ..logs import log_event
from ..models import Alert, Match, StoryReply
from ..stages.neardup import Signature, best_copy
from ..stages.stories import StoryProfile, best_story, joinable_late
from ..storage import QueuedAlert, Storage, StoryThread

log = logging.getLogger("monitor.stories")


class StoryDesk:
    def __init__(self, storage: Storage):
        self.storage = storage

    def exact_copy_of(self, url: str, fingerprint: str, since: datetime) -> int | None:
        """The stored article first seen since `since` whose text this one's is (another URL, the same
        fingerprint): the extreme near-copy. Older ones stay plain duplicates (the key says seen)."""
        original = self.storage.exact_copy_of(fingerprint, since)
        if original is not None:
            log_event(log, logging.INFO, "article.exact_copy", article_url=url, copy_of=original)
        return original

    def copy_of(self, url: str, signature: Signature, since: datetime) -> int | None:
        """The stored article this one's text copies, if any: the most similar first seen since `since`."""
        copy = best_copy(signature, self.storage.near_copy_candidates(list(signature.bands), since=since))
        if copy is None:
            return None
        log_event(log, logging.INFO, "article.near_copy", article_url=url, copy_of=copy[0],
                  similarity=f"{copy[1]:.2f}")  # fmt: skip
        return copy[0]

    def story_of(
        self,
        url: str,
        profile: StoryProfile | None,
        since: datetime,
        published: datetime,
        *,
        second_turn: bool = False,
    ) -> int | None:
        """The story this article is another outlet's report of, or None when it starts a new one.

        `published`: when the article came out (stories.best_story: a story's bar rises with its age).
        `second_turn`: a brief's, decided after articles published later than it (pipeline/item_stages.py):
        only a story it could have joined in publication order (stories.joinable_late)."""
        if profile is None:
            return None
        members = self.storage.story_members(list(profile.keys), since=since)
        if second_turn:
            members = joinable_late(profile, published, members)
        found = best_story(profile, members, published)
        if found is None:
            return None
        log_event(log, logging.INFO, "article.same_story", article_url=url, story=found.story_id,
                  like_article=found.like_article, score=f"{found.score:.2f}",
                  required=f"{found.required:.2f}")  # fmt: skip
        return found.story_id

    def messages(
        self,
        story_id: int | None,
        alerts: list[Alert],
        source: str,
        *,
        copy: bool = False,
        broadcast_at: int | None = None,
    ) -> list[QueuedAlert]:
        """What to post for an article of a story, per channel its watchlists route to.

        The story has no alert in the channel yet: this article posts it (even a copy: its original was
        not alerted there). It has: a copy posts nothing; any other article replies in the thread, "Also
        reported by" from a new outlet, "Update from" from one already there. A wrong join then costs the
        article its own alert, never its message (issue 14: a second article of an outlet used to post
        nothing, and one joined to the wrong story vanished).
        """
        if story_id is None or not alerts:
            return [QueuedAlert(channel=a.channel, payload=a.to_json()) for a in alerts]
        carried_by = len(set(self.storage.story_outlets(story_id)) | {source})
        widely_carried = broadcast_at is not None and carried_by >= broadcast_at
        queued = []
        for alert in alerts:
            if self.storage.story_muted(story_id, alert.channel):
                continue  # someone pressed "Mute story" on its alert there: no reply, no update
            thread = self.storage.story_thread(story_id, alert.channel)
            if thread is None:
                queued.append(QueuedAlert(channel=alert.channel, payload=alert.to_json()))
            elif not copy:
                queued.append(thread_reply(alert, story_id, source, thread, widely_carried=widely_carried))
        return queued

    def muted(self, story_id: int | None, alerts: list[Alert]) -> bool:
        """The story is muted in every channel the article would post to."""
        return (
            story_id is not None
            and bool(alerts)
            and all(self.storage.story_muted(story_id, alert.channel) for alert in alerts)
        )


def thread_reply(
    alert: Alert, story_id: int, source: str, thread: StoryThread, *, widely_carried: bool
) -> QueuedAlert:
    """An article's reply in its story's thread: another outlet's report, or an outlet's update."""
    new_outlet = source not in thread.outlets
    reply = StoryReply(
        channel=alert.channel,
        story_id=story_id,
        outlet=source,
        title=alert.article.title,
        url=alert.article.canonical_url or alert.article.url,
        # The first new outlet's reply once the story is carried widely; later ones, and an outlet's
        # updates, stay in the thread.
        broadcast=new_outlet and widely_carried and not thread.broadcast,
        alert=alert.to_json(),
        update=not new_outlet,
    )
    return QueuedAlert(alert.channel, reply.to_json(), kind="reply", parent_id=thread.alert_id)


def article_outcome(
    queued: list[QueuedAlert],
    alerts: list[Alert],
    matches: list[Match],
    *,
    is_copy: bool,
    muted: bool = False,
) -> str:
    """What became of an article, as stored and shown by `stories`."""
    if any(q.kind == "alert" for q in queued):
        return "alerted"
    if queued:
        return "replied"
    if muted:
        return "muted"  # its story was muted where it would have posted
    if is_copy:
        return "copy"
    if alerts:
        # Not produced by `messages` any more (every matched article that is not a copy posts); kept for
        # articles stored by earlier versions, whose outlet was in the story's thread already.
        return "same_story"
    if matches:
        return "digest"  # only digest watchlists matched: their message comes on their schedule
    return "no_match"
