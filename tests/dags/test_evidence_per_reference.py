"""Outcomes rest on what Chargebee's reference states, through real DAG runs.

Tried as a new user would: a stop or pause dunning preview called every invoice
not_eligible (auto collection off: a field the Invoice object does not have), and
resuming a dunning that was never paused reported already_done.
"""

from __future__ import annotations

from airflow_provider_cb.testing import ChargebeeEmulator
from airflow_provider_cb.testing.dags import DagFolder
from tests.dags.test_operators_in_dags import posts, run
from tests.helpers import xcom_of

NOTE = "Chargebee checks auto collection on the customer or subscription"


def test_dunning_previews_leave_auto_collection_to_chargebee_and_resume_needs_a_pause(
    chargebee_dags: DagFolder, chargebee_conn_env: ChargebeeEmulator
) -> None:
    emulator = chargebee_conn_env
    emulator.seed(3, status="payment_due")
    dag_run = run(
        chargebee_dags,
        "dunning_evidence",
        """
StopDunningOperator(task_id="stop", dry_run=True,
                    invoice_ids=["inv_000001", "inv_000002"])
PauseDunningOperator(task_id="pause", dry_run=True, invoice_id="inv_000001",
                     expected_payment_date="2031-01-01T00:00:00Z")
ResumeDunningOperator(task_id="resume", invoice_id="inv_000003", if_not_eligible="succeed")
""",
    )
    assert dag_run.state == "success"
    stop = xcom_of(dag_run, "stop")
    assert stop["counts"] == {"would_act": 2}
    assert {record["reason"] for record in stop["records"]} == {NOTE}
    pause = xcom_of(dag_run, "pause")
    assert (pause["outcome"], pause["reason"]) == ("would_act", NOTE)
    resume = xcom_of(dag_run, "resume")
    assert (resume["outcome"], resume["reason"]) == ("not_eligible", "dunning not paused")
    assert [r.path for r in posts(emulator)] == ["/api/v2/invoices/inv_000003/resume_dunning"]
