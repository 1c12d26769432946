"""The range a selection period means, and the refusals that name the fix."""

from __future__ import annotations

from typing import Any

import pendulum
import pytest

from airflow_provider_cb.chargebee_api.errors import ChargebeeValidationError
from airflow_provider_cb.operators.periods import (
    Period,
    check_month,
    check_period,
    check_timezone,
    resolve_period,
)

NOV_1_0300_UTC = pendulum.datetime(2026, 11, 1, 3, tz="UTC")
NEW_YORK = "America/New_York"


def seconds(moment: pendulum.DateTime) -> int:
    return int(moment.timestamp())


def bounds(period: Period) -> tuple[int, int]:
    assert period.start is not None and period.end is not None
    return period.start, period.end


def resolve(period: str | None, **given: Any) -> Period:
    values: dict[str, Any] = {
        "timezone": "UTC",
        "logical_date": None,
        "run_after": None,
        "interval_start": None,
        "interval_end": None,
    }
    values.update(given)
    return resolve_period(period, **values)


def test_previous_month_in_a_timezone_is_whole_local_days() -> None:
    period = resolve("previous_month", timezone="Europe/Berlin", logical_date=NOV_1_0300_UTC)
    assert period.label() == "2026-10-01..2026-10-31 Europe/Berlin"
    date_filter = period.date_filter()
    assert date_filter is not None
    # [1 Oct 00:00 Berlin, 1 Nov 00:00 Berlin): October ends in winter time (UTC+1).
    assert (period.start, period.end) == (
        seconds(pendulum.datetime(2026, 9, 30, 22, tz="UTC")),
        seconds(pendulum.datetime(2026, 10, 31, 23, tz="UTC")),
    )
    # Asked a second wider at each end; the edges are dropped by contains().
    start, end = bounds(period)
    assert date_filter == {"between": (start - 1, end)}


def test_a_month_counts_from_run_after_when_there_is_no_logical_date() -> None:
    period = resolve("month", run_after=pendulum.datetime(2026, 2, 14, tz="UTC"))
    assert period.label() == "2026-02-01..2026-02-28 UTC"


def test_a_data_interval_ends_a_second_before_its_end_and_keeps_its_hours() -> None:
    period = resolve(
        "data_interval",
        interval_start=pendulum.datetime(2026, 10, 1, 3, tz="UTC"),
        interval_end=NOV_1_0300_UTC,
    )
    assert period.label() == "2026-10-01 03:00:00..2026-11-01 02:59:59 UTC"


@pytest.mark.parametrize(
    ("given", "problem"),
    [
        ({}, "this run has no data interval"),
        ({"interval_start": NOV_1_0300_UTC, "interval_end": NOV_1_0300_UTC}, "is empty"),
    ],
    ids=["no-interval", "zero-length"],
)
def test_data_interval_refuses_to_widen(given: dict[str, object], problem: str) -> None:
    with pytest.raises(ChargebeeValidationError, match=problem) as raised:
        resolve("data_interval", **given)
    assert raised.value.param == "period"
    assert 'period="previous_month"' in str(raised.value)


def test_all_has_no_date_filter_and_says_so() -> None:
    period = resolve("all")
    assert period.date_filter() is None
    assert "any date" in period.label()


@pytest.mark.parametrize("bad", ["monthly", None, ""])
def test_unknown_periods_are_refused(bad: object) -> None:
    with pytest.raises(ChargebeeValidationError, match=r"^period: "):
        check_period(bad)


@pytest.mark.parametrize("bad", ["Mars/Olympus", 1, None])
def test_unknown_timezones_are_refused(bad: object) -> None:
    with pytest.raises(ChargebeeValidationError, match=r"^timezone: "):
        check_timezone(bad)


# Months as intervals of instants (issue 21): zones whose clocks change at midnight.


