"""ChargebeeHook over real HTTP against the emulator, configured from Airflow connections."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator

import pendulum
import pytest

from airflow_provider_cb.chargebee_api.errors import (
    AuthenticationError,
    ChargebeeValidationError,
    InvalidStateError,
    NotFoundError,
)
from airflow_provider_cb.hooks.chargebee import ChargebeeHook
from airflow_provider_cb.testing import ChargebeeEmulator

KEY = "test_key"


@pytest.fixture
def emulator(chargebee_conn_env: ChargebeeEmulator) -> ChargebeeEmulator:
    return chargebee_conn_env


@pytest.fixture
def hook(emulator: ChargebeeEmulator) -> Iterator[ChargebeeHook]:
    hook = ChargebeeHook()
    yield hook
    hook.close()


def only_post(emulator: ChargebeeEmulator) -> object:
    (post,) = [r for r in emulator.requests if r.method == "POST"]
    return post


def test_close_invoice_sends_every_field(hook: ChargebeeHook, emulator: ChargebeeEmulator) -> None:
    date = pendulum.now("UTC").subtract(days=2).start_of("day")
    emulator.add_invoice(
        "inv_1",
        status="pending",
        date=int(date.subtract(days=5).timestamp()),
        notes=[
            {"entity_type": "customer", "entity_id": "cus_9", "note": "customer note"},
            {"entity_type": "subscription", "entity_id": "sub_1", "note": "sub note"},
        ],
    )
    body = hook.close_invoice(
        "inv_1",
        comment="month-end",
        invoice_date=date,
        remove_general_note=True,
        notes_to_remove=[
            {"entity_type": "subscription", "entity_id": "sub_1"},
            {"entity_type": "customer", "entity_id": "cus_9"},
        ],
        invoice_note="Thank you",
    )
    invoice = body["invoice"]
    assert invoice["status"] == "payment_due"
    assert invoice["date"] == int(date.timestamp())
    (applied,) = emulator.applied_actions
    assert applied.api_version == "v2"
    assert applied.params["remove_general_note"] is True
    assert applied.params["notes_to_remove"] == [
        {"entity_type": "subscription", "entity_id": "sub_1"},
        {"entity_type": "customer", "entity_id": "cus_9"},
    ]
    remaining = {(n.get("entity_type"), n.get("entity_id")) for n in invoice.get("notes", [])}
    assert ("customer", "cus_9") not in remaining
    assert ("subscription", "sub_1") not in remaining


def test_collect_uses_v1(hook: ChargebeeHook, emulator: ChargebeeEmulator) -> None:
    emulator.add_invoice("inv_1", status="pending")
    assert hook.collect_invoice("inv_1")["invoice"]["status"] == "payment_due"
    assert only_post(emulator).path == "/api/v1/invoices/inv_1/collect"  # type: ignore[attr-defined]


def test_write_off_returns_the_credit_note(
    hook: ChargebeeHook, emulator: ChargebeeEmulator
) -> None:
    emulator.add_invoice("inv_1", status="not_paid")
    body = hook.write_off_invoice("inv_1", comment="uncollectable")
    assert body["invoice"]["status"] == "paid"
    assert body["credit_note"]["reference_invoice_id"] == "inv_1"


def test_dunning_stop_pause_resume(hook: ChargebeeHook, emulator: ChargebeeEmulator) -> None:
    emulator.add_invoice("stop_me", status="payment_due", dunning_status="in_progress")
    emulator.add_invoice("pause_me", status="payment_due", dunning_status="in_progress")
    assert hook.stop_dunning("stop_me", comment="dispute")["invoice"]["status"] == "not_paid"
    until = pendulum.now("UTC").add(days=10)
    paused = hook.pause_dunning("pause_me", expected_payment_date=until)["invoice"]
    assert paused["expected_payment_date"] == int(until.timestamp())
    resumed = hook.resume_dunning("pause_me")["invoice"]
    assert resumed.get("expected_payment_date") is None
    assert emulator.count_applied() == 3


def test_wrong_state_and_unknown_invoice_raise_typed_errors(
    hook: ChargebeeHook, emulator: ChargebeeEmulator
) -> None:
    emulator.add_invoice("voided_1", status="voided")
    with pytest.raises(InvalidStateError) as conflict:
        hook.write_off_invoice("voided_1")
    assert conflict.value.http_status == 409
    assert conflict.value.api_error_code == "invalid_state_for_request"
    with pytest.raises(NotFoundError) as missing:
        hook.get_invoice("nope")
    assert missing.value.api_error_code == "resource_not_found"


def test_iter_invoices_follows_pages(hook: ChargebeeHook, emulator: ChargebeeEmulator) -> None:
    pending = emulator.seed(250, status="pending")
    emulator.seed(30, status="paid", prefix="paid_")
    seen = [invoice["id"] for invoice in hook.iter_invoices(status="pending")]
    assert sorted(seen) == pending
    pages = [r for r in emulator.requests if r.path == "/api/v2/invoices"]
    assert len(pages) == 3
    assert all("limit=100" in r.query for r in pages)


def test_headers_from_connection_and_hook(
    emulator: ChargebeeEmulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    conn = json.loads(emulator.connection_json())
    conn["extra"].update(
        {"origin_ip": "10.1.2.3", "business_entity_id": "be_eu", "skip_events": "webhook"}
    )
    monkeypatch.setenv("AIRFLOW_CONN_CB_HEADERS", json.dumps(conn))
    emulator.add_invoice("inv_1", status="pending")
    hook = ChargebeeHook(
        "cb_headers", origin_user="jürgen@example.com", origin_device="airflow", skip_events="email"
    )
    hook.close_invoice("inv_1")
    hook.close()
    headers = only_post(emulator).headers  # type: ignore[attr-defined]
    assert "chargebee-request-origin-user" not in headers
    encoded = headers["chargebee-request-origin-user-encoded"]
    assert base64.b64decode(encoded).decode() == "jürgen@example.com"
    assert headers["chargebee-request-origin-ip"] == "10.1.2.3"
    assert headers["chargebee-request-origin-device"] == "airflow"
    assert headers["chargebee-business-entity-id"] == "be_eu"
    assert headers["chargebee-event-webhook"] == "all-disabled"
    assert headers["chargebee-event-email"] == "all-disabled"
    assert headers["chargebee-idempotency-key"].startswith("cb-")


def test_uri_form_connection(emulator: ChargebeeEmulator, monkeypatch: pytest.MonkeyPatch) -> None:
    from urllib.parse import quote

    uri = f"chargebee://:{KEY}@acme?base_url={quote(emulator.base_url, safe='')}&timeout=5&lift_rate_budget=true"
    monkeypatch.setenv("AIRFLOW_CONN_CB_URI", uri)
    emulator.add_invoice("inv_1", status="pending")
    hook = ChargebeeHook("cb_uri")
    assert hook.get_invoice("inv_1")["id"] == "inv_1"
    assert hook.get_conn().settings.timeout == 5.0
    hook.close()


def test_server_url_for_live_and_test_sites(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AIRFLOW_CONN_CB_LIVE", "chargebee://:live_abcdefgh@acme")
    monkeypatch.setenv(
        "AIRFLOW_CONN_CB_TEST", "chargebee://:test_abcdefgh@acme?test_site=true&port=8443"
    )
    assert ChargebeeHook("cb_live").server_url() == "https://acme.chargebee.com/api/v2"
    assert (
        ChargebeeHook("cb_test").server_url("v1") == "https://acme-test.chargebee.com:8443/api/v1"
    )


def test_rate_limit_429_is_waited_out(
    emulator: ChargebeeEmulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Over the emulator's per-minute limit the hook waits for Retry-After instead of failing."""
    ids = emulator.seed(3, status="pending")
    emulator.faults.script(["rate_limit", "rate_limit"], only_methods={"POST"})
    hook = ChargebeeHook()
    transport = hook.get_conn().transport
    for invoice_id in ids:
        hook.close_invoice(invoice_id)
    hook.close()
    assert emulator.count_applied() == 3
    assert emulator.faults.injected["rate_limit"] == 2
    assert transport.retries == 2
    assert transport.budget.waited_seconds >= 1.9  # two Retry-After: 1 pauses


