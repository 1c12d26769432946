"""Whether and when to send a request again: one decision for the sync and async senders.

The decision to retry lives in :func:`should_retry` alone; the wait in
:func:`retry_delay`; :class:`Attempts` applies both to one logical request and
bounds it. Nothing here sends or sleeps.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import NoReturn

from airflow_provider_cb.client.errors import (
    ChargebeeAPIError,
    ChargebeeError,
    RateLimitError,
    RequestInProgressError,
)

log = logging.getLogger(__name__)

MAX_RETRY_AFTER_SECONDS = 120.0
BACKOFF_BASE_SECONDS = 0.5
BACKOFF_CAP_SECONDS = 30.0
IN_PROGRESS_WAIT_SECONDS = 300.0
"""How long a POST answered "still in progress" is retried with its key before giving up."""


def should_retry(error: ChargebeeError) -> bool:
    """Whether sending the same request again is both useful and safe.

    Useful when the error says a later try can succeed: rate limits, 5xx, no
    answer at all. Always safe: a GET only reads, and every POST carries an
    idempotency key (the caller's, or one the transport sets) reused on every try,
    so a repeat after Chargebee may already have acted is replayed, not acted twice.
    """
    return error.retryable


def retry_delay(
    attempt: int, error: ChargebeeError, *, rand: Callable[[], float] = random.random
) -> float:
    """Seconds to wait before retry number ``attempt`` (1-based).

    A ``Retry-After`` header is obeyed (capped); otherwise exponential backoff with
    jitter, so that many workers do not retry in lockstep.
    """
    if isinstance(error, ChargebeeAPIError) and error.retry_after is not None:
        return float(min(error.retry_after, MAX_RETRY_AFTER_SECONDS))
    ceiling = min(BACKOFF_CAP_SECONDS, BACKOFF_BASE_SECONDS * 2.0 ** (attempt - 1))
    return ceiling * (0.5 + rand() / 2)


@dataclass(frozen=True)
class Retry:
    """The wait before the next try, and whether the whole site was told to wait."""

    delay: float
    site_paused: bool


class Attempts:
    """The tries of one logical request: counted, and after each failure retried or ended.

    Retries are bounded by ``max_retries``, except the wait for a first request
    still in progress, which is bounded by time (``in_progress_wait``).
    """

    def __init__(
        self,
        method: str,
        path: str,
        *,
        max_retries: int,
        in_progress_wait: float,
    ) -> None:
        self.method = method
        self.path = path
        self.max_retries = max_retries
        self.in_progress_wait = in_progress_wait
        self.number = 0
        self._in_progress_until: float | None = None

    def next(self) -> int:
        """Start the next try and return its number (1-based)."""
        self.number += 1
        return self.number

    def retry_or_raise(self, error: ChargebeeError) -> Retry:
        """The wait before trying again after ``error``; raises ``error`` when it is final."""
        error.attempts = self.number
        in_progress = isinstance(error, RequestInProgressError)
        if in_progress:
            now = time.monotonic()
            if self._in_progress_until is None:
                self._in_progress_until = now + self.in_progress_wait
            budget_left = now < self._in_progress_until
        else:
            budget_left = self.number <= self.max_retries
        if not budget_left or not should_retry(error):
            self._give_up(error)
        delay = retry_delay(self.number, error)
        limit = (
            f"waiting up to {self.in_progress_wait:.0f}s for the first request"
            if in_progress
            else f"of {self.max_retries}"
        )
        log.warning(
            "%s %s failed (%s); retry %d %s in %.1fs",
            self.method,
            self.path,
            error,
            self.number,
            limit,
            delay,
        )
        site_paused = isinstance(error, RateLimitError) and error.retry_after is not None
        return Retry(delay, site_paused=site_paused)

    def _give_up(self, error: ChargebeeError) -> NoReturn:
        if isinstance(error, RequestInProgressError):
            error.message = (
                f"{error.method} {error.path}: Chargebee was still processing the first "
                f"request with this idempotency key after {self.number} attempts; the action "
                "may have been applied. A re-run is safe: it sends the same key, then reads "
                "the invoice's state"
            )
            error.args = (error.message,)
        raise error
