"""Month-end close: finalize every invoice of the month still pending, then report.

Each monthly run covers the previous calendar month (its data interval). The
pending invoices dated in that month are selected, split into chunks and closed
by one mapped bulk task per chunk; the chunks share the site's rate budget
through the ``chargebee`` pool (see docs/month-end.md). Re-running, clearing or
backfilling a month is safe: closed invoices are reported ``already_done``.
"""

from __future__ import annotations

import json
from typing import Any

import pendulum
from airflow.sdk import DAG, CronDataIntervalTimetable, task

from airflow_provider_cb.operators import CloseInvoiceOperator, ListInvoicesOperator

CHUNK_SIZE = 500
POOL = "chargebee"

with DAG(
    dag_id="chargebee_month_end",
    schedule=CronDataIntervalTimetable("0 0 1 * *", timezone="UTC"),
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    catchup=False,
    max_active_runs=1,
    default_args={"retries": 2, "retry_delay": pendulum.duration(minutes=1)},
    tags=["chargebee", "finance"],
) as dag:
    select_pending = ListInvoicesOperator(
        task_id="select_pending",
        status="pending",
        chunk_size=CHUNK_SIZE,
    )

    close_pending = CloseInvoiceOperator.partial(
        task_id="close_pending",
        comment="Closed by {{ dag.dag_id }} for {{ data_interval_start | ds }}",
        pool=POOL,
        max_workers=8,
    ).expand(invoice_ids=select_pending.output)

    @task
    def report(summaries: list[dict[str, Any]]) -> dict[str, int]:
        """Add up the chunks' outcomes, so the run says in one line what it did."""
        totals: dict[str, int] = {}
        for summary in summaries:
            for outcome, count in summary["counts"].items():
                totals[outcome] = totals.get(outcome, 0) + count
        print("month-end close:", json.dumps(totals, sort_keys=True))
        return totals

    report(close_pending.output)
