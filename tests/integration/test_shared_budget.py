"""rate_limit_store: one budget and one concurrency limit per site in a real redis-server.

Every test talks HTTP to the emulator and Redis's protocol to a real
``redis-server`` on loopback; the processes sharing a budget are real processes.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import subprocess
import sys
import textwrap
import threading
import time
from typing import Any

import pytest

from airflow_provider_cb.chargebee_api import sharedbudget
from airflow_provider_cb.chargebee_api.errors import RateLimitStoreError
from airflow_provider_cb.chargebee_api.settings import ClientSettings
from airflow_provider_cb.hooks.chargebee import ChargebeeHook
from airflow_provider_cb.invoicing.action_table import CLOSE
from airflow_provider_cb.invoicing.clients import AsyncChargebeeClient, ChargebeeClient
from airflow_provider_cb.invoicing.outcomes import perform_action
from airflow_provider_cb.testing import ChargebeeEmulator
from tests.redis_server import RedisServer, free_port

KEY = "test_key"
WORKER = textwrap.dedent(
    """
    import json, logging, sys
    from concurrent.futures import ThreadPoolExecutor
    from airflow_provider_cb.invoicing.clients import AsyncChargebeeClient, ChargebeeClient
    from airflow_provider_cb.chargebee_api.settings import ClientSettings

    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
    settings = ClientSettings(**json.loads(sys.argv[1]))
    action, ids = sys.argv[2], sys.argv[3].split(",")
    with ChargebeeClient(settings) as client, ThreadPoolExecutor(8) as pool:
        if action == "get":
            list(pool.map(client.get_invoice, ids))
        else:
            list(pool.map(lambda i: client.invoke(action, i, idempotency_key="k-" + i), ids))
        print(json.dumps({"rate": client.transport.budget.requests_per_minute}))
    """
)


@pytest.fixture
def emulator(chargebee_emulator: ChargebeeEmulator) -> ChargebeeEmulator:
    return chargebee_emulator


def settings(emulator: ChargebeeEmulator, **values: Any) -> ClientSettings:
    return ClientSettings(api_key=KEY, site="acme", base_url=emulator.base_url, **values)


def run_processes(
    config: ClientSettings | list[ClientSettings],
    action: str,
    id_lists: list[list[str]],
    *,
    after_first_request_of: ChargebeeEmulator | None = None,
) -> list[tuple[float | None, str]]:
    """The worker script in one process per id list, all at once; each must succeed.

    ``config`` is every process's, or one per process. With ``after_first_request_of``
    each process starts once the emulator has answered the one before it: a process
    starts at the site's registered pace only once another has registered one.
    Returns each process's rate at the end and what it logged.
    """
    configs = config if isinstance(config, list) else [config] * len(id_lists)
    processes = []
    for each, ids in zip(configs, id_lists, strict=True):
        if after_first_request_of is not None and processes:
            wait_for_requests(after_first_request_of, 1)
        processes.append(
            subprocess.Popen(
                [
                    sys.executable,
                    "-c",
                    WORKER,
                    json.dumps(dataclasses.asdict(each)),
                    action,
                    ",".join(ids),
                ],
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
        )
    results = []
    for process in processes:
        out, errors = process.communicate(timeout=120)
        assert process.returncode == 0, errors
        results.append((json.loads(out)["rate"], errors))
    return results


def wait_for_requests(emulator: ChargebeeEmulator, count: int, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while len(emulator.requests) < count:
        assert time.monotonic() < deadline, f"fewer than {count} requests in {timeout:.0f}s"
        time.sleep(0.01)


def test_two_processes_share_one_budget_at_the_limit(
    emulator: ChargebeeEmulator, redis_server: RedisServer
) -> None:
    """A token bucket holding one second: two processes each pacing at the limit would
    overrun it within a second or two; sharing one budget, they never do."""
    limit = 3000
    ids = emulator.seed(200)
    emulator.rate_limit_window = "token_bucket"
    emulator.requests_per_minute = limit
    config = settings(emulator, requests_per_minute=limit, rate_limit_store=redis_server.url)

    run_processes(config, "get", [ids[:100], ids[100:]])

    times = [record.at for record in emulator.requests]
    assert len(times) == 200
    assert emulator.rate_limited_count == 0
    rate = (len(times) - 1) / (max(times) - min(times)) * 60
    assert 0.95 * limit <= rate <= limit


def test_processes_configured_differently_pace_the_site_at_the_lowest_rate(
    emulator: ChargebeeEmulator, redis_server: RedisServer
) -> None:
    """A task at the site's limit and another at ten times it: one rate for the site.

    Each process paced at its own rate sent 58 requests in 15 s where the site allowed
    30; a token bucket holding one second's worth catches any such burst at once.
    """
    limit = 1200
    ids = emulator.seed(60)
    emulator.rate_limit_window = "token_bucket"
    emulator.requests_per_minute = limit
    store = {"rate_limit_store": redis_server.url}
    careful = settings(emulator, requests_per_minute=limit, **store)
    hasty = settings(emulator, requests_per_minute=10 * limit, **store)

    results = run_processes(
        [careful, hasty], "get", [ids[:30], ids[30:]], after_first_request_of=emulator
    )

    assert len(emulator.requests) == 60
    assert emulator.rate_limited_count == 0
    assert [rate for rate, _ in results] == [pytest.approx(limit, rel=1e-3)] * 2
    assert "the whole site goes at 1200/min" in results[1][1]


def test_the_default_pace_counts_as_configured(
    emulator: ChargebeeEmulator, redis_server: RedisServer
) -> None:
    default = sharedbudget.SharedBudget(settings(emulator, rate_limit_store=redis_server.url))
    fast = sharedbudget.SharedBudget(
        settings(emulator, requests_per_minute=3500, rate_limit_store=redis_server.url)
    )
    try:
        default.acquire()
        assert fast.acquire() == pytest.approx(150, rel=1e-3)
    finally:
        default.close()
        fast.close()


def test_the_async_client_draws_from_the_same_budget_without_blocking_its_loop(
    emulator: ChargebeeEmulator, redis_server: RedisServer
) -> None:
    """A trigger's reads and a task's share the site's pace; the loop runs on meanwhile."""
    limit = 600
    ids = emulator.seed(40)
    config = settings(emulator, requests_per_minute=limit, rate_limit_store=redis_server.url)
    ticks = 0

    async def heartbeat() -> None:
        nonlocal ticks
        while True:
            ticks += 1
            await asyncio.sleep(0.01)

    def sync_reads() -> None:
        with ChargebeeClient(config) as client:
            for invoice_id in ids[20:]:
                client.get_invoice(invoice_id)

    async def both() -> None:
        beating = asyncio.create_task(heartbeat())
        client = AsyncChargebeeClient(config)
        try:
            await asyncio.gather(
                asyncio.to_thread(sync_reads),
                *(client.get_invoice(invoice_id) for invoice_id in ids[:20]),
            )
        finally:
            await client.aclose()
            beating.cancel()

    asyncio.run(both())

    times = sorted(record.at for record in emulator.requests)
    assert len(times) == 40
    rate = (len(times) - 1) / (times[-1] - times[0]) * 60
    assert rate <= limit  # twenty reads fired at once would far exceed it
    # A loop blocked on the budget would beat once between requests, not every 10 ms.
    assert ticks > 5 * len(times)


