"""Waiting on an invoice's state: the rule for when a wait ends, and the trigger that polls.

The trigger sends only ``GET /invoices/{id}``. The triggerer may restart it at any
time and run it again from the start; a read repeated is harmless, where a POST
repeated could act twice.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Collection, Iterable, Mapping
from typing import Any, Literal
from urllib.parse import quote

import httpx
from airflow.triggers.base import BaseTrigger, TriggerEvent

from airflow_provider_cb import __version__
from airflow_provider_cb.client.encoding import RequestOrigin
from airflow_provider_cb.client.errors import (
    ChargebeeError,
    ChargebeeTransportError,
    ChargebeeValidationError,
    RateLimitError,
    error_from_response,
)
from airflow_provider_cb.client.invoices import DUNNING_STATUSES, INVOICE_STATUSES
from airflow_provider_cb.client.reading import Deadline, aread_capped
from airflow_provider_cb.client.settings import ClientSettings
from airflow_provider_cb.client.transport import retry_delay, transport_error
from airflow_provider_cb.client.validation import check_id

WaitOutcome = Literal["reached", "waiting", "unreachable"]
TERMINAL_STATUSES = frozenset({"paid", "voided"})
"""A paid invoice stays paid and a voided one stays voided: neither status ever changes."""

_sleep = asyncio.sleep
"""Every wait of the trigger goes through here, so tests can record waits instead of taking them."""


def check_targets(
    statuses: Iterable[str] | None, dunning_statuses: Iterable[str] | None
) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """Both target lists as tuples of known values; at least one target is required."""
    checked = []
    for param, values, known in (
        ("target_statuses", statuses, INVOICE_STATUSES),
        ("target_dunning_statuses", dunning_statuses, DUNNING_STATUSES),
    ):
        if isinstance(values, str):
            raise ChargebeeValidationError(param, f"must be a list, e.g. [{values!r}]")
        items = tuple(values or ())
        unknown = [value for value in items if value not in known]
        if unknown:
            raise ChargebeeValidationError(
                param, f"{unknown[0]!r} is not one of {', '.join(known)}"
            )
        checked.append(items)
    if not checked[0] and not checked[1]:
        raise ChargebeeValidationError(
            "target_statuses", "give at least one status or dunning status to wait for"
        )
    return checked[0], checked[1]


def wait_outcome(
    invoice: Mapping[str, Any], statuses: Collection[str], dunning_statuses: Collection[str]
) -> WaitOutcome:
    """Whether an invoice in this state ends the wait, may still get there, or never will."""
    if invoice.get("status") in statuses or invoice.get("dunning_status") in dunning_statuses:
        return "reached"
    if invoice.get("status") in TERMINAL_STATUSES:
        return "unreachable"
    return "waiting"


def describe_targets(statuses: Collection[str], dunning_statuses: Collection[str]) -> str:
    parts = []
    if statuses:
        parts.append("status " + " or ".join(statuses))
    if dunning_statuses:
        parts.append("dunning status " + " or ".join(dunning_statuses))
    return " or ".join(parts)


def wait_event(
    outcome: WaitOutcome | Literal["error"],
    invoice_id: str,
    invoice: Mapping[str, Any] | None = None,
    *,
    message: str = "",
    retryable: bool = False,
) -> dict[str, Any]:
    """The small JSON payload a wait ends with, from the trigger or a poke alike."""
    return {
        "outcome": outcome,
        "invoice_id": invoice_id,
        "status": invoice.get("status") if invoice else None,
        "dunning_status": invoice.get("dunning_status") if invoice else None,
        "message": message,
        "retryable": retryable,
    }


def end_of_wait(
    invoice_id: str,
    invoice: Mapping[str, Any],
    statuses: Collection[str],
    dunning_statuses: Collection[str],
) -> dict[str, Any] | None:
    """The event that ends a wait on this invoice, or None while it may still get there."""
    outcome = wait_outcome(invoice, statuses, dunning_statuses)
    if outcome == "waiting":
        return None
    message = ""
    if outcome == "unreachable":
        message = (
            f"invoice {invoice_id} is {invoice.get('status')}, a final status: "
            f"it can never reach {describe_targets(statuses, dunning_statuses)}"
        )
    return wait_event(outcome, invoice_id, invoice, message=message)


def _event(payload: dict[str, Any]) -> TriggerEvent:
    return TriggerEvent(payload)  # type: ignore[no-untyped-call]


class ChargebeeInvoiceTrigger(BaseTrigger):
    """Poll one invoice until it reaches a target status or dunning status, or never can.

    Serialised with the connection id only: the API key is fetched in :meth:`run`
    and never stored with the trigger. Fires one event whose ``outcome`` is
    ``reached``, ``unreachable`` or ``error``.
    """

    def __init__(
        self,
        *,
        invoice_id: str,
        target_statuses: Iterable[str] | None = None,
        target_dunning_statuses: Iterable[str] | None = None,
        chargebee_conn_id: str = "chargebee_default",
        poll_interval: float = 60.0,
    ) -> None:
        super().__init__()  # type: ignore[no-untyped-call]
        self.invoice_id = check_id("invoice_id", invoice_id)
        self.target_statuses, self.target_dunning_statuses = check_targets(
            target_statuses, target_dunning_statuses
        )
        self.chargebee_conn_id = chargebee_conn_id
        self.poll_interval = float(poll_interval)

    def serialize(self) -> tuple[str, dict[str, Any]]:
        return (
            f"{type(self).__module__}.{type(self).__qualname__}",
            {
                "invoice_id": self.invoice_id,
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

    async def run(self) -> AsyncIterator[TriggerEvent]:
        try:
            settings, origin = await self._settings()
        except ChargebeeError as error:
            yield _event(wait_event("error", self.invoice_id, message=str(error)))
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
        path = f"/invoices/{quote(self.invoice_id, safe='')}"
        url = settings.server_url("v2") + path
        errors_in_a_row = failures = 0
        while True:
            try:
                invoice = await _get(http, url, path, settings.timeout)
            except ChargebeeError as error:
                errors_in_a_row += 1
                # A 429 says when to come back: it slows the polling but never ends the wait.
                failures += 0 if isinstance(error, RateLimitError) else 1
                if not error.retryable or failures > settings.max_retries:
                    return wait_event(
                        "error", self.invoice_id, message=str(error), retryable=error.retryable
                    )
                delay = retry_delay(errors_in_a_row, error)
                self.log.warning("%s; polling again in %.1fs", error, delay)
                await _sleep(delay)
                continue
            errors_in_a_row = failures = 0
            event = end_of_wait(
                self.invoice_id, invoice, self.target_statuses, self.target_dunning_statuses
            )
            if event is not None:
                return event
            self.log.info(
                "invoice %s has status %s, dunning status %s; waiting for %s",
                self.invoice_id,
                invoice.get("status"),
                invoice.get("dunning_status"),
                describe_targets(self.target_statuses, self.target_dunning_statuses),
            )
            await _sleep(self.poll_interval)


async def _get(http: httpx.AsyncClient, url: str, path: str, timeout: float) -> dict[str, Any]:
    """One GET of an invoice within ``timeout`` as a whole; failures become the client's errors."""
    deadline = Deadline(timeout)
    try:
        async with asyncio.timeout(timeout):
            streamed = await http.send(http.build_request("GET", url), stream=True)
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
        invoice = json.loads(response.content).get("invoice")
    except (ValueError, AttributeError):
        invoice = None
    if not isinstance(invoice, dict):
        raise ChargebeeTransportError("GET", path, "answer has no 'invoice' object")
    return invoice
