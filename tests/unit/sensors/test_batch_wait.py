"""ChargebeeInvoiceSensor(invoice_ids=[...]): many invoices read 100 per list request."""

from __future__ import annotations

from typing import Any

import pytest
from airflow.sdk.exceptions import AirflowFailException

from airflow_provider_cb.sensors import ChargebeeInvoiceSensor
from airflow_provider_cb.testing import ChargebeeEmulator
from tests.sensor_support import IDS, batch_reads, pay, seed, sensor_writes


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
