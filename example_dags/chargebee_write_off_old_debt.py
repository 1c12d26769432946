"""Write off invoices left unpaid for over a year, once a month.

The first task lists what would be written off (a dry run the reviewer can read
in XCom); the write-off itself follows. Set ``dry_run=True`` on the second task
too while the policy is being agreed.
"""

from __future__ import annotations

import pendulum
from airflow.sdk import DAG, CronDataIntervalTimetable

from airflow_provider_cb.operators import ListInvoicesOperator, WriteOffInvoiceOperator

with DAG(
    dag_id="chargebee_write_off_old_debt",
    schedule=CronDataIntervalTimetable("0 6 2 * *", timezone="UTC"),
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    catchup=False,
    tags=["chargebee", "finance"],
) as dag:
    old_debt = ListInvoicesOperator(
        task_id="select_old_debt",
        status=["not_paid", "payment_due"],
        date={"before": "{{ (data_interval_end - macros.timedelta(days=365)).isoformat() }}"},
        max_results=50_000,
    )
    preview = WriteOffInvoiceOperator(
        task_id="preview_write_off",
        invoice_ids=old_debt.output,
        dry_run=True,
        if_not_eligible="succeed",
    )
    write_off = WriteOffInvoiceOperator(
        task_id="write_off",
        invoice_ids=old_debt.output,
        comment="Written off after 12 months unpaid ({{ dag.dag_id }} {{ ds }})",
        skip_events=["email"],
        failure_policy="fail_at_end",
    )
    preview >> write_off
