"""Close every invoice of last month, pending or voided: voided ones are not eligible.

Only the month-end page's browser test uses it, to have invoices that need attention.
"""

from __future__ import annotations

import pendulum
from airflow.sdk import DAG

from airflow_provider_cb.operators import CloseInvoiceOperator, ListInvoicesOperator

with DAG(
    dag_id="chargebee_close_any_status",
    schedule=None,
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    catchup=False,
    params={"report_dir": "/tmp/chargebee-reports"},
    tags=["chargebee"],
) as dag:
    listed = ListInvoicesOperator(
        task_id="select_any", status=["pending", "voided"], period="previous_month"
    )
    CloseInvoiceOperator(
        task_id="close_any",
        invoice_ids=listed.output,
        if_not_eligible="succeed",
        report_path="{{ params.report_dir }}/{{ run_id | replace(':', '-') }}/close.csv",
    )
