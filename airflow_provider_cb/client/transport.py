"""Sending requests: one pooled httpx client, retries, the rate budget, idempotency keys.

The decision to retry lives in :func:`should_retry` alone; the wait in
:func:`retry_delay`. A POST always carries an idempotency key (the caller's, or
one generated here) and every retry of that call reuses it, so a retry after a
lost response is replayed by Chargebee instead of acting twice.
"""

from __future__ import annotations

import functools
import json
import logging
import random
import re
import ssl
import threading
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import httpx

from airflow_provider_cb import __version__
from airflow_provider_cb.client.encoding import RequestOrigin, encode_form
from airflow_provider_cb.client.errors import (
    NOT_PROCESSED_CODES,
    ChargebeeAPIError,
    ChargebeeError,
    ChargebeeTransportError,
    ChargebeeValidationError,
    RateLimitError,
    RequestInProgressError,
    ServerError,
    error_from_response,
)
from airflow_provider_cb.client.invoices import ApiVersion
from airflow_provider_cb.client.ratebudget import RateBudget, budget_for
from airflow_provider_cb.client.reading import deadline_transport, read_capped, request_deadline
from airflow_provider_cb.client.settings import ClientSettings

log = logging.getLogger(__name__)

IDEMPOTENCY_HEADER = "chargebee-idempotency-key"
REPLAYED_HEADER = "chargebee-idempotency-replayed"
IDEMPOTENCY_KEY_MAX_LENGTH = 100
_IDEMPOTENCY_KEY = re.compile(r"[A-Za-z0-9_.:@+=~-]{1,100}")
MAX_RETRY_AFTER_SECONDS = 120.0
BACKOFF_BASE_SECONDS = 0.5
BACKOFF_CAP_SECONDS = 30.0
POOL_SIZE = 32
SITE_LIMIT_CODES = ("api_request_limit_exceeded", None)
"""429s that say the site's budget is spent (a bare 429 from a gateway too), not a lock."""
IN_PROGRESS_WAIT_SECONDS = 300.0
"""How long a POST answered "still in progress" is retried with its key before giving up."""


@dataclass(frozen=True)
class ApiResponse:
    """A decoded successful answer and how it was obtained."""

    body: dict[str, Any]
    status_code: int
    replayed: bool
    attempts: int
    idempotency_key: str | None


def check_idempotency_key(value: object) -> str:
    if not isinstance(value, str) or not _IDEMPOTENCY_KEY.fullmatch(value):
        raise ChargebeeValidationError(
            "idempotency_key",
            f"must be 1 to {IDEMPOTENCY_KEY_MAX_LENGTH} characters of letters, digits and "
            f"_ . : @ + = ~ -; got {value!r:.80}",
        )
    return value


def should_retry(method: str, error: ChargebeeError, *, has_idempotency_key: bool) -> bool:
    """Whether sending the same request again is both useful and safe.

    Rate limits and 503s mean Chargebee did not act, so they are always retried. A
    failure after the request may have been processed (read timeout, dropped
    connection, other 5xx, unreadable body) is retried only when a repeat cannot
    act twice: a GET, or a POST whose idempotency key makes Chargebee replay it.
    """
    if not error.retryable:
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


@functools.cache
def _verifying_ssl_context() -> ssl.SSLContext:
    """One certificate-verifying TLS context per process.

    Loading the CA bundle costs about 28 ms; every hook (one per task) would pay it
    again. The context is only read once built, so sharing it between clients is safe.
    """
    return httpx.create_ssl_context(verify=True)


def _gave_up_waiting(error: RequestInProgressError, attempts: int) -> str:
    return (
        f"{error.method} {error.path}: Chargebee was still processing the first request with "
        f"this idempotency key after {attempts} attempts; the action may have been applied. "
        "A re-run is safe: it sends the same key, then reads the invoice's state"
    )


def transport_error(method: str, path: str, exc: httpx.HTTPError) -> ChargebeeTransportError:
    """An httpx failure as the client's own error, saying whether the request went out."""
    never_sent = isinstance(exc, httpx.ConnectError | httpx.ConnectTimeout | httpx.PoolTimeout)
    cause = type(exc).__name__
    detail = str(exc)
    if detail:
        cause += f": {detail[:200]}"
    return ChargebeeTransportError(method, path, cause, sent=not never_sent)


def closed_client_error(method: str, path: str, exc: RuntimeError) -> ChargebeeTransportError:
    """The hook was closed while this request was on its way: final, as a retry would be too."""
    error = ChargebeeTransportError(method, path, f"client closed during the request ({exc})")
    error.retryable = False
    return error


