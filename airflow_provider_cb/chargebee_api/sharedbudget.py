"""One rate budget and one concurrency limit per site, shared through Redis.

Airflow pools cap how many tasks run, not how fast they send, so every task on
every worker that names the same ``rate_limit_store`` draws from one budget kept
in Redis, keyed by the site. Each decision is one Lua script, atomic on the
server and timed by the server's clock, so workers on machines with skewed
clocks still space their requests evenly (GCRA). Concurrency is a sorted set of
leases: a killed worker's slots come back when its leases run out.

The site's rate is one number for every process: each process's configured
pace (the default included) counts while it sends, and the site goes at the
lowest of them, or lower still once a 429 taught the store a lower rate; a
process paced differently from the others says so once.

A store that cannot be reached stops the request with a retryable error naming
``rate_limit_store``: running unbudgeted could get the whole site blocked.

Each site-limit 429 is also counted in the store (how many, since when, when the
rate was last lowered and to what), kept :data:`LEARNED_TTL_SECONDS` after the
last one, so the month-end page can say what the site's budget learned
(:func:`read_site_budget`).
"""

from __future__ import annotations

import logging
import random
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, NoReturn

import redis

from airflow_provider_cb.chargebee_api.errors import RateLimitStoreError
from airflow_provider_cb.chargebee_api.ratebudget import (
    MIN_REQUESTS_PER_MINUTE,
    PACING_MARGIN,
    SLOWDOWN,
    RateBudget,
    interval_of,
)
from airflow_provider_cb.chargebee_api.redaction import redact
from airflow_provider_cb.chargebee_api.settings import ClientSettings
from airflow_provider_cb.chargebee_api.storeurl import redacted_store_url, store_secrets

log = logging.getLogger(__name__)

STATE_TTL_SECONDS = 900
"""A site's shared state (pacing, pause, a rate learned from a 429) lives this long unused."""
LEASE_MARGIN_SECONDS = 10.0
"""A slot is held for the request's timeout plus this, counted from its paced moment."""
STORE_TIMEOUT_SECONDS = 5.0
SLOT_POLL_SECONDS = (0.005, 0.02)
RATE_MEMBER_SECONDS = 60.0
"""A process's configured pace counts towards the site's for this long after its last request."""
LEARNED_TTL_SECONDS = 7 * 24 * 3600
"""The record of a site's 429s lives this long after the last one: a week of month-end runs."""

_NOW = """
local clock = redis.call('TIME')
local now = tonumber(clock[1]) + tonumber(clock[2]) / 1000000
local function fmt(x) return string.format('%.6f', x) end
"""

