"""perform_action / preview_action against a fake client."""

from __future__ import annotations

import json
from typing import Any

import pytest
from pytest_mock import MockerFixture

from airflow_provider_cb.chargebee_api.answers import ApiResponse
from airflow_provider_cb.chargebee_api.errors import (
    AuthenticationError,
    ChargebeeError,
    ChargebeeTransportError,
    ChargebeeValidationError,
    ConnectionFailedError,
    InvalidStateError,
    NotFoundError,
    RateLimitError,
    ServerError,
)
from airflow_provider_cb.invoicing.action_table import ACTIONS
from airflow_provider_cb.invoicing.clients import ChargebeeClient
from airflow_provider_cb.invoicing.outcomes import ActionRecord, perform_action, preview_action

KEY = "af-close-0123456789abcdef0123456789abcdef01234567"


def conflict(attempts: int = 1, *, replayed: bool = False) -> InvalidStateError:
    error = InvalidStateError(
        http_status=409,
        message="Invoice is not in pending state",
        api_error_code="invalid_state_for_request",
        error_type="invalid_request",
        method="POST",
        path="/api/v2/invoices/inv_1/close",
        replayed=replayed,
    )
    error.attempts = attempts
    return error


def answer(invoice: dict[str, Any], *, replayed: bool = False, attempts: int = 1) -> ApiResponse:
    return ApiResponse(
        body={"invoice": invoice},
        status_code=200,
        replayed=replayed,
        attempts=attempts,
        idempotency_key=KEY,
    )


@pytest.fixture
def client(mocker: MockerFixture) -> Any:
    fake = mocker.create_autospec(ChargebeeClient, instance=True)
    fake.in_flight_until.return_value = 0.0  # no waiting unless a test asks for it
    return fake


def perform(client: Any, action: str = "close", **kwargs: Any) -> ActionRecord:
    kwargs.setdefault("fields", {"comment": "month end"})
    return perform_action(client, ACTIONS[action], "inv_1", idempotency_key=KEY, **kwargs)


def assert_serialisable(record: ActionRecord) -> dict[str, Any]:
    data = record.as_dict()
    assert json.loads(json.dumps(data)) == data
    return data


def test_done(client: Any) -> None:
    invoice = {"id": "inv_1", "status": "payment_due", "total": 1000}
    client.invoke.return_value = answer(invoice, attempts=3)
    record = perform(client)
    client.invoke.assert_called_once_with(
        ACTIONS["close"], "inv_1", fields={"comment": "month end"}, idempotency_key=KEY
    )
    client.get_invoice.assert_not_called()
    assert record.outcome == "done"
    assert record.status_before == "pending"
    assert record.status_after == "payment_due"
    assert record.replayed is False
    assert record.attempts == 3
    assert record.idempotency_key == KEY
    assert record.api_error_code is None
    assert record.invoice is None
    data = assert_serialisable(record)
    assert "invoice" not in data
    assert data["outcome"] == "done"


def test_done_with_invoice_included(client: Any) -> None:
    invoice = {"id": "inv_1", "status": "payment_due"}
    client.invoke.return_value = answer(invoice)
    record = perform(client, include_invoice=True)
    assert record.invoice == invoice
    assert assert_serialisable(record)["invoice"] == invoice


@pytest.mark.parametrize(
    ("action", "effect", "status_before", "status_after"),
    [
        ("collect", {}, "pending", "payment_due"),
        ("write_off", {"write_off_amount": 500}, None, "paid"),
        ("stop_dunning", {"dunning_status": "stopped"}, "payment_due", "not_paid"),
        ("resume_dunning", {}, "payment_due", "payment_due"),
    ],
)
def test_done_status_before_is_known_only_for_single_status_actions(
    client: Any, action: str, effect: dict[str, Any], status_before: str | None, status_after: str
) -> None:
    client.invoke.return_value = answer({"id": "inv_1", "status": status_after, **effect})
    record = perform(client, action, fields={})
    client.get_invoice.assert_not_called()
    assert (record.outcome, record.status_before, record.status_after) == (
        "done",
        status_before,
        status_after,
    )


