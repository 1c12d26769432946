"""The trigger that waits on invoices in the triggerer, reading only.

One invoice is read with ``GET /invoices/{id}``, many with ``GET /invoices``
filtered by ``id[in]``, 100 a request. The triggerer may restart a trigger at
any time and run it again from the start; a read repeated is harmless, where a
POST repeated could act twice. When a wait ends is decided in
:mod:`airflow_provider_cb.client.waiting`, as for the sensor's pokes.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Iterable, Mapping, Sequence
from typing import Any
from urllib.parse import quote

import httpx
from airflow.triggers.base import BaseTrigger, TriggerEvent

from airflow_provider_cb import __version__
from airflow_provider_cb.client.encoding import RequestOrigin
from airflow_provider_cb.client.errors import (
    ChargebeeError,
    ChargebeeTransportError,
    RateLimitError,
    error_from_response,
)
from airflow_provider_cb.client.listing import encode_filters
from airflow_provider_cb.client.reading import Deadline, aread_capped
from airflow_provider_cb.client.settings import ClientSettings
from airflow_provider_cb.client.transport import retry_delay, transport_error
from airflow_provider_cb.client.validation import check_id, check_invoice_ids
from airflow_provider_cb.client.waiting import (
    BATCH_READ_SIZE,
    batch_event,
    check_targets,
    describe_outstanding,
    describe_targets,
    end_of_batch_wait,
    end_of_wait,
    outstanding,
    read_batches,
    wait_event,
)

_sleep = asyncio.sleep
"""Every wait of the trigger goes through here, so tests can record waits instead of taking them."""


def _event(payload: dict[str, Any]) -> TriggerEvent:
    return TriggerEvent(payload)  # type: ignore[no-untyped-call]


class ChargebeeInvoiceTrigger(BaseTrigger):
    """Poll one invoice, or many, until they reach a target status or dunning status.

    Serialised with the connection id only: the API key is fetched in :meth:`run`
    and never stored with the trigger. Fires one event whose ``outcome`` is
    ``reached``, ``unreachable`` or ``error``.
    """

    def __init__(
        self,
        *,
        invoice_id: str | None = None,
        invoice_ids: Sequence[str] | None = None,
        target_statuses: Iterable[str] | None = None,
        target_dunning_statuses: Iterable[str] | None = None,
        chargebee_conn_id: str = "chargebee_default",
        poll_interval: float = 60.0,
    ) -> None:
        super().__init__()  # type: ignore[no-untyped-call]
        if (invoice_id is None) == (invoice_ids is None):
            raise ValueError("give exactly one of invoice_id and invoice_ids")
        self.invoice_id = None if invoice_id is None else check_id("invoice_id", invoice_id)
        self.invoice_ids = (
            None if invoice_ids is None else check_invoice_ids("invoice_ids", invoice_ids)
        )
        self.target_statuses, self.target_dunning_statuses = check_targets(
            target_statuses, target_dunning_statuses
        )
        self.chargebee_conn_id = chargebee_conn_id
        self.poll_interval = float(poll_interval)

    def serialize(self) -> tuple[str, dict[str, Any]]:
        watched: dict[str, Any] = (
            {"invoice_ids": self.invoice_ids}
            if self.invoice_ids is not None
            else {"invoice_id": self.invoice_id}
        )
        return (
            f"{type(self).__module__}.{type(self).__qualname__}",
            {
                **watched,
                "target_statuses": list(self.target_statuses),
                "target_dunning_statuses": list(self.target_dunning_statuses),
                "chargebee_conn_id": self.chargebee_conn_id,
                "poll_interval": self.poll_interval,
            },
        )

    async def _settings(self) -> tuple[ClientSettings, RequestOrigin]:
        """The connection's settings and default headers, read as the hook reads them."""
        from airflow_provider_cb.hooks.chargebee import ChargebeeHook

        hook = ChargebeeHook(self.chargebee_conn_id)
        # The SDK's connection lookup is synchronous; a thread keeps the event loop free.
        return await asyncio.to_thread(hook.connection_settings)

    def _error_event(self, error: ChargebeeError) -> dict[str, Any]:
        if self.invoice_ids is not None:
            return batch_event(
                "error", self.invoice_ids, message=str(error), retryable=error.retryable
            )
        assert self.invoice_id is not None
        return wait_event("error", self.invoice_id, message=str(error), retryable=error.retryable)

    async def run(self) -> AsyncIterator[TriggerEvent]:
        try:
            settings, origin = await self._settings()
        except ChargebeeError as error:
            yield _event({**self._error_event(error), "retryable": False})
            return
        async with httpx.AsyncClient(
            auth=httpx.BasicAuth(settings.api_key, ""),
            timeout=settings.timeout,
            follow_redirects=False,
            headers={
                "Accept": "application/json",
                "User-Agent": f"airflow-provider-chargebee/{__version__} httpx/{httpx.__version__}",
                **origin.headers(for_write=False),
            },
        ) as http:
            yield _event(await self._wait(http, settings))

    async def _wait(self, http: httpx.AsyncClient, settings: ClientSettings) -> dict[str, Any]:
        """Poll until the wait ends; transient failures are retried as the client would."""
        errors_in_a_row = failures = 0
        while True:
            try:
                event = await self._poll_once(http, settings)
            except ChargebeeError as error:
                errors_in_a_row += 1
                # A 429 says when to come back: it slows the polling but never ends the wait.
                failures += 0 if isinstance(error, RateLimitError) else 1
                if not error.retryable or failures > settings.max_retries:
                    return self._error_event(error)
                delay = retry_delay(errors_in_a_row, error)
                self.log.warning("%s; polling again in %.1fs", error, delay)
                await _sleep(delay)
                continue
            errors_in_a_row = failures = 0
            if event is not None:
                return event
            await _sleep(self.poll_interval)

    async def _poll_once(
        self, http: httpx.AsyncClient, settings: ClientSettings
    ) -> dict[str, Any] | None:
        """Read the invoices once: the event that ends the wait, or None to wait on."""
        targets = self.target_statuses, self.target_dunning_statuses
        if self.invoice_ids is None:
            assert self.invoice_id is not None
            path = f"/invoices/{quote(self.invoice_id, safe='')}"
            body = await _get(http, settings.server_url("v2") + path, path, settings.timeout)
            invoice = _object(body, "invoice", path)
            self.log.info(
                "invoice %s has status %s, dunning status %s; waiting for %s",
                self.invoice_id,
                invoice.get("status"),
                invoice.get("dunning_status"),
                describe_targets(*targets),
            )
            return end_of_wait(self.invoice_id, invoice, *targets)
        invoices: dict[str, Mapping[str, Any]] = {}
        for batch in read_batches(self.invoice_ids):
            query = {**encode_filters({"id": list(batch)}), "limit": str(BATCH_READ_SIZE)}
            url = f"{settings.server_url('v2')}/invoices"
            body = await _get(http, url, "/invoices", settings.timeout, query)
            for invoice in listed_invoices(body):
                invoices[str(invoice.get("id"))] = invoice
        event = end_of_batch_wait(self.invoice_ids, invoices, *targets)
        if event is None:
            waiting = outstanding(self.invoice_ids, invoices, *targets)
            self.log.info("%s", describe_outstanding(len(self.invoice_ids), waiting))
        return event


