"""The invoice actions on the emulator: what each does to an invoice, and 409 on a wrong state."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from airflow_provider_cb.invoicing.action_table import ACTIONS
from airflow_provider_cb.testing import ChargebeeEmulator
from tests.integration.emulator_calls import DAY, act, assert_error

SCENARIOS: dict[str, tuple[dict[str, Any], dict[str, Any], dict[str, Any]]] = {
    "close": (
        {"status": "pending"},
        {"comment": "month end"},
        {"status": "payment_due", "dunning_status": "in_progress"},
    ),
    "collect": ({"status": "pending"}, {}, {"status": "payment_due"}),
    "write_off": (
        {"status": "payment_due"},
        {"comment": "old debt"},
        {"status": "paid", "amount_due": 0},
    ),
    "stop_dunning": (
        {"status": "payment_due", "dunning_status": "in_progress"},
        {"comment": "talked to them"},
        {"status": "not_paid", "dunning_status": "stopped"},
    ),
    "pause_dunning": ({"status": "payment_due"}, {"expected_payment_date": "FUTURE"}, {}),
    "resume_dunning": (
        {"status": "payment_due", "expected_payment_date": 2_000_000_000},
        {},
        {"status": "payment_due", "dunning_status": "in_progress"},
    ),
}


def test_every_action_has_a_scenario() -> None:
    assert set(SCENARIOS) == set(ACTIONS)


@pytest.mark.parametrize("name", sorted(ACTIONS))
def test_action_happy_path(name: str, emulator: ChargebeeEmulator, http: httpx.Client) -> None:
    setup, data, expected = SCENARIOS[name]
    before = emulator.add_invoice("inv_1", **setup)
    future = int(emulator.clock.now()) + 10 * DAY
    data = {k: (future if v == "FUTURE" else v) for k, v in data.items()}
    emulator.advance(5)

    response = act(http, ACTIONS[name].endpoint, "inv_1", data, key=f"k-{name}")

    assert response.status_code == 200, response.text
    invoice = response.json()["invoice"]
    for field, value in expected.items():
        assert invoice[field] == value
    if ACTIONS[name].api_version == "v2":
        assert invoice == emulator.invoice("inv_1")
    assert ACTIONS[name].done_when.matches(emulator.invoice("inv_1"))
    after = emulator.invoice("inv_1")
    assert after["updated_at"] > before["updated_at"]
    assert after["resource_version"] > before["resource_version"]
    [record] = emulator.applied_actions
    assert (record.invoice_id, record.action, record.api_version) == (
        "inv_1",
        name,
        ACTIONS[name].api_version,
    )
    assert record.idempotency_key == f"k-{name}"
    assert dict(record.params) == {
        k: (int(v) if k.endswith("_date") else v) for k, v in data.items()
    }


def test_pause_dunning_sets_and_resume_clears_the_expected_payment_date(
    emulator: ChargebeeEmulator, http: httpx.Client
) -> None:
    emulator.add_invoice("inv_1", status="payment_due", dunning_status="in_progress")
    until = int(emulator.clock.now()) + 7 * DAY
    paused = act(http, "pause_dunning", "inv_1", {"expected_payment_date": until})
    assert paused.json()["invoice"]["expected_payment_date"] == until
    resumed = act(http, "resume_dunning", "inv_1")
    assert "expected_payment_date" not in resumed.json()["invoice"]
    assert emulator.count_applied() == 2


def test_write_off_answers_with_a_credit_note(
    emulator: ChargebeeEmulator, http: httpx.Client
) -> None:
    emulator.add_invoice("inv_1", status="not_paid", amount_due=4_200)
    body = act(http, "write_off", "inv_1").json()
    note = body["credit_note"]
    assert note["reference_invoice_id"] == "inv_1"
    assert (note["type"], note["reason_code"], note["total"]) == ("adjustment", "write_off", 4_200)
    assert body["invoice"]["write_off_amount"] == 4_200


def test_close_with_nothing_due_is_paid(emulator: ChargebeeEmulator, http: httpx.Client) -> None:
    emulator.add_invoice("inv_1", amount_due=0)
    invoice = act(http, "close", "inv_1").json()["invoice"]
    assert invoice["status"] == "paid"
    assert "dunning_status" not in invoice


def test_close_with_auto_collection_off_starts_no_dunning(
    emulator: ChargebeeEmulator, http: httpx.Client
) -> None:
    emulator.add_invoice("inv_1", auto_collection="off")
    invoice = act(http, "close", "inv_1").json()["invoice"]
    assert invoice["status"] == "payment_due"
    assert "dunning_status" not in invoice


@pytest.mark.parametrize("name", sorted(ACTIONS))
def test_action_on_a_wrong_state_is_409(
    name: str, emulator: ChargebeeEmulator, http: httpx.Client
) -> None:
    emulator.add_invoice("inv_1", status="voided")
    data = (
        {"expected_payment_date": int(emulator.clock.now()) + DAY}
        if name == "pause_dunning"
        else {}
    )
    response = act(http, ACTIONS[name].endpoint, "inv_1", data)
    assert_error(response, 409, "invalid_state_for_request")
    assert response.json()["type"] == "invalid_request"
    assert "status voided" in response.json()["message"]
    assert emulator.count_applied() == 0
    assert emulator.invoice("inv_1")["status"] == "voided"


@pytest.mark.parametrize(
    ("endpoint", "setup", "data"),
    [
        ("collect", {"line_items": 0}, {}),
        ("stop_dunning", {"status": "payment_due", "auto_collection": "off"}, {}),
        ("pause_dunning", {"status": "payment_due", "expected_payment_date": 2_000_000_000}, "F"),
        ("resume_dunning", {"status": "payment_due"}, {}),
        ("close", {"status": "payment_due"}, {}),
    ],
    ids=["collect-no-lines", "stop-auto-off", "pause-paused", "resume-not-paused", "close-closed"],
)
def test_action_specific_conditions_give_409(
    endpoint: str, setup: dict[str, Any], data: Any, emulator: ChargebeeEmulator, http: httpx.Client
) -> None:
    emulator.add_invoice("inv_1", **setup)
    if data == "F":
        data = {"expected_payment_date": int(emulator.clock.now()) + DAY}
    assert_error(act(http, endpoint, "inv_1", data), 409, "invalid_state_for_request")
    assert emulator.count_applied() == 0


def test_duplicates_lists_invoices_acted_on_twice(
    emulator: ChargebeeEmulator, http: httpx.Client
) -> None:
    emulator.add_invoice("inv_1", status="payment_due")
    emulator.add_invoice("inv_2", status="payment_due")
    until = {"expected_payment_date": int(emulator.clock.now()) + DAY}
    for invoice_id in ("inv_1", "inv_2"):
        assert act(http, "pause_dunning", invoice_id, until).status_code == 200
    assert act(http, "resume_dunning", "inv_1").status_code == 200
    assert act(http, "pause_dunning", "inv_1", until).status_code == 200
    assert emulator.duplicates() == {"inv_1": 3}
    assert emulator.duplicates("pause_dunning") == {"inv_1": 2}
    assert emulator.count_applied("pause_dunning") == 3
    assert emulator.count_applied(invoice_id="inv_2") == 1