@pytest.mark.parametrize("status", ["payment_due", "paid", "not_paid", "posted"])
def test_conflict_on_closed_invoice_is_already_done(client: Any, status: str) -> None:
    client.invoke.side_effect = conflict()
    client.get_invoice.return_value = {"id": "inv_1", "status": status}
    record = perform(client)
    client.get_invoice.assert_called_once_with("inv_1")
    assert record.outcome == "already_done"
    assert record.status_before == record.status_after == status
    assert record.attempts == 1
    assert record.api_error_code is None
    assert record.message is None
    assert record.idempotency_key == KEY
    assert_serialisable(record)


def test_conflict_on_ineligible_invoice_is_not_eligible(client: Any) -> None:
    client.invoke.side_effect = conflict()
    client.get_invoice.return_value = {"id": "inv_1", "status": "voided"}
    record = perform(client, include_invoice=True)
    assert record.outcome == "not_eligible"
    assert record.api_error_code == "invalid_state_for_request"
    assert record.retryable is False
    assert record.message is not None
    assert "status voided" in record.message
    assert "pending" in record.message
    assert record.invoice == {"id": "inv_1", "status": "voided"}
    assert_serialisable(record)


def test_an_effect_after_a_key_sent_twice_is_confirmed_by_sending_it_again(client: Any) -> None:
    """A timed-out first try may be what acted: Chargebee replays its success to the key."""
    closed = {"id": "inv_1", "status": "payment_due"}
    client.invoke.side_effect = [conflict(attempts=2), answer(closed, replayed=True)]
    client.get_invoice.return_value = closed
    record = perform(client)
    assert client.invoke.call_count == 2
    assert (record.outcome, record.replayed, record.attempts) == ("done", True, 3)
    client.invoke.side_effect = [conflict(attempts=2), conflict()]
    record = perform(client)
    assert (record.outcome, record.replayed) == ("already_done", False)


def test_pause_dunning_conflict_on_paused_invoice_is_already_done(client: Any) -> None:
    client.invoke.side_effect = conflict()
    client.get_invoice.return_value = {
        "id": "inv_1",
        "status": "payment_due",
        "expected_payment_date": 4_000_000_000,
    }
    fields = {"expected_payment_date": 4_000_000_000}
    assert perform(client, "pause_dunning", fields=fields).outcome == "already_done"


def test_re_pausing_until_another_date_is_reported_as_such(client: Any) -> None:
    """Tried as a new user would: this was already_done, leaving the old date unsaid."""
    client.invoke.side_effect = conflict()
    client.get_invoice.return_value = {
        "id": "inv_1",
        "status": "payment_due",
        "expected_payment_date": 4_000_000_000,
    }
    record = perform(client, "pause_dunning", fields={"expected_payment_date": 4_100_000_000})
    assert record.outcome == "not_eligible"
    assert record.reason == "already done with expected_payment_date 4000000000, not 4100000000"


@pytest.mark.parametrize(
    ("invoice", "reason"),
    [
        ({"status": "paid", "write_off_amount": 0}, "paid by the customer"),
        ({"status": "paid"}, "paid by the customer"),
        ({"status": "voided"}, "voided"),
        ({"status": "pending"}, "not closed yet (pending)"),
    ],
)
def test_write_off_conflicts_say_why_in_an_accountants_words(
    client: Any, invoice: dict[str, Any], reason: str
) -> None:
    client.invoke.side_effect = conflict()
    client.get_invoice.return_value = {"id": "inv_1", **invoice}
    record = perform(client, "write_off", fields={})
    assert (record.outcome, record.reason) == ("not_eligible", reason)


def test_a_written_off_invoice_is_already_done_for_write_off(client: Any) -> None:
    client.invoke.side_effect = conflict()
    client.get_invoice.return_value = {"id": "inv_1", "status": "paid", "write_off_amount": 10}
    assert perform(client, "write_off", fields={}).outcome == "already_done"


