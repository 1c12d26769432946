"""ChargebeeInvoiceSensor: wait until an invoice is paid, or reaches another status."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from airflow.sdk import BaseSensorOperator, PokeReturnValue
from airflow.sdk.configuration import conf
from airflow.sdk.exceptions import AirflowException, AirflowFailException

from airflow_provider_cb.client.errors import ChargebeeError, ChargebeeValidationError
from airflow_provider_cb.client.validation import check_id
from airflow_provider_cb.links import ChargebeeInvoiceLink
from airflow_provider_cb.triggers.invoice import (
    ChargebeeInvoiceTrigger,
    check_targets,
    end_of_wait,
    wait_event,
)

if TYPE_CHECKING:
    from airflow.sdk import Context


class ChargebeeInvoiceSensor(BaseSensorOperator):
    """Wait until an invoice has one of the target statuses or dunning statuses.

    The task fails at once, without waiting out its timeout, when the invoice is in
    a final state that can never match (``voided`` while waiting for ``paid``), is
    unknown, or the key is refused. Every mode only reads the invoice.

    :param invoice_id: the invoice to watch (templated).
    :param target_statuses: e.g. ``["paid"]``; see ``INVOICE_STATUSES``.
    :param target_dunning_statuses: e.g. ``["exhausted"]``; see ``DUNNING_STATUSES``.
        The wait ends when either list matches; at least one is required.
    :param chargebee_conn_id: the Chargebee connection.
    :param deferrable: wait in the triggerer, which frees the worker slot between polls.
    :return: ``{"outcome", "invoice_id", "status", "dunning_status", ...}`` as last read.
    """

    template_fields: Sequence[str] = ("invoice_id",)
    operator_extra_links = (ChargebeeInvoiceLink(),)

    def __init__(
        self,
        *,
        invoice_id: str,
        target_statuses: Sequence[str] | None = None,
        target_dunning_statuses: Sequence[str] | None = None,
        chargebee_conn_id: str = "chargebee_default",
        deferrable: bool = conf.getboolean("operators", "default_deferrable", fallback=False),
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.invoice_id = invoice_id
        self.target_statuses, self.target_dunning_statuses = check_targets(
            target_statuses, target_dunning_statuses
        )
        self.chargebee_conn_id = chargebee_conn_id
        self.deferrable = deferrable

    def execute(self, context: Context) -> Any:
        try:
            return self._execute(context)
        except ChargebeeValidationError as error:
            # A bad invoice id or connection: no retry can fix it, and nothing was sent.
            raise AirflowFailException(f"{self.task_id}: {error}") from error

    def _execute(self, context: Context) -> Any:
        if not self.deferrable:
            return super().execute(context)
        # One read first: an invoice already there needs no trip through the triggerer.
        first = self.poke(context)
        if first.is_done:
            return first.xcom_value
        self.defer(
            trigger=ChargebeeInvoiceTrigger(
                invoice_id=self.invoice_id,
                target_statuses=self.target_statuses,
                target_dunning_statuses=self.target_dunning_statuses,
                chargebee_conn_id=self.chargebee_conn_id,
                poll_interval=self.poke_interval,
            ),
            method_name="execute_complete",
            timeout=dt.timedelta(seconds=self.timeout),
        )

    def poke(self, context: Context) -> PokeReturnValue:
        event = self._read(check_id("invoice_id", self.invoice_id))
        if event is None:
            return PokeReturnValue(False)
        return PokeReturnValue(True, self.execute_complete(context, event))

    def _read(self, invoice_id: str) -> dict[str, Any] | None:
        """One GET of the invoice: the event that ends the wait, or None to keep waiting."""
        from airflow_provider_cb.hooks.chargebee import ChargebeeHook

        hook = ChargebeeHook(self.chargebee_conn_id)
        try:
            invoice = hook.get_invoice(invoice_id)
        except ChargebeeError as error:
            return wait_event("error", invoice_id, message=str(error), retryable=error.retryable)
        finally:
            hook.close()
        self.log.info(
            "invoice %s has status %s, dunning status %s",
            invoice_id,
            invoice.get("status"),
            invoice.get("dunning_status"),
        )
        return end_of_wait(invoice_id, invoice, self.target_statuses, self.target_dunning_statuses)

    def execute_complete(self, context: Context, event: dict[str, Any]) -> dict[str, Any]:
        """End the wait from an event of the trigger or a poke: the record, or a failure."""
        if event["outcome"] == "reached":
            return event
        if event["outcome"] == "error" and event["retryable"]:
            raise AirflowException(event["message"])
        raise AirflowFailException(event["message"])
