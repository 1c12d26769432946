"""What a task's asset event says, from its result."""

from __future__ import annotations

from airflow_provider_cb.operators.endings import asset_event_extra


def test_a_single_write_off_totals_the_amount_written_off_as_a_bulk_one_does() -> None:
    record = {
        "action": "write_off",
        "outcome": "done",
        "currency_code": "EUR",
        "total": 25_007,
        "amount_due": 0,
        "write_off_amount": 20_000,
    }
    extra = asset_event_extra(record, run_id="r")
    assert (extra["counts"], extra["totals"]) == ({"done": 1}, {"done": {"EUR": 20_000}})


def test_a_single_close_totals_the_invoice_total() -> None:
    record = {"action": "close", "outcome": "done", "currency_code": "JPY", "total": 10_000}
    assert asset_event_extra(record, run_id="r")["totals"] == {"done": {"JPY": 10_000}}
