"""Helpers and fixtures of the sensor and trigger tests and the sensor's DAG runs.

They run in tests/unit and tests/dags, so the fixtures live here and each conftest imports them.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from urllib.parse import parse_qsl

import httpx
import pytest

from airflow_provider_cb.testing import ChargebeeEmulator

PAYER_KEY = "test-payer-write-off"
"""The idempotency key of the payer's POST, which tells it apart from anything a sensor sends."""

IDS = [f"inv_{n:03d}" for n in range(1, 151)]
"""150 invoices: two list requests per read, one of 100 ids and one of 50."""


def reads_of(emulator: ChargebeeEmulator, invoice_id: str) -> int:
    path = f"/api/v2/invoices/{invoice_id}"
    return sum(1 for r in emulator.requests if r.method == "GET" and r.path == path)


def sensor_writes(emulator: ChargebeeEmulator) -> list[str]:
    """Every request other than a GET and the payer's POST: what a sensor must never send."""
    return [
        f"{r.method} {r.path}"
        for r in emulator.requests
        if r.method != "GET" and r.idempotency_key != PAYER_KEY
    ]


def batch_reads(emulator: ChargebeeEmulator) -> list[list[str]]:
    """The ids each list request of a batch wait asked for, in order."""
    reads = []
    for r in emulator.requests:
        if r.method == "GET" and r.path == "/api/v2/invoices":
            query = dict(parse_qsl(r.query))
            assert query["limit"] == "100"
            reads.append(json.loads(query["id[in]"]))
    return reads


def seed(emulator: ChargebeeEmulator, *, unpaid: tuple[str, ...]) -> None:
    """Add the invoices of ``IDS``: paid, but for those named unpaid."""
    for invoice_id in IDS:
        emulator.add_invoice(invoice_id, status="payment_due" if invoice_id in unpaid else "paid")


def pay(emulator: ChargebeeEmulator, invoice_id: str) -> None:
    assert emulator.record_payment(invoice_id)["status"] == "paid"


@pytest.fixture
def emulator(chargebee_conn_env: ChargebeeEmulator) -> ChargebeeEmulator:
    return chargebee_conn_env


@pytest.fixture
def pay_after_reads(emulator: ChargebeeEmulator) -> Iterator[Callable[[str, int], None]]:
    """Write an invoice off (it becomes paid) from another thread once it was read N times.

    The change comes while the sensor under test is waiting, as a customer's payment
    would; the thread fails the test if the reads never come.
    """
    threads: list[threading.Thread] = []
    errors: list[str] = []

    def pay(invoice_id: str, reads: int) -> None:
        deadline = time.monotonic() + 60
        while reads_of(emulator, invoice_id) < reads:
            if time.monotonic() > deadline:
                errors.append(f"{invoice_id} was read fewer than {reads} times")
                return
            time.sleep(0.02)
        response = httpx.post(
            f"{emulator.base_url}/api/v2/invoices/{invoice_id}/write_off",
            auth=(emulator.api_key, ""),
            headers={"chargebee-idempotency-key": PAYER_KEY},
        )
        if response.status_code != 200:
            errors.append(f"write_off {invoice_id}: {response.status_code} {response.text}")

    def start(invoice_id: str, reads: int) -> None:
        thread = threading.Thread(target=pay, args=(invoice_id, reads), daemon=True)
        thread.start()
        threads.append(thread)

    yield start
    for thread in threads:
        thread.join(timeout=70)
    assert errors == []
