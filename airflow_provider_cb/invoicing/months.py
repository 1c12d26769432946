"""Calendar months in a time zone, as half-open intervals of instants.

A month in a zone is [the first instant at or after local midnight of its 1st,
the same instant of the next month's 1st), in whole epoch seconds. Wall-clock
arithmetic (``start_of("month")``, ``end_of("month")``) on an instant whose offset
lies on the other side of a clock change at midnight picks the wrong month or
loses the changed hour; here every boundary comes from the zone's own rules, so
consecutive months abut exactly and the result does not depend on the zone an
anchor instant arrives in.
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo


def zone(name: str) -> ZoneInfo:
    """The tz database zone ``name`` (ZoneInfo caches it); raises for an unknown name."""
    return ZoneInfo(name)


def wall_clock(instant: int, tz: ZoneInfo) -> dt.datetime:
    """The local date and time at ``instant`` (naive)."""
    return dt.datetime.fromtimestamp(instant, tz).replace(tzinfo=None)


def day_start(day: dt.date, tz: ZoneInfo) -> int:
    """The first instant at or after local midnight of ``day``.

    A repeated midnight counts from its first occurrence; a midnight skipped by a
    clock change begins the day at the change itself.
    """
    midnight = dt.datetime(day.year, day.month, day.day, tzinfo=tz)
    earliest = int(midnight.timestamp())  # fold=0: the first of a repeated midnight
    if wall_clock(earliest, tz) == midnight.replace(tzinfo=None):
        return earliest
    # Midnight lies in a gap: its two readings bracket the change.
    other = int(midnight.replace(fold=1).timestamp())
    return _first_change(min(earliest, other), max(earliest, other), tz)


def _first_change(before: int, after: int, tz: ZoneInfo) -> int:
    """The first second after ``before`` whose UTC offset differs from ``before``'s."""
    offset = dt.datetime.fromtimestamp(before, tz).utcoffset()
    while after - before > 1:
        middle = (before + after) // 2
        if dt.datetime.fromtimestamp(middle, tz).utcoffset() == offset:
            before = middle
        else:
            after = middle
    return after


def next_month(year: int, month: int) -> tuple[int, int]:
    return (year + 1, 1) if month == 12 else (year, month + 1)


def previous_month(year: int, month: int) -> tuple[int, int]:
    return (year - 1, 12) if month == 1 else (year, month - 1)


def month_bounds(year: int, month: int, tz: ZoneInfo) -> tuple[int, int]:
    """``(start, end)`` of the month in epoch seconds: start included, end excluded."""
    following = next_month(year, month)
    return (
        day_start(dt.date(year, month, 1), tz),
        day_start(dt.date(following[0], following[1], 1), tz),
    )


def month_of(instant: int, tz: ZoneInfo) -> tuple[int, int]:
    """The ``(year, month)`` whose interval holds ``instant``.

    The wall clock's month, except in an hour repeated after the next month's
    first midnight: its wall clock still shows the month's last day, but the
    instant lies after the next month began. (The wall clock never shows a month
    before that month's first instant, which is the first to reach its midnight.)
    """
    local = wall_clock(instant, tz)
    following = next_month(local.year, local.month)
    if (local + dt.timedelta(days=1)).month == local.month:
        return local.year, local.month
    if instant >= day_start(dt.date(following[0], following[1], 1), tz):
        return following
    return local.year, local.month
