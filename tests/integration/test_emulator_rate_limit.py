"""The emulator's rate limit: 429 with Retry-After, never stored under an idempotency key."""

from __future__ import annotations

import httpx

from airflow_provider_cb.testing import ChargebeeEmulator
from tests.integration.emulator_calls import act, assert_error, at_window_start


def test_rate_limit_answers_429_with_retry_after(
    emulator: ChargebeeEmulator, http: httpx.Client
) -> None:
    emulator.seed(1)
    at_window_start(emulator)
    emulator.requests_per_minute = 3
    for _ in range(3):
        assert http.get("/api/v2/invoices/inv_000001").status_code == 200
    blocked = http.get("/api/v2/invoices/inv_000001")
    assert_error(blocked, 429, "api_request_limit_exceeded")
    assert blocked.json()["type"] == "operation_failed"
    assert 1 <= int(blocked.headers["retry-after"]) <= 60
    assert emulator.rate_limited_count == 1
    emulator.advance(60)
    assert http.get("/api/v2/invoices/inv_000001").status_code == 200
    emulator.requests_per_minute = None
    for _ in range(5):
        assert http.get("/api/v2/invoices/inv_000001").status_code == 200
    assert emulator.rate_limited_count == 1


def test_429_is_not_stored_under_the_idempotency_key(
    emulator: ChargebeeEmulator, http: httpx.Client
) -> None:
    emulator.add_invoice("inv_1")
    at_window_start(emulator)
    emulator.requests_per_minute = 1
    assert http.get("/api/v2/invoices/inv_1").status_code == 200
    assert act(http, "close", "inv_1", key="k").status_code == 429
    emulator.advance(60)
    retried = act(http, "close", "inv_1", key="k")
    assert retried.status_code == 200
    assert "chargebee-idempotency-replayed" not in retried.headers
    assert emulator.count_applied() == 1
