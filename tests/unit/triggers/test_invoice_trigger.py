"""ChargebeeInvoiceTrigger run directly with asyncio against the emulator over real HTTP."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from typing import Any

import pytest
from airflow.sdk.module_loading import import_string

from airflow_provider_cb.chargebee_api import async_transport
from airflow_provider_cb.testing import ChargebeeEmulator
from airflow_provider_cb.triggers import invoice as trigger_module
from airflow_provider_cb.triggers.invoice import ChargebeeInvoiceTrigger
from tests.sensor_support import IDS, batch_reads, pay, reads_of, seed, sensor_writes


def first_event(trigger: ChargebeeInvoiceTrigger) -> dict[str, Any]:
    async def run() -> dict[str, Any]:
        event = await anext(trigger.run())
        return dict(event.payload)

    return asyncio.run(run())


@pytest.fixture
def sleeps(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """The trigger's waits, its polls' and its client's, recorded instead of slept."""
    recorded: list[float] = []

    async def no_wait(seconds: float) -> None:
        recorded.append(seconds)
        await asyncio.sleep(0)

    monkeypatch.setattr(trigger_module, "_sleep", no_wait)
    monkeypatch.setattr(async_transport, "_sleep", no_wait)
    return recorded


def test_serialized_trigger_names_the_connection_not_the_key(
    emulator: ChargebeeEmulator,
) -> None:
    trigger = ChargebeeInvoiceTrigger(
        invoice_id="inv_1", target_statuses=["paid"], chargebee_conn_id="cb", poll_interval=5
    )
    classpath, kwargs = trigger.serialize()

    assert json.loads(json.dumps(kwargs)) == {
        "invoice_id": "inv_1",
        "target_statuses": ["paid"],
        "target_dunning_statuses": [],
        "chargebee_conn_id": "cb",
        "poll_interval": 5.0,
    }
    assert import_string(classpath)(**kwargs).serialize() == (classpath, kwargs)


