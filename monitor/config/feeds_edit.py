"""`news-monitor feeds add|remove`: the `feeds:` list of monitor.yaml, edited in place.

Edited as `watch` edits a watchlists file (watch_edit.py, yaml_edit.py): round-trip, so comments, order
and formatting stay as written; the whole configuration is validated with the edit before anything is
written; the file is replaced atomically, so a running `news-monitor run` picks the change up.
"""

from __future__ import annotations

import difflib
import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from ruamel.yaml.comments import CommentedMap, CommentedSeq

from ..errors import MonitorError
from ..redact import mask_configured_url
from ..text import cut
from .loading import load_config
from .watch_edit import Edit, WatchEditRefused, WatchlistsFile, save_edit
from .yaml_edit import YamlDocument, append_item, flow_list, remove_item, scalar

_DEFAULT_PORTS = {"http": 80, "https": 443}
# A name from a feed's title is shown in alerts, status and `feeds list`: one short line.
MAX_NAME_CHARS = 60
_URL_ONLY = re.compile(r"[a-z][a-z0-9+.-]*://\S+", re.IGNORECASE)


class FeedEditRefused(MonitorError):
    """The edit was not made: a duplicate feed, an unknown one, no --yes, an invalid result."""


@dataclass(frozen=True)
class NewFeed:
    url: str
    name: str | None = None
    tags: tuple[str, ...] = ()
    interval: str | None = None  # as typed (`5m`): written as the operator would write it

    def to_yaml(self) -> CommentedMap:
        node = CommentedMap(url=scalar(self.url))
        if self.name:
            node["name"] = scalar(self.name)
        if self.interval:
            node["interval"] = scalar(self.interval)
        if self.tags:
            node["tags"] = flow_list(self.tags)
        return node


@dataclass
class MonitorFile:
    """monitor.yaml loaded for editing its feeds."""

    document: YamlDocument

    @property
    def path(self) -> Path:
        return self.document.path

    @property
    def feeds(self) -> CommentedSeq:
        """`feeds:` as written; an empty list when monitor.yaml has none (news search alone)."""
        seq = self.document.root.get("feeds")
        return seq if isinstance(seq, CommentedSeq) else CommentedSeq()

    def feeds_to_extend(self) -> CommentedSeq:
        """`feeds:`, made a block list first when monitor.yaml has none, or `feeds: []`."""
        seq = self.document.root.get("feeds")
        if not isinstance(seq, CommentedSeq) or (not seq and seq.fa.flow_style()):
            seq = CommentedSeq()
            self.document.root["feeds"] = seq
        return seq


def open_monitor_file(config_path: Path) -> MonitorFile:
    """monitor.yaml for editing; the configuration must be valid before it is edited."""
    load_config(config_path)
    return MonitorFile(YamlDocument.read(config_path.resolve()))


def find_feed(file: MonitorFile, url: str) -> tuple[int, Mapping[str, Any]] | None:
    """The configured feed with this URL (spelled with another case of host, default port or final /)."""
    wanted = same_feed_key(url)
    for index, node in enumerate(file.feeds):
        if isinstance(node, Mapping) and same_feed_key(str(node.get("url") or "")) == wanted:
            return index, node
    return None


def add_feed(file: MonitorFile, feed: NewFeed) -> Edit:
    """Append the feed to `feeds:`; a URL already there is refused, naming where."""
    refuse_duplicate(file, feed.url)
    append_item(file.feeds_to_extend(), feed.to_yaml())
    return Edit(f"added the feed {mask_configured_url(feed.url)}" + (f" ({feed.name})" if feed.name else ""))


def name_from_title(file: MonitorFile, title: str) -> str | None:
    """A name for a feed added without --name: its title, cleaned, unique among the configured feeds.

    Cleaned: control and format characters (bidi overrides, zero-width spaces) become spaces, runs of
    space one, cut to MAX_NAME_CHARS at a word. A title that is only a URL (the feed's, when it has no
    title) gives its host; a title that mentions a URL is a title.
    A name taken by another feed (in any case) gets ` (2)`, ` (3)`, ... None: no name.
    """
    if _URL_ONLY.fullmatch(title.strip()):
        title = urlsplit(title.strip()).hostname or ""
    spaced = "".join(" " if unicodedata.category(char).startswith("C") else char for char in title)
    name = cut(" ".join(spaced.split()), MAX_NAME_CHARS)
    if not name:
        return None
    nodes = [node for node in file.feeds if isinstance(node, Mapping) and node.get("name")]
    taken = {str(node["name"]).casefold() for node in nodes}
    number, unique = 1, name
    while unique.casefold() in taken:
        number += 1
        unique = f"{name} ({number})"
    return unique


