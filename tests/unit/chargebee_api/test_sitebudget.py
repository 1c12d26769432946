"""Which budget a connection gets: the default pace, a lifted budget, and the line saying so."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from airflow_provider_cb.chargebee_api import ratebudget, sitebudget
from airflow_provider_cb.chargebee_api.settings import DEFAULT_REQUESTS_PER_MINUTE, ClientSettings

from ..conftest import API_KEY


def settings(site: str, **values: object) -> ClientSettings:
    return ClientSettings(api_key=API_KEY, site=site, **values)  # type: ignore[arg-type]


def test_without_requests_per_minute_the_client_paces_at_150(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Before, no requests_per_minute meant no pace at all: a live site could be blocked."""
    caplog.set_level(logging.INFO, logger=sitebudget.__name__)
    budgets = [sitebudget.budget_for(settings("paced"), sleep=lambda _: None) for _ in range(3)]

    assert [budget.requests_per_minute for budget in budgets] == [150] * 3
    assert DEFAULT_REQUESTS_PER_MINUTE == 150
    said = [r.getMessage() for r in caplog.records if r.name == sitebudget.__name__]
    assert len(said) == 1  # once per site and process
    assert "requests_per_minute is not set for paced.chargebee.com: pacing at 150/min" in said[0]
    assert "Set the connection extra requests_per_minute" in said[0]


@pytest.mark.parametrize(
    ("values", "pace"),
    [
        ({}, 150),
        ({"requests_per_minute": 1000}, 1000),
        ({"requests_per_minute": 1000, "lift_rate_budget": True}, None),
        ({"lift_rate_budget": True}, None),
    ],
)
def test_the_pace_is_the_configured_one_the_default_or_lifted(
    values: dict[str, object], pace: float | None, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger=sitebudget.__name__)
    config = settings(f"site-{len(values)}-{pace}", **values)
    assert config.pace == pace
    assert sitebudget.budget_for(config, sleep=lambda _: None).requests_per_minute == pace
    if values:
        assert not [r for r in caplog.records if r.name == sitebudget.__name__]


def test_the_start_line_says_who_shares_the_pace() -> None:
    paced = sitebudget.budget_for(settings("scoped"), sleep=lambda _: None)
    lifted = sitebudget.budget_for(settings("scoped", lift_rate_budget=True), sleep=lambda _: None)
    assert "no rate_limit_store" in paced.scope()
    assert "multiply" in paced.scope()
    assert "lifted" in lifted.scope()


@pytest.mark.parametrize(
    ("values", "param"),
    [
        ({"lift_rate_budget": "yes"}, "lift_rate_budget"),
        ({"rate_limit_block_seconds": -1}, "rate_limit_block_seconds"),
        ({"rate_limit_block_seconds": 601}, "rate_limit_block_seconds"),
        ({"rate_limit_block_seconds": True}, "rate_limit_block_seconds"),
    ],
)
def test_the_testing_knobs_are_checked(values: dict[str, object], param: str) -> None:
    from airflow_provider_cb.chargebee_api.errors import ChargebeeValidationError

    with pytest.raises(ChargebeeValidationError) as caught:
        settings("acme", **values)
    assert caught.value.param == param


def test_the_in_process_budget_does_not_import_the_shared_one() -> None:
    """The shared budget builds on the in-process one; the reverse import made a cycle."""
    assert "sharedbudget" not in Path(ratebudget.__file__).read_text()
