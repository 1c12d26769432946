"""ChargebeeInvoiceSensor: wait until one invoice, or many, are paid or reach another status."""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Sequence
from typing import TYPE_CHECKING, Any

from airflow.sdk import BaseOperatorLink, BaseSensorOperator, PokeReturnValue
from airflow.sdk.configuration import conf
from airflow.sdk.exceptions import AirflowException, AirflowFailException

from airflow_provider_cb.chargebee_api.errors import ChargebeeError, ChargebeeValidationError
from airflow_provider_cb.chargebee_api.validation import rendered_invoice_id, rendered_invoice_ids
from airflow_provider_cb.invoicing.waiting import (
    BATCH_READ_SIZE,
    batch_event,
    check_targets,
    end_of_wait,
    ends_wait,
    judge_batch,
    read_batches,
    wait_event,
)
from airflow_provider_cb.links import ChargebeeInvoiceLink
from airflow_provider_cb.operators.base import ChargebeeBaseOperator
from airflow_provider_cb.triggers.invoice import ChargebeeInvoiceTrigger

if TYPE_CHECKING:
    from airflow.sdk import Context


class ChargebeeInvoiceSensor(ChargebeeBaseOperator, BaseSensorOperator):
    """Wait until invoices have one of the target statuses or dunning statuses.

    The task fails at once, without waiting out its timeout, when an invoice is in
    a final state that can never match (``voided`` while waiting for ``paid``), is
    unknown, or the key is refused. Every mode only reads: one invoice with one
    GET, many through the list endpoint filtered by ``id[in]``, 100 per request.

    :param invoice_id: the invoice to watch (templated).
    :param invoice_ids: many invoices to watch, all of which must reach a target
        (a list, XComArg or template); exclusive with ``invoice_id``.
    :param target_statuses: e.g. ``["paid"]``; see ``INVOICE_STATUSES``.
    :param target_dunning_statuses: e.g. ``["exhausted"]``; see ``DUNNING_STATUSES``.
        The wait ends when either list matches; at least one is required.
    :param chargebee_conn_id: the Chargebee connection (templated).
    :param deferrable: wait in the triggerer, which frees the worker slot between polls.
    :return: one invoice: ``{"outcome", "invoice_id", "status", "dunning_status", ...}``
        as last read; many: ``{"outcome", "invoices", "statuses", "dunning_statuses", ...}``
        with counts per status.
    """

    template_fields: Sequence[str] = (
        *ChargebeeBaseOperator.template_fields,
        "invoice_id",
        "invoice_ids",
    )
    operator_extra_links: Collection[BaseOperatorLink] = (ChargebeeInvoiceLink(),)

    def __init__(
        self,
        *,
        invoice_id: str | None = None,
        invoice_ids: Any = None,
        target_statuses: Sequence[str] | None = None,
        target_dunning_statuses: Sequence[str] | None = None,
        deferrable: bool = conf.getboolean("operators", "default_deferrable", fallback=False),
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        if (invoice_id is None) == (invoice_ids is None):
            raise ChargebeeValidationError(
                "invoice_id", "give exactly one of invoice_id (one invoice) or invoice_ids (many)"
            )
        self.invoice_id = invoice_id
        self.invoice_ids = invoice_ids
        if invoice_ids is not None:
            self.operator_extra_links = ()  # many invoices have no one page to link to
        self.target_statuses, self.target_dunning_statuses = check_targets(
            target_statuses, target_dunning_statuses
        )
        self.deferrable = deferrable

    def _watched(self) -> tuple[str | None, list[str] | None]:
        """The rendered id or ids, checked: a bad one fails the task before any request."""
        if self.invoice_ids is not None:
            return None, rendered_invoice_ids("invoice_ids", self.invoice_ids)
        return rendered_invoice_id("invoice_id", self.invoice_id), None

    def run(self, context: Context) -> Any:
        if not self.deferrable:
            # The poke loop, under the base's hook and error handling.
            return BaseSensorOperator.execute(self, context)
        # One read first: invoices already there need no trip through the triggerer.
        first = self.poke(context)
        if first.is_done:
            return first.xcom_value
        invoice_id, invoice_ids = self._watched()
        self.defer(
            trigger=ChargebeeInvoiceTrigger(
                invoice_id=invoice_id,
                invoice_ids=invoice_ids,
                target_statuses=self.target_statuses,
                target_dunning_statuses=self.target_dunning_statuses,
                chargebee_conn_id=self.chargebee_conn_id,
                poll_interval=self.poke_interval,
            ),
            method_name="execute_complete",
            timeout=dt.timedelta(seconds=self.timeout),
        )

    def poke(self, context: Context) -> PokeReturnValue:
        invoice_id, invoice_ids = self._watched()
        if invoice_ids is not None:
            event = self._read_many(invoice_ids)
        else:
            assert invoice_id is not None
            event = self._read_one(invoice_id)
        if event is None:
            return PokeReturnValue(False)
        return PokeReturnValue(True, self.execute_complete(context, event))

    def _read_one(self, invoice_id: str) -> dict[str, Any] | None:
        """One GET of the invoice: the event that ends the wait, or None to keep waiting."""
        try:
            invoice = self.hook.get_invoice(invoice_id)
        except ChargebeeError as error:
            if not self._ends_wait(error):
                return None
            return wait_event("error", invoice_id, message=str(error), retryable=error.retryable)
        self.log.info(
            "invoice %s has status %s, dunning status %s",
            invoice_id,
            invoice.get("status"),
            invoice.get("dunning_status"),
        )
        return end_of_wait(invoice_id, invoice, self.target_statuses, self.target_dunning_statuses)

    def _read_many(self, invoice_ids: list[str]) -> dict[str, Any] | None:
        """One list request per 100 invoices: the event that ends the wait, or None."""
        targets = self.target_statuses, self.target_dunning_statuses
        read: list[dict[str, Any]] = []
        try:
            for batch in read_batches(invoice_ids):
                page, _ = self.hook.get_conn().list_invoices_page(limit=BATCH_READ_SIZE, id=batch)
                read.extend(page)
        except ChargebeeError as error:
            if not self._ends_wait(error):
                return None
            return batch_event("error", invoice_ids, message=str(error), retryable=error.retryable)
        event, progress = judge_batch(invoice_ids, read, *targets)
        if progress:
            self.log.info("%s", progress)
        return event

    def _ends_wait(self, error: ChargebeeError) -> bool:
        if ends_wait(error):
            return True
        self.log.warning("%s; reading again in %ss", error, self.poke_interval)
        return False

    def execute_complete(self, context: Context, event: dict[str, Any]) -> dict[str, Any]:
        """End the wait from an event of the trigger or a poke: the record, or a failure."""
        if event["outcome"] == "reached":
            return event
        if event["outcome"] == "error" and event["retryable"]:
            raise AirflowException(event["message"])
        raise AirflowFailException(event["message"])