def _object(body: Mapping[str, Any], key: str, path: str) -> dict[str, Any]:
    value = body.get(key)
    if not isinstance(value, dict):
        raise ChargebeeTransportError("GET", path, f"answer has no {key!r} object")
    return value


def listed_invoices(body: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The invoices of one list page, or an error naming what the answer lacks."""
    items = body.get("list")
    if not isinstance(items, list):
        raise ChargebeeTransportError("GET", "/invoices", "answer has no 'list'")
    return [_object(item, "invoice", "/invoices") for item in items if isinstance(item, dict)]


async def _get(
    http: httpx.AsyncClient,
    url: str,
    path: str,
    timeout: float,
    query: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """One GET within ``timeout`` as a whole: the JSON object, or the client's error."""
    deadline = Deadline(timeout)
    try:
        async with asyncio.timeout(timeout):
            request = http.build_request("GET", url, params=query)
            streamed = await http.send(request, stream=True)
            response = await aread_capped("GET", path, streamed, deadline)
    except httpx.HTTPError as exc:
        raise transport_error("GET", path, exc) from None
    except TimeoutError:
        raise ChargebeeTransportError(
            "GET", path, f"no complete answer within the timeout of {timeout:g}s"
        ) from None
    if response.status_code >= 300:
        raise error_from_response(response)
    try:
        body = json.loads(response.content)
    except ValueError:
        body = None
    if not isinstance(body, dict):
        raise ChargebeeTransportError("GET", path, "answer is not a JSON object")
    return body
