"""One operator per Chargebee invoice action: its action-table entry and its body fields."""

from __future__ import annotations

import datetime as dt
from typing import Any

from airflow_provider_cb.invoicing import action_table as invoices
from airflow_provider_cb.operators.action import InvoiceActionOperator, action_template_fields

DateLike = dt.datetime | str | int


class CommentedActionOperator(InvoiceActionOperator):
    """Base of the actions whose only body field is Chargebee's ``comment``."""

    def __init__(self, *, comment: str | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.comment = comment


class CloseInvoiceOperator(InvoiceActionOperator):
    """POST /invoices/{id}/close (v2): finalize a pending invoice."""

    action = invoices.CLOSE
    template_fields = action_template_fields(action)

    def __init__(
        self,
        *,
        comment: str | None = None,
        invoice_note: str | None = None,
        remove_general_note: bool | str | None = None,
        invoice_date: DateLike | None = None,
        notes_to_remove: list[dict[str, str]] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.comment = comment
        self.invoice_note = invoice_note
        self.remove_general_note = remove_general_note
        self.invoice_date = invoice_date
        self.notes_to_remove = notes_to_remove


class CollectInvoiceOperator(InvoiceActionOperator):
    """POST /invoices/{id}/collect (v1): close a pending invoice through the v1 endpoint."""

    action = invoices.COLLECT
    template_fields = action_template_fields(action)


class WriteOffInvoiceOperator(CommentedActionOperator):
    """POST /invoices/{id}/write_off: mark an unpaid invoice paid with a write-off credit note."""

    action = invoices.WRITE_OFF
    template_fields = action_template_fields(action)


class StopDunningOperator(CommentedActionOperator):
    """POST /invoices/{id}/stop_dunning: stop dunning; the invoice becomes not_paid."""

    action = invoices.STOP_DUNNING
    template_fields = action_template_fields(action)


class PauseDunningOperator(CommentedActionOperator):
    """POST /invoices/{id}/pause_dunning: pause dunning until ``expected_payment_date``."""

    action = invoices.PAUSE_DUNNING
    template_fields = action_template_fields(action)

    def __init__(self, *, expected_payment_date: DateLike | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.expected_payment_date = expected_payment_date


class ResumeDunningOperator(CommentedActionOperator):
    """POST /invoices/{id}/resume_dunning: resume a paused dunning."""

    action = invoices.RESUME_DUNNING
    template_fields = action_template_fields(action)
