"""The edits `tune` suggests, made in the watchlists file by the same round-trip editor as `watch`
(watch_edit): an `exclude` phrase or `case_sensitive: true` on one term, or a watchlist's `min_mentions`.
Saved with watch_edit.save_edit, so the whole configuration is validated first and comments are kept."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ruamel.yaml.comments import CommentedMap, CommentedSeq

from .watch_edit import Edit, WatchEditRefused, WatchlistsFile, require_watchlist, term_text
from .yaml_edit import append_item, flow_list, scalar


def tune_watchlist(file: WatchlistsFile, watchlist: str, kind: str, term: str | None, value: Any) -> Edit:
    """Make one suggested change: kind is exclude (value: the phrase), case_sensitive or min_mentions."""
    _, node = require_watchlist(file, watchlist)
    if kind == "min_mentions":
        node["min_mentions"] = int(value)
        return Edit(f"set min_mentions: {value} on watchlist {watchlist!r}")
    terms = node.get("terms") or CommentedSeq()
    index = next((i for i, item in enumerate(terms) if term_text(item) == term), None)
    if index is None:
        raise WatchEditRefused(f"watchlist {watchlist!r} has no term {term!r} any more; run tune again")
    item = terms[index]
    if not isinstance(item, Mapping):  # a plain `- PLA` becomes `- term: PLA` with the new setting
        item = CommentedMap(term=scalar(str(item)))
        terms[index] = item
        _move_line_comment(terms, index, item)
    if kind == "case_sensitive":
        item["case_sensitive"] = True
        return Edit(f"made term {term!r} of watchlist {watchlist!r} case-sensitive")
    if kind != "exclude":
        raise WatchEditRefused(f"unknown change {kind!r}")
    if "exclude" not in item:
        item["exclude"] = flow_list([str(value)])
    else:
        append_item(item["exclude"], scalar(str(value)))
    return Edit(f"excluded {str(value)!r} from term {term!r} of watchlist {watchlist!r}")


def _move_line_comment(terms: CommentedSeq, index: int, item: CommentedMap) -> None:
    """The comment at the end of a plain term's line stays at the end of its `term:` line."""
    comment = terms.ca.items.pop(index, None)
    if comment and comment[0] is not None:
        token = comment[0]
        # Written after the longer `term: PLA`, a comment's old column is passed: ruamel then leaves a
        # single space. Two, as before the edit (and as yamllint asks).
        if not token.value.startswith(" "):
            token.value = " " + token.value
        item.ca.items["term"] = [None, None, token, None]