def test_processes_share_one_concurrency_limit(
    emulator: ChargebeeEmulator, redis_server: RedisServer
) -> None:
    ids = emulator.seed(60)
    emulator.processing_seconds = 0.05  # each close stays in flight a while
    config = settings(
        emulator,
        max_concurrent_requests=3,
        rate_limit_store=redis_server.url,
        lift_rate_budget=True,  # the concurrency limit alone
    )

    run_processes(config, "close", [ids[:30], ids[30:]])

    assert emulator.count_applied("close") == 60
    assert emulator.max_in_flight == 3


def test_a_429_and_its_pause_reach_every_budget_of_the_site(
    emulator: ChargebeeEmulator, redis_server: RedisServer
) -> None:
    config = settings(emulator, requests_per_minute=600, rate_limit_store=redis_server.url)
    first, second = sharedbudget.SharedBudget(config), sharedbudget.SharedBudget(config)
    try:
        paced_at = first.acquire()
        first.slow_down(paced_at)
        first.slow_down(paced_at)  # the same rate's second 429 changes nothing
        assert second.acquire() == pytest.approx(500, rel=1e-3)
        first.pause_for(1.5)
        started = time.monotonic()
        second.acquire()
        assert time.monotonic() - started >= 1.4
    finally:
        first.close()
        second.close()