RESERVE = (
    _NOW
    + """
-- KEYS: state hash, slots, rates hash
-- ARGV: own interval (0: no pace), slot ('' for none), lease, ttl, member, member ttl
local state = redis.call('HMGET', KEYS[1], 'tat', 'paused_until', 'interval')
local own = tonumber(ARGV[1])
local at = math.max(now, tonumber(state[2]) or 0)
local site, slowest, fastest = own, own, own
if own > 0 then
  -- Every process's configured pace counts while it sends: the site goes at the slowest.
  redis.call('HSET', KEYS[3], ARGV[5], fmt(own) .. ' ' .. fmt(now + tonumber(ARGV[6])))
  redis.call('EXPIRE', KEYS[3], ARGV[4])
  local rates = redis.call('HGETALL', KEYS[3])
  for i = 1, #rates, 2 do
    local interval, expires = string.match(rates[i + 1], '(%S+) (%S+)')
    if tonumber(expires) < now then
      redis.call('HDEL', KEYS[3], rates[i])
    else
      slowest = math.max(slowest, tonumber(interval))
      fastest = math.min(fastest, tonumber(interval))
    end
  end
  -- A rate learned from a 429 ('interval') may be slower still.
  site = math.max(slowest, tonumber(state[3]) or 0)
  at = math.max(at, tonumber(state[1]) or 0)
  redis.call('HSET', KEYS[1], 'tat', fmt(at + site))
  redis.call('EXPIRE', KEYS[1], ARGV[4])
end
if ARGV[2] ~= '' then
  redis.call('ZADD', KEYS[2], 'XX', fmt(at + tonumber(ARGV[3])), ARGV[2])
end
return {fmt(at - now), fmt(site), fmt(slowest), fmt(fastest)}
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

LOWER = (
    _NOW
    + """
-- KEYS: state hash, learned hash
-- ARGV: interval the 429'd request was paced at, new interval, ttl, learned ttl
redis.call('HINCRBY', KEYS[2], 'count', 1)
redis.call('HSETNX', KEYS[2], 'since', fmt(now))
redis.call('HSET', KEYS[2], 'last_at', fmt(now))
redis.call('EXPIRE', KEYS[2], ARGV[4])
if (tonumber(redis.call('HGET', KEYS[1], 'interval')) or 0) > tonumber(ARGV[1]) + 1e-6 then
  return ''
end
redis.call('HSET', KEYS[1], 'interval', ARGV[2])
redis.call('EXPIRE', KEYS[1], ARGV[3])
redis.call('HSET', KEYS[2], 'lowered_at', fmt(now), 'lowered_to', ARGV[2])
return ARGV[2]
"""
)

READ = (
    _NOW
    + """
-- KEYS: state hash, rates hash, learned hash; read only
local paces = {}
for i, value in ipairs(redis.call('HVALS', KEYS[2])) do
  local interval, expires = string.match(value, '(%S+) (%S+)')
  if tonumber(expires) >= now then table.insert(paces, interval) end
end
local learned = redis.call(
  'HMGET', KEYS[3], 'count', 'since', 'last_at', 'lowered_at', 'lowered_to')
for i = 1, 5 do learned[i] = learned[i] or '' end
return {redis.call('HGET', KEYS[1], 'interval') or '', paces, learned}
"""
)


def store_key(budget_key: str, name: str) -> str:
    """A key of the site's shared state; one hash tag puts them all on one Redis Cluster slot."""
    return f"chargebee:{{{budget_key}}}:{name}"


def _connect(url: str) -> redis.Redis:
    client = redis.Redis.from_url(
        url,
        socket_timeout=STORE_TIMEOUT_SECONDS,
        socket_connect_timeout=STORE_TIMEOUT_SECONDS,
        decode_responses=True,
    )
    client.ping()
    return client


def _store_error(url: str, error: Exception) -> RateLimitStoreError:
    detail = redact(f"{type(error).__name__}: {error}", store_secrets(url))[:300]
    return RateLimitStoreError(
        f"rate_limit_store: cannot use {redacted_store_url(url)} ({detail}); no request goes "
        "out without the site's shared budget. Retry once the store answers"
    )


def _per_minute(interval: float) -> float:
    return 60.0 / (interval * PACING_MARGIN)


class SharedBudget(RateBudget):
    """The site's budget in Redis; pauses are also kept in process for this process's sleepers."""

    def __init__(
        self, settings: ClientSettings, *, sleep: Callable[[float], None] = time.sleep
    ) -> None:
        super().__init__(
            settings.pace,
            max_concurrent_requests=settings.max_concurrent_requests,
            sleep=sleep,
        )
        self._blocking = True  # every call is a round trip to the store
        self._url = url = settings.rate_limit_store or ""
        self._shown_url = redacted_store_url(url)
        self._configured = settings.pace
        self._member = uuid.uuid4().hex
        self._disagreement_seen: tuple[str, str] | None = None
        self._lease = settings.timeout + LEASE_MARGIN_SECONDS
        key = settings.budget_key
        self._state_key = store_key(key, "budget")
        self._slots_key = store_key(key, "slots")
        self._rates_key = store_key(key, "rates")
        self._learned_key = store_key(key, "learned")
        try:
            self._redis = _connect(url)
        except (redis.RedisError, ValueError) as error:
            self._fail(error)
        self._reserve_script = self._redis.register_script(RESERVE)
        self._take_script = self._redis.register_script(TAKE_SLOT)
        self._pause_script = self._redis.register_script(PAUSE)
        self._lower_script = self._redis.register_script(LOWER)

    def _fail(self, error: Exception) -> NoReturn:
        raise _store_error(self._url, error) from None

    def _call(self, script: Any, keys: list[str], args: list[Any]) -> Any:
        try:
            return script(keys=keys, args=args)
        except redis.RedisError as error:
            self._fail(error)

    def _reserve(self, slot: str) -> float:
        own = interval_of(self._configured) if self._configured else 0.0
        with self._lock:
            local_pause = max(0.0, self._paused_until - self._clock())
        wait, site, slowest, fastest = self._call(
            self._reserve_script,
            [self._state_key, self._slots_key, self._rates_key],
            [
                f"{own:.6f}",
                slot,
                self._lease,
                STATE_TTL_SECONDS,
                self._member,
                RATE_MEMBER_SECONDS,
            ],
        )
        if own:
            self.requests_per_minute = _per_minute(float(site))
            self._warn_on_disagreement(float(site), float(slowest), float(fastest))
        return max(float(wait), local_pause)

    def _warn_on_disagreement(self, site: float, slowest: float, fastest: float) -> None:
        """Say once per disagreement that the site goes at the lowest rate any process set."""
        if fastest >= slowest - 1e-6:
            return
        seen = (f"{_per_minute(site):.4g}", f"{_per_minute(fastest):.4g}")
        if seen == self._disagreement_seen:
            return
        self._disagreement_seen = seen
        log.warning(
            "rate_limit_store: processes on this site are paced differently (up to %s/min, "
            "this one %s/min); the whole site goes at %s/min, the lowest configured or "
            "learned rate. Give every task on the site the same requests_per_minute",
            seen[1],
            f"{self._configured:.4g}",
            seen[0],
        )

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
            [self._state_key, self._learned_key],
            [
                f"{interval_of(paced_at):.6f}",
                f"{interval_of(lowered):.6f}",
                STATE_TTL_SECONDS,
                LEARNED_TTL_SECONDS,
            ],
        )
        if not answer:
            return None
        with self._lock:
            self.requests_per_minute = lowered
        return lowered

    def scope(self) -> str:
        if not self.requests_per_minute:
            return super().scope()
        return (
            f"the pace is the site's, shared by every process through rate_limit_store "
            f"{self._shown_url}"
        )

    def close(self) -> None:
        self._redis.close()


