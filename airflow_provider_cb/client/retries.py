"""Whether and when to send a request again: one decision for the sync and async senders.

The decision to retry lives in :func:`should_retry` alone; the wait in
:func:`retry_delay`; :class:`Attempts` applies both to one logical request and
bounds it. Nothing here sends or sleeps.
"""

from __future__ import annotations

import logging
import random
from collections.abc import Callable
from dataclasses import dataclass

from airflow_provider_cb.client.answers import NOT_PROCESSED_CODES
from airflow_provider_cb.client.errors import (
    ChargebeeAPIError,
    ChargebeeError,
    ChargebeeTransportError,
    ConnectionFailedError,
    RateLimitError,
    ServerError,
)

log = logging.getLogger(__name__)

MAX_RETRY_AFTER_SECONDS = 120.0
BACKOFF_BASE_SECONDS = 0.5
BACKOFF_CAP_SECONDS = 30.0


def should_retry(method: str, error: ChargebeeError, *, has_idempotency_key: bool) -> bool:
    """Whether sending the same request again is both useful and safe.

    Rate limits and 503s mean Chargebee did not act, so they are always retried. A
    failure after the request may have been processed (read timeout, dropped
    connection, other 5xx, unreadable body) is retried only when a repeat cannot
    act twice: a GET, or a POST whose idempotency key makes Chargebee replay it.
    A host that refuses connections refuses every request: that ends the request
    at once, so a bulk run stops instead of retrying it invoice by invoice.
    """
    if not error.retryable or isinstance(error, ConnectionFailedError):
        return False
    if isinstance(error, RateLimitError):
        return True
    if isinstance(error, ServerError) and (
        error.http_status == 503 or error.api_error_code in NOT_PROCESSED_CODES
    ):
        return True
    if isinstance(error, ChargebeeTransportError) and not error.sent:
        return True
    return method == "GET" or has_idempotency_key


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

    Retries are bounded by ``max_retries``.
    """

    def __init__(
        self, method: str, path: str, *, max_retries: int, has_idempotency_key: bool
    ) -> None:
        self.method = method
        self.path = path
        self.max_retries = max_retries
        self.has_idempotency_key = has_idempotency_key
        self.number = 0

    def next(self) -> int:
        """Start the next try and return its number (1-based)."""
        self.number += 1
        return self.number

    def retry_or_raise(self, error: ChargebeeError) -> Retry:
        """The wait before trying again after ``error``; raises ``error`` when it is final."""
        error.attempts = self.number
        if self.number > self.max_retries or not should_retry(
            self.method, error, has_idempotency_key=self.has_idempotency_key
        ):
            raise error
        delay = retry_delay(self.number, error)
        log.warning(
            "%s %s failed (%s); retry %d of %d in %.1fs",
            self.method,
            self.path,
            error,
            self.number,
            self.max_retries,
            delay,
        )
        site_paused = isinstance(error, RateLimitError) and error.retry_after is not None
        return Retry(delay, site_paused=site_paused)
