"""The report and the message for people show money in each currency's major unit."""

from __future__ import annotations

import csv
from pathlib import Path

from airflow_provider_cb.invoicing.audit_report import AuditReport, result_message
from airflow_provider_cb.invoicing.outcomes import ActionRecord


def written_off(invoice_id: str, currency: str, amount: int) -> ActionRecord:
    return ActionRecord(
        invoice_id=invoice_id,
        action="write_off",
        outcome="done",
        currency_code=currency,
        total=amount * 2,
        amount_due=0,
        write_off_amount=amount,
    )


def test_a_write_off_report_totals_the_amount_written_off_per_currency(tmp_path: Path) -> None:
    report = AuditReport(tmp_path / "w.csv", run_id="r", try_number=1, action="write_off")
    report.add(written_off("eur_1", "EUR", 25_007))
    report.add(written_off("yen_1", "JPY", 10_000))
    report.add(written_off("bhd_1", "BHD", 1_234))
    report.close()
    markdown = report.markdown(title="t", csv_name="w.csv")
    assert "| outcome | invoices | amount written off |" in markdown
    assert "| done | 3 | BHD 1.234, EUR 250.07, JPY 10,000 |" in markdown
    with (tmp_path / "w.csv").open(encoding="utf-8-sig") as handle:
        rows = {row["invoice_id"]: row for row in csv.DictReader(handle)}
    assert (rows["eur_1"]["write_off_amount"], rows["eur_1"]["total"]) == ("250.07", "500.14")
    assert rows["yen_1"]["write_off_amount"] == "10000"
    assert rows["bhd_1"]["amount_due"] == "0.000"


def test_the_message_names_what_its_totals_sum_and_ranks_within_each_currency() -> None:
    summary = {
        "action": "close",
        "total": 2,
        "processed": 2,
        "counts": {"done": 2},
        "totals": {"done": {"EUR": 25_007, "JPY": 10_000}},
        "largest": {
            "EUR": [{"invoice_id": "eur_1", "customer_id": "cus_1", "amount": 25_007}],
            "JPY": [{"invoice_id": "yen_1", "customer_id": "cus_2", "amount": 10_000}],
        },
    }
    assert result_message(summary).splitlines()[2:] == [
        "done: EUR 250.07, JPY 10,000 (invoice total)",
        "largest in EUR by invoice total: eur_1 (cus_1) EUR 250.07",
        "largest in JPY by invoice total: yen_1 (cus_2) JPY 10,000",
    ]
