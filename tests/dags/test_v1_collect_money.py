"""Collected invoices carry their money: ``collect`` answers in v1's shape, read as v1.

Tried as a new user would: v1 names the total ``amount`` and the date ``end_date``,
so every collected invoice's record had no total, and bulk totals, reports and
asset events left all of them out.
"""

from __future__ import annotations

import csv
from pathlib import Path

from airflow_provider_cb.invoicing.audit_report import result_message
from airflow_provider_cb.testing import ChargebeeEmulator
from airflow_provider_cb.testing.dags import DagFolder
from tests.dags.test_asset_events import events_of
from tests.helpers import run, xcom_of

URI = "chargebee://acme/invoices/collected"


def test_collected_invoices_count_in_summaries_reports_messages_and_events(
    chargebee_dags: DagFolder, chargebee_conn_env: ChargebeeEmulator, tmp_path: Path
) -> None:
    chargebee_conn_env.seed(3, status="pending", currency_code="EUR", amount_due=2_507)
    report = tmp_path / "collect.csv"
    dag_run = run(
        chargebee_dags,
        "v1_collect",
        f"""
from airflow.sdk import Asset
CollectInvoiceOperator(task_id="collect", invoice_ids=["inv_000001", "inv_000002"],
                       failure_policy="record", report_path={str(report)!r},
                       outlets=[Asset({URI!r})])
CollectInvoiceOperator(task_id="one", invoice_id="inv_000003")
""",
    )
    assert dag_run.state == "success"
    summary = xcom_of(dag_run, "collect")
    assert summary["counts"] == {"done": 2}
    assert summary["totals"] == {"done": {"EUR": 5014}}
    assert [entry["amount"] for entry in summary["largest"]["EUR"]] == [2507, 2507]
    (extra,) = events_of(URI, dag_run.run_id)
    assert extra["totals"] == {"done": {"EUR": 5014}}
    assert "done: EUR 50.14" in result_message(summary)
    written = Path(summary["report_path"])  # one file per try, named by run and try
    assert written.parent == tmp_path and written.name.startswith("collect.")
    with written.open(encoding="utf-8-sig") as handle:
        rows = list(csv.DictReader(handle))
    assert [row["total"] for row in rows] == ["25.07", "25.07"]  # major units, as people read them
    assert all(row["invoice_date"] for row in rows)
    record = xcom_of(dag_run, "one")
    invoice = chargebee_conn_env.invoice("inv_000003")
    assert (record["outcome"], record["total"], record["currency_code"]) == (
        "done",
        2507,
        "EUR",
    )
    assert record["invoice_date"] == invoice["date"]
