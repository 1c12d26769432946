"""The async sender: the sync transport's requests, retries and budget, for an event loop.

The triggerer runs many triggers on one event loop, so nothing here blocks it:
budget waits and retry backoff are awaited, and a shared budget's store is
called in a thread. The whole request is bounded by the connection's timeout
and its answer by the size cap, as on the sync path.
"""

from __future__ import annotations

import asyncio

import httpx

from airflow_provider_cb.chargebee_api.answers import ApiResponse, failures_as_errors, read_answer
from airflow_provider_cb.chargebee_api.encoding import RequestOrigin
from airflow_provider_cb.chargebee_api.errors import ChargebeeError
from airflow_provider_cb.chargebee_api.ratebudget import RateBudget
from airflow_provider_cb.chargebee_api.reading import Deadline, aread_capped
from airflow_provider_cb.chargebee_api.retries import Retry
from airflow_provider_cb.chargebee_api.settings import ClientSettings
from airflow_provider_cb.chargebee_api.transport import BaseTransport, PreparedRequest

_sleep = asyncio.sleep
"""Every wait of the async path (pacing, Retry-After, backoff) goes through here, so tests
can record waits instead of taking them."""


class AsyncTransport(BaseTransport):
    """Sends requests to one Chargebee site from an event loop, over one httpx AsyncClient."""

    def __init__(
        self,
        settings: ClientSettings,
        *,
        origin: RequestOrigin | None = None,
        budget: RateBudget | None = None,
        http_transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        super().__init__(settings, origin=origin, budget=budget)
        self._http = httpx.AsyncClient(**self.http_options(), transport=http_transport)

    async def aclose(self) -> None:
        await self._http.aclose()
        await asyncio.to_thread(self.budget.close)

    async def send(self, prepared: PreparedRequest) -> ApiResponse:
        """Send a prepared request, retrying as :func:`should_retry` allows."""
        attempts = self.attempts(prepared)
        with attempts.store_failures():
            while True:
                try:
                    return await self._send_once(prepared, attempts.next())
                except ChargebeeError as error:
                    await self._wait(self.retry_after_failure(attempts, error))

    async def _wait(self, retry: Retry) -> None:
        if retry.site_paused:
            await self.budget.apause_for(retry.delay)
        else:
            await _sleep(retry.delay)

    async def _send_once(self, prepared: PreparedRequest, attempt: int) -> ApiResponse:
        method, path, timeout = prepared.method, prepared.path, self.settings.timeout
        async with self.budget.aturn(_sleep):
            with failures_as_errors(
                method,
                path,
                timeout,
                secrets=(self.settings.api_key,),
                client_closed=lambda: self._http.is_closed,
            ):
                # asyncio's timeout bounds the whole exchange; the deadline, the reading.
                async with asyncio.timeout(timeout):
                    deadline = Deadline(timeout)
                    streamed = await self._http.send(prepared.build(self._http), stream=True)
                    response = await aread_capped(method, path, streamed, deadline)
            return read_answer(response, attempt=attempt, key=prepared.idempotency_key)
