"""ChargebeeSummaryNotifier as a real task callback, on success and on failure."""

from __future__ import annotations

from pathlib import Path

from airflow_provider_cb.testing import ChargebeeEmulator
from airflow_provider_cb.testing.dags import DagFolder
from tests.helpers import run, state_of


def test_the_summary_reaches_people_on_success_and_on_failure(
    chargebee_dags: DagFolder, chargebee_conn_env: ChargebeeEmulator, tmp_path: Path
) -> None:
    emulator = chargebee_conn_env
    emulator.seed(3, status="pending", currency_code="EUR", amount_due=12_345)
    outbox = tmp_path / "outbox.txt"
    dag_run = run(
        chargebee_dags,
        "notify",
        f"""
from airflow_provider_cb.notifications import ChargebeeSummaryNotifier

def send(message):
    with open({str(outbox)!r}, "a") as box:
        box.write(message + "\\n---\\n")

notify = ChargebeeSummaryNotifier(send, title="Month-end close {{{{ run_id }}}}")
CloseInvoiceOperator(task_id="close", invoice_ids=["inv_000001", "inv_000002", "inv_000003"],
                     on_success_callback=notify)
CloseInvoiceOperator(task_id="close_missing", invoice_ids=["inv_missing"],
                     on_failure_callback=notify)
""",
    )
    assert state_of(dag_run, "close") == "success"
    assert state_of(dag_run, "close_missing") == "failed"
    messages = outbox.read_text().split("\n---\n")[:2]
    success, failure = sorted(messages, key=lambda message: "failed" in message)
    assert success.splitlines() == [
        f"Month-end close {dag_run.run_id}",
        "3 of 3 invoices: done 3",
        "done: EUR 370.35 (invoice total)",
        "largest in EUR by invoice total: inv_000003 (cus_inv_000003) EUR 123.45; "
        "inv_000002 (cus_inv_000002) EUR 123.45; inv_000001 (cus_inv_000001) EUR 123.45",
    ]
    assert failure.splitlines()[1:] == [
        "1 of 1 invoices: failed 1",
        "- inv_missing failed: resource_not_found",
    ]
