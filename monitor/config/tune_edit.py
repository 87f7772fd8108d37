"""The edits `tune` suggests, made in the watchlists file by the same round-trip editor as `watch`
(watch_edit): an `exclude` phrase or `case_sensitive: true` on one term, a watchlist's `min_mentions`, or
its `query:` (set below `terms:`, or replaced where it is). Saved with watch_edit.save_edit, so the whole
configuration is validated first and comments are kept."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.scalarstring import DoubleQuotedScalarString, SingleQuotedScalarString

from .watch_edit import Edit, WatchEditRefused, WatchlistsFile, require_watchlist, term_text
from .yaml_edit import append_item, flow_list, insert_key_after, scalar

QUERY_KINDS = ("near", "title")  # the suggestions that are a new query (value: the query)


def tune_watchlist(file: WatchlistsFile, watchlist: str, kind: str, term: str | None, value: Any) -> Edit:
    """Make one suggested change: kind is exclude (value: the phrase), case_sensitive, min_mentions, or
    near or title (value: the watchlist's new query)."""
    _, node = require_watchlist(file, watchlist)
    if kind == "min_mentions":
        node["min_mentions"] = int(value)
        return Edit(f"set min_mentions: {value} on watchlist {watchlist!r}")
    if kind in QUERY_KINDS:
        return _set_query(node, watchlist, str(value))
    if kind not in ("case_sensitive", "exclude"):
        raise WatchEditRefused(f"unknown change {kind!r}")
    terms = node.get("terms") or CommentedSeq()
    # Every term of that name: the backtest edits each of them (two `PLA` terms, one with aliases, are
    # valid), and an edit of the first alone would keep what the backtest said it removes.
    indexes = [i for i, item in enumerate(terms) if term_text(item) == term]
    if not indexes:
        raise WatchEditRefused(f"watchlist {watchlist!r} has no term {term!r} any more; run tune again")
    for index in indexes:
        _edit_term(terms, index, kind, value)
    if kind == "case_sensitive":
        return Edit(f"made term {term!r} of watchlist {watchlist!r} case-sensitive")
    return Edit(f"excluded {str(value)!r} from term {term!r} of watchlist {watchlist!r}")


def _edit_term(terms: CommentedSeq, index: int, kind: str, value: Any) -> None:
    item = terms[index]
    if not isinstance(item, Mapping):  # a plain `- PLA` becomes `- term: PLA` with the new setting
        item = CommentedMap(term=scalar(str(item)))
        terms[index] = item
        _move_line_comment(terms, index, item)
    if kind == "case_sensitive":
        item["case_sensitive"] = True
    elif "exclude" not in item:
        item["exclude"] = flow_list([str(value)])
    else:
        append_item(item["exclude"], scalar(str(value)))


def _set_query(node: CommentedMap, watchlist: str, query: str) -> Edit:
    # In single quotes when it has a "phrase", as docs/query-language.md writes queries; else as `scalar`.
    value = SingleQuotedScalarString(query) if '"' in query else scalar(query)
    if "query" in node:
        _replace_keeping_comment(node, "query", value)
        return Edit(f"replaced the query of watchlist {watchlist!r} with {query!r}")
    if "terms" not in node:
        raise WatchEditRefused(f"watchlist {watchlist!r} has no terms any more; run tune again")
    insert_key_after(node, "terms", "query", value)
    return Edit(f"set query {query!r} on watchlist {watchlist!r}")


def _replace_keeping_comment(node: CommentedMap, key: str, value: str) -> None:
    """A new value for `key`, which keeps its place and its comments."""
    longer = _written_length(value) > _written_length(node[key])
    node[key] = value
    entry = node.ca.items.get(key)
    token = entry[2] if entry else None
    # As in _move_line_comment: a longer value passes the comment's column, and ruamel then leaves one space.
    if token is not None and longer and not token.value.startswith((" ", "\n")):
        token.value = " " + token.value


def _written_length(value: Any) -> int:
    quoted = isinstance(value, SingleQuotedScalarString | DoubleQuotedScalarString)
    return len(str(value)) + 2 * quoted


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
