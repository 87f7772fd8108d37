"""Crontab schedules (`digest: "0 8 * * 1-5"`) read with standard cron meaning, on APScheduler 3.

Two places where APScheduler 3's `CronTrigger.from_crontab` differs from cron, fixed or refused here:

- weekday numbers: cron counts 0 (or 7) as Sunday, APScheduler 3 as Monday, so "1-5" would fire Tuesday
  to Saturday (agronholm/apscheduler#286; fixed only in 4.x). The weekday field is rewritten as names.
- a schedule restricting both the day of month and the weekday fires in cron when *either* matches,
  in APScheduler when both do. Such a schedule is refused rather than run differently from crontab.
"""

from __future__ import annotations

import difflib
import re
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from apscheduler.triggers.cron import CronTrigger

_WEEKDAYS = ("sun", "mon", "tue", "wed", "thu", "fri", "sat")
_WEEKDAY_ITEM = re.compile(r"^(\*|\w+)(?:-(\w+))?(?:/(\d+))?$")
# How far back the last fire time is looked for, widening step by step: a minutely schedule is found in
# the first step, a yearly one ("0 0 1 1 *") in the last.
_LOOKBACKS = (timedelta(hours=2), timedelta(days=2), timedelta(days=35), timedelta(days=370))
_EXAMPLE = '"0 8 * * 1-5" (minute hour day-of-month month weekday: 08:00 Monday to Friday)'


def parse_timezone(name: str) -> ZoneInfo:
    """An IANA zone by name; the error names close matches."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        close = difflib.get_close_matches(name, sorted(available_timezones()), n=3) if name else []
        hint = f" (did you mean {', '.join(close)}?)" if close else ""
        raise ValueError(
            f"unknown time zone {name!r}{hint}; use an IANA name such as Europe/Berlin, "
            f"America/New_York or UTC"
        ) from None


def parse_crontab(expr: str, timezone: str = "UTC") -> CronTrigger:
    """A trigger for a 5-field crontab expression with cron's meaning; ValueError says what is wrong."""
    fields = expr.split()
    if len(fields) != 5:
        raise ValueError(f"expected 5 cron fields, e.g. {_EXAMPLE}; got {len(fields)} in {expr!r}")
    minute, hour, day, month, weekday = fields
    if day != "*" and weekday != "*":
        raise ValueError(
            f"{expr!r} restricts both the day of month and the weekday, which cron reads as either one; "
            f"write one of them as *"
        )
    try:
        trigger = CronTrigger(
            minute=minute, hour=hour, day=day, month=month,
            day_of_week=_weekdays_as_names(weekday), timezone=parse_timezone(timezone),
        )  # fmt: skip
    except ValueError as exc:
        raise ValueError(f"invalid cron schedule {expr!r}: {exc}; for example {_EXAMPLE}") from None
    if trigger.get_next_fire_time(None, datetime(2000, 1, 1, tzinfo=UTC)) is None:
        raise ValueError(f"the cron schedule {expr!r} never fires (is the day valid in that month?)")
    return trigger


def last_fire_time(trigger: CronTrigger, now: datetime) -> datetime | None:
    """The latest time <= now the schedule fired (None if not within a year), in UTC."""
    for lookback in _LOOKBACKS:
        fire = trigger.get_next_fire_time(None, now - lookback)
        if fire is None or fire > now:
            continue
        while True:
            following = trigger.get_next_fire_time(fire, fire)
            if following is None or following > now:
                return fire.astimezone(UTC)
            fire = following
    return None


def _weekdays_as_names(field: str) -> str:
    """Cron's weekday field (0 or 7 = Sunday) as APScheduler day names, which mean the same to both."""
    if field == "*":
        return field
    days: set[int] = set()
    for item in field.split(","):
        days |= _weekday_item(item.lower())
    # Names in cron's order; APScheduler reads a list of names the same whatever its own numbering.
    return ",".join(_WEEKDAYS[day] for day in sorted(days))


def _weekday_item(item: str) -> set[int]:
    match = _WEEKDAY_ITEM.match(item)
    if not match:
        raise ValueError(f"invalid weekday {item!r}: use 0-7 (0 and 7 are Sunday) or sun-sat")
    first, last, step = match.groups()
    if first == "*":
        start, end = 0, 6
    else:
        start = _weekday_number(first)
        end = _weekday_number(last) if last else start
    if last and end == 0:
        end = 7  # "5-7" and "fri-sun" run to Sunday
    if end < start:
        raise ValueError(f"invalid weekday range {item!r}: the first day must come before the last")
    if step is not None and int(step) < 1:
        raise ValueError(f"invalid weekday step in {item!r}: it must be at least 1")
    if step is not None and not last and first != "*":
        end = 6  # "1/2" means from Monday on, every second day
    return {day % 7 for day in range(start, end + 1, int(step or 1))}


def _weekday_number(text: str) -> int:
    if text.isdigit() and int(text) <= 7:
        return int(text)
    if text[:3] in _WEEKDAYS and len(text) == 3:
        return _WEEKDAYS.index(text)
    raise ValueError(f"invalid weekday {text!r}: use 0-7 (0 and 7 are Sunday) or sun-sat")