def refuse_duplicate(file: MonitorFile, url: str) -> None:
    """FeedEditRefused when `url` is already one of the feeds, naming its line."""
    found = find_feed(file, url)
    if found is not None:
        index, node = found
        name = f" (name: {node.get('name')})" if node.get("name") else ""
        raise FeedEditRefused(
            f"{mask_configured_url(url)} is already a feed in {file.path}:{_line_of(file.feeds, index)}"
            f"{name}; nothing was added"
        )


def remove_feed(file: MonitorFile, name_or_url: str, *, confirmed: bool) -> Edit:
    """Remove the feed named so (or with this URL); `confirmed` (--yes) is required, as for a watchlist."""
    index, node = _require_feed(file, name_or_url)
    shown = mask_configured_url(str(node.get("url")))
    label = f"{node.get('name')} ({shown})" if node.get("name") else shown
    if not confirmed:
        raise FeedEditRefused(f"this removes the feed {label} from {file.path}: add --yes to confirm")
    remove_item(file.feeds, index, file.document.root, "feeds")
    only = "" if file.feeds else "it is the only feed and there is no search: add another feed first"
    return Edit(f"removed the feed {label}", hint_if_invalid=only)


def save_feeds_edit(file: MonitorFile, edit: Edit, config_path: Path, *, dry_run: bool) -> str:
    """Validate the whole configuration with the edit, then (unless dry_run) replace monitor.yaml.

    Returns the unified diff. monitor.yaml is saved as watch_edit saves a file holding inline watchlists.
    """
    as_edited = WatchlistsFile(file.document, config_path.resolve())
    try:
        return save_edit(as_edited, edit, dry_run=dry_run)
    except WatchEditRefused as exc:
        raise FeedEditRefused(str(exc)) from None


def same_feed_key(url: str) -> str:
    """The URL with what does not tell two feeds apart left out: the case of scheme and host, a
    default port, a trailing slash, a fragment."""
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError:
        return url.strip()
    scheme = parts.scheme.lower()
    netloc = (parts.hostname or "") + (f":{port}" if port and port != _DEFAULT_PORTS.get(scheme) else "")
    userinfo = parts.netloc.rpartition("@")[0]
    netloc = f"{userinfo}@{netloc}" if userinfo else netloc
    return urlunsplit((scheme, netloc, parts.path.rstrip("/"), parts.query, ""))


def _require_feed(file: MonitorFile, name_or_url: str) -> tuple[int, Mapping[str, Any]]:
    named = [
        (index, node)
        for index, node in enumerate(file.feeds)
        if isinstance(node, Mapping) and str(node.get("name")) == name_or_url
    ]
    if len(named) > 1:
        lines = ", ".join(_line_of(file.feeds, index) for index, _ in named)
        raise FeedEditRefused(f"{len(named)} feeds are named {name_or_url!r} (lines {lines}): give its URL")
    found = named[0] if named else find_feed(file, name_or_url)
    if found is None:
        raise _unknown_feed(file, name_or_url)
    return found


def _unknown_feed(file: MonitorFile, name_or_url: str) -> FeedEditRefused:
    nodes = [node for node in file.feeds if isinstance(node, Mapping)]
    names = [str(node["name"]) for node in nodes if node.get("name")]
    known = names + [mask_configured_url(str(node.get("url"))) for node in nodes]
    close = difflib.get_close_matches(name_or_url, known, n=3)
    hint = f"; did you mean {' or '.join(map(repr, close))}?" if close else " (`feeds list` shows them)"
    return FeedEditRefused(f"no feed named or at {name_or_url!r} in {file.path}{hint}")


def _line_of(seq: CommentedSeq, index: int) -> str:
    try:
        return str(seq.lc.item(index)[0] + 1)
    except (KeyError, IndexError, TypeError):
        return "?"
