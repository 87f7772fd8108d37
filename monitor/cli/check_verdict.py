"""One line of `check --online`: what was checked, what it showed, and what to do when it fails."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Outcome = Literal["ok", "warn", "fail"]
# The first column of each line, padded to one width so the subjects line up.
_MARKS = {"ok": "ok  ", "warn": "WARN", "fail": "FAIL"}


@dataclass(frozen=True)
class Verdict:
    """`ok` holds; `warn` holds but looks wrong (a feed with nothing new for days); `fail` does not hold."""

    outcome: Outcome
    subject: str
    detail: str
    fix: str | None = None

    @classmethod
    def passed(cls, subject: str, detail: str) -> Verdict:
        return cls("ok", subject, detail)

    @classmethod
    def warned(cls, subject: str, detail: str, fix: str | None = None) -> Verdict:
        return cls("warn", subject, detail, fix)

    @classmethod
    def failed(cls, subject: str, detail: str, fix: str | None = None) -> Verdict:
        return cls("fail", subject, detail, fix)

    @property
    def holds(self) -> bool:
        return self.outcome != "fail"

    def line(self) -> str:
        """`FAIL  #news (watchlist chips): ... -> fix: ...`, on one line."""
        fix = f" -> fix: {self.fix}" if self.fix else ""
        return f"  {_MARKS[self.outcome]}  {self.subject}: {self.detail}{fix}"
