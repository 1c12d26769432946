"""ChargebeeInvoiceSensor(invoice_ids=[...]): many invoices read 100 per list request."""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest
from airflow.sdk.exceptions import AirflowFailException

from airflow_provider_cb.sensors import ChargebeeInvoiceSensor
from airflow_provider_cb.testing import ChargebeeEmulator
from airflow_provider_cb.testing.dags import DagFolder
from airflow_provider_cb.triggers.invoice import ChargebeeInvoiceTrigger
from tests.helpers import xcom_of
from tests.sensor_support import batch_reads, sensor_writes
from tests.unit.triggers.test_invoice_trigger import first_event

IDS = [f"inv_{n:03d}" for n in range(1, 151)]
"""150 invoices: two list requests per read, one of 100 ids and one of 50."""

DAG_SOURCE = """
import pendulum
from airflow.sdk import DAG
from airflow_provider_cb.sensors import ChargebeeInvoiceSensor

with DAG("{dag_id}", schedule=None, start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
         default_args={{"retries": 0}}) as dag:
    ChargebeeInvoiceSensor(task_id="wait", invoice_ids={ids!r}, target_statuses=["paid"],
                           {arguments})
"""


def seed(emulator: ChargebeeEmulator, *, unpaid: tuple[str, ...]) -> None:
    for invoice_id in IDS:
        emulator.add_invoice(invoice_id, status="payment_due" if invoice_id in unpaid else "paid")


def pay(emulator: ChargebeeEmulator, invoice_id: str) -> None:
    assert emulator.record_payment(invoice_id)["status"] == "paid"


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


def test_reads_one_list_request_per_hundred_invoices_and_reports_the_outstanding(
    emulator: ChargebeeEmulator, capsys: pytest.CaptureFixture[str]
) -> None:
    seed(emulator, unpaid=("inv_007", "inv_120"))
    sensor = ChargebeeInvoiceSensor(task_id="wait", invoice_ids=IDS, target_statuses=["paid"])

    assert sensor.poke({}).is_done is False  # type: ignore[arg-type]
    assert batch_reads(emulator) == [IDS[:100], IDS[100:]]
    assert "2 of 150 invoices still outstanding: inv_007 (payment_due), inv_120 (payment_due)" in (
        capsys.readouterr().out
    )

    pay(emulator, "inv_007")
    pay(emulator, "inv_120")
    done = sensor.poke({})  # type: ignore[arg-type]
    assert done.is_done
    assert done.xcom_value == {
        "outcome": "reached",
        "invoices": 150,
        "statuses": {"paid": 150},
        "dunning_statuses": {},
        "message": "",
        "retryable": False,
    }
    assert len(batch_reads(emulator)) == 4
    assert sensor_writes(emulator) == []


def test_fails_early_naming_the_invoices_that_can_never_get_there(
    emulator: ChargebeeEmulator,
) -> None:
    seed(emulator, unpaid=("inv_002",))
    emulator.add_invoice("inv_voided", status="voided")
    ids = [*IDS, "inv_voided", "inv_unknown"]
    sensor = ChargebeeInvoiceSensor(task_id="wait", invoice_ids=ids, target_statuses=["paid"])

    with pytest.raises(AirflowFailException) as failure:
        sensor.execute({})  # type: ignore[arg-type]

    assert str(failure.value) == (
        "of 152 invoices, 1 in a final status that can never reach status paid: "
        "inv_voided (voided); 1 not found on the site: inv_unknown"
    )
    assert len(batch_reads(emulator)) == 2


@pytest.mark.parametrize(
    "invoice_ids", ["inv_1", ["inv_1", "inv_1"], ["bad id"]], ids=["text", "repeat", "bad id"]
)
def test_bad_ids_fail_the_task_before_any_request(
    emulator: ChargebeeEmulator, invoice_ids: Any
) -> None:
    sensor = ChargebeeInvoiceSensor(
        task_id="wait", invoice_ids=invoice_ids, target_statuses=["paid"]
    )
    with pytest.raises(AirflowFailException, match=r"wait: invoice_ids"):
        sensor.execute({})  # type: ignore[arg-type]
    assert list(emulator.requests) == []


def test_nothing_to_wait_for_ends_at_once_without_a_request(emulator: ChargebeeEmulator) -> None:
    sensor = ChargebeeInvoiceSensor(task_id="wait", invoice_ids=[], target_statuses=["paid"])

    assert sensor.execute({})["invoices"] == 0  # type: ignore[arg-type]
    assert list(emulator.requests) == []


def test_trigger_polls_list_pages_only_until_every_invoice_is_paid(
    emulator: ChargebeeEmulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    from airflow_provider_cb.triggers import invoice as trigger_module

    seed(emulator, unpaid=("inv_150",))

    async def pay_on_second_poll(seconds: float) -> None:
        pay(emulator, "inv_150")

    monkeypatch.setattr(trigger_module, "_sleep", pay_on_second_poll)
    trigger = ChargebeeInvoiceTrigger(invoice_ids=IDS, target_statuses=["paid"], poll_interval=1)

    event = first_event(trigger)

    assert (event["outcome"], event["invoices"], event["statuses"]) == (
        "reached",
        150,
        {"paid": 150},
    )
    assert batch_reads(emulator) == [IDS[:100], IDS[100:]] * 2
    assert sensor_writes(emulator) == []
    assert trigger.serialize()[1]["invoice_ids"] == IDS


@pytest.mark.parametrize(
    "arguments",
    [
        'mode="poke", poke_interval=0.05',
        'mode="reschedule", poke_interval=1',
        "deferrable=True, poke_interval=0.05",
    ],
    ids=["poke", "reschedule", "deferrable"],
)
def test_every_mode_waits_in_a_dag_run(
    chargebee_dags: DagFolder, emulator: ChargebeeEmulator, arguments: str
) -> None:
    seed(emulator, unpaid=("inv_042",))
    paid_later = threading_payer(emulator, "inv_042", after_reads=2)
    dag_id = f"batch_{arguments.split('=')[0]}"
    dag = chargebee_dags.load(
        dag_id, DAG_SOURCE.format(dag_id=dag_id, ids=IDS, arguments=arguments)
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
