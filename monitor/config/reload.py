"""Live reload for `run`: config edits take effect within seconds, bad edits never replace a good config.

The files are polled (size and modification time every RELOAD_CHECK_SECONDS) rather than watched with
inotify: editors that save by renaming, Docker bind mounts and network shares all defeat inotify in
ways a stat never misses, and two stats a second cost nothing.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import ConfigError
from ..logs import log_event, mask_credentials
from .loading import Config, load_config

log = logging.getLogger("monitor.reload")

RELOAD_CHECK_SECONDS = 1.0
# Settings read once at start; changing them needs a restart, which the reload log says.
_RESTART_ONLY = ("storage_url", "ops")


@dataclass(frozen=True)
class ConfigChange:
    """What an edit changed, for the reload log line."""

    watchlists_added: tuple[str, ...] = ()
    watchlists_removed: tuple[str, ...] = ()
    watchlists_edited: tuple[str, ...] = ()
    feeds_added: tuple[str, ...] = ()
    feeds_removed: tuple[str, ...] = ()
    feeds_edited: tuple[str, ...] = ()
    settings_edited: tuple[str, ...] = ()
    needs_restart: tuple[str, ...] = field(default=())

    def describe(self) -> str:
        """Only what changed: `watchlists_added=a,b feeds_removed=https://...`; "nothing" otherwise."""
        parts = [f"{name}={','.join(values)}" for name, values in vars(self).items() if values]
        return " ".join(parts) or "nothing"


def diff_configs(old: Config, new: Config) -> ConfigChange:
    old_lists = {w.name: w for w in old.watchlists}
    new_lists = {w.name: w for w in new.watchlists}
    old_feeds = {f.url: f for f in old.feeds}
    new_feeds = {f.url: f for f in new.feeds}
    settings = ("slack", "poll", "fetch", "site_rules")
    return ConfigChange(
        watchlists_added=tuple(n for n in new_lists if n not in old_lists),
        watchlists_removed=tuple(n for n in old_lists if n not in new_lists),
        watchlists_edited=tuple(n for n in new_lists if n in old_lists and new_lists[n] != old_lists[n]),
        feeds_added=tuple(u for u in new_feeds if u not in old_feeds),
        feeds_removed=tuple(u for u in old_feeds if u not in new_feeds),
        feeds_edited=tuple(u for u in new_feeds if u in old_feeds and new_feeds[u] != old_feeds[u]),
        settings_edited=tuple(s for s in settings if getattr(old, s) != getattr(new, s)),
        needs_restart=tuple(s for s in _RESTART_ONLY if getattr(old, s) != getattr(new, s)),
    )


Stamp = tuple[tuple[str, int, int], ...]


def stamp_files(paths: tuple[Path, ...]) -> Stamp:
    """(path, mtime_ns, size) of each file; a missing file counts as (path, 0, -1)."""
    stamps = []
    for path in paths:
        try:
            info = path.stat()
            stamps.append((str(path), info.st_mtime_ns, info.st_size))
        except OSError:
            stamps.append((str(path), 0, -1))
    return tuple(stamps)


class ConfigWatcher:
    """Polls the config files; on a valid edit calls `apply`, on an invalid one `reject` (once per error)."""

    def __init__(
        self,
        config: Config,
        *,
        apply: Callable[[Config, ConfigChange], Awaitable[None]],
        reject: Callable[[ConfigError], Awaitable[None]],
        interval: float = RELOAD_CHECK_SECONDS,
    ):
        self.config = config
        self.apply = apply
        self.reject = reject
        self.interval = interval
        self._stamp = stamp_files(config.files())
        self._last_error: str | None = None

    async def run(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            try:
                await asyncio.wait_for(stop.wait(), timeout=self.interval)
            except TimeoutError:
                await self.check()

    async def check(self) -> bool:
        """Reload if a file changed; True when a new configuration was applied."""
        stamp = stamp_files(self.config.files())
        if stamp == self._stamp:
            return False
        self._stamp = stamp
        try:
            new = load_config(self.config.path)
        except ConfigError as exc:
            await self._refuse(exc)
            return False
        self._last_error = None
        change = diff_configs(self.config, new)
        self.config = new
        self._stamp = stamp_files(new.files())  # the watchlists file may have been renamed
        await self.apply(new, change)
        log.info(mask_credentials(f"config.reloaded {change.describe()}"))
        if change.needs_restart:
            log_event(log, logging.WARNING, "config.restart_needed", settings=",".join(change.needs_restart))
        return True

    async def _refuse(self, exc: ConfigError) -> None:
        text = str(exc)
        if text == self._last_error:
            return  # the same broken file, saved again: one notice is enough
        self._last_error = text
        log_event(log, logging.ERROR, "config.rejected", reason=text.replace("\n", " | "),
                  kept="the last valid configuration")  # fmt: skip
        await self.reject(exc)
