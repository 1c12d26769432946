"""The emulator's clock: wall time plus an offset tests can move forward.

Idempotency expiry, rate-limit windows and date checks all read this clock, so a
test can step past the 30-minute idempotency window without waiting for it.
"""

from __future__ import annotations

import threading
import time


class Clock:
    """Real time shifted by an offset that only ever grows."""

    def __init__(self) -> None:
        self._offset = 0.0
        self._lock = threading.Lock()

    @property
    def offset(self) -> float:
        """Seconds this clock runs ahead of the wall clock."""
        return self._offset

    def now(self) -> float:
        """Current emulator time in epoch seconds."""
        return time.time() + self._offset

    def advance(self, seconds: float) -> None:
        """Move time forward; going back would break expiry and windows, so it is refused."""
        if seconds < 0:
            raise ValueError(f"the clock only moves forward; got {seconds} seconds")
        with self._lock:
            self._offset += seconds
