"""One place that decides how fast, and how many at once, requests go out.

Chargebee limits requests per minute per site and blocks the whole site once the
limit is crossed, and nobody outside Chargebee knows whether it counts a fixed
window, a sliding window or a token bucket. Only even spacing passes all three at
the limit itself, so requests are paced one every ``60 / rate`` seconds (GCRA)
with no burst. Every thread of a client draws from one budget, a site-limit
429 pauses all of them (for ``Retry-After``, else the documented block), and a
429 that comes anyway lowers the rate
for the rest of the run: the budget was set above what the site allows (a
lock's or a gateway's 429 neither pauses the site nor lowers its rate). The
async sender draws from the same budget through :meth:`RateBudget.aturn`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass
from typing import Any, TypeVar

from airflow_provider_cb.chargebee_api.errors import RateLimitError
from airflow_provider_cb.chargebee_api.retries import is_site_limit

log = logging.getLogger(__name__)

PACING_MARGIN = 0.985
"""Requests go out at 98.5% of the budget: network jitter may bring two requests
closer together at the server than they left, and this leaves room for about half
a second of it at 150 a minute."""
SLOWDOWN = 5 / 6
"""After a 429 the rate drops to this share of the rate it was paced at: a budget
20% above the site's limit lands on the limit in one step."""
MIN_REQUESTS_PER_MINUTE = 1.0

AsyncSleep = Callable[[float], Awaitable[None]]
_T = TypeVar("_T")


def interval_of(requests_per_minute: float) -> float:
    """Seconds between two requests paced at ``requests_per_minute``, margin included."""
    return 60.0 / (requests_per_minute * PACING_MARGIN)


@dataclass
class _Claim:
    """One request's claim on a paced moment, while it waits for it."""

    slot: str
    pauses: int | None = None
    """How many pauses had begun when the moment was reserved; None before."""
    waited: float = 0.0
    paced_at: float | None = None


