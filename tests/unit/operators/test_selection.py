"""ListInvoicesOperator's settings: literal ones fail at parse time, templated ones once rendered."""

from __future__ import annotations

from typing import Any

import pytest

from airflow_provider_cb.chargebee_api.errors import ChargebeeValidationError
from airflow_provider_cb.invoicing.list_filters import pages_for
from airflow_provider_cb.operators import ListInvoicesOperator


def operator(**kwargs: Any) -> ListInvoicesOperator:
    return ListInvoicesOperator(task_id="select", **kwargs)


@pytest.mark.parametrize(
    ("kwargs", "param"),
    [
        ({"date": {}}, "date"),
        ({"date": {"after": "2026-10-01T00:00:00Z", "before": None}}, "date[before]"),
        ({"status": ""}, "status"),
        ({"status": []}, "status"),
        ({"customer_id": []}, "customer_id"),
        ({"subscription_id": ""}, "subscription_id"),
        ({"dunning_status": {}}, "dunning_status"),
        ({"max_amount_due": {}}, "max_amount_due"),
        ({"month": "2026-13"}, "month"),
        ({"month": "2026-10", "date": {"after": 1}}, "month"),
        ({"period": "monthly"}, "period"),
        ({"timezone": "Europe/Atlantis"}, "timezone"),
    ],
)
def test_literal_settings_that_say_nothing_or_are_wrong_fail_at_parse_time(
    kwargs: dict[str, Any], param: str
) -> None:
    with pytest.raises(ChargebeeValidationError) as raised:
        operator(**kwargs)
    assert raised.value.param == param


def test_templated_settings_wait_for_rendering() -> None:
    selection = operator(
        period="{{ params.period }}",
        month="{{ params.month }}",
        timezone="{{ params.tz }}",
        date="{{ params.date }}",
        max_amount_due="{{ params.limits }}",
        status=["{{ params.status }}"],
    )
    assert selection.period == "{{ params.period }}"


def test_all_written_out_is_accepted() -> None:
    assert operator(period="all").period == "all"


def test_the_page_budget_defaults_to_what_max_results_needs_and_never_exceeds_it() -> None:
    assert operator(max_results=500).max_pages == pages_for(500)
    assert operator(max_results=500, max_pages=2).max_pages == 2
    assert operator(max_results=500, max_pages=10**6).max_pages == pages_for(500)


@pytest.mark.parametrize("bad", [0, -1, 1.5])
def test_a_bad_page_budget_is_refused(bad: Any) -> None:
    with pytest.raises(ValueError, match=r"^max_pages: "):
        operator(max_pages=bad)
