"""Requests per minute counted three ways, and the requests in flight at once.

Nobody outside Chargebee knows how it counts its minute, so the emulator can count
a fixed window, a sliding window or a token bucket, all on the emulator clock: a
client that passes all three at the limit passes Chargebee's.
"""

from __future__ import annotations

import collections
import math
import threading
from typing import Literal, get_args

from airflow_provider_cb.testing.clock import Clock

WINDOW_SECONDS = 60
RateLimitWindow = Literal["fixed", "sliding", "token_bucket"]
RATE_LIMIT_WINDOWS: tuple[RateLimitWindow, ...] = get_args(RateLimitWindow)


class _Limiter:
    """The limit, checked; ``None`` lets every request through."""

    def __init__(self, clock: Clock, limit: int | None) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self.limit = limit

    @property
    def limit(self) -> int | None:
        return self._limit

    @limit.setter
    def limit(self, value: int | None) -> None:
        if value is not None and value < 1:
            raise ValueError(f"requests_per_minute must be at least 1 or None, got {value}")
        self._limit = value

    def hit(self) -> int | None:
        """Count one request; None when allowed, else the Retry-After seconds (at least 1)."""
        now = self._clock.now()
        with self._lock:
            wait = self._count(now, self._limit)
        return None if wait is None else max(1, math.ceil(wait))

    def _count(self, now: float, limit: int | None) -> float | None:
        raise NotImplementedError


class FixedWindowLimiter(_Limiter):
    """Counts per calendar minute of the emulator clock; over the limit, waits for the next.

    Requests are counted even while blocked or unlimited, so hammering keeps a
    client blocked and a limit switched on mid-window sees the true count.
    """

    _window = -1
    _counted = 0

    def _count(self, now: float, limit: int | None) -> float | None:
        window = int(now // WINDOW_SECONDS)
        if window != self._window:
            self._window, self._counted = window, 0
        self._counted += 1
        if limit is None or self._counted <= limit:
            return None
        return (window + 1) * WINDOW_SECONDS - now


class SlidingWindowLimiter(_Limiter):
    """Counts the requests of the last 60 seconds, refused ones included, as a log of times."""

    def __init__(self, clock: Clock, limit: int | None) -> None:
        self._times: collections.deque[float] = collections.deque()
        super().__init__(clock, limit)

    def _count(self, now: float, limit: int | None) -> float | None:
        times = self._times
        while times and times[0] <= now - WINDOW_SECONDS:
            times.popleft()
        times.append(now)
        if limit is None or len(times) <= limit:
            return None
        # Allowed again once all but limit - 1 of the counted requests have aged out.
        return times[len(times) - limit] + WINDOW_SECONDS - now


class TokenBucketLimiter(_Limiter):
    """Refills ``limit / 60`` tokens a second and holds one second's worth (at least one)."""

    _tokens = -1.0
    _updated = 0.0

    def _count(self, now: float, limit: int | None) -> float | None:
        if limit is None:
            self._tokens = -1.0
            return None
        rate = limit / WINDOW_SECONDS
        capacity = max(1.0, rate)
        if self._tokens < 0:
            self._tokens = capacity
        else:
            self._tokens = min(capacity, self._tokens + (now - self._updated) * rate)
        self._updated = now
        if self._tokens >= 1:
            self._tokens -= 1
            return None
        return (1 - self._tokens) / rate


_KINDS: dict[RateLimitWindow, type[_Limiter]] = {
    "fixed": FixedWindowLimiter,
    "sliding": SlidingWindowLimiter,
    "token_bucket": TokenBucketLimiter,
}


def make_limiter(window: str, clock: Clock, limit: int | None) -> _Limiter:
    """The limiter counting ``window`` ('fixed', 'sliding' or 'token_bucket')."""
    if window not in _KINDS:
        raise ValueError(f"rate_limit_window must be one of {', '.join(_KINDS)}, got {window!r}")
    return _KINDS[window](clock, limit)


class InFlightGauge:
    """How many requests the server is handling now, and the most it handled at once."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._now = 0
        self.peak = 0

    def __enter__(self) -> None:
        with self._lock:
            self._now += 1
            self.peak = max(self.peak, self._now)

    def __exit__(self, *exc_info: object) -> None:
        with self._lock:
            self._now -= 1

    def reset(self) -> None:
        with self._lock:
            self.peak = self._now
