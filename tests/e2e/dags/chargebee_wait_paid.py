"""A deferrable sensor waiting for an invoice the live test pays while it waits."""

from __future__ import annotations

import pendulum
from airflow.sdk import DAG

from airflow_provider_cb.sensors import ChargebeeInvoiceSensor

with DAG(
    dag_id="chargebee_wait_paid",
    schedule=None,
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    default_args={"retries": 0},
    tags=["chargebee-e2e"],
) as dag:
    ChargebeeInvoiceSensor(
        task_id="wait_paid",
        invoice_id="inv_000013",
        target_statuses=["paid"],
        deferrable=True,
        poke_interval=1,
        timeout=300,
    )
