"""The faults the emulator injects: error answers, resets, lost, malformed and slow responses."""

from __future__ import annotations

import json

import httpx
import pytest

from airflow_provider_cb.testing import FAULT_KINDS, ChargebeeEmulator
from tests.integration.emulator_calls import KEY, act, assert_error, at_window_start


@pytest.mark.parametrize(
    ("fault", "status", "code", "retry_after"),
    [
        ("rate_limit", 429, "api_request_limit_exceeded", "1"),
        ("rate_limit_no_retry_after", 429, "api_request_limit_exceeded", None),
        ("lock_timeout", 429, "lock_timeout", None),
        ("site_not_ready", 503, "site_not_ready", None),
        ("server_503", 503, "internal_temporary_error", None),
    ],
)
def test_json_error_faults(
    fault: str,
    status: int,
    code: str,
    retry_after: str | None,
    emulator: ChargebeeEmulator,
    http: httpx.Client,
) -> None:
    emulator.add_invoice("inv_1")
    emulator.faults.script([fault])
    response = act(http, "close", "inv_1", key="k")
    assert_error(response, status, code)
    assert response.headers.get("retry-after") == retry_after
    assert emulator.count_applied() == 0
    retried = act(http, "close", "inv_1", key="k")
    assert retried.status_code == 200
    assert "chargebee-idempotency-replayed" not in retried.headers
    assert emulator.faults.injected == {fault: 1}
    assert emulator.rate_limited_count == 0


@pytest.mark.parametrize("status", [502, 504])
def test_gateway_html_faults(status: int, emulator: ChargebeeEmulator, http: httpx.Client) -> None:
    emulator.seed(1)
    emulator.faults.script([f"gateway_html_{status}"])
    response = http.get("/api/v2/invoices/inv_000001")
    assert response.status_code == status
    assert response.headers["content-type"].startswith("text/html")
    assert response.text.startswith("<html>")


def test_reset_before_processing(emulator: ChargebeeEmulator, http: httpx.Client) -> None:
    emulator.add_invoice("inv_1")
    emulator.faults.script(["reset_before"])
    with pytest.raises(httpx.TransportError):
        act(http, "close", "inv_1", key="k")
    assert emulator.count_applied() == 0
    assert act(http, "close", "inv_1", key="k").status_code == 200
    assert emulator.requests[0].fault == "reset_before"
    assert emulator.requests[0].status is None


def test_lose_response_applies_the_action(emulator: ChargebeeEmulator, http: httpx.Client) -> None:
    emulator.add_invoice("inv_1")
    emulator.faults.script(["lose_response"])
    with pytest.raises(httpx.TransportError):
        act(http, "close", "inv_1", key="k")
    assert emulator.count_applied("close", "inv_1") == 1
    retried = act(http, "close", "inv_1", key="k")
    assert retried.status_code == 200
    assert retried.headers["chargebee-idempotency-replayed"] == "true"
    assert emulator.count_applied() == 1


def test_malformed_json(emulator: ChargebeeEmulator, http: httpx.Client) -> None:
    emulator.seed(1)
    emulator.faults.script(["malformed_json"])
    response = http.get("/api/v2/invoices/inv_000001")
    assert response.status_code == 200
    with pytest.raises(json.JSONDecodeError):
        response.json()
    assert http.get("/api/v2/invoices/inv_000001").json()["invoice"]["id"] == "inv_000001"


@pytest.mark.loopback
def test_slow_response(emulator: ChargebeeEmulator) -> None:
    emulator.seed(1)
    emulator.faults.slow_seconds = 1.0
    emulator.faults.script(["slow_response", "slow_response"])
    url = f"{emulator.base_url}/api/v2/invoices/inv_000001"
    with pytest.raises(httpx.ReadTimeout):
        httpx.get(url, auth=(KEY, ""), timeout=0.1)
    patient = httpx.get(url, auth=(KEY, ""), timeout=10)
    assert patient.status_code == 200
    assert emulator.faults.injected["slow_response"] == 2


def test_script_counts_every_request_and_can_target_posts(
    emulator: ChargebeeEmulator, http: httpx.Client
) -> None:
    emulator.seed(2)
    emulator.faults.script([None, "server_503"])
    assert http.get("/api/v2/invoices").status_code == 200
    assert http.get("/api/v2/invoices").status_code == 503
    assert http.get("/api/v2/invoices").status_code == 200
    emulator.faults.script(["site_not_ready"], only_methods={"post"})
    assert http.get("/api/v2/invoices").status_code == 200
    assert act(http, "close", "inv_000001").status_code == 503
    assert emulator.faults.remaining == 0
    assert [r.fault for r in emulator.requests] == [
        None,
        "server_503",
        None,
        None,
        "site_not_ready",
    ]


def test_rates_are_repeatable_with_a_seed(emulator: ChargebeeEmulator, http: httpx.Client) -> None:
    emulator.seed(1)

    def statuses() -> list[int]:
        emulator.faults.set_rates({"server_503": 0.3, "rate_limit": 0.2}, seed=123)
        return [http.get("/api/v2/invoices/inv_000001").status_code for _ in range(40)]

    first = statuses()
    assert first == statuses()
    assert set(first) == {200, 429, 503}
    injected = emulator.faults.injected
    assert injected["server_503"] == 2 * first.count(503)
    assert injected["rate_limit"] == 2 * first.count(429)
    emulator.faults.clear()
    assert http.get("/api/v2/invoices/inv_000001").status_code == 200


def test_unknown_fault_is_refused(emulator: ChargebeeEmulator) -> None:
    with pytest.raises(ValueError, match="unknown fault"):
        emulator.faults.script(["meteor"])
    with pytest.raises(ValueError, match="unknown fault"):
        emulator.faults.set_rates({"meteor": 0.1})
    assert "lose_response" in FAULT_KINDS


def test_faulted_requests_count_against_the_rate_limit(
    emulator: ChargebeeEmulator, http: httpx.Client
) -> None:
    emulator.seed(1)
    at_window_start(emulator)
    emulator.requests_per_minute = 2
    emulator.faults.script(["server_503"])
    assert http.get("/api/v2/invoices/inv_000001").status_code == 503
    assert http.get("/api/v2/invoices/inv_000001").status_code == 200
    assert http.get("/api/v2/invoices/inv_000001").status_code == 429
