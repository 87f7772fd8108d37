"""One exception tree for the whole service.

    MonitorError                 anything this package raises on purpose
    ├── ConfigError              a configuration file is missing or invalid (exit code 2)
    ├── FetchError               an HTTP request failed: timeout, status, too large, not HTML
    │   └── BlockedAddressError  a link from a feed points at a private/loopback address
    ├── FeedError                a feed answered but could not be parsed as RSS/Atom
    ├── ExtractionError          a page held no article text
    ├── StorageError             the state database cannot be opened or written
    └── NotifyError              a notifier could not deliver an alert

Expected outcomes (no match, duplicate, not modified) are return values, not exceptions.
Failures are caught per item at the pipeline boundary, so one bad article never stops a cycle.
"""

from __future__ import annotations

from .redact import mask_secrets


class MonitorError(Exception):
    """Base class of every error this package raises on purpose."""


class ConfigError(MonitorError):
    """A configuration file is missing or invalid; the message says where and what to fix.

    `problems` holds every problem found (a file is checked whole, so a user fixes all in one go);
    the error itself describes the first.
    """

    def __init__(
        self,
        message: str,
        *,
        path: str | None = None,
        line: int | None = None,
        key: str | None = None,
        problems: list[ConfigError] | None = None,
    ):
        self.path = path
        self.line = line
        self.key = key
        # Messages quote what was written (a URL with its password); they reach the console, the log,
        # the Slack admin channel after a live edit. The key path is masked with them in
        # location_and_reason: a URL written as a key by mistake is part of the path.
        self.reason = mask_secrets(message)
        self.problems = problems or [self]
        super().__init__("\n".join(problem.location_and_reason() for problem in self.problems))

    def location_and_reason(self) -> str:
        """`file:line: key: what is wrong`, leaving out the parts that are unknown."""
        where = self.path or "configuration"
        if self.line is not None:
            where += f":{self.line}"
        if self.key:
            where += f": {self.key}"
        return mask_secrets(f"{where}: {self.reason}")


class FetchError(MonitorError):
    """An HTTP request failed."""

    def __init__(self, url: str, reason: str, *, status: int | None = None, retry_after: float | None = None):
        self.url = url
        self.reason = reason
        self.status = status
        self.retry_after = retry_after  # seconds the server asked us to wait (429/503 Retry-After)
        super().__init__(f"fetch: {reason}: url={url}")


class BlockedAddressError(FetchError):
    """A link taken from a feed resolves to an address we must not reach (SSRF guard)."""


class FeedError(MonitorError):
    """A feed could not be parsed."""

    def __init__(self, feed_url: str, reason: str):
        self.feed_url = feed_url
        self.reason = reason
        super().__init__(f"feed: {reason}: feed_url={feed_url}")


class ExtractionError(MonitorError):
    """A page held no extractable article text."""

    def __init__(self, url: str, reason: str):
        self.url = url
        self.reason = reason
        super().__init__(f"extract: {reason}: url={url}")


class StorageError(MonitorError):
    """The state database cannot be opened, migrated or written."""


class NotifyError(MonitorError):
    """A notifier could not deliver an alert."""

    def __init__(
        self,
        channel: str,
        reason: str,
        *,
        permanent: bool = False,
        retry_after: float | None = None,
        outage: str | None = None,
    ):
        self.channel = channel
        self.reason = reason
        self.permanent = permanent
        self.retry_after = retry_after  # seconds Slack asked us to wait (429 Retry-After)
        # Set when Slack itself failed (unreachable, 5xx, internal_error...), not this alert: what failed,
        # in a few words ("connection refused", "HTTP 503"). Every other post would fail the same way.
        self.outage = outage
        super().__init__(f"notify: unable to send an alert: channel={channel} error={reason}")
