"""An approval's body lists each invoice it covers, up to a bound, and says how many more."""

from __future__ import annotations

from typing import Any

from airflow_provider_cb.invoicing.approval import approval_markdown


def preview(amounts: dict[str, tuple[str, int]]) -> dict[str, Any]:
    return {
        "action": "write_off",
        "total": len(amounts),
        "processed": len(amounts),
        "dry_run": True,
        "counts": {"would_act": len(amounts)},
        "records": [
            {
                "invoice_id": invoice_id,
                "outcome": "would_act",
                "currency_code": currency,
                "total": amount,
                "amount_due": amount,
                "write_off_amount": 0,
            }
            for invoice_id, (currency, amount) in amounts.items()
        ],
    }


def test_every_invoice_is_listed_by_currency_largest_first() -> None:
    body = approval_markdown(
        preview({"a": ("JPY", 10_000), "b": ("EUR", 900), "c": ("EUR", 25_007)})
    )
    assert body.endswith(
        "Invoices (amount written off):\n\n- c: EUR 250.07\n- b: EUR 9.00\n- a: JPY 10,000"
    )


def test_past_the_bound_it_says_how_many_more() -> None:
    body = approval_markdown(preview({f"inv_{n:03d}": ("USD", n) for n in range(1, 8)}), limit=5)
    assert "- inv_003: USD 0.03" in body
    assert "inv_002" not in body
    assert body.endswith("- and 2 more, listed in the preview task's log")
