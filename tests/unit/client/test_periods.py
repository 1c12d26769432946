"""The range a selection period means, and the refusals that name the fix."""

from __future__ import annotations

from typing import Any

import pendulum
import pytest

from airflow_provider_cb.client.errors import ChargebeeValidationError
from airflow_provider_cb.client.periods import (
    Period,
    check_period,
    check_timezone,
    resolve_period,
)

NOV_1_0300_UTC = pendulum.datetime(2026, 11, 1, 3, tz="UTC")


def resolve(period: str, **given: Any) -> Period:
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
    start, end = date_filter["between"]
    assert start == int(pendulum.datetime(2026, 9, 30, 22, tz="UTC").timestamp())
    # October ends in winter time (UTC+1): 31 Oct 23:59:59 Berlin is 22:59:59 UTC.
    assert end == int(pendulum.datetime(2026, 10, 31, 22, 59, 59, tz="UTC").timestamp())


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
