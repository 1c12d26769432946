"""One rate budget and one concurrency limit per site, shared through Redis.

Airflow pools cap how many tasks run, not how fast they send, so every task on
every worker that names the same ``rate_limit_store`` draws from one budget kept
in Redis, keyed by the site. Each decision is one Lua script, atomic on the
server and timed by the server's clock, so workers on machines with skewed
clocks still space their requests evenly (GCRA). Concurrency is a sorted set of
leases: a killed worker's slots come back when its leases run out.

A store that cannot be reached stops the request with a retryable error naming
``rate_limit_store``: running unbudgeted could get the whole site blocked.
"""

from __future__ import annotations

import logging
import random
import time
import uuid
from collections.abc import Callable
from typing import Any, NoReturn
from urllib.parse import unquote, urlsplit

import redis

from airflow_provider_cb.client.errors import RateLimitStoreError
from airflow_provider_cb.client.ratebudget import (
    MIN_REQUESTS_PER_MINUTE,
    PACING_MARGIN,
    SLOWDOWN,
    RateBudget,
    interval_of,
)
from airflow_provider_cb.client.redaction import redact
from airflow_provider_cb.client.settings import ClientSettings
from airflow_provider_cb.client.storeurl import redacted_store_url

log = logging.getLogger(__name__)

STATE_TTL_SECONDS = 900
"""A site's shared state (pacing, pause, a rate learned from a 429) lives this long unused."""
LEASE_MARGIN_SECONDS = 10.0
"""A slot is held for the request's timeout plus this, counted from its paced moment."""
STORE_TIMEOUT_SECONDS = 5.0
SLOT_POLL_SECONDS = (0.005, 0.02)

_NOW = """
local clock = redis.call('TIME')
local now = tonumber(clock[1]) + tonumber(clock[2]) / 1000000
local function fmt(x) return string.format('%.6f', x) end
"""

RESERVE = (
    _NOW
    + """
-- KEYS: state hash, slots; ARGV: interval (0: no rate), slot ('' for none), lease, ttl
local state = redis.call('HMGET', KEYS[1], 'tat', 'paused_until', 'interval')
local interval = tonumber(ARGV[1])
local at = math.max(now, tonumber(state[2]) or 0)
if interval > 0 then
  interval = math.max(interval, tonumber(state[3]) or 0)
  at = math.max(at, tonumber(state[1]) or 0)
  redis.call('HSET', KEYS[1], 'tat', fmt(at + interval))
  redis.call('EXPIRE', KEYS[1], ARGV[4])
end
if ARGV[2] ~= '' then
  redis.call('ZADD', KEYS[2], 'XX', fmt(at + tonumber(ARGV[3])), ARGV[2])
end
return {fmt(at - now), fmt(interval)}
"""
)

TAKE_SLOT = (
    _NOW
    + """
-- KEYS: slots; ARGV: slot, limit, lease, ttl
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', fmt(now))
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[2]) then return 0 end
redis.call('ZADD', KEYS[1], fmt(now + tonumber(ARGV[3])), ARGV[1])
redis.call('EXPIRE', KEYS[1], ARGV[4])
return 1
"""
)

PAUSE = (
    _NOW
    + """
-- KEYS: state hash; ARGV: seconds, ttl
local until_ = now + tonumber(ARGV[1])
if until_ > (tonumber(redis.call('HGET', KEYS[1], 'paused_until')) or 0) then
  redis.call('HSET', KEYS[1], 'paused_until', fmt(until_))
  redis.call('EXPIRE', KEYS[1], ARGV[2])
end
return 1
"""
)

LOWER = """
-- KEYS: state hash; ARGV: interval the 429'd request was paced at, new interval, ttl
if (tonumber(redis.call('HGET', KEYS[1], 'interval')) or 0) > tonumber(ARGV[1]) + 1e-6 then
  return ''
end
redis.call('HSET', KEYS[1], 'interval', ARGV[2])
redis.call('EXPIRE', KEYS[1], ARGV[3])
return ARGV[2]
"""


