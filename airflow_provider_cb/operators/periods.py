"""The date range a selection covers, decided once and stated in the log.

Money needs a period: a selection never drops its date filter silently. A run
with no data interval (triggered without a logical date) or a zero-length one
(``schedule=None``, a trigger timetable) fails with ``period="data_interval"``
instead of selecting every invoice. A calendar month is an interval of instants
in a named timezone (:mod:`~airflow_provider_cb.invoicing.months`), so neither a
cron schedule's hour nor a clock change at midnight moves its boundary; a
manual run dated with a bare date that is another day in that timezone fails
naming both months it could mean, rather than guessing.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from dataclasses import dataclass
from typing import Any

from airflow_provider_cb.chargebee_api.errors import ChargebeeValidationError
from airflow_provider_cb.invoicing.months import (
    day_start,
    month_bounds,
    month_of,
    previous_month,
    wall_clock,
    zone,
)

PERIODS = ("data_interval", "previous_month", "month", "all")
SCHEDULED_RUN_TYPES = frozenset({"scheduled", "backfill"})
"""Runs whose logical date the schedule set: their reading of it is the schedule's."""
_MONTH = re.compile(r"(\d{4})-(\d{2})")
_HOW_TO_FIX = (
    'pass period="previous_month" or period="month" (a calendar month in `timezone`, '
    'from the logical date), month="YYYY-MM", an explicit date filter, or a logical date '
    "when triggering"
)


def check_timezone(value: object) -> str:
    """A tz database name, e.g. ``"Europe/Berlin"``."""
    if not isinstance(value, str) or not value:
        raise ChargebeeValidationError("timezone", f"{value!r} is not a timezone name")
    try:
        zone(value)
    except (KeyError, ValueError, OSError):
        raise ChargebeeValidationError("timezone", f"{value!r} is not a known timezone") from None
    return value


def check_period(value: object) -> str:
    if value not in PERIODS:
        raise ChargebeeValidationError("period", f"{value!r} is not one of {', '.join(PERIODS)}")
    return str(value)


def check_month(value: object) -> tuple[int, int]:
    """``"2026-10"`` -> ``(2026, 10)``."""
    found = _MONTH.fullmatch(value) if isinstance(value, str) else None
    if found is None or not 1 <= int(found.group(2)) <= 12 or int(found.group(1)) < 1970:
        raise ChargebeeValidationError("month", f"{value!r} is not a month like '2026-10'")
    return int(found.group(1)), int(found.group(2))


@dataclass(frozen=True)
class Period:
    """Invoices dated from ``start`` (included) to ``end`` (excluded), in epoch seconds.

    No bounds selects any date. ``anchor`` says what fixed the range, for the log.
    """

    start: int | None
    end: int | None
    timezone: str
    anchor: str = ""

    def date_filter(self) -> dict[str, Any] | None:
        """What Chargebee is asked for: one second wider than the range at each end.

        Whether ``date[between]`` includes its ends is not documented; asking for
        ``[start - 1, end]`` returns a superset of the range whichever way it
        behaves, and :meth:`contains` keeps exactly the invoices inside it.
        """
        if self.start is None or self.end is None:
            return None
        return {"between": (self.start - 1, self.end)}

    def contains(self, date: object) -> bool:
        """Whether an invoice's ``date`` lies in the range (any date, for ``all``)."""
        if self.start is None or self.end is None:
            return True
        if isinstance(date, bool) or not isinstance(date, int):
            return False
        return self.start <= date < self.end

    def _local(self, instant: int) -> dt.datetime:
        return dt.datetime.fromtimestamp(instant, zone(self.timezone))

    def label(self) -> str:
        """``2026-10-01..2026-10-31 Europe/Berlin``, with times only when not whole days."""
        if self.start is None or self.end is None:
            return "at any date (period='all')"
        tz = zone(self.timezone)
        first, last = wall_clock(self.start, tz), wall_clock(self.end - 1, tz)
        whole_days = self.start == day_start(first.date(), tz) and self.end == day_start(
            wall_clock(self.end, tz).date(), tz
        )
        if whole_days:
            return f"{first.date().isoformat()}..{last.date().isoformat()} {self.timezone}"
        return f"{first.isoformat(' ')}..{last.isoformat(' ')} {self.timezone}"

    def describe(self) -> str:
        """The range as instants, half-open, with its anchor and what is sent."""
        if self.start is None or self.end is None:
            return "period 'all': no date filter, written out on purpose"
        return (
            f"period {self.label()} ({self.anchor}): invoices dated from "
            f"{self._local(self.start).isoformat()} (included) to "
            f"{self._local(self.end).isoformat()} (excluded); asked Chargebee for "
            f"date[between] [{self.start - 1}, {self.end}], a second wider at each end, and "
            "kept only invoices dated inside, whether or not between includes its ends"
        )

    def as_dict(self) -> dict[str, Any]:
        return {
            "start": self._local(self.start).isoformat() if self.start is not None else None,
            "end": self._local(self.end).isoformat() if self.end is not None else None,
            "end_excluded": True,
            "timezone": self.timezone,
            "anchor": self.anchor,
            "label": self.label(),
        }


