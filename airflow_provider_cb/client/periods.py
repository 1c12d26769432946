"""The date range a selection covers, decided once and stated in the log.

Money needs a period: a selection never drops its date filter silently. A run
with no data interval (triggered without a logical date) or a zero-length one
(``schedule=None``, a trigger timetable) fails with ``period="data_interval"``
instead of selecting every invoice; a calendar month is computed in a named
timezone, so a cron schedule's hour never moves the month's boundary.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import pendulum

from airflow_provider_cb.client.errors import ChargebeeValidationError

PERIODS = ("data_interval", "previous_month", "month", "all")
_HOW_TO_FIX = (
    'pass period="previous_month" or period="month" (a calendar month in `timezone`, '
    "from the logical date), an explicit date filter, or a logical date when triggering"
)


def check_timezone(value: object) -> str:
    """A timezone name pendulum knows, e.g. ``"Europe/Berlin"``."""
    if not isinstance(value, str):
        raise ChargebeeValidationError("timezone", f"{value!r} is not a timezone name")
    try:
        pendulum.timezone(value)
    except Exception:
        raise ChargebeeValidationError("timezone", f"{value!r} is not a known timezone") from None
    return value


def check_period(value: object) -> str:
    if value not in PERIODS:
        raise ChargebeeValidationError("period", f"{value!r} is not one of {', '.join(PERIODS)}")
    return str(value)


@dataclass(frozen=True)
class Period:
    """Invoices dated from ``start`` to ``end``, both inclusive; no bounds selects any date."""

    start: pendulum.DateTime | None
    end: pendulum.DateTime | None
    timezone: str

    def date_filter(self) -> dict[str, Any] | None:
        if self.start is None or self.end is None:
            return None
        return {"between": (int(self.start.timestamp()), int(self.end.timestamp()))}

    def label(self) -> str:
        """``2026-10-01..2026-10-31 Europe/Berlin``, with times only when not whole days."""
        if self.start is None or self.end is None:
            return "at any date (period='all')"
        start, end = self.start.in_tz(self.timezone), self.end.in_tz(self.timezone)
        if start == start.start_of("day") and end == end.end_of("day").replace(microsecond=0):
            return f"{start.to_date_string()}..{end.to_date_string()} {self.timezone}"
        return f"{start.to_datetime_string()}..{end.to_datetime_string()} {self.timezone}"

    def as_dict(self) -> dict[str, Any]:
        return {
            "start": self.start.isoformat() if self.start else None,
            "end": self.end.isoformat() if self.end else None,
            "timezone": self.timezone,
            "label": self.label(),
        }


def _month(day: datetime, timezone: str, months_back: int) -> Period:
    local = pendulum.instance(day).in_tz(timezone).start_of("month").subtract(months=months_back)
    end = local.end_of("month").replace(microsecond=0)
    return Period(local, end, timezone)


def resolve_period(
    period: str,
    *,
    timezone: str,
    logical_date: datetime | None,
    run_after: datetime | None,
    interval_start: datetime | None,
    interval_end: datetime | None,
) -> Period:
    """The range ``period`` means for one run; raises, naming the fix, when it means nothing."""
    if period == "all":
        return Period(None, None, timezone)
    if period in ("month", "previous_month"):
        anchor = logical_date or run_after
        if anchor is None:
            raise ChargebeeValidationError(
                "period", "the run has neither logical date nor run_after"
            )
        return _month(anchor, timezone, 1 if period == "previous_month" else 0)
    if interval_start is None or interval_end is None:
        raise ChargebeeValidationError(
            "period",
            "'data_interval' but this run has no data interval (it was triggered without a "
            f"logical date); {_HOW_TO_FIX}",
        )
    start, end = pendulum.instance(interval_start), pendulum.instance(interval_end)
    if end <= start:
        raise ChargebeeValidationError(
            "period",
            f"'data_interval' but this run's data interval {start.isoformat()}..{end.isoformat()} "
            f"is empty (schedule=None or a trigger timetable); {_HOW_TO_FIX}",
        )
    return Period(start, end.subtract(seconds=1), timezone)
