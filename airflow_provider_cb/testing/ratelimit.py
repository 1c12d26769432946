"""Requests per minute, counted in fixed 60-second windows of the emulator clock."""

from __future__ import annotations

import math
import threading

from airflow_provider_cb.testing.clock import Clock

WINDOW_SECONDS = 60


class FixedWindowLimiter:
    """Counts every request; over the limit, says how long until the window resets.

    Requests are counted even while blocked or unlimited, so hammering keeps a
    client blocked and a limit switched on mid-window sees the true count.
    """

    def __init__(self, clock: Clock, limit: int | None) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._window = -1
        self._count = 0
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
        window = int(now // WINDOW_SECONDS)
        with self._lock:
            if window != self._window:
                self._window, self._count = window, 0
            self._count += 1
            count = self._count
        limit = self._limit
        if limit is None or count <= limit:
            return None
        return max(1, math.ceil((window + 1) * WINDOW_SECONDS - now))
