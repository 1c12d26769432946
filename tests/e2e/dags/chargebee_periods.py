"""Selections in a run triggered without a logical date, as the live test does by REST."""

from __future__ import annotations

import pendulum
from airflow.sdk import DAG

from airflow_provider_cb.operators import ListInvoicesOperator

with DAG(
    dag_id="chargebee_periods",
    schedule=None,
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    default_args={"retries": 2},
    tags=["chargebee-e2e"],
) as dag:
    # No data interval in this run: must fail, never select every invoice.
    ListInvoicesOperator(task_id="by_data_interval")
    ListInvoicesOperator(task_id="this_month", period="month")
    ListInvoicesOperator(task_id="previous_month", period="previous_month")
