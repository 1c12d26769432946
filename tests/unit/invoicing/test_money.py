"""Amounts for people: ISO 4217 exponents, separators, signs, and what totals sum."""

from __future__ import annotations

import pytest

from airflow_provider_cb.invoicing.money import (
    format_money,
    major_units,
    summed_amount,
    total_name,
)


@pytest.mark.parametrize(
    ("minor", "currency", "shown"),
    [
        (25_007, "EUR", "EUR 250.07"),
        (10_000, "JPY", "JPY 10,000"),
        (1_234, "BHD", "BHD 1.234"),
        (123_456_789, "USD", "USD 1,234,567.89"),
        (5, "USD", "USD 0.05"),
        (0, "KWD", "KWD 0.000"),
        (-25_007, "EUR", "EUR -250.07"),
        (-1_000_000, "KRW", "KRW -1,000,000"),
        (7, "jpy", "jpy 7"),
        (12_345, "CLF", "CLF 1.2345"),
    ],
)
def test_minor_units_are_shown_in_the_major_unit(minor: int, currency: str, shown: str) -> None:
    assert format_money(minor, currency) == shown


def test_a_spreadsheet_cell_has_no_separators() -> None:
    assert [major_units(123_456_789, "USD"), major_units(10_000, "JPY")] == [
        "1234567.89",
        "10000",
    ]
    assert major_units(-1_234, "BHD") == "-1.234"


def test_a_write_off_sums_what_it_writes_off_and_others_the_invoice_total() -> None:
    assert total_name("write_off") == "amount written off"
    assert total_name("close") == "invoice total"
    written = summed_amount("write_off", total=9_000, amount_due=0, write_off_amount=6_000)
    previewed = summed_amount("write_off", total=9_000, amount_due=6_000, write_off_amount=0)
    closed = summed_amount("close", total=9_000, amount_due=6_000, write_off_amount=None)
    assert (written, previewed, closed) == (6_000, 6_000, 9_000)
