"""The listing and the batch sensor on the system site: the rehearsal customer's invoices.

The listing selects every invoice of the customer the site prepared (four
created through the API); the sensor waits, in one read per poke, until each
reads a final status, which invoices created closed already do.
"""

from __future__ import annotations

from typing import Any

import pendulum
from airflow.sdk import DAG, Param, task

from airflow_provider_cb.operators import ListInvoicesOperator
from airflow_provider_cb.sensors import ChargebeeInvoiceSensor
from tests.system.system_tests import get_test_run

DAG_ID = "example_chargebee_listing_and_sensor"

with DAG(
    dag_id=DAG_ID,
    schedule=None,
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    catchup=False,
    params={"customer_id": Param("", type="string")},
    default_args={"retries": 0},
    tags=["example", "chargebee", "system"],
) as dag:
    select = ListInvoicesOperator(
        task_id="select", customer_id="{{ params.customer_id }}", period="all"
    )
    wait = ChargebeeInvoiceSensor(
        task_id="wait_until_final",
        invoice_ids=select.output,
        target_statuses=["paid", "payment_due", "not_paid", "posted", "voided"],
        mode="poke",
        poke_interval=1,
        timeout=120,
    )

    @task
    def verify(**context: Any) -> None:
        listed = context["ti"].xcom_pull(task_ids="select")
        if len(listed) < 4:
            raise AssertionError(f"the listing found {listed}, not the four created invoices")

    select >> wait >> verify()


test_run = get_test_run(dag)