def test_asuncion_previous_month_of_1_october_2023_is_september() -> None:
    """Midnight of 1 October 2023 does not exist in Asuncion (clocks jump to 01:00)."""
    logical = pendulum.datetime(2023, 10, 1, 7, tz="UTC")
    period = resolve("previous_month", timezone="America/Asuncion", logical_date=logical)
    assert period.label() == "2023-09-01..2023-09-30 America/Asuncion"
    assert (period.start, period.end) == (
        seconds(pendulum.datetime(2023, 9, 1, 4, tz="UTC")),
        # October begins at the change: 01:00 -03, 04:00 UTC.
        seconds(pendulum.datetime(2023, 10, 1, 4, tz="UTC")),
    )


@pytest.mark.parametrize("arrives_in", ["UTC", "America/Asuncion", "Asia/Tokyo", "Pacific/Apia"])
def test_the_month_does_not_depend_on_the_zone_the_logical_date_arrives_in(
    arrives_in: str,
) -> None:
    logical = pendulum.datetime(2023, 10, 1, 7, tz="UTC").in_tz(arrives_in)
    period = resolve("previous_month", timezone="America/Asuncion", logical_date=logical)
    assert period.label() == "2023-09-01..2023-09-30 America/Asuncion"


def test_havana_invoices_of_1_november_2026_before_05_utc_fall_in_november() -> None:
    """Havana repeats 00:00-01:00 on 1 November 2026: the month begins at the first 00:00."""
    first = seconds(pendulum.datetime(2026, 11, 1, 4, tz="UTC"))
    october = resolve("month", timezone="America/Havana", logical_date=NOV_1_0300_UTC)
    # The close of November, run on 1 December.
    november = resolve(
        "previous_month",
        timezone="America/Havana",
        logical_date=pendulum.datetime(2026, 12, 1, 8, tz="UTC"),
    )
    assert october.label() == "2026-10-01..2026-10-31 America/Havana"
    for date in (first, first + 1, first + 1800, first + 3599):
        assert november.contains(date)
        assert not october.contains(date)
    assert october.end == november.start == first


@pytest.mark.parametrize(
    ("timezone", "year", "month"),
    [
        ("Africa/Cairo", 2024, 10),
        ("Africa/Cairo", 2030, 10),
        ("Asia/Almaty", 2024, 2),
        ("Asia/Qostanay", 2024, 2),
        ("Africa/Juba", 2021, 1),
    ],
)
def test_a_month_ending_in_a_clock_change_has_no_gap(timezone: str, year: int, month: int) -> None:
    """These zones turn their clocks back at midnight ending the month: the hour stays in it."""
    mid_month = pendulum.datetime(year, month, 15, tz=timezone)
    this = resolve("month", timezone=timezone, logical_date=mid_month)
    following = resolve("month", timezone=timezone, logical_date=mid_month.add(months=1))
    assert this.end == following.start
    end = bounds(this)[1]
    last_hour = range(end - 3600, end)
    assert all(this.contains(date) for date in last_hour)
    assert this.label() == (
        f"{year}-{month:02d}-01..{mid_month.end_of('month').to_date_string()} {timezone}"
    )


def test_an_anchor_in_an_hour_repeated_after_the_months_first_midnight_is_the_new_month() -> None:
    """Havana, 1 Nov 2026 05:30 UTC: the wall clock reads 00:30 the second time, November."""
    anchor = pendulum.datetime(2026, 11, 1, 5, 30, tz="UTC")
    period = resolve("month", timezone="America/Havana", logical_date=anchor)
    assert period.label() == "2026-11-01..2026-11-30 America/Havana"


@pytest.mark.parametrize(
    "between",
    [
        lambda low, high, date: low <= date <= high,
        lambda low, high, date: low < date < high,
        lambda low, high, date: low <= date < high,
        lambda low, high, date: low < date <= high,
    ],
    ids=["inclusive", "exclusive", "half-open", "open-closed"],
)
def test_the_range_holds_whichever_way_between_treats_its_ends(between: Any) -> None:
    period = resolve("previous_month", timezone="Europe/Berlin", logical_date=NOV_1_0300_UTC)
    start, end = bounds(period)
    date_filter = period.date_filter()
    assert date_filter is not None
    low, high = date_filter["between"]
    dates = [*range(start - 3, start + 3), *range(end - 3, end + 3)]
    kept = [d for d in dates if between(low, high, d) and period.contains(d)]
    assert kept == [d for d in dates if start <= d < end]


