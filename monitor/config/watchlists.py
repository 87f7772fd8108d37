"""The model of watchlists.yaml: watchlists, their terms and queries, and how they are delivered."""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BeforeValidator, Field, ValidationInfo, field_validator, model_validator

from ..query import Query, compile_user_regex, parse_query, reference_key
from ..text import normalise_text
from .cron import parse_crontab, parse_timezone
from .fields import UNQUOTED_HASH, StrictModel


def _require_words(phrase: str) -> str:
    """A term must still have a letter or digit after normalisation (invisible characters vanish)."""
    if not re.search(r"\w", normalise_text(phrase)):
        raise ValueError(f"{phrase!r} has no letters or digits to match")
    return phrase


Phrase = Annotated[str, AfterValidator(_require_words)]


def _require_regex(source: str) -> str:
    compile_user_regex(source)  # checked here, at load: its ValueError says what is wrong
    return source


UserRegex = Annotated[str, AfterValidator(_require_regex)]


class TermConfig(StrictModel):
    """A phrase with its aliases (`term:`), or a pattern (`regex:`, which `term:` may name)."""

    term: Phrase | None = None
    regex: UserRegex | None = None  # the `regex` package's syntax, run on normalised text
    case_sensitive: bool = False
    aliases: list[Phrase] = Field(default_factory=list)
    exclude: list[Phrase] = Field(default_factory=list)

    @model_validator(mode="after")
    def _term_or_regex(self) -> TermConfig:
        if self.term is None and self.regex is None:
            raise ValueError("a term needs `term:` (a word or phrase) or `regex:` (a pattern)")
        if self.regex is not None and self.aliases:
            raise ValueError("aliases are for phrases; with regex:, write alternatives in the pattern: (a|b)")
        return self

    @property
    def name(self) -> str:
        """What hits are reported under and a query refers to: the term, else the regex itself."""
        return self.term or self.regex or ""


def _term_from_plain_string(value: Any) -> Any:
    return {"term": value} if isinstance(value, str) else value


class WatchlistConfig(StrictModel):
    name: str = Field(min_length=1)
    channel: str | None = Field(default=None, min_length=1)
    # Not written: none (then a query is needed); written: at least one.
    terms: list[Annotated[TermConfig, BeforeValidator(_term_from_plain_string)]] = Field(
        default_factory=list, min_length=1
    )
    # When given, the query decides (docs/query-language.md); the terms are what its words can name.
    query: str | None = None
    # How many mentions an article needs; a mention in the headline counts TITLE_WEIGHT times.
    min_mentions: int = Field(default=1, ge=1, le=1000)
    priority: Literal["low", "normal", "high"] = "normal"
    notify: Literal["here"] | None = None  # @here with the alert; only for priority: high
    feeds: list[str] | None = None  # only articles from feeds with one of these tags
    # With `search:` in monitor.yaml, each watchlist's terms are searched for unless this is false.
    search: bool = True
    # `immediate`: an alert per story as it comes; `digest`: one message per `digest` schedule (cron, in
    # `timezone`) listing the stories since the previous one.
    delivery: Literal["immediate", "digest"] = "immediate"
    digest: str | None = None
    timezone: str = "UTC"

    @model_validator(mode="before")
    @classmethod
    def _channel_written_but_empty(cls, data: Any) -> Any:
        if isinstance(data, dict) and "channel" in data and data["channel"] is None:
            raise ValueError(f"channel {UNQUOTED_HASH}")
        return data

    @model_validator(mode="after")
    def _here_only_when_high(self) -> WatchlistConfig:
        if self.notify == "here" and self.priority != "high":
            raise ValueError("notify: here is only allowed with priority: high (it pings everyone online)")
        return self

    @model_validator(mode="after")
    def _terms_or_query(self) -> WatchlistConfig:
        if not self.terms and self.query is None:
            raise ValueError("a watchlist needs `terms:`, a `query:`, or both")
        return self

    @model_validator(mode="after")
    def _digest_schedule_with_digest_delivery(self) -> WatchlistConfig:
        if self.delivery == "digest" and self.digest is None:
            raise ValueError(
                'delivery: digest needs a schedule: add `digest: "0 8 * * 1-5"` (cron: minute hour '
                "day-of-month month weekday, in `timezone`, UTC unless set)"
            )
        if self.delivery == "immediate" and self.digest is not None:
            raise ValueError(
                "`digest:` is a schedule for digests, but this watchlist alerts immediately: "
                "add `delivery: digest`, or remove `digest:`"
            )
        return self

    @field_validator("digest")
    @classmethod
    def _digest_is_a_crontab(cls, schedule: str | None) -> str:
        if schedule is None:  # validators see only what was written: this is `digest:` with nothing after it
            raise ValueError(
                'the digest schedule is empty; write one, e.g. "0 8 * * 1-5", or leave the key out'
            )
        parse_crontab(schedule)  # its ValueError says what is wrong; the time zone does not change that
        return schedule

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, name: str) -> str:
        parse_timezone(name)
        return name

    @field_validator("query")
    @classmethod
    def _query_parses_and_uses_every_term(cls, query: str | None, info: ValidationInfo) -> str:
        if query is None:  # validators see only what was written: this is `query:` with nothing after it
            raise ValueError("the query is empty; write one, or leave the key out")
        # A QuerySyntaxError is a ValueError: "column 18: expected a term, phrase or '(' after AND".
        _check_query_uses_terms(parse_query(query), info.data.get("terms", []))
        return query


def _check_query_uses_terms(query: Query, terms: list[TermConfig]) -> None:
    """Every term of a watchlist with a query must be named in it: an unused one would never match."""
    used = {reference_key(leaf.text) for leaf in query.leaves() if leaf.kind != "prefix"}
    named: dict[str, int] = {}
    for index, term in enumerate(terms):
        if term.term is None:
            raise ValueError(
                f"terms[{index}] (regex {term.regex!r}) has no name the query can use: "
                f"add `term: <name>` to it and write that name in the query"
            )
        key = reference_key(term.term)
        if key in named:
            raise ValueError(
                f"terms[{named[key]}] and terms[{index}] are both named {term.term!r}; "
                f"the query could not tell them apart"
            )
        named[key] = index
        if key not in used:
            raise ValueError(
                f"terms[{index}] ({term.term!r}) is not used in the query, so it would never match: "
                f"write {term.term} in the query, or remove the term"
            )


class WatchlistsFile(StrictModel):
    watchlists: list[WatchlistConfig] = Field(min_length=1)