class Transport:
    """Sends requests to one Chargebee site over one pooled, thread-safe httpx client."""

    def __init__(
        self,
        settings: ClientSettings,
        *,
        origin: RequestOrigin | None = None,
        budget: RateBudget | None = None,
        sleep: Callable[[float], None] = time.sleep,
        http_transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.settings = settings
        self.origin = origin or RequestOrigin()
        self.budget = budget or budget_for(settings, sleep=sleep)
        self._sleep = sleep
        self._servers = {version: settings.server_url(version) for version in ("v1", "v2")}
        limits = httpx.Limits(max_connections=POOL_SIZE, max_keepalive_connections=POOL_SIZE)
        self._http = httpx.Client(
            auth=httpx.BasicAuth(settings.api_key, ""),
            timeout=settings.timeout,
            follow_redirects=False,
            verify=_verifying_ssl_context(),
            headers={
                "Accept": "application/json",
                "User-Agent": f"airflow-provider-chargebee/{__version__} httpx/{httpx.__version__}",
            },
            transport=http_transport
            or deadline_transport(verify=_verifying_ssl_context(), limits=limits),
        )
        self._stats_lock = threading.Lock()
        self.retries = 0
        self.in_progress_wait = IN_PROGRESS_WAIT_SECONDS

    def __repr__(self) -> str:
        return f"Transport(host={self.settings.host!r})"

    def close(self) -> None:
        self._http.close()
        self.budget.close()

    def request(
        self,
        method: str,
        path: str,
        *,
        api_version: ApiVersion = "v2",
        query: Mapping[str, str] | None = None,
        body: Mapping[str, Any] | None = None,
        idempotency_key: str | None = None,
        origin: RequestOrigin | None = None,
    ) -> ApiResponse:
        """Send one logical request, retrying as :func:`should_retry` allows."""
        if method == "POST":
            key = (
                check_idempotency_key(idempotency_key)
                if idempotency_key is not None
                else f"cb-{uuid.uuid4().hex}"
            )
        else:
            key = None
        headers = (self.origin.merged(origin) if origin else self.origin).headers(
            api_version=api_version, for_write=method == "POST"
        )
        if key is not None:
            headers[IDEMPOTENCY_HEADER] = key
        form: Sequence[tuple[str, str]] = encode_form(body or {})
        url = self._servers[api_version] + path
        attempt = 0
        in_progress_until: float | None = None
        while True:
            attempt += 1
            try:
                return self._send_once(method, url, path, query, form, headers, key, attempt)
            except ChargebeeError as error:
                error.attempts = attempt
                if isinstance(error, RequestInProgressError):
                    # Waiting out the first request is bounded by time, not by max_retries.
                    now = time.monotonic()
                    if in_progress_until is None:
                        in_progress_until = now + self.in_progress_wait
                    budget_left = now < in_progress_until
                else:
                    budget_left = attempt <= self.settings.max_retries
                retry = budget_left and should_retry(
                    method, error, has_idempotency_key=key is not None
                )
                if not retry:
                    if isinstance(error, RequestInProgressError):
                        error.message = _gave_up_waiting(error, attempt)
                        error.args = (error.message,)
                    raise
                delay = retry_delay(attempt, error)
                with self._stats_lock:
                    self.retries += 1
                limit = (
                    f"waiting up to {self.in_progress_wait:.0f}s for the first request"
                    if isinstance(error, RequestInProgressError)
                    else f"of {self.settings.max_retries}"
                )
                log.warning(
                    "%s %s failed (%s); retry %d %s in %.1fs",
                    method,
                    path,
                    error,
                    attempt,
                    limit,
                    delay,
                )
                if isinstance(error, RateLimitError) and error.retry_after is not None:
                    # The site is blocked for everyone: hold every worker, this one included.
                    self.budget.pause_for(delay)
                else:
                    self._sleep(delay)

    def _exchange(
        self,
        method: str,
        url: str,
        path: str,
        query: Mapping[str, str] | None,
        content: bytes | None,
        headers: Mapping[str, str],
    ) -> httpx.Response:
        """One request and its answer, within the timeout as a whole and the size cap."""
        try:
            with request_deadline(self.settings.timeout) as deadline:
                request = self._http.build_request(
                    method, url, params=query, content=content, headers=headers
                )
                return read_capped(method, path, self._http.send(request, stream=True), deadline)
        except httpx.HTTPError as exc:
            raise transport_error(method, path, exc) from None
        except RuntimeError as exc:
            # httpx refuses to send on a client another thread has just closed.
            raise closed_client_error(method, path, exc) from None

    def _send_once(
        self,
        method: str,
        url: str,
        path: str,
        query: Mapping[str, str] | None,
        form: Sequence[tuple[str, str]],
        headers: Mapping[str, str],
        key: str | None,
        attempt: int,
    ) -> ApiResponse:
        content: bytes | None = None
        send_headers = dict(headers)
        if method == "POST":
            content = urlencode(form).encode("ascii")
            send_headers["Content-Type"] = "application/x-www-form-urlencoded"
        with self.budget.turn() as paced_at:
            response = self._exchange(method, url, path, query, content, send_headers)
        log.debug("%s %s -> HTTP %d (attempt %d)", method, path, response.status_code, attempt)
        if response.status_code >= 300:
            error = error_from_response(response)
            if isinstance(error, RateLimitError) and error.api_error_code in SITE_LIMIT_CODES:
                self.budget.slow_down(paced_at)
            raise error
        # Raised outside the except block: a decode error would carry the whole body
        # (which a misbehaving proxy may fill with request headers) as its context.
        decoded: Any = None
        problem = "a body that is not JSON"
        try:
            decoded = json.loads(response.content)
            problem = "a JSON body that is not an object"
        except ValueError:
            pass
        if not isinstance(decoded, dict):
            raise ChargebeeTransportError(
                method, path, f"HTTP {response.status_code} with {problem}"
            )
        return ApiResponse(
            body=decoded,
            status_code=response.status_code,
            replayed=response.headers.get(REPLAYED_HEADER, "").lower() == "true",
            attempts=attempt,
            idempotency_key=key,
        )
