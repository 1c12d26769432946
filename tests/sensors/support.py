"""Helpers of the sensor and trigger tests."""

from __future__ import annotations

import json
from urllib.parse import parse_qsl

from airflow_provider_cb.testing import ChargebeeEmulator

PAYER_KEY = "test-payer-write-off"
"""The idempotency key of the payer's POST, which tells it apart from anything a sensor sends."""


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
