"""Idempotency keys on the emulator: replays for 30 minutes, one action for concurrent twins."""

from __future__ import annotations

import sys
import threading
from collections.abc import Iterator

import httpx
import pytest

from airflow_provider_cb.testing import ChargebeeEmulator
from tests.integration.emulator_calls import KEY, act, assert_error


def test_replay_within_30_minutes(emulator: ChargebeeEmulator, http: httpx.Client) -> None:
    emulator.add_invoice("inv_1")
    first = act(http, "close", "inv_1", {"comment": "once"}, key="close-inv_1")
    emulator.advance(29 * 60)
    again = act(http, "close", "inv_1", {"comment": "once"}, key="close-inv_1")
    assert first.status_code == again.status_code == 200
    assert "chargebee-idempotency-replayed" not in first.headers
    assert again.headers["chargebee-idempotency-replayed"] == "true"
    assert again.content == first.content
    assert emulator.count_applied() == 1
    assert [r.replayed for r in emulator.requests] == [False, True]


def test_same_key_with_another_request_is_422(
    emulator: ChargebeeEmulator, http: httpx.Client
) -> None:
    emulator.seed(2)
    act(http, "close", "inv_000001", {"comment": "a"}, key="k")
    changed_body = act(http, "close", "inv_000001", {"comment": "b"}, key="k")
    assert_error(changed_body, 422, "unable_to_process_request")
    assert changed_body.json()["type"] == "invalid_request"
    other_invoice = act(http, "close", "inv_000002", {"comment": "a"}, key="k")
    assert_error(other_invoice, 422, "unable_to_process_request")
    assert emulator.count_applied() == 1


def test_key_is_forgotten_after_30_minutes(emulator: ChargebeeEmulator, http: httpx.Client) -> None:
    emulator.add_invoice("inv_1")
    assert act(http, "close", "inv_1", key="k").status_code == 200
    emulator.advance(31 * 60)
    later = act(http, "close", "inv_1", key="k")
    assert_error(later, 409, "invalid_state_for_request")
    assert "chargebee-idempotency-replayed" not in later.headers


def test_error_answers_are_replayed_too(emulator: ChargebeeEmulator, http: httpx.Client) -> None:
    first = act(http, "close", "inv_missing", key="k")
    emulator.add_invoice("inv_missing")
    again = act(http, "close", "inv_missing", key="k")
    assert_error(again, 404, "resource_not_found")
    assert again.headers["chargebee-idempotency-replayed"] == "true"
    assert again.content == first.content


def test_over_long_key_is_400(emulator: ChargebeeEmulator, http: httpx.Client) -> None:
    emulator.add_invoice("inv_1")
    response = act(http, "close", "inv_1", key="k" * 101)
    assert_error(response, 400, "param_wrong_value", "chargebee-idempotency-key")
    assert act(http, "close", "inv_1", key="k" * 100).status_code == 200


@pytest.fixture
def frequent_thread_switches() -> Iterator[None]:
    """The server runs in this process: switching threads often makes races show up."""
    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    yield
    sys.setswitchinterval(interval)


@pytest.mark.loopback
@pytest.mark.usefixtures("frequent_thread_switches")
def test_concurrent_duplicates_apply_once(emulator: ChargebeeEmulator) -> None:
    invoice_ids = emulator.seed(20)
    threads = 8
    barrier = threading.Barrier(threads)
    results: list[httpx.Response] = []

    def send() -> None:
        with httpx.Client(base_url=emulator.base_url, auth=(KEY, ""), timeout=10) as client:
            client.get("/api/v2/invoices", params={"limit": 1})
            for invoice_id in invoice_ids:
                barrier.wait()
                results.append(act(client, "close", invoice_id, {"comment": "c"}, key=invoice_id))

    workers = [threading.Thread(target=send) for _ in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    # A same-key repeat during the first request is refused as a state conflict.
    in_progress = [r for r in results if r.status_code == 409]
    assert all(r.json()["api_error_code"] == "invalid_state_for_request" for r in in_progress)
    answered = [r for r in results if r.status_code == 200]
    assert len(answered) + len(in_progress) == threads * len(invoice_ids)
    replayed = [r.headers.get("chargebee-idempotency-replayed") for r in answered]
    assert replayed.count(None) == len(invoice_ids)
    assert emulator.count_applied() == len(invoice_ids)
    assert emulator.duplicates() == {}


@pytest.mark.loopback
@pytest.mark.usefixtures("frequent_thread_switches")
def test_concurrent_clients_never_lose_or_double_an_action(emulator: ChargebeeEmulator) -> None:
    invoice_ids = emulator.seed(200)

    def close_every_other(offset: int) -> None:
        with httpx.Client(base_url=emulator.base_url, auth=(KEY, ""), timeout=10) as client:
            for invoice_id in invoice_ids[offset::4]:
                act(client, "close", invoice_id, key=f"close-{invoice_id}")

    workers = [threading.Thread(target=close_every_other, args=(n % 4,)) for n in range(8)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    assert emulator.count_applied("close") == 200
    assert emulator.duplicates() == {}
    assert {inv["status"] for inv in emulator.invoices()} == {"payment_due"}