def test_polls_with_gets_only_until_the_invoice_is_paid(
    emulator: ChargebeeEmulator,
    pay_after_reads: Callable[[str, int], None],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    conn = json.loads(emulator.connection_json())
    conn["extra"]["business_entity_id"] = "acme_us"
    monkeypatch.setenv("AIRFLOW_CONN_CHARGEBEE_DEFAULT", json.dumps(conn))
    emulator.add_invoice("inv_1", status="payment_due", dunning_status="in_progress")
    pay_after_reads("inv_1", 3)

    event = first_event(
        ChargebeeInvoiceTrigger(invoice_id="inv_1", target_statuses=["paid"], poll_interval=0.02)
    )

    assert (event["outcome"], event["status"]) == ("reached", "paid")
    assert reads_of(emulator, "inv_1") >= 4
    assert sensor_writes(emulator) == []
    gets = [r for r in emulator.requests if r.method == "GET"]
    assert {r.headers.get("chargebee-business-entity-id") for r in gets} == {"acme_us"}


def test_a_dunning_status_ends_the_wait_too(emulator: ChargebeeEmulator) -> None:
    emulator.add_invoice("inv_1", status="payment_due", dunning_status="exhausted")

    event = first_event(
        ChargebeeInvoiceTrigger(
            invoice_id="inv_1", target_statuses=["paid"], target_dunning_statuses=["exhausted"]
        )
    )

    assert (event["outcome"], event["dunning_status"]) == ("reached", "exhausted")


@pytest.mark.parametrize(
    ("status", "targets", "expected"),
    [
        (
            "voided",
            ["paid"],
            "invoice inv_1 is voided, a final status: it can never reach status paid",
        ),
        (
            "paid",
            ["not_paid"],
            "invoice inv_1 is paid, a final status: it can never reach status not_paid",
        ),
    ],
)
def test_a_final_state_that_cannot_match_ends_the_wait_at_once(
    emulator: ChargebeeEmulator, status: str, targets: list[str], expected: str
) -> None:
    emulator.add_invoice("inv_1", status=status)

    event = first_event(ChargebeeInvoiceTrigger(invoice_id="inv_1", target_statuses=targets))

    assert (event["outcome"], event["message"]) == ("unreachable", expected)
    assert reads_of(emulator, "inv_1") == 1


def test_waits_as_long_as_retry_after_says(
    emulator: ChargebeeEmulator, sleeps: list[float]
) -> None:
    emulator.add_invoice("inv_1", status="paid")
    emulator.faults.script(["rate_limit", "rate_limit"], only_methods=["GET"])

    event = first_event(ChargebeeInvoiceTrigger(invoice_id="inv_1", target_statuses=["paid"]))

    assert event["outcome"] == "reached"
    # The emulator's Retry-After: 1, paused in the rate budget (less the microseconds since).
    assert sleeps == [pytest.approx(1.0, abs=0.05)] * 2
    assert [r.status for r in emulator.requests] == [429, 429, 200]


def test_rate_limits_without_retry_after_wait_the_block_and_never_end_the_wait(
    emulator: ChargebeeEmulator, sleeps: list[float]
) -> None:
    emulator.add_invoice("inv_1", status="paid")
    emulator.faults.script(["rate_limit_no_retry_after"] * 6, only_methods=["GET"])

    trigger = ChargebeeInvoiceTrigger(invoice_id="inv_1", target_statuses=["paid"])

    event = first_event(trigger)

    assert event["outcome"] == "reached"  # six 429s, more than max_retries (4)
    # Each waits the site's block (the kit's connection shortens Chargebee's minute to
    # rate_limit_block_seconds=1) four times and gives up; the trigger polls again later.
    blocks, poll, last = sleeps[:4], sleeps[4], sleeps[5:]
    assert blocks == [pytest.approx(1.0, abs=0.05)] * 4
    assert poll == trigger.poll_interval
    # No time passes here, so the next poll's read also waits out the last pause.
    assert last == [pytest.approx(1.0, abs=0.05)] * 2
    assert [r.status for r in emulator.requests] == [429] * 6 + [200]


def test_transient_failures_are_retried_then_reported(
    emulator: ChargebeeEmulator, sleeps: list[float], monkeypatch: pytest.MonkeyPatch
) -> None:
    conn = json.loads(emulator.connection_json())
    conn["extra"]["max_retries"] = 2
    monkeypatch.setenv("AIRFLOW_CONN_CHARGEBEE_DEFAULT", json.dumps(conn))
    emulator.add_invoice("inv_1", status="paid")
    emulator.faults.script(["server_503", "gateway_html_502", None])

    assert (
        first_event(ChargebeeInvoiceTrigger(invoice_id="inv_1", target_statuses=["paid"]))[
            "outcome"
        ]
        == "reached"
    )
    assert len(sleeps) == 2

    emulator.faults.script(["server_503"] * 3)
    event = first_event(ChargebeeInvoiceTrigger(invoice_id="inv_1", target_statuses=["paid"]))
    assert (event["outcome"], event["retryable"]) == ("error", True)
    assert "HTTP 503 internal_temporary_error" in event["message"]


@pytest.mark.parametrize(
    ("key", "invoice_id", "expected"),
    [
        (None, "inv_404", "GET /api/v2/invoices/inv_404: HTTP 404 resource_not_found"),
        ("test_WRONGKEY_5678", "inv_1", "HTTP 401 api_authentication_failed"),
    ],
)
def test_errors_that_retrying_cannot_fix_end_the_wait(
    emulator: ChargebeeEmulator,
    monkeypatch: pytest.MonkeyPatch,
    key: str | None,
    invoice_id: str,
    expected: str,
) -> None:
    conn = json.loads(emulator.connection_json())
    conn["password"] = key or conn["password"]
    monkeypatch.setenv("AIRFLOW_CONN_CHARGEBEE_DEFAULT", json.dumps(conn))
    emulator.add_invoice("inv_1", status="payment_due")

    event = first_event(ChargebeeInvoiceTrigger(invoice_id=invoice_id, target_statuses=["paid"]))

    assert (event["outcome"], event["retryable"]) == ("error", False)
    assert expected in event["message"]
    assert conn["password"] not in json.dumps(event)
    assert len(emulator.requests) == 1


def test_trigger_polls_list_pages_only_until_every_invoice_is_paid(
    emulator: ChargebeeEmulator, monkeypatch: pytest.MonkeyPatch
) -> None:
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
