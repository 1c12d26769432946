"""Month-end close: finalize every invoice of the month still pending, then report.

Each monthly run, at 03:00 on the 1st, closes the previous calendar month in
``TIMEZONE``: ``period="previous_month"`` counts from the run's logical date, so
the cron hour never moves the month's boundary. To close a given month, trigger
with the ``month`` param (``airflow dags trigger chargebee_month_end -c
'{"month": "2026-10"}'``): it names the month outright, whatever the run's dates.
The pending invoices are selected, split into chunks and closed by one mapped
bulk task per chunk; the ``chargebee`` pool runs at most four chunks at once, and
each chunk paces at a quarter of the site's limit, since without a
``rate_limit_store`` every chunk paces alone (see docs/month-end.md: with a store,
drop ``requests_per_minute`` here and set the limit on the connection). An empty
month is one empty chunk,
so the report still runs. Re-running, clearing or backfilling a month is safe:
a retry sends nothing its earlier tries closed (the task's journal), and a clear
reports closed invoices ``already_done``. Each chunk writes an audit report (a
CSV row per invoice and a Markdown summary) under the ``report_dir`` param, one
folder per run and one file per try (``close-0.<run id>.try-1.csv``); the last
try's covers every try. Each chunk also writes its lines to the month ledger
(``[chargebee] ledger_path``); the report task writes the month report of every
run of the period from the ledger. A preview (``dry_run``) still emits the asset
event, with ``dry_run: true``: jobs scheduled on it skip such events.
"""

from __future__ import annotations

import json
from typing import Any

import pendulum
from airflow.sdk import DAG, Asset, CronTriggerTimetable, Param, get_current_context, task

from airflow_provider_cb.operators import CloseInvoiceOperator, ListInvoicesOperator
from airflow_provider_cb.operators.ledger import publish_month_reports

CHUNK_SIZE = 500
POOL = "chargebee"
POOL_SLOTS = 4  # airflow pools set chargebee 4 "Chargebee site"
SITE_REQUESTS_PER_MINUTE = 150  # the site's limit: test sites and the Starter plan
TIMEZONE = "UTC"
# The grid names each chunk: "chunk 2/3: inv_000501…inv_001000 (500)".
CHUNK_LABEL = (
    "chunk {{ ti.map_index + 1 }}/"
    "{{ ti.xcom_pull(task_ids='select_pending', key='chargebee_plan')['chunks'] }}: "
    "{{ invoice_range }}"
)

MONTH_END_CLOSED = Asset("chargebee://acme/month-end-close")
"""Each chunk's asset event carries its counts, totals and report: schedule ledger jobs on it."""
# One folder per run; any ObjectStoragePath URL works too (s3://..., gs://...).
REPORT_PATH = "{{ params.report_dir }}/{{ dag.dag_id }}/{{ run_id | replace(':', '-') }}/close.csv"

with DAG(
    dag_id="chargebee_month_end",
    schedule=CronTriggerTimetable("0 3 1 * *", timezone=TIMEZONE),
    start_date=pendulum.datetime(2026, 1, 1, tz=TIMEZONE),
    catchup=False,
    max_active_runs=1,
    default_args={"retries": 2, "retry_delay": pendulum.duration(minutes=1)},
    params={
        "dry_run": False,
        "report_dir": "/tmp/chargebee-reports",
        # Empty: the month before the logical date; "2026-10": October 2026 in TIMEZONE.
        "month": Param("", type="string", pattern=r"^(\d{4}-\d{2})?$"),
    },
    tags=["chargebee", "finance"],
) as dag:
    select_pending = ListInvoicesOperator(
        task_id="select_pending",
        status="pending",
        period="previous_month",
        month="{{ params.month }}",
        timezone=TIMEZONE,
        chunk_size=CHUNK_SIZE,
    )

    close_pending = CloseInvoiceOperator.partial(
        task_id="close_pending",
        comment="Closed by {{ dag.dag_id }} run {{ run_id }}",
        dry_run="{{ params.dry_run }}",
        pool=POOL,
        max_workers=8,
        requests_per_minute=SITE_REQUESTS_PER_MINUTE // POOL_SLOTS,  # no store: split the limit
        map_index_template=CHUNK_LABEL,
        report_path=REPORT_PATH,
        outlets=[MONTH_END_CLOSED],
    ).expand(invoice_ids=select_pending.output)

    @task
    def report(summaries: list[dict[str, Any]]) -> dict[str, int]:
        """Add up the chunks' outcomes, and write the month report of every run of the period."""
        totals: dict[str, int] = {}
        for summary in summaries:
            for outcome, count in summary["counts"].items():
                totals[outcome] = totals.get(outcome, 0) + count
        print("month-end close:", json.dumps(totals, sort_keys=True))
        for written in publish_month_reports(get_current_context()):
            print("month report:", written)
        return totals

    report(close_pending.output)
