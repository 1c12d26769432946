"""Money for people: each currency's own minor-unit exponent (ISO 4217)."""

from __future__ import annotations

import pytest

from airflow_provider_cb.client.money import format_money


@pytest.mark.parametrize(
    ("minor", "currency", "shown"),
    [
        (25007, "EUR", "EUR 250.07"),
        (10000, "JPY", "JPY 10,000"),
        (12345, "KWD", "KWD 12.345"),
        (123456789, "usd", "USD 1,234,567.89"),
        (-5, "EUR", "EUR -0.05"),
        (0, "CLP", "CLP 0"),
    ],
)
def test_amounts_use_the_currency_exponent(minor: int, currency: str, shown: str) -> None:
    assert format_money(minor, currency) == shown
