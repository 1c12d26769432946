"""The trigger that waits on invoices in the triggerer, reading only through the hook.

One invoice is read with ``GET /invoices/{id}``, many with ``GET /invoices``
filtered by ``id[in]``, 100 a request; the hook's async client sends them with
the same retries, rate budget, timeout and size cap as every other request. The
triggerer may restart a trigger at any time and run it again from the start; a
read repeated is harmless, where a POST repeated could act twice. When a wait
ends is decided in :mod:`airflow_provider_cb.invoicing.waiting`, as for the
sensor's pokes.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterable, Sequence
from typing import TYPE_CHECKING, Any

from airflow.triggers.base import BaseTrigger, TriggerEvent

from airflow_provider_cb.chargebee_api.errors import ChargebeeError
from airflow_provider_cb.chargebee_api.validation import check_id, check_invoice_ids
from airflow_provider_cb.invoicing.waiting import (
    BATCH_READ_SIZE,
    batch_event,
    check_targets,
    describe_targets,
    end_of_wait,
    ends_wait,
    judge_batch,
    read_batches,
    wait_event,
)

if TYPE_CHECKING:
    from airflow_provider_cb.hooks.chargebee import ChargebeeHook

_sleep = asyncio.sleep
"""Every wait between two polls goes through here, so tests can record waits instead of taking
them (the client's waits go through :mod:`airflow_provider_cb.chargebee_api.async_transport`)."""


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

    def _error_event(self, error: ChargebeeError) -> dict[str, Any]:
        if self.invoice_ids is not None:
            return batch_event(
                "error", self.invoice_ids, message=str(error), retryable=error.retryable
            )
        assert self.invoice_id is not None
        return wait_event("error", self.invoice_id, message=str(error), retryable=error.retryable)

    async def run(self) -> AsyncIterator[TriggerEvent]:
        from airflow_provider_cb.hooks.chargebee import ChargebeeHook

        hook = ChargebeeHook(self.chargebee_conn_id)
        try:
            event = await self._wait(hook)
        finally:
            await hook.aclose()
        yield _event(event)

    async def _wait(self, hook: ChargebeeHook) -> dict[str, Any]:
        """Poll until the wait ends; the hook's client retries each read as it sees fit."""
        while True:
            try:
                event = await self._poll_once(hook)
            except ChargebeeError as error:
                if ends_wait(error):
                    return self._error_event(error)
                self.log.warning("%s; polling again in %.1fs", error, self.poll_interval)
                event = None
            if event is not None:
                return event
            await _sleep(self.poll_interval)

    async def _poll_once(self, hook: ChargebeeHook) -> dict[str, Any] | None:
        """Read the invoices once: the event that ends the wait, or None to wait on."""
        targets = self.target_statuses, self.target_dunning_statuses
        if self.invoice_ids is None:
            assert self.invoice_id is not None
            invoice = await hook.aget_invoice(self.invoice_id)
            self.log.info(
                "invoice %s has status %s, dunning status %s; waiting for %s",
                self.invoice_id,
                invoice.get("status"),
                invoice.get("dunning_status"),
                describe_targets(*targets),
            )
            return end_of_wait(self.invoice_id, invoice, *targets)
        read: list[dict[str, Any]] = []
        for batch in read_batches(self.invoice_ids):
            page, _ = await hook.alist_invoices_page(limit=BATCH_READ_SIZE, id=list(batch))
            read.extend(page)
        event, progress = judge_batch(self.invoice_ids, read, *targets)
        if progress:
            self.log.info("%s", progress)
        return event