class RateBudget:
    """Even pacing at ``requests_per_minute`` and at most ``max_concurrent_requests`` in flight.

    ``None`` for either means no limit. :meth:`turn` wraps one request: it waits
    for a free slot, then for the request's paced moment.
    """

    def __init__(
        self,
        requests_per_minute: float | None,
        *,
        max_concurrent_requests: int | None = None,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.requests_per_minute = requests_per_minute
        """The rate in force: the configured one, or lower after a 429."""
        self.max_concurrent_requests = max_concurrent_requests
        self._clock = clock
        self._sleep = sleep
        self._next_at = clock()
        self._paused_until = 0.0
        self._pauses = 0
        self._lock = threading.Lock()
        self._slots = (
            threading.BoundedSemaphore(max_concurrent_requests) if max_concurrent_requests else None
        )
        self._blocking = self._slots is not None
        """Whether a call may block its thread, so the event loop runs it in another."""
        self.waited_seconds = 0.0

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(requests_per_minute={self.requests_per_minute!r}, "
            f"max_concurrent_requests={self.max_concurrent_requests!r})"
        )

    def _reserve(self, slot: str) -> float:
        """Take the next paced moment for the caller and return how long to wait for it."""
        with self._lock:
            now = self._clock()
            start = max(now, self._paused_until)
            if not self.requests_per_minute:
                return start - now
            at = max(self._next_at, start)
            self._next_at = at + interval_of(self.requests_per_minute)
            return at - now

    def _next_wait(self, claim: _Claim) -> float:
        """Seconds until the claimed request's paced moment; 0 once it may go out."""
        while True:
            if claim.pauses is not None:
                with self._lock:
                    # A pause begun meanwhile voids the moment: take a new one after it,
                    # or every sleeper would fire together when the pause ends.
                    if self._pauses == claim.pauses:
                        self.waited_seconds += claim.waited
                        return 0.0
            claim.pauses = self._pauses
            wait = self._reserve(claim.slot)
            claim.paced_at = self.requests_per_minute
            if wait > 0:
                claim.waited += wait
                return wait

    def _acquire(self, slot: str) -> float | None:
        claim = _Claim(slot)
        while (wait := self._next_wait(claim)) > 0:
            self._sleep(wait)
        return claim.paced_at

    def acquire(self) -> float | None:
        """Block until a request may go out; returns the rate it was paced at (None: no limit)."""
        return self._acquire("")

    def _take_slot(self) -> str:
        if self._slots is not None:
            self._slots.acquire()
        return ""

    def _release_slot(self, slot: str) -> None:
        if self._slots is not None:
            self._slots.release()

    def _learn(self, paced_at: float | None, error: RateLimitError) -> None:
        """A 429 that says the site's budget is spent lowers the rate (a lock's 429 does not)."""
        if is_site_limit(error):
            self.slow_down(paced_at)

    @contextlib.contextmanager
    def turn(self) -> Iterator[float | None]:
        """Hold a concurrency slot for one request sent at its paced moment.

        Yields the rate the request was paced at; a site-limit 429 raised inside
        lowers it (:meth:`slow_down`).
        """
        slot = self._take_slot()
        try:
            paced_at = self._acquire(slot)
            try:
                yield paced_at
            except RateLimitError as error:
                self._learn(paced_at, error)
                raise
        finally:
            self._release_slot(slot)

    async def _off_loop(self, call: Callable[..., _T], *args: Any) -> _T:
        """Run a call that may block (a full slot, a store's round trip) in a thread."""
        if self._blocking:
            return await asyncio.to_thread(call, *args)
        return call(*args)

    @contextlib.asynccontextmanager
    async def aturn(self, sleep: AsyncSleep = asyncio.sleep) -> AsyncIterator[float | None]:
        """:meth:`turn` for the event loop: waits are awaited with ``sleep``, never blocked on."""
        slot = await self._off_loop(self._take_slot)
        try:
            claim = _Claim(slot)
            while (wait := await self._off_loop(self._next_wait, claim)) > 0:
                await sleep(wait)
            try:
                yield claim.paced_at
            except RateLimitError as error:
                await self._off_loop(self._learn, claim.paced_at, error)
                raise
        finally:
            await self._off_loop(self._release_slot, slot)

    async def apause_for(self, seconds: float) -> None:
        """:meth:`pause_for` for the event loop."""
        await self._off_loop(self.pause_for, seconds)

    def pause_for(self, seconds: float) -> None:
        """Hold every caller back for ``seconds`` (the server said so)."""
        with self._lock:
            self._paused_until = max(self._paused_until, self._clock() + seconds)
            self._pauses += 1

    def _lower(self, paced_at: float) -> float | None:
        """The new rate if this 429 is the first of its rate; None when already lowered."""
        with self._lock:
            current = self.requests_per_minute
            if current is None or current < paced_at:
                return None
            self.requests_per_minute = max(MIN_REQUESTS_PER_MINUTE, paced_at * SLOWDOWN)
            return self.requests_per_minute

    def slow_down(self, paced_at: float | None) -> None:
        """Learn from a 429 for a request paced at ``paced_at``: lower the rate once per rate.

        Requests already in flight at the old rate draw 429s too; those do not
        lower it again.
        """
        if paced_at is None:
            return
        lowered = self._lower(paced_at)
        if lowered is not None:
            log.warning(
                "Chargebee answered 429 at %s/min; pacing at %s/min from now on",
                f"{paced_at:.4g}",
                f"{lowered:.4g}",
            )

    def scope(self) -> str:
        """Who shares this pace, for a run's start line."""
        if not self.requests_per_minute:
            return "no client-side pace (the budget is lifted)"
        return (
            "the pace is this process's own (no rate_limit_store): parallel tasks or chunks "
            "on the site each pace alone, so together they multiply it"
        )

    def close(self) -> None:
        """Nothing to release in process; a shared budget closes its store connection."""
