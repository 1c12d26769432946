"""Write off invoices left unpaid for over a year, once a month, after a person approves.

A dry run prices the plan; Airflow's human-in-the-loop approval shows it (counts,
the amount to write off per currency, the largest invoices, then each invoice up
to a hundred and how many more) under "Required Actions"; only an
approval lets the write-off run, and the approver's name goes into Chargebee's
comment on every invoice and into the audit report. A rejection skips the
write-off: nothing is sent.

The selection is by age, not by month, so the month ledger files the preview and
the write-off under the month the run writes off in (the end of its data
interval: a run due on 2 December files under ``2026-12``); the report task then
writes that month's report (docs/month-view.md).
"""

from __future__ import annotations

import datetime as dt

import pendulum
from airflow.providers.standard.operators.hitl import ApprovalOperator
from airflow.sdk import DAG, CronDataIntervalTimetable, Param, get_current_context, task

from airflow_provider_cb.invoicing.approval import approval_markdown
from airflow_provider_cb.operators import ListInvoicesOperator, WriteOffInvoiceOperator
from airflow_provider_cb.operators.ledger import publish_month_reports

PREVIEW = "ti.xcom_pull(task_ids='preview_write_off')"
APPROVER = "ti.xcom_pull(task_ids='approve_write_off')['responded_by_user']['name']"

with DAG(
    dag_id="chargebee_write_off_old_debt",
    schedule=CronDataIntervalTimetable("0 6 2 * *", timezone="UTC"),
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    catchup=False,
    # One run at a time: two runs at once would each select the same old invoices and
    # ask for approval of them twice; the second waits until the first has finished.
    max_active_runs=1,
    params={
        "min_age_days": Param(365, type="integer", minimum=30),
        "report_dir": Param("/tmp/chargebee-reports", type="string"),
    },
    user_defined_filters={"chargebee_approval": approval_markdown},
    tags=["chargebee", "finance"],
) as dag:
    old_debt = ListInvoicesOperator(
        task_id="select_old_debt",
        status=["not_paid", "payment_due"],
        # A manual run may have no data interval: it then counts from when it was triggered.
        date={
            "before": "{{ ((dag_run.data_interval_end or dag_run.run_after)"
            " - macros.timedelta(days=params.min_age_days)).isoformat() }}"
        },
        max_results=50_000,
    )
    preview = WriteOffInvoiceOperator(
        task_id="preview_write_off",
        invoice_ids=old_debt.output,
        dry_run=True,
        if_not_eligible="succeed",
    )
    approval = ApprovalOperator(
        task_id="approve_write_off",
        subject=(
            "Write off {{ " + PREVIEW + "['counts'].get('would_act', 0) }} invoices "
            "unpaid for over {{ params.min_age_days }} days?"
        ),
        body="{{ " + PREVIEW + " | chargebee_approval }}",
        response_timeout=dt.timedelta(days=3),
    )
    write_off = WriteOffInvoiceOperator(
        task_id="write_off",
        invoice_ids=old_debt.output,
        comment=(
            "Unpaid for over {{ params.min_age_days }} days; write-off approved by "
            "{{ " + APPROVER + " }} ({{ run_id }})"
        ),
        report_path="{{ params.report_dir }}/{{ dag.dag_id }}/{{ run_id }}/write_off.csv",
        skip_events=["email"],
        failure_policy="fail_at_end",
    )

    @task
    def report() -> None:
        """Write the month report of the month the write-off was filed under."""
        for written in publish_month_reports(get_current_context()):
            print("month report:", written)

    old_debt >> preview >> approval >> write_off >> report()
