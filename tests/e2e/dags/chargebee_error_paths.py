"""One run through every way a Chargebee task can fail, next to one that succeeds.

The live secret-leak test runs it with DEBUG logging and scans everything Airflow
kept of the run for the API keys. Invoice ids refer to what tests/e2e/live.py seeds.
"""

from __future__ import annotations

import pendulum
from airflow.sdk import DAG

from airflow_provider_cb.operators import CloseInvoiceOperator, StopDunningOperator
from airflow_provider_cb.sensors import ChargebeeInvoiceSensor

with DAG(
    dag_id="chargebee_error_paths",
    schedule=None,
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    default_args={"retries": 0},
    tags=["chargebee-e2e"],
) as dag:
    StopDunningOperator(
        task_id="stop_dunning", invoice_id="inv_000014", comment="e2e run {{ run_id }}"
    )
    CloseInvoiceOperator(task_id="unknown_invoice", invoice_id="inv_999999")
    CloseInvoiceOperator(
        task_id="wrong_key", invoice_id="inv_000015", chargebee_conn_id="chargebee_wrong_key"
    )
    CloseInvoiceOperator(
        task_id="unreachable",
        invoice_id="inv_000015",
        chargebee_conn_id="chargebee_unreachable",
    )
    ChargebeeInvoiceSensor(
        task_id="never_exhausted",
        invoice_id="inv_000016",
        target_dunning_statuses=["exhausted"],
        deferrable=True,
        poke_interval=1,
    )