def test_a_conflict_on_an_invoice_still_eligible_is_sent_again_until_replayed(
    client: Any, mocker: MockerFixture
) -> None:
    """Possibly our own request in flight: the same key again, reading back between tries."""
    sleep = mocker.patch("airflow_provider_cb.invoicing.outcomes.time.sleep")
    client.in_flight_until.return_value = float("inf")
    closed = {"id": "inv_1", "status": "payment_due", "total": 900}
    client.invoke.side_effect = [conflict(), conflict(), answer(closed, replayed=True)]
    client.get_invoice.side_effect = [{"id": "inv_1", "status": "pending"}] * 2 + [closed]
    record = perform(client)
    assert client.invoke.call_count == 3
    assert {c.kwargs["idempotency_key"] for c in client.invoke.call_args_list} == {KEY}
    assert (record.outcome, record.replayed, record.total) == ("done", True, 900)
    assert record.api_error_code is None and record.retryable is False
    client.in_flight_until.assert_called_once_with(sent_before=False)
    assert [c.args[0] for c in sleep.call_args_list] == [1.0, 2.0]


def test_a_conflict_still_unexplained_when_the_wait_ends_is_unknown_and_retryable(
    client: Any,
) -> None:
    client.invoke.side_effect = conflict(attempts=2)
    client.get_invoice.return_value = {"id": "inv_1", "status": "pending"}
    record = perform(client)
    client.in_flight_until.assert_called_once_with(sent_before=True)
    assert (record.outcome, record.retryable) == ("failed", True)
    assert record.api_error_code == "invalid_state_for_request"
    assert record.message is not None
    assert "outcome is unknown" in record.message and "re-run is safe" in record.message
    assert record.status_before == "pending"
    assert_serialisable(record)


def test_a_replayed_refusal_of_an_eligible_looking_invoice_is_final(client: Any) -> None:
    """The key's first request was handled and refused: a condition the invoice hides."""
    client.invoke.side_effect = conflict(replayed=True)
    client.get_invoice.return_value = {"id": "inv_1", "status": "payment_due"}
    record = perform(client, "stop_dunning", fields={})
    client.in_flight_until.assert_not_called()
    assert (record.outcome, record.retryable) == ("failed", False)
    assert record.message is not None and "auto collection" in record.message


def test_a_write_off_refused_while_a_payment_runs_is_a_final_failure(client: Any) -> None:
    client.invoke.side_effect = conflict()
    client.get_invoice.return_value = {
        "id": "inv_1",
        "status": "payment_due",
        "linked_payments": [{"txn_id": "txn_1", "txn_status": "in_progress"}],
    }
    record = perform(client, "write_off", fields={})
    client.in_flight_until.assert_not_called()
    assert (record.outcome, record.retryable) == ("failed", False)
    assert record.reason == "a payment is in progress"
    assert record.api_error_code == "invalid_state_for_request"


def test_resume_on_a_dunning_never_paused_is_not_eligible(client: Any) -> None:
    """Tried as a new user would: this was already_done, though nothing was ever paused."""
    client.invoke.side_effect = conflict()
    client.get_invoice.return_value = {"id": "inv_1", "status": "payment_due"}
    record = perform(client, "resume_dunning", fields={})
    assert (record.outcome, record.reason) == ("not_eligible", "dunning not paused")


def test_a_pause_chargebee_stores_at_another_time_of_day_is_done(client: Any) -> None:
    """Tried as a new user would: the answer's date differed from the one sent."""
    asked = 4_000_000_000
    stored = {"id": "inv_1", "status": "payment_due", "expected_payment_date": asked - 43_000}
    client.invoke.return_value = answer(stored)
    record = perform(client, "pause_dunning", fields={"expected_payment_date": asked})
    client.get_invoice.assert_not_called()
    assert record.outcome == "done"


