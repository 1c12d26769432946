"""One operator per Chargebee invoice action; each is its action-table entry and a name."""

from __future__ import annotations

from airflow_provider_cb.client import invoices
from airflow_provider_cb.operators.base import InvoiceActionOperator, action_template_fields


class CloseInvoiceOperator(InvoiceActionOperator):
    """POST /invoices/{id}/close (v2): finalize a pending invoice."""

    action = invoices.CLOSE
    template_fields = action_template_fields(action)


class CollectInvoiceOperator(InvoiceActionOperator):
    """POST /invoices/{id}/collect (v1): close a pending invoice through the v1 endpoint."""

    action = invoices.COLLECT
    template_fields = action_template_fields(action)


class WriteOffInvoiceOperator(InvoiceActionOperator):
    """POST /invoices/{id}/write_off: mark an unpaid invoice paid with a write-off credit note."""

    action = invoices.WRITE_OFF
    template_fields = action_template_fields(action)


class StopDunningOperator(InvoiceActionOperator):
    """POST /invoices/{id}/stop_dunning: stop dunning; the invoice becomes not_paid."""

    action = invoices.STOP_DUNNING
    template_fields = action_template_fields(action)


class PauseDunningOperator(InvoiceActionOperator):
    """POST /invoices/{id}/pause_dunning: pause dunning until ``expected_payment_date``."""

    action = invoices.PAUSE_DUNNING
    template_fields = action_template_fields(action)


class ResumeDunningOperator(InvoiceActionOperator):
    """POST /invoices/{id}/resume_dunning: resume a paused dunning."""

    action = invoices.RESUME_DUNNING
    template_fields = action_template_fields(action)
