"""``chargebee_conn_id`` is a template field of every operator and the sensor."""

from __future__ import annotations

import pytest

from airflow_provider_cb.testing import ChargebeeEmulator
from airflow_provider_cb.testing.dags import CONNECTION_ENV, DagFolder
from tests.helpers import xcom_of

DAG_SOURCE = """
import pendulum
from airflow.sdk import DAG
from airflow_provider_cb.operators import CloseInvoiceOperator, ListInvoicesOperator
from airflow_provider_cb.sensors import ChargebeeInvoiceSensor

with DAG("templated_connection", schedule=None,
         start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
         params={"site": "emulated"}, default_args={"retries": 0}) as dag:
    conn_id = "chargebee_{{ params.site }}"
    pending = ListInvoicesOperator(task_id="pending", status="pending", period="all",
                                   chargebee_conn_id=conn_id)
    close = CloseInvoiceOperator(task_id="close", invoice_ids=pending.output,
                                 chargebee_conn_id=conn_id)
    closed = ChargebeeInvoiceSensor(task_id="closed", invoice_id="inv_000001",
                                    target_statuses=["payment_due"], poke_interval=0.05,
                                    chargebee_conn_id=conn_id)
    close >> closed
"""


def test_a_templated_connection_id_renders_and_is_used(
    chargebee_dags: DagFolder,
    chargebee_conn_env: ChargebeeEmulator,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    emulator = chargebee_conn_env
    emulator.seed(2, status="pending")
    # Only the rendered id names a connection: the default and the raw template name none.
    monkeypatch.setenv("AIRFLOW_CONN_CHARGEBEE_EMULATED", emulator.connection_json())
    monkeypatch.delenv(CONNECTION_ENV)

    dag_run = chargebee_dags.load("templated_connection", DAG_SOURCE).test()

    assert dag_run.state == "success"
    assert xcom_of(dag_run, "pending") == ["inv_000001", "inv_000002"]
    assert xcom_of(dag_run, "close")["counts"] == {"done": 2}
    assert xcom_of(dag_run, "closed")["status"] == "payment_due"