def test_a_v1_collect_answer_gives_the_record_its_money(client: Any) -> None:
    """Tried as a new user would: collected invoices had no total (v1 names it amount)."""
    v1 = {
        "id": "inv_1",
        "status": "payment_due",
        "amount": 4200,
        "amount_due": 4200,
        "amount_paid": 0,
        "currency_code": "GBP",
        "start_date": 1_700_000_000,
        "end_date": 1_700_086_400,
    }
    client.invoke.return_value = answer(v1)
    record = perform(client, "collect", fields={})
    assert (record.total, record.amount_due, record.currency_code) == (4200, 4200, "GBP")
    assert record.invoice_date == 1_700_086_400


@pytest.mark.parametrize(
    ("answered", "seen"),
    [
        (None, "carried no invoice object"),
        ("inv_1", "carried no invoice object"),
        ({"id": "inv_2", "status": "payment_due"}, "named another invoice ('inv_2')"),
        ({"id": "inv_1", "status": "pending"}, "showed status pending"),
    ],
)
def test_a_success_answer_without_the_effect_is_checked_against_the_invoice(
    client: Any, answered: Any, seen: str
) -> None:
    """Tried as a new user would: each of these answers was recorded ``done``."""
    client.invoke.return_value = ApiResponse(
        body={} if answered is None else {"invoice": answered},
        status_code=200,
        replayed=False,
        attempts=1,
        idempotency_key=KEY,
    )
    client.get_invoice.return_value = {"id": "inv_1", "status": "pending"}
    record = perform(client)
    assert record.outcome == "failed"
    assert record.api_error_code == "unexpected_answer"
    assert record.message is not None and seen in record.message
    assert "read back has status pending" in record.message
    client.get_invoice.return_value = {"id": "inv_1", "status": "payment_due"}
    record = perform(client)
    assert record.outcome == "done"
    assert record.message is not None and seen in record.message


def test_a_replay_reads_the_current_state_and_reports_it(client: Any) -> None:
    """Tried as a new user would: a replayed pause said done though the dunning was resumed."""
    paused = {"id": "inv_1", "status": "payment_due", "expected_payment_date": 4_000_000_000}
    client.invoke.return_value = answer(paused, replayed=True)
    client.get_invoice.return_value = {"id": "inv_1", "status": "payment_due"}
    record = perform(client, "pause_dunning", fields={"expected_payment_date": 4_000_000_000})
    client.get_invoice.assert_called_once_with("inv_1")
    assert record.replayed is True
    assert record.outcome == "not_eligible"
    assert record.reason is not None and record.reason.startswith("changed since")
    client.get_invoice.return_value = paused
    record = perform(client, "pause_dunning", fields={"expected_payment_date": 4_000_000_000})
    assert (record.outcome, record.replayed) == ("done", True)


def test_records_carry_the_amounts_chargebee_sent(client: Any) -> None:
    client.invoke.return_value = answer(
        {
            "id": "inv_1",
            "status": "paid",
            "customer_id": "cus_1",
            "currency_code": "EUR",
            "total": 1200,
            "amount_due": 0,
            "write_off_amount": 1200,
        }
    )
    data = perform(client, "write_off", fields={}).as_dict()
    assert {k: data[k] for k in ("customer_id", "currency_code", "total", "amount_due")} == {
        "customer_id": "cus_1",
        "currency_code": "EUR",
        "total": 1200,
        "amount_due": 0,
    }
    assert data["write_off_amount"] == 1200


def test_conflict_then_read_fails(client: Any) -> None:
    client.invoke.side_effect = conflict()
    read_error = ServerError(http_status=503, message="down", api_error_code="site_not_ready")
    read_error.attempts = 5
    client.get_invoice.side_effect = read_error
    record = perform(client)
    assert record.outcome == "failed"
    assert record.api_error_code == "site_not_ready"
    assert record.retryable is True
    assert record.attempts == 1  # POSTs sent; the read's tries are its own


def _with_attempts(error: ChargebeeError, attempts: int) -> ChargebeeError:
    error.attempts = attempts
    return error


