"""The emulator as Python code meets it: import, fixtures, seeding, stopping, its clock."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import httpx
import pytest

from airflow_provider_cb.testing import ChargebeeEmulator
from tests.integration.emulator_calls import KEY


def test_importing_the_package_does_not_import_airflow() -> None:
    code = "import sys, airflow_provider_cb.testing; print('airflow' in sys.modules)"
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "False"


def test_connection_env_fixture_points_at_the_emulator(
    chargebee_conn_env: ChargebeeEmulator,
) -> None:
    connection = json.loads(os.environ["AIRFLOW_CONN_CHARGEBEE_DEFAULT"])
    assert connection == {
        "conn_type": "chargebee",
        "host": "acme",
        "password": KEY,
        "extra": {
            "base_url": chargebee_conn_env.base_url,
            "rate_limit_block_seconds": 1,
            "requests_per_minute": 100_000,  # a pace named: never the client's default
        },
    }
    assert chargebee_conn_env.base_url.startswith("http://127.0.0.1:")


def test_refuses_a_non_loopback_host() -> None:
    with pytest.raises(ValueError, match="loopback"):
        ChargebeeEmulator(host="0.0.0.0")


def test_seed_pads_ids_and_invoice_returns_a_copy(emulator: ChargebeeEmulator) -> None:
    assert emulator.seed(3, status="payment_due", start=9) == [
        "inv_000009",
        "inv_000010",
        "inv_000011",
    ]
    copy = emulator.invoice("inv_000009")
    copy["status"] = "paid"
    assert emulator.invoice("inv_000009")["status"] == "payment_due"
    assert [inv["id"] for inv in emulator.invoices()] == ["inv_000009", "inv_000010", "inv_000011"]
    with pytest.raises(ValueError, match="already exists"):
        emulator.add_invoice("inv_000009")


def test_stop_closes_kept_alive_connections() -> None:
    emulator = ChargebeeEmulator().start()
    emulator.seed(1)
    with httpx.Client(base_url=emulator.base_url, auth=(KEY, ""), timeout=5) as client:
        assert client.get("/api/v2/invoices/inv_000001").status_code == 200
        emulator.stop()
        with pytest.raises(httpx.TransportError):
            client.get("/api/v2/invoices/inv_000001")


def test_clock_only_moves_forward(emulator: ChargebeeEmulator) -> None:
    before = emulator.clock.now()
    emulator.advance(3600)
    assert emulator.clock.now() >= before + 3600
    with pytest.raises(ValueError, match="forward"):
        emulator.advance(-1)
