"""The in-process budget against the emulator: pacing, the concurrency cap, learning from 429.

Runs are a few seconds at a high limit against a token bucket holding one second
of the rate, the strictest of the emulator's three counts; the minute-long runs
against fixed and sliding windows are the ``budget`` benchmark's.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from airflow_provider_cb.chargebee_api.settings import ClientSettings
from airflow_provider_cb.invoicing.clients import ChargebeeClient
from airflow_provider_cb.testing import ChargebeeEmulator

KEY = "test_key"


@pytest.fixture
def emulator(chargebee_emulator: ChargebeeEmulator) -> ChargebeeEmulator:
    return chargebee_emulator


def client_for(emulator: ChargebeeEmulator, **values: Any) -> ChargebeeClient:
    """A client for the emulator, unpaced unless the test names a pace."""
    values.setdefault("lift_rate_budget", "requests_per_minute" not in values)
    return ChargebeeClient(
        ClientSettings(api_key=KEY, site="acme", base_url=emulator.base_url, **values)
    )


def in_parallel(workers: int, calls: list[Callable[[], object]]) -> list[BaseException | None]:
    """Run the calls on ``workers`` threads; each call's exception, None where it succeeded."""
    with ThreadPoolExecutor(workers) as pool:
        return [future.exception() for future in [pool.submit(call) for call in calls]]


def test_reads_and_writes_at_the_limit_draw_no_429(emulator: ChargebeeEmulator) -> None:
    ids = emulator.seed(60)
    emulator.rate_limit_window = "token_bucket"
    emulator.requests_per_minute = 3000
    with client_for(emulator, requests_per_minute=3000) as client:
        calls: list[Callable[[], object]] = []
        for invoice_id in ids:
            calls.append(lambda i=invoice_id: client.get_invoice(i))
            calls.append(lambda i=invoice_id: client.invoke("close", i, idempotency_key=f"k-{i}"))
            calls.append(lambda: client.list_invoices_page(limit=5))
        errors = in_parallel(16, calls)

    assert errors == [None] * 180
    assert emulator.rate_limited_count == 0
    assert len(emulator.requests) == 180
    assert emulator.count_applied("close") == 60


def test_without_even_pacing_the_same_run_draws_429s(emulator: ChargebeeEmulator) -> None:
    """The control: the previous test's bucket does refuse an unpaced client."""
    ids = emulator.seed(60)
    emulator.rate_limit_window = "token_bucket"
    emulator.requests_per_minute = 1200
    with client_for(emulator, max_retries=0) as client:
        errors = in_parallel(16, [lambda i=invoice_id: client.get_invoice(i) for invoice_id in ids])
    assert emulator.rate_limited_count > 0
    assert {type(error).__name__ for error in errors} == {"NoneType", "RateLimitError"}


@pytest.mark.parametrize(("cap", "workers"), [(4, 16), (1, 8)])
def test_max_concurrent_requests_caps_what_the_server_sees(
    emulator: ChargebeeEmulator, cap: int, workers: int
) -> None:
    ids = emulator.seed(32)
    emulator.processing_seconds = 0.05  # each close stays in flight a while
    with client_for(emulator, max_concurrent_requests=cap) as client:
        errors = in_parallel(
            workers,
            [
                lambda i=invoice_id: client.invoke("close", i, idempotency_key=f"k-{i}")
                for invoice_id in ids
            ],
        )
    assert errors == [None] * 32
    assert emulator.count_applied("close") == 32
    assert emulator.max_in_flight == cap


def test_the_default_cap_lets_the_workers_run_side_by_side(emulator: ChargebeeEmulator) -> None:
    ids = emulator.seed(32)
    emulator.processing_seconds = 0.05
    with client_for(emulator) as client:
        assert client.transport.budget.max_concurrent_requests == 50
        errors = in_parallel(
            16,
            [
                lambda i=invoice_id: client.invoke("close", i, idempotency_key=f"k-{i}")
                for invoice_id in ids
            ],
        )
    assert errors == [None] * 32
    assert emulator.max_in_flight > 4


INVOICES_TO_SETTLE = 420
"""The bucket holds one second of the limit: 20% over it, the first 429 comes after about
5 s (300 reads at 3600/min); the rest show none come after."""


def test_a_budget_20_percent_too_high_settles_on_the_limit(
    emulator: ChargebeeEmulator, caplog: pytest.LogCaptureFixture
) -> None:
    ids = emulator.seed(INVOICES_TO_SETTLE)
    emulator.rate_limit_window = "token_bucket"
    emulator.requests_per_minute = 3000
    with (
        caplog.at_level(logging.WARNING, logger="airflow_provider_cb.chargebee_api.ratebudget"),
        client_for(emulator, requests_per_minute=3600) as client,
    ):
        errors = in_parallel(8, [lambda i=invoice_id: client.get_invoice(i) for invoice_id in ids])
        learned = client.transport.budget.requests_per_minute

    assert errors == [None] * INVOICES_TO_SETTLE
    assert learned == pytest.approx(3000)
    assert 1 <= emulator.rate_limited_count <= 8  # the workers in flight when it tripped
    lowered = [r.getMessage() for r in caplog.records if "pacing at" in r.getMessage()]
    assert lowered == ["Chargebee answered 429 at 3600/min; pacing at 3000/min from now on"]
    answered = [record.status for record in emulator.requests]
    last_429 = max(n for n, status in enumerate(answered) if status == 429)
    assert len(answered) - last_429 > 80  # then none: the rest of the run went through