def _per_minute(interval: float) -> float:
    return 60.0 / (interval * PACING_MARGIN)


class SharedBudget(RateBudget):
    """The site's budget in Redis; pauses are also kept in process for this process's sleepers."""

    def __init__(
        self, settings: ClientSettings, *, sleep: Callable[[float], None] = time.sleep
    ) -> None:
        super().__init__(
            settings.requests_per_minute,
            max_concurrent_requests=settings.max_concurrent_requests,
            sleep=sleep,
        )
        self._blocking = True  # every call is a round trip to the store
        url = settings.rate_limit_store or ""
        self._shown_url = redacted_store_url(url)
        self._password = unquote(urlsplit(url).password or "")
        self._configured = settings.requests_per_minute
        self._lease = settings.timeout + LEASE_MARGIN_SECONDS
        key = settings.budget_key
        # One hash tag: both keys land on one Redis Cluster slot, as a script needs.
        self._state_key = f"chargebee:{{{key}}}:budget"
        self._slots_key = f"chargebee:{{{key}}}:slots"
        try:
            self._redis = redis.Redis.from_url(
                url,
                socket_timeout=STORE_TIMEOUT_SECONDS,
                socket_connect_timeout=STORE_TIMEOUT_SECONDS,
                decode_responses=True,
            )
            self._redis.ping()
        except (redis.RedisError, ValueError) as error:
            self._fail(error)
        self._reserve_script = self._redis.register_script(RESERVE)
        self._take_script = self._redis.register_script(TAKE_SLOT)
        self._pause_script = self._redis.register_script(PAUSE)
        self._lower_script = self._redis.register_script(LOWER)

    def _fail(self, error: Exception) -> NoReturn:
        detail = redact(f"{type(error).__name__}: {error}", [self._password])[:300]
        raise RateLimitStoreError(
            f"rate_limit_store: cannot use {self._shown_url} ({detail}); no request is sent "
            "without the site's shared budget. Retry once the store answers"
        ) from None

    def _call(self, script: Any, keys: list[str], args: list[Any]) -> Any:
        try:
            return script(keys=keys, args=args)
        except redis.RedisError as error:
            self._fail(error)

    def _reserve(self, slot: str) -> float:
        own = interval_of(self._configured) if self._configured else 0.0
        with self._lock:
            local_pause = max(0.0, self._paused_until - self._clock())
        wait, interval = self._call(
            self._reserve_script,
            [self._state_key, self._slots_key],
            [f"{own:.6f}", slot, self._lease, STATE_TTL_SECONDS],
        )
        if own:
            self.requests_per_minute = _per_minute(float(interval))
        return max(float(wait), local_pause)

    def _take_slot(self) -> str:
        slot = uuid.uuid4().hex
        limit = self.max_concurrent_requests  # from the settings: always a whole number >= 1
        while not self._call(
            self._take_script, [self._slots_key], [slot, limit, self._lease, STATE_TTL_SECONDS]
        ):
            self._sleep(random.uniform(*SLOT_POLL_SECONDS))
        return slot

    def _release_slot(self, slot: str) -> None:
        try:
            self._redis.zrem(self._slots_key, slot)
        except redis.RedisError as error:
            # The request is done; failing it now would only resend it. The lease runs out.
            log.warning("rate_limit_store: could not free a slot (%s)", type(error).__name__)

    def pause_for(self, seconds: float) -> None:
        super().pause_for(seconds)
        self._call(self._pause_script, [self._state_key], [seconds, STATE_TTL_SECONDS])

    def _lower(self, paced_at: float) -> float | None:
        lowered = max(MIN_REQUESTS_PER_MINUTE, paced_at * SLOWDOWN)
        answer = self._call(
            self._lower_script,
            [self._state_key],
            [f"{interval_of(paced_at):.6f}", f"{interval_of(lowered):.6f}", STATE_TTL_SECONDS],
        )
        if not answer:
            return None
        with self._lock:
            self.requests_per_minute = lowered
        return lowered

    def close(self) -> None:
        self._redis.close()