@pytest.mark.parametrize(
    ("error", "code", "retryable", "attempts"),
    [
        (
            _with_attempts(
                NotFoundError(http_status=404, message="nope", api_error_code="resource_not_found"),
                1,
            ),
            "resource_not_found",
            False,
            1,
        ),
        (
            _with_attempts(
                RateLimitError(
                    http_status=429, message="slow", api_error_code="api_request_limit_exceeded"
                ),
                5,
            ),
            "api_request_limit_exceeded",
            True,
            5,
        ),
        (_with_attempts(ServerError(http_status=502, message="<html>"), 5), "http_502", True, 5),
        (
            _with_attempts(ChargebeeTransportError("POST", "/x", "ConnectTimeout", sent=False), 5),
            "transport_error",
            True,
            5,
        ),
        (
            _with_attempts(
                AuthenticationError(
                    http_status=401, message="no", api_error_code="api_authentication_failed"
                ),
                1,
            ),
            "api_authentication_failed",
            False,
            1,
        ),
    ],
    ids=["404", "429", "502", "transport", "401"],
)
def test_other_errors_become_failed_records(
    client: Any, error: ChargebeeError, code: str, retryable: bool, attempts: int
) -> None:
    client.invoke.side_effect = error
    record = perform(client)
    client.get_invoice.assert_not_called()
    assert record.outcome == "failed"
    assert record.api_error_code == code
    assert record.retryable is retryable
    assert record.attempts == attempts
    assert record.message == str(error)
    assert record.idempotency_key == KEY
    assert_serialisable(record)


def test_a_connection_never_made_is_not_sent(client: Any) -> None:
    client.invoke.side_effect = _with_attempts(ConnectionFailedError("POST", "/x", "refused"), 1)
    record = perform(client)
    assert (record.outcome, record.api_error_code, record.retryable) == (
        "not_sent",
        "connection_failed",
        True,
    )
    client.invoke.side_effect = _with_attempts(ConnectionFailedError("POST", "/x", "refused"), 3)
    assert perform(client).outcome == "failed"  # earlier tries reached Chargebee


def test_validation_error_is_raised_not_recorded(client: Any) -> None:
    client.invoke.side_effect = ChargebeeValidationError("comment", "too long")
    with pytest.raises(ChargebeeValidationError):
        perform(client)
    client.get_invoice.assert_not_called()


# -- preview ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("action", "invoice", "outcome"),
    [
        ("close", {"id": "inv_1", "status": "pending"}, "would_act"),
        ("close", {"id": "inv_1", "status": "paid"}, "already_done"),
        ("close", {"id": "inv_1", "status": "voided"}, "not_eligible"),
        ("stop_dunning", {"id": "inv_1", "status": "payment_due"}, "would_act"),
        (
            "resume_dunning",
            {"id": "inv_1", "status": "payment_due", "expected_payment_date": 1900000000},
            "would_act",
        ),
        ("resume_dunning", {"id": "inv_1", "status": "payment_due"}, "not_eligible"),
    ],
)
def test_preview_sends_no_post(
    client: Any, action: str, invoice: dict[str, Any], outcome: str
) -> None:
    client.get_invoice.return_value = invoice
    record = preview_action(client, ACTIONS[action], "inv_1", include_invoice=False)
    client.invoke.assert_not_called()
    assert record.outcome == outcome
    assert record.status_before == record.status_after == invoice["status"]
    assert record.invoice is None
    assert (record.message is not None) is (outcome == "not_eligible")
    if action in ("stop_dunning", "pause_dunning"):
        assert record.reason == "Chargebee checks auto collection on the customer or subscription"
    assert_serialisable(record)


def test_preview_includes_invoice_when_asked(client: Any) -> None:
    invoice = {"id": "inv_1", "status": "pending", "line_items": [{"amount": 100}]}
    client.get_invoice.return_value = invoice
    record = preview_action(client, ACTIONS["close"], "inv_1", include_invoice=True)
    assert record.invoice == invoice
    assert assert_serialisable(record)["invoice"] == invoice
