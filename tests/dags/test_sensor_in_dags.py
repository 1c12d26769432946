"""ChargebeeInvoiceSensor in dag.test() runs: poke, reschedule and deferrable, one invoice or many."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from typing import Any

import pytest

from airflow_provider_cb.testing import ChargebeeEmulator
from airflow_provider_cb.testing.dags import DagFolder
from tests.helpers import xcom_of
from tests.sensor_support import IDS, batch_reads, pay, reads_of, seed, sensor_writes

DAG_SOURCE = """
import pendulum
from airflow.sdk import DAG
from airflow_provider_cb.sensors import ChargebeeInvoiceSensor

with DAG("{dag_id}", schedule=None, start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
         default_args={{"retries": 0}}) as dag:
    ChargebeeInvoiceSensor(task_id="wait", invoice_id="inv_1", target_statuses=["paid"],
                           {arguments})
"""


def run_sensor_dag(chargebee_dags: DagFolder, dag_id: str, arguments: str) -> Any:
    dag = chargebee_dags.load(dag_id, DAG_SOURCE.format(dag_id=dag_id, arguments=arguments))
    return dag.test()


def test_poke_mode_in_a_dag_run(
    chargebee_dags: DagFolder,
    emulator: ChargebeeEmulator,
    pay_after_reads: Callable[[str, int], None],
) -> None:
    emulator.add_invoice("inv_1", status="payment_due")
    pay_after_reads("inv_1", 2)

    dag_run = run_sensor_dag(chargebee_dags, "sensor_poke", 'mode="poke", poke_interval=0.05')

    assert dag_run.state == "success"
    record = xcom_of(dag_run, "wait")
    assert (record["outcome"], record["invoice_id"], record["status"]) == (
        "reached",
        "inv_1",
        "paid",
    )
    link = xcom_of(dag_run, "wait", key="_link_ChargebeeInvoiceLink")
    assert link == "https://acme.chargebee.com/d/invoices/inv_1"
    assert reads_of(emulator, "inv_1") >= 3
    assert sensor_writes(emulator) == []


def test_reschedule_mode_in_a_dag_run(
    chargebee_dags: DagFolder,
    emulator: ChargebeeEmulator,
    pay_after_reads: Callable[[str, int], None],
) -> None:
    from airflow.models.taskreschedule import TaskReschedule
    from airflow.utils.session import create_session
    from sqlalchemy import func, select

    emulator.add_invoice("inv_1", status="payment_due")
    pay_after_reads("inv_1", 1)

    dag_run = run_sensor_dag(
        chargebee_dags, "sensor_reschedule", 'mode="reschedule", poke_interval=1'
    )

    assert dag_run.state == "success"
    assert xcom_of(dag_run, "wait")["status"] == "paid"
    ti = dag_run.get_task_instance("wait")
    with create_session() as session:
        reschedules = session.scalar(
            select(func.count()).select_from(TaskReschedule).where(TaskReschedule.ti_id == ti.id)
        )
    assert reschedules >= 1
    assert ti.try_number == 1
    assert sensor_writes(emulator) == []


def test_deferrable_mode_in_a_dag_run(
    chargebee_dags: DagFolder,
    emulator: ChargebeeEmulator,
    pay_after_reads: Callable[[str, int], None],
) -> None:
    emulator.add_invoice("inv_1", status="payment_due")
    # The first read is the sensor's own check before it defers; the rest are the trigger's.
    pay_after_reads("inv_1", 3)

    dag_run = run_sensor_dag(
        chargebee_dags, "sensor_deferrable", "deferrable=True, poke_interval=0.05"
    )

    assert dag_run.state == "success"
    assert xcom_of(dag_run, "wait")["status"] == "paid"
    assert reads_of(emulator, "inv_1") >= 4
    assert sensor_writes(emulator) == []


MODES = [
    'mode="poke", poke_interval=0.05',
    'mode="reschedule", poke_interval=1',
    "deferrable=True, poke_interval=0.05",
]
"""The sensor's arguments for each of its three modes."""

BATCH_DAG_SOURCE = """
import pendulum
from airflow.sdk import DAG
from airflow_provider_cb.sensors import ChargebeeInvoiceSensor

with DAG("{dag_id}", schedule=None, start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
         default_args={{"retries": 0}}) as dag:
    ChargebeeInvoiceSensor(task_id="wait", invoice_ids={ids!r}, target_statuses=["paid"],
                           {arguments})
"""


def threading_payer(
    emulator: ChargebeeEmulator, invoice_id: str, *, after_reads: int
) -> threading.Thread:
    """Pay an invoice from another thread once the sensor has read the batch N times."""

    def pay_when_read() -> None:
        deadline = time.monotonic() + 60
        while len(batch_reads(emulator)) < after_reads * 2 and time.monotonic() < deadline:
            time.sleep(0.02)
        pay(emulator, invoice_id)

    thread = threading.Thread(target=pay_when_read, daemon=True)
    thread.start()
    return thread


@pytest.mark.parametrize("arguments", MODES, ids=["poke", "reschedule", "deferrable"])
def test_every_mode_waits_in_a_dag_run(
    chargebee_dags: DagFolder, emulator: ChargebeeEmulator, arguments: str
) -> None:
    seed(emulator, unpaid=("inv_042",))
    paid_later = threading_payer(emulator, "inv_042", after_reads=2)
    dag_id = f"batch_{arguments.split('=')[0]}"
    dag = chargebee_dags.load(
        dag_id, BATCH_DAG_SOURCE.format(dag_id=dag_id, ids=IDS, arguments=arguments)
    )

    dag_run = dag.test()
    paid_later.join(timeout=60)

    assert dag_run.state == "success"
    record = xcom_of(dag_run, "wait")
    assert (record["outcome"], record["statuses"]) == ("reached", {"paid": 150})
    assert len(batch_reads(emulator)) >= 4
    assert sensor_writes(emulator) == []
    # Many invoices have no one page: the task carries no link and pushes no empty one.
    assert xcom_of(dag_run, "wait", key="_link_ChargebeeInvoiceLink") is None


@pytest.mark.parametrize("arguments", MODES, ids=["poke", "reschedule", "deferrable"])
def test_a_rate_limit_never_ends_the_wait_in_any_mode(
    chargebee_dags: DagFolder,
    emulator: ChargebeeEmulator,
    monkeypatch: pytest.MonkeyPatch,
    arguments: str,
) -> None:
    # No retries in the client: each 429 reaches the sensor (or the trigger) as an error.
    connection = json.loads(emulator.connection_json())
    connection["extra"]["max_retries"] = 0
    monkeypatch.setenv("AIRFLOW_CONN_CHARGEBEE_DEFAULT", json.dumps(connection))
    emulator.add_invoice("inv_1", status="paid")
    emulator.faults.script(["rate_limit_no_retry_after"] * 2, only_methods=["GET"])

    dag_id = "sensor_rate_limited_" + arguments.split("=")[0].strip()
    dag_run = run_sensor_dag(chargebee_dags, dag_id, arguments)

    assert dag_run.state == "success"
    assert xcom_of(dag_run, "wait")["status"] == "paid"
    assert [r.status for r in emulator.requests if r.method == "GET"] == [429, 429, 200]
    assert sensor_writes(emulator) == []
