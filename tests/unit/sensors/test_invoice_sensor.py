"""ChargebeeInvoiceSensor: the wait rule, and poke, reschedule and deferrable runs in dag.test()."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from airflow.sdk.exceptions import AirflowException, AirflowFailException

from airflow_provider_cb.client.errors import ChargebeeValidationError
from airflow_provider_cb.client.waiting import wait_outcome
from airflow_provider_cb.sensors import ChargebeeInvoiceSensor
from airflow_provider_cb.testing import ChargebeeEmulator
from airflow_provider_cb.testing.dags import DagFolder
from tests.helpers import xcom_of
from tests.sensor_support import reads_of, sensor_writes

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


@pytest.mark.parametrize(
    ("invoice", "statuses", "dunning", "expected"),
    [
        ({"status": "paid"}, ["paid"], [], "reached"),
        ({"status": "payment_due"}, ["paid"], [], "waiting"),
        ({"status": "not_paid"}, ["paid"], [], "waiting"),
        ({"status": "voided"}, ["paid"], [], "unreachable"),
        ({"status": "paid"}, ["not_paid"], [], "unreachable"),
        ({"status": "paid", "dunning_status": "success"}, [], ["exhausted"], "unreachable"),
        ({"status": "payment_due", "dunning_status": "in_progress"}, [], ["exhausted"], "waiting"),
        (
            {"status": "payment_due", "dunning_status": "exhausted"},
            ["paid"],
            ["exhausted"],
            "reached",
        ),
        ({"status": "voided"}, ["voided"], [], "reached"),
    ],
)
def test_wait_outcome(
    invoice: dict[str, str], statuses: list[str], dunning: list[str], expected: str
) -> None:
    assert wait_outcome(invoice, statuses, dunning) == expected


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({"target_statuses": ["payed"]}, "target_statuses: 'payed' is not one of paid, posted"),
        ({"target_statuses": "paid"}, "target_statuses: must be a list, e.g. ['paid']"),
        ({"target_dunning_statuses": ["done"]}, "target_dunning_statuses: 'done' is not one of"),
        ({}, "target_statuses: give at least one status or dunning status to wait for"),
    ],
)
def test_targets_are_checked_when_the_dag_is_parsed(
    arguments: dict[str, Any], message: str
) -> None:
    with pytest.raises(ChargebeeValidationError, match=message.replace("[", r"\[")):
        ChargebeeInvoiceSensor(task_id="wait", invoice_id="inv_1", **arguments)


def test_a_final_state_fails_the_task_with_a_clear_message(emulator: ChargebeeEmulator) -> None:
    emulator.add_invoice("inv_1", status="voided")
    sensor = ChargebeeInvoiceSensor(task_id="wait", invoice_id="inv_1", target_statuses=["paid"])

    with pytest.raises(AirflowFailException) as failure:
        sensor.execute({})  # type: ignore[arg-type]

    assert str(failure.value) == (
        "invoice inv_1 is voided, a final status: it can never reach status paid"
    )
    assert reads_of(emulator, "inv_1") == 1


def test_errors_fail_the_task_retryable_or_not(emulator: ChargebeeEmulator) -> None:
    sensor = ChargebeeInvoiceSensor(task_id="wait", invoice_id="inv_404", target_statuses=["paid"])
    with pytest.raises(AirflowFailException, match="HTTP 404 resource_not_found"):
        sensor.execute({})  # type: ignore[arg-type]

    with pytest.raises(AirflowException, match="HTTP 503") as failure:
        sensor.execute_complete(
            {},  # type: ignore[arg-type]
            {"outcome": "error", "message": "GET /x: HTTP 503", "retryable": True},
        )
    assert not isinstance(failure.value, AirflowFailException)


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


class ClientRecordingSensor(ChargebeeInvoiceSensor):
    """The sensor, noting the hook and client each poke read through."""

    used: list[tuple[Any, Any]]

    def poke(self, context: Any) -> Any:
        self.used.append((self.hook, self.hook.get_conn()))
        return super().poke(context)


def test_one_hook_serves_every_poke_and_is_closed_at_the_end(
    emulator: ChargebeeEmulator, pay_after_reads: Callable[[str, int], None]
) -> None:
    emulator.add_invoice("inv_1", status="payment_due")
    pay_after_reads("inv_1", 3)
    sensor = ClientRecordingSensor(
        task_id="wait", invoice_id="inv_1", target_statuses=["paid"], poke_interval=0.05
    )
    sensor.used = []

    assert sensor.execute({})["status"] == "paid"  # type: ignore[arg-type]

    assert len(sensor.used) >= 4
    assert len({id(hook) for hook, _ in sensor.used}) == 1
    assert len({id(client) for _, client in sensor.used}) == 1
    hook, client = sensor.used[0]
    assert hook.get_conn() is not client, "the hook was not closed when the task ended"
    hook.close()