def test_the_description_states_the_half_open_range_the_anchor_and_the_wire() -> None:
    period = resolve(
        "previous_month",
        timezone="America/Asuncion",
        logical_date=pendulum.datetime(2023, 10, 1, 7, tz="UTC"),
    )
    text = period.describe()
    assert "from logical date 2023-10-01T07:00:00+00:00 in America/Asuncion" in text
    assert (
        "from 2023-09-01T00:00:00-04:00 (included) to 2023-10-01T01:00:00-03:00 (excluded)" in text
    )
    start, end = bounds(period)
    assert f"date[between] [{start - 1}, {end}]" in text


# No month by guesswork: an explicit month, and bare dates west of UTC.


def test_an_explicit_month_is_that_month_in_the_timezone() -> None:
    period = resolve(None, month="2026-10", timezone=NEW_YORK, logical_date=NOV_1_0300_UTC)
    assert period.label() == f"2026-10-01..2026-10-31 {NEW_YORK}"
    assert "month='2026-10'" in period.anchor


@pytest.mark.parametrize("bad", ["2026-13", "2026-1", "26-10", "october", "", 202610])
def test_a_malformed_month_is_refused(bad: object) -> None:
    with pytest.raises(ChargebeeValidationError, match=r"^month: "):
        check_month(bad)


@pytest.mark.parametrize("period", ["all", "data_interval"])
def test_a_month_contradicting_the_period_is_refused(period: str) -> None:
    with pytest.raises(ChargebeeValidationError, match=r"^month: .*contradicts"):
        resolve(period, month="2026-10")


MIDNIGHT_UTC = pendulum.datetime(2026, 11, 1, tz="UTC")


def test_a_manual_run_on_a_bare_date_west_of_utc_names_both_readings() -> None:
    """`airflow dags test DAG 2026-11-01` is midnight UTC: still 31 October in New York."""
    with pytest.raises(ChargebeeValidationError) as raised:
        resolve("previous_month", timezone=NEW_YORK, logical_date=MIDNIGHT_UTC, run_type="manual")
    message = str(raised.value)
    assert raised.value.param == "period"
    assert "2026-10-31 20:00:00-04:00 in America/New_York" in message
    assert "Read as that instant, previous_month is 2026-09" in message
    assert "read as the date 2026-11-01 in America/New_York, it is 2026-10" in message
    assert 'month="2026-10"' in message and "2026-11-01T00:00:00-04:00" in message


def test_a_scheduled_run_keeps_its_logical_dates_reading() -> None:
    period = resolve(
        "previous_month", timezone=NEW_YORK, logical_date=MIDNIGHT_UTC, run_type="scheduled"
    )
    assert period.label() == f"2026-09-01..2026-09-30 {NEW_YORK}"


@pytest.mark.parametrize(
    ("timezone", "logical_date"),
    [
        ("UTC", MIDNIGHT_UTC),
        ("Asia/Tokyo", MIDNIGHT_UTC),
        (NEW_YORK, pendulum.datetime(2026, 11, 15, tz="UTC")),
        (NEW_YORK, pendulum.datetime(2026, 11, 1, tz=NEW_YORK)),
    ],
    ids=["utc", "east-of-utc", "same-month-either-way", "local-midnight"],
)
def test_a_manual_run_whose_readings_agree_is_not_refused(
    timezone: str, logical_date: pendulum.DateTime
) -> None:
    period = resolve(
        "previous_month", timezone=timezone, logical_date=logical_date, run_type="manual"
    )
    assert period.start is not None
