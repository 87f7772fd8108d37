"""The new feed items this instance is reading, each held in the store until its outcome is recorded, so
that another instance takes an item over if this one dies reading it (service/fleet.py)."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import json
from collections.abc import Iterator
from datetime import datetime
from typing import Any

from ..errors import StorageError
from ..models import FeedItem
from ..storage import Storage


@dataclasses.dataclass(frozen=True)
class ItemWork:
    """What another instance needs to read a feed item in place of the one that started it."""

    item: FeedItem
    source: str
    first_poll: bool

    def to_json(self) -> str:
        item = dataclasses.asdict(self.item)
        item["published"] = self.item.published.isoformat() if self.item.published else None
        return json.dumps({"item": item, "source": self.source, "first_poll": self.first_poll})

    @classmethod
    def from_json(cls, text: str) -> ItemWork:
        data: dict[str, Any] = json.loads(text)
        item = dict(data["item"])
        item["published"] = datetime.fromisoformat(item["published"]) if item["published"] else None
        return cls(FeedItem(**item), data["source"], data["first_poll"])


@dataclasses.dataclass
class Hold:
    """One item claim while it is read; `leave` it when the item was not read after all (stopping)."""

    claim: int
    leave: bool = False


class HeldItems:
    """The new feed items this instance is reading, each held in the store until its outcome is recorded."""

    def __init__(self, storage: Storage):
        self.storage = storage
        self._claims: set[int] = set()

    def ids(self) -> list[int]:
        """The item claims whose leases are renewed now."""
        return sorted(self._claims)

    def hold(self, work: ItemWork, now: datetime) -> int:
        """Write the item's claim (a write per new item, beside its article's record)."""
        return self.storage.hold_item(work.item.feed_url, work.to_json(), now)

    @contextlib.contextmanager
    def holding(self, claim: int) -> Iterator[Hold]:
        """Renew the claim while the block runs, then finish it: the item's outcome is recorded, or
        reading it failed for the item's own reason (the feed's next poll tries again).

        Cancelled (the instance is stopping), the store failing, or the block setting `leave` (the item
        was not read): the claim is left to be given back at the stop, or to run out, and another
        instance reads the item.
        """
        self._claims.add(claim)
        hold = Hold(claim)
        finished = False
        try:
            yield hold
            finished = not hold.leave
        except (asyncio.CancelledError, StorageError):
            raise
        except Exception:
            finished = True
            raise
        finally:
            self._claims.discard(claim)
            if finished:
                with contextlib.suppress(StorageError):  # left behind: taken over, found seen, finished
                    self.storage.finish_items([claim])
