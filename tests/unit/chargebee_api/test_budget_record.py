"""What the shared store keeps of a site's 429s, and what the month-end page reads of it.

Against a real ``redis-server`` on loopback: the counts come from the store's own
Lua scripts, so threads and processes sharing the site count every 429 once.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest
import redis

from airflow_provider_cb.chargebee_api.errors import RateLimitStoreError
from airflow_provider_cb.chargebee_api.settings import ClientSettings
from airflow_provider_cb.chargebee_api.sharedbudget import (
    LEARNED_TTL_SECONDS,
    STATE_TTL_SECONDS,
    SharedBudget,
    read_site_budget,
    store_key,
)
from tests.redis_server import RedisServer, free_port

from ..conftest import API_KEY


@pytest.fixture
def config(redis_server: RedisServer) -> ClientSettings:
    return ClientSettings(
        api_key=API_KEY, site="acme", requests_per_minute=600, rate_limit_store=redis_server.url
    )


@pytest.fixture
def budget(config: ClientSettings) -> Iterator[SharedBudget]:
    shared = SharedBudget(config)
    yield shared
    shared.close()


def store(redis_server: RedisServer) -> redis.Redis:
    return redis.Redis.from_url(redis_server.url, decode_responses=True)


def test_an_unused_store_reads_as_nothing_learned_and_is_left_untouched(
    config: ClientSettings, redis_server: RedisServer
) -> None:
    state = read_site_budget(config)

    assert (state.requests_per_minute, state.processes, state.site_429s) == (None, 0, 0)
    assert state.lowered_at is None and state.last_429_at is None
    assert store(redis_server).keys("*") == []


def test_the_rate_in_use_is_the_pace_of_the_processes_sending(
    config: ClientSettings, budget: SharedBudget
) -> None:
    budget.acquire()

    state = read_site_budget(config)

    assert state.requests_per_minute == pytest.approx(600, rel=1e-4)
    assert (state.processes, state.learned_per_minute, state.site_429s) == (1, None, 0)


def test_each_429_is_counted_and_the_first_of_its_rate_lowers_it(
    config: ClientSettings, budget: SharedBudget, redis_server: RedisServer
) -> None:
    before = time.time()
    paced_at = budget.acquire()
    budget.slow_down(paced_at)
    budget.slow_down(paced_at)  # in flight at the old rate: counted, lowers nothing

    state = read_site_budget(config)

    assert state.site_429s == 2
    assert state.requests_per_minute == pytest.approx(500, rel=1e-4)
    assert state.learned_per_minute == pytest.approx(500, rel=1e-4)
    assert state.lowered_to == pytest.approx(500, rel=1e-4)
    assert state.first_429_at is not None and state.last_429_at is not None
    assert state.lowered_at is not None
    assert before - 1 < state.first_429_at == state.lowered_at <= state.last_429_at < before + 60
    # Small keys beside the budget's, on its Redis Cluster slot, that expire on their own.
    keys = store(redis_server)
    learned = store_key(config.budget_key, "learned")
    assert learned == "chargebee:{acme@acme.chargebee.com}:learned"
    assert keys.hgetall(learned).keys() == {"count", "since", "last_at", "lowered_at", "lowered_to"}
    assert LEARNED_TTL_SECONDS - 60 < keys.ttl(learned) <= LEARNED_TTL_SECONDS
    assert 0 < keys.ttl(store_key(config.budget_key, "budget")) <= STATE_TTL_SECONDS


def test_429s_from_many_threads_are_each_counted_once(
    config: ClientSettings, budget: SharedBudget
) -> None:
    paced_at = budget.acquire()
    with ThreadPoolExecutor(8) as pool:
        list(pool.map(lambda _: budget.slow_down(paced_at), range(40)))

    state = read_site_budget(config)

    assert state.site_429s == 40
    assert state.lowered_to == pytest.approx(500, rel=1e-4)  # lowered once, not 40 times


def test_an_unreachable_store_is_named_without_its_password() -> None:
    config = ClientSettings(
        api_key=API_KEY,
        site="acme",
        rate_limit_store=f"redis://:hunter2-store@127.0.0.1:{free_port()}/0",
    )

    with pytest.raises(RateLimitStoreError) as caught:
        read_site_budget(config)

    assert str(caught.value).startswith("rate_limit_store: cannot use redis://:[redacted]@")
    assert "hunter2" not in str(caught.value) + repr(caught.value)