def test_bad_key_fails_clearly_without_leaking(
    emulator: ChargebeeEmulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    secret = "test_wrong_secret_key"
    conn = json.loads(emulator.connection_json())
    conn["password"] = secret
    monkeypatch.setenv("AIRFLOW_CONN_CB_BAD", json.dumps(conn))
    hook = ChargebeeHook("cb_bad")
    with pytest.raises(AuthenticationError) as failure:
        hook.get_invoice("inv_1")
    assert failure.value.http_status == 401
    assert secret not in str(failure.value) and secret not in repr(failure.value)
    assert secret not in repr(hook) and secret not in repr(hook.get_conn())
    ok, message = hook.test_connection()
    assert not ok and "401" in message and secret not in message


def test_test_connection_reports_site(hook: ChargebeeHook) -> None:
    ok, message = hook.test_connection()
    assert ok, message
    assert "127.0.0.1" in message
    assert "site 'acme'" in message


def test_bad_input_sends_nothing(hook: ChargebeeHook, emulator: ChargebeeEmulator) -> None:
    emulator.add_invoice("inv_1", status="pending")
    with pytest.raises(ChargebeeValidationError, match="comment"):
        hook.close_invoice("inv_1", comment="x" * 301)
    with pytest.raises(ChargebeeValidationError, match="invoice_date"):
        hook.close_invoice("inv_1", invoice_date=pendulum.now("UTC").add(days=1))
    with pytest.raises(ChargebeeValidationError, match="invoice_id"):
        hook.close_invoice("inv_1/../x")
    assert list(emulator.requests) == []
