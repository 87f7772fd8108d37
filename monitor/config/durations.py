"""Durations as the configuration writes them (30s, 10m, 2h, 3d, 1h30m): parsing, writing, the field types."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Annotated, Any

from pydantic import BeforeValidator

_UNIT_SECONDS = {"d": 86400, "h": 3600, "m": 60, "s": 1}
# A number and a unit, or several, largest unit first: 30s, 10m, 2h, 3d, 1h30m, 1d12h, 1.5h. One unit at
# most once and in that order, so "30m1h" (a typo more often than not) is refused. Plain groups and a
# lookahead only: schema.py hands the same text to editors as an ECMA-262 JSON Schema pattern.
DURATION_PATTERN = r"^\s*(?=\d)" + "".join(rf"(?:(\d+(?:\.\d+)?)\s*{u}\s*)?" for u in _UNIT_SECONDS) + "$"
_DURATION = re.compile(DURATION_PATTERN)


def parse_duration(value: Any, *, allow_zero: bool = False) -> timedelta:
    """Turn "30s", "10m", "2h", "3d" or "1h30m" into a timedelta."""
    if isinstance(value, timedelta):
        return value
    match = _DURATION.match(value) if isinstance(value, str) else None
    if not match:
        raise ValueError(
            f"expected a duration such as 30s, 10m, 2h or 3d, or units combined largest first "
            f"such as 1h30m, got {value!r}"
        )
    sizes = _UNIT_SECONDS.values()
    seconds = sum(float(number) * size for number, size in zip(match.groups(), sizes, strict=True) if number)
    if seconds <= 0 and not allow_zero:
        raise ValueError(f"a duration must be longer than zero, got {value!r}")
    return timedelta(seconds=seconds)


def duration_text(span: timedelta) -> str:
    """A duration as it is written in the config: "90s", "10m", "2h", "3d"."""
    seconds = span.total_seconds()
    for unit in ("d", "h", "m"):
        if seconds >= _UNIT_SECONDS[unit] and seconds % _UNIT_SECONDS[unit] == 0:
            return f"{seconds / _UNIT_SECONDS[unit]:.0f}{unit}"
    return f"{seconds:g}s"


Duration = Annotated[timedelta, BeforeValidator(parse_duration)]
DurationOrZero = Annotated[timedelta, BeforeValidator(lambda v: parse_duration(v, allow_zero=True))]
