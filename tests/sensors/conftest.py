"""Fixtures of the sensor and trigger tests: the emulator, and someone who pays invoices."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator

import httpx
import pytest

from airflow_provider_cb.testing import ChargebeeEmulator
from tests.sensors.support import PAYER_KEY, reads_of


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
