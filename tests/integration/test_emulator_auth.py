"""The emulator checks the API key before anything else and never keeps it in its request log."""

from __future__ import annotations

import base64

import httpx
import pytest

from airflow_provider_cb.testing import ChargebeeEmulator
from tests.integration.emulator_calls import KEY, assert_error


@pytest.mark.loopback
@pytest.mark.parametrize(
    "auth",
    [None, ("wrong_key", ""), (KEY, "a-password"), ("", KEY)],
    ids=["missing", "wrong-key", "with-password", "key-as-password"],
)
def test_bad_credentials_get_401(emulator: ChargebeeEmulator, auth: tuple[str, str] | None) -> None:
    emulator.seed(1)
    response = httpx.post(
        f"{emulator.base_url}/api/v2/invoices/inv_000001/close", auth=auth, timeout=5
    )
    assert_error(response, 401, "api_authentication_failed")
    assert emulator.count_applied() == 0


@pytest.mark.loopback
def test_auth_is_checked_before_routing(emulator: ChargebeeEmulator) -> None:
    response = httpx.get(f"{emulator.base_url}/no/such/path", auth=("wrong", ""), timeout=5)
    assert_error(response, 401, "api_authentication_failed")


@pytest.mark.loopback
def test_request_log_never_keeps_the_api_key(
    emulator: ChargebeeEmulator, http: httpx.Client
) -> None:
    emulator.seed(1)
    origin = {"chargebee-request-origin-user": "ann@example.com"}
    http.get("/api/v2/invoices/inv_000001", headers=origin)
    httpx.get(f"{emulator.base_url}/api/v2/invoices", auth=("wrong_key", ""), timeout=5)
    first, second = emulator.requests
    assert (first.method, first.path, first.status) == ("GET", "/api/v2/invoices/inv_000001", 200)
    assert first.headers == {"chargebee-request-origin-user": "ann@example.com"}
    assert second.status == 401
    logged = repr(emulator.requests.snapshot())
    for secret in (KEY, base64.b64encode(f"{KEY}:".encode()).decode(), "wrong_key"):
        assert secret not in logged
    assert "authorization" not in logged.lower()
    emulator.reset_log()
    assert len(emulator.requests) == 0
