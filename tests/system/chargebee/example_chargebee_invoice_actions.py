"""Every invoice action on the system site, each previewed before it acts.

The run conf names the invoices of each action (``tests/system/site.py``
prepares them); an action with none is previewed and run on an empty list. The
last task checks that each preview said ``would_act`` for every invoice and each
action then did it.
"""

from __future__ import annotations

from typing import Any

import pendulum
from airflow.sdk import DAG, Param, task

from airflow_provider_cb.operators import (
    CloseInvoiceOperator,
    CollectInvoiceOperator,
    PauseDunningOperator,
    ResumeDunningOperator,
    StopDunningOperator,
    WriteOffInvoiceOperator,
)
from tests.system.system_tests import get_test_run

DAG_ID = "example_chargebee_invoice_actions"
SOURCES = {
    "close": "close",
    "collect": "collect",
    "write_off": "write_off",
    "stop_dunning": "stop_dunning",
    "pause_dunning": "pause_dunning",
    "resume_dunning": "pause_dunning",
}
"""Which run-conf list each action takes its ids from: resume undoes the pause."""

with DAG(
    dag_id=DAG_ID,
    schedule=None,
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    catchup=False,
    params={name: Param([], type="array") for name in set(SOURCES.values())},
    default_args={"retries": 0},
    tags=["example", "chargebee", "system"],
) as dag:
    in_two_weeks = "{{ (dag_run.run_after + macros.timedelta(days=14)).isoformat() }}"
    operators: dict[str, tuple[type, dict[str, Any]]] = {
        "close": (CloseInvoiceOperator, {"comment": "system test"}),
        "collect": (CollectInvoiceOperator, {}),
        "write_off": (WriteOffInvoiceOperator, {"comment": "system test"}),
        "stop_dunning": (StopDunningOperator, {"comment": "system test"}),
        "pause_dunning": (PauseDunningOperator, {"expected_payment_date": in_two_weeks}),
        "resume_dunning": (ResumeDunningOperator, {}),
    }
    steps = {}
    for name, (operator, fields) in operators.items():
        ids = f"{{{{ params.{SOURCES[name]} }}}}"
        preview = operator(
            task_id=f"preview_{name}",
            invoice_ids=ids,
            dry_run=True,
            if_not_eligible="succeed",
            **fields,
        )
        steps[name] = (preview, operator(task_id=name, invoice_ids=ids, **fields))
        preview >> steps[name][1]
    steps["pause_dunning"][1] >> steps["resume_dunning"][0]

    @task
    def verify(**context: Any) -> None:
        """Each preview would act on every invoice; each action then did."""
        ti, params = context["ti"], context["params"]
        wrong = []
        for name, source in SOURCES.items():
            count = len(params[source])
            preview = ti.xcom_pull(task_ids=f"preview_{name}")["counts"]
            acted = ti.xcom_pull(task_ids=name)["counts"]
            if preview != ({"would_act": count} if count else {}):
                wrong.append(f"preview_{name}: {preview}")
            if acted != ({"done": count} if count else {}):
                wrong.append(f"{name}: {acted}")
        if wrong:
            raise AssertionError("; ".join(wrong))

    [act for _, act in steps.values()] >> verify()


test_run = get_test_run(dag)
