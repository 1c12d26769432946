"""How a retry resumes from the journal: what it skips, what it reads back, what it sends.

- An invoice an earlier try recorded ``done`` or ``already_done`` for an action that
  can never need doing again (close, collect, write_off, stop_dunning) is not sent
  again: its record is carried into the summary as it was.
- An invoice whose request may have landed unseen (written ahead without an
  outcome, or failed retryably) is **read back** before anything is sent: past
  Chargebee's 30-minute key window its idempotency key no longer protects it.
  The invoices are read a page at a time (``id[in]``, 100 per request).
- Everything else is judged afresh: ``not_eligible`` may have become eligible,
  pause and resume can be undone, a preview proves nothing.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from airflow_provider_cb.chargebee_api.errors import ChargebeeError
from airflow_provider_cb.invoicing.action_table import InvoiceAction, describe_invoice_state
from airflow_provider_cb.invoicing.clients import LIST_PAGE_SIZE, ChargebeeClient
from airflow_provider_cb.invoicing.journal import Entry, Journal
from airflow_provider_cb.invoicing.outcomes import ActionRecord, judge


@dataclass
class ResumePlan:
    """The invoices of one try, sorted by what the journal says about them."""

    settled: list[str] = field(default_factory=list)
    read_back: list[Entry] = field(default_factory=list)
    fresh: list[str] = field(default_factory=list)


def plan_resume(journal: Journal, invoice_ids: Sequence[str]) -> ResumePlan:
    plan = ResumePlan()
    for invoice_id in invoice_ids:
        if journal.settled(invoice_id) is not None:
            plan.settled.append(invoice_id)
        elif (entry := journal.unsettled(invoice_id)) is not None:
            plan.read_back.append(entry)
        else:
            plan.fresh.append(invoice_id)
    return plan


def read_back(
    client: ChargebeeClient,
    action: InvoiceAction,
    entries: Sequence[Entry],
    body: Mapping[str, Any],
    *,
    include_invoice: bool,
) -> tuple[list[ActionRecord], list[str]]:
    """Records for the invoices whose state settles them, and the ids still to send.

    The effect on the invoice after this task sent its request is ``done`` (the
    record says which try sent it); a state the action cannot act on is
    ``not_eligible``; an invoice still waiting for the action is sent again, with
    the same key. A failed read sends nothing: the invoice stays ``failed``, retryable.
    """
    records: list[ActionRecord] = []
    to_send: list[str] = []
    for start in range(0, len(entries), LIST_PAGE_SIZE):
        page = entries[start : start + LIST_PAGE_SIZE]
        try:
            found, _ = client.list_invoices_page(
                limit=LIST_PAGE_SIZE, id=[entry.invoice_id for entry in page]
            )
        except ChargebeeError as error:
            records.extend(_unread(action, entry, str(error)) for entry in page)
            continue
        by_id = {invoice.get("id"): invoice for invoice in found}
        for entry in page:
            invoice = by_id.get(entry.invoice_id)
            if invoice is None:
                records.append(_unread(action, entry, "the listing did not return it"))
                continue
            outcome, reason = judge(action, invoice, body)
            if outcome == "would_act":
                to_send.append(entry.invoice_id)
                continue
            record = ActionRecord(
                invoice_id=entry.invoice_id,
                action=action.name,
                outcome="done" if outcome == "already_done" else outcome,
                reason=reason,
                idempotency_key=entry.key,
                attempts=1,
            )
            record.saw(invoice, include_invoice=include_invoice)
            record.message = (
                f"sent in try {entry.sent_in_try}, which ended before the answer; read back: "
                f"{describe_invoice_state(invoice)}"
            )
            records.append(record)
    return records, to_send


def _unread(action: InvoiceAction, entry: Entry, why: str) -> ActionRecord:
    return ActionRecord(
        invoice_id=entry.invoice_id,
        action=action.name,
        outcome="failed",
        idempotency_key=entry.key,
        retryable=True,
        api_error_code="read_back_failed",
        message=(
            f"sent in try {entry.sent_in_try}, whose answer was not seen, and reading it back "
            f"failed ({why}); nothing was sent again. A retry reads it back again"
        ),
    )