@dataclass(frozen=True)
class SiteBudgetState:
    """What the store knows of a site's budget now; times are the store's, in epoch seconds."""

    requests_per_minute: float | None
    """The rate the site goes at now: the slowest pace of the processes sending and the
    learned rate; None when no process sent in the last minute and nothing was learned."""
    learned_per_minute: float | None
    """The rate a 429 taught the store, while it lasts (``STATE_TTL_SECONDS`` unused)."""
    processes: int
    """Processes that sent in the last minute, each with its configured pace."""
    site_429s: int
    """Site-limit 429s counted since ``first_429_at``."""
    first_429_at: float | None
    last_429_at: float | None
    lowered_at: float | None
    """When a 429 last lowered the site's rate."""
    lowered_to: float | None


def _number(text: str) -> float | None:
    return float(text) if text else None


def read_site_budget(settings: ClientSettings) -> SiteBudgetState:
    """The site's budget as the store holds it, without touching it.

    Raises :class:`RateLimitStoreError` (its message without the password) when the
    store cannot be read.
    """
    url = settings.rate_limit_store or ""
    key = settings.budget_key
    try:
        client = _connect(url)
    except (redis.RedisError, ValueError) as error:
        raise _store_error(url, error) from None
    try:
        learned_interval, paces, learned = client.register_script(READ)(
            keys=[store_key(key, "budget"), store_key(key, "rates"), store_key(key, "learned")]
        )
    except redis.RedisError as error:
        raise _store_error(url, error) from None
    finally:
        client.close()
    intervals = [float(p) for p in paces]
    if learned_interval:
        intervals.append(float(learned_interval))
    count, since, last_at, lowered_at, lowered_to = learned
    return SiteBudgetState(
        requests_per_minute=_per_minute(max(intervals)) if intervals else None,
        learned_per_minute=_per_minute(float(learned_interval)) if learned_interval else None,
        processes=len(paces),
        site_429s=int(count or 0),
        first_429_at=_number(since),
        last_429_at=_number(last_at),
        lowered_at=_number(lowered_at),
        lowered_to=_per_minute(float(lowered_to)) if lowered_to else None,
    )
