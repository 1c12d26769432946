"""ChargebeeInvoiceSensor: the wait rule, and the sensor run as a task against the emulator."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from airflow.sdk.exceptions import AirflowException, AirflowFailException

from airflow_provider_cb.chargebee_api.errors import ChargebeeValidationError
from airflow_provider_cb.invoicing.waiting import wait_outcome
from airflow_provider_cb.sensors import ChargebeeInvoiceSensor
from airflow_provider_cb.testing import ChargebeeEmulator
from tests.sensor_support import reads_of


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