def month_period(year: int, month: int, timezone: str, anchor: str) -> Period:
    start, end = month_bounds(year, month, zone(timezone))
    return Period(start, end, timezone, anchor)


def _seconds(moment: dt.datetime) -> int:
    return math.floor(moment.timestamp())


def _calendar_month(period: str, anchor: int, timezone: str) -> tuple[int, int]:
    """The month ``period`` means from the instant ``anchor``."""
    found = month_of(anchor, zone(timezone))
    return previous_month(*found) if period == "previous_month" else found


def _refuse_bare_date(period: str, logical_date: dt.datetime, timezone: str) -> None:
    """Fail when a bare date (midnight UTC) names another month read as a local date."""
    utc = logical_date.astimezone(dt.UTC)
    if utc.timetz().replace(tzinfo=None) != dt.time(0):
        return
    tz = zone(timezone)
    instant = _seconds(utc)
    if wall_clock(instant, tz).date() == utc.date():
        return
    as_local_date = day_start(utc.date(), tz)
    by_instant = _calendar_month(period, instant, timezone)
    by_date = _calendar_month(period, as_local_date, timezone)
    if by_instant == by_date:
        return
    local = dt.datetime.fromtimestamp(instant, tz)
    date_text = utc.date().isoformat()
    raise ChargebeeValidationError(
        "period",
        f"{period!r} is ambiguous for this manual run: its logical date {utc.isoformat()} is a "
        f"bare date (midnight UTC), which is {local.isoformat(' ')} in {timezone}. Read as "
        f"that instant, {period} is {by_instant[0]}-{by_instant[1]:02d}; read as the date "
        f"{date_text} in {timezone}, it is {by_date[0]}-{by_date[1]:02d}. Choose: pass "
        f'month="{by_date[0]}-{by_date[1]:02d}" (or month="{by_instant[0]}-{by_instant[1]:02d}"), '
        f"or trigger with a local time, e.g. "
        f"{dt.datetime.fromtimestamp(as_local_date, tz).isoformat()}",
    )


def resolve_period(
    period: str | None,
    *,
    timezone: str,
    logical_date: dt.datetime | None,
    run_after: dt.datetime | None,
    interval_start: dt.datetime | None,
    interval_end: dt.datetime | None,
    month: str | None = None,
    run_type: str | None = None,
) -> Period:
    """The range ``period`` (or ``month``) means for one run; raises, naming the fix."""
    if month is not None:
        if period not in (None, "month", "previous_month"):
            raise ChargebeeValidationError(
                "month", f"{month!r} contradicts period={period!r}; pass one of them"
            )
        year, number = check_month(month)
        return month_period(year, number, timezone, f"month={month!r} in {timezone}")
    period = period or "data_interval"
    if period == "all":
        return Period(None, None, timezone, "period='all'")
    if period in ("month", "previous_month"):
        anchor = logical_date or run_after
        if anchor is None:
            raise ChargebeeValidationError(
                "period", "the run has neither logical date nor run_after"
            )
        if logical_date is not None and run_type not in SCHEDULED_RUN_TYPES:
            _refuse_bare_date(period, logical_date, timezone)
        source = "logical date" if logical_date is not None else "run_after"
        year, number = _calendar_month(period, _seconds(anchor), timezone)
        how = f"{period} from {source} {anchor.astimezone(dt.UTC).isoformat()} in {timezone}"
        return month_period(year, number, timezone, how)
    if interval_start is None or interval_end is None:
        raise ChargebeeValidationError(
            "period",
            "'data_interval' but this run has no data interval (it was triggered without a "
            f"logical date); {_HOW_TO_FIX}",
        )
    start, end = _seconds(interval_start), _seconds(interval_end)
    if end <= start:
        raise ChargebeeValidationError(
            "period",
            f"'data_interval' but this run's data interval {interval_start.isoformat()}.."
            f"{interval_end.isoformat()} is empty (schedule=None or a trigger timetable); "
            f"{_HOW_TO_FIX}",
        )
    return Period(start, end, timezone, "the run's data interval")