def test_a_killed_workers_slots_come_back(
    emulator: ChargebeeEmulator, redis_server: RedisServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sharedbudget, "LEASE_MARGIN_SECONDS", 0.5)
    config = settings(
        emulator,
        timeout=0.5,
        max_concurrent_requests=1,
        rate_limit_store=redis_server.url,
        lift_rate_budget=True,
    )
    killed, survivor = sharedbudget.SharedBudget(config), sharedbudget.SharedBudget(config)
    try:
        held = killed.turn()
        held.__enter__()  # never left: the worker died holding the slot
        started = time.monotonic()
        with survivor.turn():
            waited = time.monotonic() - started
        assert 0.5 <= waited < 5
        assert held is not None
    finally:
        killed.close()
        survivor.close()


def test_an_unreachable_store_stops_the_task_before_any_request(
    emulator: ChargebeeEmulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    emulator.seed(1)
    store = f"redis://:hunter2-store@127.0.0.1:{free_port()}/0"
    extra = {"base_url": emulator.base_url, "rate_limit_store": store}
    monkeypatch.setenv(
        "AIRFLOW_CONN_CHARGEBEE_DEFAULT",
        json.dumps({"conn_type": "chargebee", "host": "acme", "password": KEY, "extra": extra}),
    )
    hook = ChargebeeHook()

    with pytest.raises(RateLimitStoreError) as caught:
        hook.get_invoice("inv_000001")

    message = str(caught.value)
    assert message.startswith("rate_limit_store: cannot use redis://:[redacted]@127.0.0.1:")
    assert "ConnectionError" in message
    assert "hunter2" not in message + repr(caught.value)
    assert caught.value.retryable
    assert len(emulator.requests) == 0


def test_a_store_lost_mid_run_stops_requests(emulator: ChargebeeEmulator) -> None:
    emulator.seed(2)
    with RedisServer(password="s3cret-lost") as server:
        client = ChargebeeClient(settings(emulator, max_retries=1, rate_limit_store=server.url))
        client.get_invoice("inv_000001")
    try:
        with pytest.raises(RateLimitStoreError, match="rate_limit_store") as caught:
            client.get_invoice("inv_000002")
    finally:
        client.close()
    assert "s3cret-lost" not in str(caught.value)
    assert [record.path for record in emulator.requests] == ["/api/v2/invoices/inv_000001"]


def test_a_store_lost_mid_run_says_what_was_sent_and_what_was_not(
    emulator: ChargebeeEmulator,
) -> None:
    """The store dies while a close is in flight and its answer is late: that invoice was
    in fact closed, so it is an unknown outcome, safe to re-run; the next was never sent."""
    emulator.seed(2)
    emulator.faults.slow_seconds = 0.6
    emulator.faults.script(["slow_response"], only_methods={"POST"})
    with RedisServer(password="s3cret-lost") as server:
        config = settings(emulator, timeout=0.3, rate_limit_store=server.url, lift_rate_budget=True)
        client = ChargebeeClient(config)

        def kill_the_store_once_the_close_is_in_flight() -> None:
            while emulator.max_in_flight == 0:
                time.sleep(0.005)
            server.stop()

        killer = threading.Thread(target=kill_the_store_once_the_close_is_in_flight)
        killer.start()
        try:
            sent = perform_action(client, CLOSE, "inv_000001", fields={}, idempotency_key="k-1")
            unsent = perform_action(client, CLOSE, "inv_000002", fields={}, idempotency_key="k-2")
        finally:
            killer.join()
            client.close()
    deadline = time.monotonic() + 10
    while not emulator.count_applied("close") and time.monotonic() < deadline:
        time.sleep(0.01)  # the emulator finishes the late close

    assert emulator.invoice("inv_000001")["status"] != "pending"  # it did close
    assert (sent.outcome, sent.retryable) == ("failed", True)
    assert "may have been applied" in (sent.message or "")
    assert "outcome is unknown; a re-run is safe" in (sent.message or "")
    assert (unsent.outcome, unsent.retryable) == ("not_sent", True)
    assert (unsent.message or "").startswith("POST /invoices/inv_000002/close was not sent")
    assert emulator.invoice("inv_000002")["status"] == "pending"
    assert "s3cret-lost" not in f"{sent.message} {unsent.message}"


def test_a_default_paced_shared_budget_says_so_before_its_first_request(
    emulator: ChargebeeEmulator, redis_server: RedisServer
) -> None:
    """The start line of a bulk run is written before any request reaches the store."""
    budget = sharedbudget.SharedBudget(settings(emulator, rate_limit_store=redis_server.url))
    try:
        assert budget.requests_per_minute == 150
        assert budget.scope().startswith(
            "the pace is the site's, shared by every process through rate_limit_store "
            "redis://:[redacted]@127.0.0.1:"
        )
    finally:
        budget.close()
