"""What the emulator tests share: the API key, requests they send, and checks of its answers."""

from __future__ import annotations

from typing import Any

import httpx

from airflow_provider_cb.invoicing.action_table import ACTIONS
from airflow_provider_cb.testing import ChargebeeEmulator

KEY = "test_key"
DAY = 86_400


def act(
    http: httpx.Client,
    endpoint: str,
    invoice_id: str,
    data: dict[str, Any] | None = None,
    *,
    version: str | None = None,
    key: str | None = None,
) -> httpx.Response:
    """POST an action on the API version the action table gives it (or the one asked)."""
    action = next((a for a in ACTIONS.values() if a.endpoint == endpoint), None)
    api = version or (action.api_version if action else "v2")
    headers = {"chargebee-idempotency-key": key} if key is not None else {}
    return http.post(f"/api/{api}/invoices/{invoice_id}/{endpoint}", data=data, headers=headers)


def listed(http: httpx.Client, **params: Any) -> httpx.Response:
    return http.get("/api/v2/invoices", params=params)


def ids(response: httpx.Response) -> list[str]:
    assert response.status_code == 200, response.text
    return [item["invoice"]["id"] for item in response.json()["list"]]


def assert_error(
    response: httpx.Response, status: int, code: str, param: str | None = None
) -> None:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/json;charset=utf-8"
    body = response.json()
    assert body["api_error_code"] == code
    assert body["error_code"] == code
    assert body["http_status_code"] == status
    assert body["message"]
    if param is not None:
        assert body["param"] == param


def at_window_start(emulator: ChargebeeEmulator) -> None:
    """Step the clock to just after a rate-limit window starts, so none ends mid-test."""
    emulator.advance(60 - emulator.clock.now() % 60 + 0.5)
