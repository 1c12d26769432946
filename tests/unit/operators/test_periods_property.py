"""Every month 2000-2040 in every zone of the tz database: months abut exactly.

A month is [first instant at or after local midnight of its 1st, the same of the
next month's 1st). Checked for all of ``zoneinfo.available_timezones()`` from the
definition itself: the wall clock reaches the 1st's midnight at the month's first
second and not one second before; consecutive months share their boundary, so no
instant is in two months or in none; and every boundary maps back to its month.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo

import pytest

from airflow_provider_cb.invoicing.months import month_bounds, month_of, previous_month
from airflow_provider_cb.operators.periods import month_period

YEARS = range(2000, 2041)
MONTHS = [(year, month) for year in YEARS for month in range(1, 13)]
ZONES = sorted(zoneinfo.available_timezones())


def _wall(instant: int, tz: zoneinfo.ZoneInfo) -> dt.datetime:
    return dt.datetime.fromtimestamp(instant, tz).replace(tzinfo=None)


def test_the_tz_database_is_there() -> None:
    assert len(ZONES) > 400 and "America/Asuncion" in ZONES


@pytest.mark.parametrize("name", ZONES)
def test_consecutive_months_abut_exactly_and_begin_at_local_midnight(name: str) -> None:
    tz = zoneinfo.ZoneInfo(name)
    previous_end = None
    for year, month in MONTHS:
        start, end = month_bounds(year, month, tz)
        assert start < end, (name, year, month)
        assert previous_end is None or previous_end == start, (name, year, month)
        previous_end = end
        midnight = dt.datetime(year, month, 1)
        assert _wall(start, tz) >= midnight > _wall(start - 1, tz), (name, year, month)
        assert month_of(start, tz) == (year, month), (name, year, month)
        assert month_of(start - 1, tz) == previous_month(year, month), (name, year, month)


def test_a_period_is_the_months_bounds() -> None:
    period = month_period(2023, 9, "America/Asuncion", "test")
    assert (period.start, period.end) == month_bounds(
        2023, 9, zoneinfo.ZoneInfo("America/Asuncion")
    )
