"""Dunning control from a list the collections team maintains.

Trigger with a run config such as
``{"stop": ["inv_1"], "pause": ["inv_2"], "resume": ["inv_3"], "pause_days": 14}``:
disputed invoices stop dunning, promised payments pause it until the promised
date, and settled disputes resume it. Customers are not e-mailed about the
change. Any of the lists may be empty; re-triggering with the same lists is safe.
"""

from __future__ import annotations

import pendulum
from airflow.sdk import DAG, Param

from airflow_provider_cb.operators import (
    PauseDunningOperator,
    ResumeDunningOperator,
    StopDunningOperator,
)

COMMENT = "{{ params.reason }} ({{ dag.dag_id }} run {{ run_id }})"

with DAG(
    dag_id="chargebee_dunning_control",
    schedule=None,
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    params={
        "stop": Param([], type="array", items={"type": "string"}),
        "pause": Param([], type="array", items={"type": "string"}),
        "resume": Param([], type="array", items={"type": "string"}),
        "pause_days": Param(14, type="integer", minimum=1, maximum=90),
        "reason": Param("Collections review", type="string", maxLength=200),
    },
    render_template_as_native_obj=True,
    # Every task stamps the reason on the invoice and e-mails no customer.
    default_args={"comment": COMMENT, "skip_events": ["email"]},
    tags=["chargebee", "finance"],
) as dag:
    StopDunningOperator(task_id="stop_dunning", invoice_ids="{{ params.stop }}")
    PauseDunningOperator(
        task_id="pause_dunning",
        invoice_ids="{{ params.pause }}",
        expected_payment_date="{{ dag_run.run_after + macros.timedelta(days=params.pause_days) }}",
    )
    ResumeDunningOperator(task_id="resume_dunning", invoice_ids="{{ params.resume }}")
