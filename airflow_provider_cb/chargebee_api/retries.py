"""Whether and when to send a request again: one decision for the sync and async senders.

The decision to retry lives in :func:`should_retry` alone; the wait in
:func:`retry_delay`; :class:`Attempts` applies both to one logical request and
bounds it. Nothing here sends or sleeps.

A 429 is judged by its code. ``api_request_limit_exceeded`` (or a bare 429 from a
gateway) means the site's budget is spent: the whole site waits, as long as
``Retry-After`` says or, without it, for the block Chargebee documents (about a
minute). ``lock_timeout`` concerns one resource and
``third_party_api_request_limit_exceeded`` the charges through one gateway: only
that request waits, and the rest of the site goes on.
"""

from __future__ import annotations

import contextlib
import logging
import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from airflow_provider_cb.chargebee_api.answers import NOT_PROCESSED_CODES
from airflow_provider_cb.chargebee_api.errors import (
    ChargebeeAPIError,
    ChargebeeError,
    ChargebeeTransportError,
    ConnectionFailedError,
    RateLimitError,
    RateLimitStoreError,
    ServerError,
)
from airflow_provider_cb.chargebee_api.settings import SITE_BLOCK_SECONDS

log = logging.getLogger(__name__)

MAX_RETRY_AFTER_SECONDS = 120.0
BACKOFF_BASE_SECONDS = 0.5
BACKOFF_CAP_SECONDS = 30.0
SITE_LIMIT_CODES = ("api_request_limit_exceeded", None)
"""429s that say the site's budget is spent (a bare 429 from a gateway too), not a lock."""
THIRD_PARTY_LIMIT_CODE = "third_party_api_request_limit_exceeded"


def is_site_limit(error: ChargebeeError) -> bool:
    """Whether ``error`` says the whole site is over its budget (so every request must wait)."""
    return isinstance(error, RateLimitError) and error.api_error_code in SITE_LIMIT_CODES


def surely_not_processed(error: ChargebeeError) -> bool:
    """Whether the failed try certainly did not act: Chargebee refused it, or it never left."""
    if isinstance(error, RateLimitError | RateLimitStoreError):
        return True
    if isinstance(error, ServerError):
        return error.http_status == 503 or error.api_error_code in NOT_PROCESSED_CODES
    return isinstance(error, ChargebeeTransportError) and not error.sent


def should_retry(error: ChargebeeError) -> bool:
    """Whether sending the same request again is both useful and safe.

    Useful when the error says a later try can succeed: rate limits, 5xx, no
    answer at all. Always safe: a GET only reads, and every POST carries an
    idempotency key (the caller's, or one the transport sets) reused on every try,
    so a repeat after Chargebee may already have acted is replayed, not acted twice.
    A host that refuses connections refuses every request, and a store that is down
    stays down within a request's retries: both end the request at once, so a bulk
    run stops instead of retrying invoice by invoice, and nothing goes out unbudgeted.
    """
    return error.retryable and not isinstance(error, ConnectionFailedError | RateLimitStoreError)


def retry_delay(
    attempt: int,
    error: ChargebeeError,
    *,
    rand: Callable[[], float] = random.random,
    block_seconds: float = SITE_BLOCK_SECONDS,
) -> float:
    """Seconds to wait before retry number ``attempt`` (1-based).

    A ``Retry-After`` header is obeyed (capped). A site or gateway limit without it
    waits ``block_seconds``, the block Chargebee documents: retrying within seconds
    would only keep the site blocked. Otherwise exponential backoff with jitter, so
    that many workers do not retry in lockstep.
    """
    if isinstance(error, ChargebeeAPIError) and error.retry_after is not None:
        return float(min(error.retry_after, MAX_RETRY_AFTER_SECONDS))
    if is_site_limit(error) or (
        isinstance(error, RateLimitError) and error.api_error_code == THIRD_PARTY_LIMIT_CODE
    ):
        return block_seconds
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
        self,
        method: str,
        path: str,
        *,
        max_retries: int,
        block_seconds: float = SITE_BLOCK_SECONDS,
    ) -> None:
        self.method = method
        self.path = path
        self.max_retries = max_retries
        self.block_seconds = block_seconds
        self.number = 0
        self.may_have_acted = False
        """Whether an earlier try reached Chargebee and may have been applied."""
        self.reached = False
        """Whether an earlier try reached Chargebee at all (a 429 did, without acting)."""

    def next(self) -> int:
        """Start the next try and return its number (1-based)."""
        self.number += 1
        return self.number

    def retry_or_raise(self, error: ChargebeeError) -> Retry:
        """The wait before trying again after ``error``; raises ``error`` when it is final."""
        error.attempts = self.number
        if not surely_not_processed(error):
            self.may_have_acted = True
        if not isinstance(error, RateLimitStoreError) and not (
            isinstance(error, ChargebeeTransportError) and not error.sent
        ):
            self.reached = True
        if self.number > self.max_retries or not should_retry(error):
            raise error
        delay = retry_delay(self.number, error, block_seconds=self.block_seconds)
        log.warning(
            "%s %s failed (%s); retry %d of %d in %.1fs",
            self.method,
            self.path,
            error,
            self.number,
            self.max_retries,
            delay,
        )
        return Retry(delay, site_paused=is_site_limit(error))

    @contextlib.contextmanager
    def store_failures(self) -> Iterator[None]:
        """Say what a store failure means for this request: not sent, or sent and unknown."""
        try:
            yield
        except RateLimitStoreError as error:
            error.attempts = self.number - 1  # the failing try never went out
            error.sent = self.reached
            where = f"{self.method} {self.path}"
            if self.may_have_acted:
                error.args = (
                    f"{where}: an earlier try was sent and may have been applied; the next "
                    f"could not be budgeted ({error}). The outcome is unknown; a re-run is "
                    "safe: it sends the same idempotency key, then reads the invoice's state",
                )
            elif self.reached:
                error.args = (
                    f"{where}: Chargebee refused an earlier try without acting, and the next "
                    f"could not be budgeted ({error}). Nothing was applied; a re-run is safe",
                )
            else:
                error.args = (f"{where} was not sent: {error}",)
            raise
