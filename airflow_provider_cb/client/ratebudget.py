"""One place that decides how fast requests go out.

Chargebee limits requests per minute per site and blocks the whole site for the
rest of the window once the limit is crossed, so every thread of a client draws
from one budget, and a 429's ``Retry-After`` pauses all of them, not just the
thread that saw it: hammering a blocked site keeps it blocked.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable


class RateBudget:
    """A token bucket refilled at ``requests_per_minute / 60`` per second.

    The bucket holds at most ``burst`` tokens (default: one second's worth), so a
    cold start cannot fire a minute's allowance at once.
    """

    def __init__(
        self,
        requests_per_minute: float | None,
        *,
        burst: float | None = None,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.requests_per_minute = requests_per_minute
        self._rate = (requests_per_minute or 0) / 60.0
        self._capacity = burst if burst is not None else max(1.0, self._rate)
        self._tokens = self._capacity
        self._clock = clock
        self._sleep = sleep
        self._updated = clock()
        self._paused_until = 0.0
        self._lock = threading.Lock()
        self.waited_seconds = 0.0

    def _reserve(self) -> float:
        """Take a token (possibly going into debt) and return how long to wait for it."""
        with self._lock:
            now = self._clock()
            pause = max(0.0, self._paused_until - now)
            if not self._rate:
                return pause
            if now > self._updated:
                self._tokens = min(
                    self._capacity, self._tokens + (now - self._updated) * self._rate
                )
                self._updated = now
            self._tokens -= 1
            debt = -self._tokens / self._rate if self._tokens < 0 else 0.0
            # During a pause the bucket does not refill: the debt starts after it.
            return max(0.0, self._updated - now) + debt

    def acquire(self) -> float:
        """Block until a request may go out; returns the seconds waited."""
        wait = self._reserve()
        waited = 0.0
        while wait > 0:
            self._sleep(wait)
            waited += wait
            # Another worker may have hit a 429 meanwhile: honour a pause that began later.
            with self._lock:
                wait = max(0.0, self._paused_until - self._clock())
        with self._lock:
            self.waited_seconds += waited
        return waited

    def pause_for(self, seconds: float) -> None:
        """Hold every caller back for ``seconds`` (the server said so), and drain the bucket."""
        with self._lock:
            now = self._clock()
            self._paused_until = max(self._paused_until, now + seconds)
            if self._rate:
                self._tokens = min(self._tokens, 0.0)
                self._updated = max(self._updated, self._paused_until)
