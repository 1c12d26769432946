"""Sending requests: one request built once, and the sync sender over it.

:class:`BaseTransport` holds what the sync :class:`Transport` and the
:class:`~airflow_provider_cb.chargebee_api.async_transport.AsyncTransport` share, all
without I/O: the httpx client's options, the request built once (URL, headers,
form, idempotency key) and the bookkeeping of retries. Reading the answer lives
in :mod:`~airflow_provider_cb.chargebee_api.answers`, the retry decision in
:mod:`~airflow_provider_cb.chargebee_api.retries`. A POST always carries an
idempotency key (the caller's, or one generated here) and every retry of that
call reuses it, so a retry after a lost response is replayed by Chargebee
instead of acting twice.
"""

from __future__ import annotations

import functools
import re
import ssl
import threading
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import httpx

from airflow_provider_cb import __version__
from airflow_provider_cb.chargebee_api.answers import ApiResponse, failures_as_errors, read_answer
from airflow_provider_cb.chargebee_api.encoding import RequestOrigin, encode_form
from airflow_provider_cb.chargebee_api.errors import ChargebeeError, ChargebeeValidationError
from airflow_provider_cb.chargebee_api.ratebudget import RateBudget
from airflow_provider_cb.chargebee_api.reading import (
    DeadlineTransport,
    read_capped,
    request_deadline,
)
from airflow_provider_cb.chargebee_api.retries import Attempts, Retry
from airflow_provider_cb.chargebee_api.settings import ApiVersion, ClientSettings
from airflow_provider_cb.chargebee_api.sitebudget import budget_for

IDEMPOTENCY_HEADER = "chargebee-idempotency-key"
IDEMPOTENCY_KEY_MAX_LENGTH = 100
_IDEMPOTENCY_KEY = re.compile(r"[A-Za-z0-9_.:@+=~-]{1,100}")
POOL_SIZE = 32
USER_AGENT = f"airflow-provider-chargebee/{__version__} httpx/{httpx.__version__}"


def check_idempotency_key(value: object) -> str:
    if not isinstance(value, str) or not _IDEMPOTENCY_KEY.fullmatch(value):
        raise ChargebeeValidationError(
            "idempotency_key",
            f"must be 1 to {IDEMPOTENCY_KEY_MAX_LENGTH} characters of letters, digits and "
            f"_ . : @ + = ~ -; got {value!r:.80}",
        )
    return value


@functools.cache
def verifying_ssl_context() -> ssl.SSLContext:
    """One certificate-verifying TLS context per process.

    Loading the CA bundle costs about 28 ms; every hook (one per task) would pay it
    again. The context is only read once built, so sharing it between clients is safe.
    """
    return httpx.create_ssl_context(verify=True)


@dataclass(frozen=True)
class PreparedRequest:
    """One logical request as it goes on the wire, built once and sent on every try."""

    method: str
    url: str
    path: str
    query: Mapping[str, str] | None
    content: bytes | None
    headers: Mapping[str, str]
    idempotency_key: str | None

    def build(self, http: httpx.Client | httpx.AsyncClient) -> httpx.Request:
        """The httpx request for one try."""
        return http.build_request(
            self.method, self.url, params=self.query, content=self.content, headers=self.headers
        )


class BaseTransport:
    """What the sync and async senders share: settings, headers, budget, retry counts."""

    def __init__(
        self,
        settings: ClientSettings,
        *,
        origin: RequestOrigin | None,
        budget: RateBudget | None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.settings = settings
        self.origin = origin or RequestOrigin()
        self.budget = budget or budget_for(settings, sleep=sleep)
        self._servers = {version: settings.server_url(version) for version in ("v1", "v2")}
        self._stats_lock = threading.Lock()
        self.retries = 0

    def __repr__(self) -> str:
        return f"{type(self).__name__}(host={self.settings.host!r})"

    def http_options(self) -> dict[str, Any]:
        """The httpx client's options: the key goes to httpx's auth and nowhere else."""
        return {
            "auth": httpx.BasicAuth(self.settings.api_key, ""),
            "timeout": self.settings.timeout,
            "follow_redirects": False,
            "verify": verifying_ssl_context(),
            "headers": {"Accept": "application/json", "User-Agent": USER_AGENT},
        }

    def prepare(
        self,
        method: str,
        path: str,
        *,
        api_version: ApiVersion = "v2",
        query: Mapping[str, str] | None = None,
        body: Mapping[str, Any] | None = None,
        idempotency_key: str | None = None,
        origin: RequestOrigin | None = None,
    ) -> PreparedRequest:
        """Check and encode everything once; a bad key fails here, before any request."""
        key = None
        if method == "POST":
            key = (
                check_idempotency_key(idempotency_key)
                if idempotency_key is not None
                else f"cb-{uuid.uuid4().hex}"
            )
        headers = (self.origin.merged(origin) if origin else self.origin).headers(
            api_version=api_version, for_write=method == "POST"
        )
        content = None
        if key is not None:
            headers[IDEMPOTENCY_HEADER] = key
            content = urlencode(encode_form(body or {})).encode("ascii")
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        return PreparedRequest(
            method, self._servers[api_version] + path, path, query, content, headers, key
        )

    def attempts(self, prepared: PreparedRequest) -> Attempts:
        return Attempts(
            prepared.method,
            prepared.path,
            max_retries=self.settings.max_retries,
            block_seconds=self.settings.rate_limit_block_seconds,
        )

    def retry_after_failure(self, attempts: Attempts, error: ChargebeeError) -> Retry:
        """The wait before the next try, counted; raises ``error`` when it is final."""
        retry = attempts.retry_or_raise(error)
        with self._stats_lock:
            self.retries += 1
        return retry


class Transport(BaseTransport):
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
        super().__init__(settings, origin=origin, budget=budget, sleep=sleep)
        self._sleep = sleep
        limits = httpx.Limits(max_connections=POOL_SIZE, max_keepalive_connections=POOL_SIZE)
        self._http = httpx.Client(
            **self.http_options(),
            transport=http_transport
            or DeadlineTransport(verify=verifying_ssl_context(), limits=limits),
        )

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
        """Build one logical request and :meth:`send` it."""
        return self.send(
            self.prepare(
                method,
                path,
                api_version=api_version,
                query=query,
                body=body,
                idempotency_key=idempotency_key,
                origin=origin,
            )
        )

    def send(self, prepared: PreparedRequest) -> ApiResponse:
        """Send a prepared request, retrying as :func:`should_retry` allows."""
        attempts = self.attempts(prepared)
        with attempts.store_failures():
            while True:
                try:
                    return self._send_once(prepared, attempts.next())
                except ChargebeeError as error:
                    self._wait(self.retry_after_failure(attempts, error))

    def _wait(self, retry: Retry) -> None:
        if retry.site_paused:
            # The site is blocked for everyone: hold every worker, this one included.
            # A lock's or a gateway's 429 waits here alone: the rest of the site goes on.
            self.budget.pause_for(retry.delay)
        else:
            self._sleep(retry.delay)

    def _send_once(self, prepared: PreparedRequest, attempt: int) -> ApiResponse:
        with self.budget.turn():
            with (
                failures_as_errors(
                    prepared.method,
                    prepared.path,
                    self.settings.timeout,
                    secrets=(self.settings.api_key,),
                    client_closed=lambda: self._http.is_closed,
                ),
                request_deadline(self.settings.timeout) as deadline,
            ):
                streamed = self._http.send(prepared.build(self._http), stream=True)
                response = read_capped(prepared.method, prepared.path, streamed, deadline)
            return read_answer(response, attempt=attempt, key=prepared.idempotency_key)
