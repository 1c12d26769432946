"""A selection's plan: sums per currency, the largest invoices, and the amount guard."""

from __future__ import annotations

import pytest

from airflow_provider_cb.chargebee_api.errors import ChargebeeValidationError
from airflow_provider_cb.invoicing.plans import SelectionPlan, check_max_amount_due


def plan_of(*invoices: tuple[str, str, int]) -> SelectionPlan:
    plan = SelectionPlan("2026-10-01..2026-10-31 UTC")
    for invoice_id, currency, amount in invoices:
        plan.add(
            {"id": invoice_id, "currency_code": currency, "amount_due": amount, "total": amount}
        )
    return plan


def test_the_largest_five_by_amount_due_in_order() -> None:
    plan = plan_of(*((f"inv_{n}", "EUR", n * 100) for n in range(1, 9)))
    ranked = [entry["invoice_id"] for entry in plan.largest["EUR"]]
    assert ranked == [f"inv_{n}" for n in (8, 7, 6, 5, 4)]
    assert plan.as_dict()["totals"] == {"EUR": {"amount_due": 3_600, "total": 3_600}}


def test_a_record_without_amounts_still_counts() -> None:
    plan = SelectionPlan("r")
    plan.add({"id": "inv_1"})
    assert (plan.count, plan.totals) == (1, {"unknown": {"amount_due": 0, "total": 0}})


def test_the_guard_names_the_currency_and_the_limit() -> None:
    plan = plan_of(("inv_1", "EUR", 600), ("inv_2", "EUR", 500))
    plan.check({"EUR": 1_100})
    with pytest.raises(ChargebeeValidationError, match=r"^max_amount_due\[EUR\]: .* 1100 .* 1099"):
        plan.check({"EUR": 1_099})
    with pytest.raises(ChargebeeValidationError, match="no limit for EUR"):
        plan.check({"USD": 10**9})


def test_the_largest_are_ranked_within_each_currency() -> None:
    plan = plan_of(("yen_1", "JPY", 10_000), ("eur_1", "EUR", 25_007), ("eur_2", "EUR", 900))
    assert plan.largest == {
        "EUR": [
            {"invoice_id": "eur_1", "amount_due": 25_007},
            {"invoice_id": "eur_2", "amount_due": 900},
        ],
        "JPY": [{"invoice_id": "yen_1", "amount_due": 10_000}],
    }


def test_the_guard_shows_major_units_with_the_minor_figure_it_takes() -> None:
    plan = plan_of(("inv_1", "EUR", 25_007), ("yen_1", "JPY", 10_000))
    with pytest.raises(ChargebeeValidationError) as over:
        plan.check({"EUR": 25_000, "JPY": 10_000})
    assert str(over.value) == (
        "max_amount_due[EUR]: the selection of 2 invoices 2026-10-01..2026-10-31 UTC owes "
        "EUR 250.07, more than the limit EUR 250.00 (in minor units, as the limit is given: "
        "25007 > 25000); raise the limit or narrow the filters"
    )
    with pytest.raises(ChargebeeValidationError) as unlimited:
        plan.check({"EUR": 10**9})
    assert "owes JPY 10,000 but there is no limit for JPY" in str(unlimited.value)
    assert "{'JPY': 10000}" in str(unlimited.value)


@pytest.mark.parametrize(
    "bad", [{}, [("EUR", 1)], {"EURO": 1}, {"EUR": -1}, {"EUR": 1.5}, {"EUR": True}]
)
def test_bad_limits_are_refused_naming_the_parameter(bad: object) -> None:
    with pytest.raises(ChargebeeValidationError, match=r"^max_amount_due"):
        check_max_amount_due(bad)


def test_the_plan_line_shows_major_units_per_currency() -> None:
    """Issue 23: the plan was logged as JSON in minor units (25007 for EUR 250.07)."""
    plan = plan_of(("nov_eur_007", "EUR", 25_007), ("nov_jpy_001", "JPY", 10_000))
    assert plan.describe() == (
        "2 invoices 2026-10-01..2026-10-31 UTC; "
        "EUR: EUR 250.07 due of EUR 250.07 invoiced (largest: nov_eur_007 EUR 250.07); "
        "JPY: JPY 10,000 due of JPY 10,000 invoiced (largest: nov_jpy_001 JPY 10,000)"
    )
