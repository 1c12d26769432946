"""One try of an action task: resume from the journal, then act on what is left.

Separate from the operator so that each part runs without a DAG: :class:`Acting`
sends (or, in a preview, only reads) one invoice; :func:`run_try` reads back what
an earlier try left in flight, skips what it settled and acts on the rest, a
canary first when asked, every batch written to the journal before it is sent.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from airflow_provider_cb.invoicing.action_table import InvoiceAction
    from airflow_provider_cb.invoicing.bulk_runs import BulkSummary
    from airflow_provider_cb.invoicing.clients import ChargebeeClient
    from airflow_provider_cb.invoicing.journal import Journal
    from airflow_provider_cb.invoicing.outcomes import ActionRecord

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Acting:
    """Acts on one invoice: the real action, or in a preview a read that sends no POST."""

    client: ChargebeeClient
    action: InvoiceAction
    fields: Mapping[str, Any]
    keys: Mapping[str, str]
    dry_run: bool
    include_invoice: bool

    def __call__(self, invoice_id: str) -> ActionRecord:
        from airflow_provider_cb.invoicing.outcomes import perform_action, preview_action

        if self.dry_run:
            return preview_action(
                self.client,
                self.action,
                invoice_id,
                include_invoice=self.include_invoice,
                fields=self.fields,
            )
        return perform_action(
            self.client,
            self.action,
            invoice_id,
            fields=self.fields,
            idempotency_key=self.keys[invoice_id],
            include_invoice=self.include_invoice,
        )


@dataclass(frozen=True)
class TryPolicy:
    """How the try goes about many invoices."""

    max_workers: int
    canary_size: int | None
    fail_fast: bool
    is_failure: Callable[[ActionRecord], bool]


def run_try(
    acting: Acting,
    journal: Journal,
    invoice_ids: Sequence[str],
    summary: BulkSummary,
    policy: TryPolicy,
) -> None:
    """Fill ``summary`` (and through its listener the journal) with this try's records."""
    from airflow_provider_cb.invoicing.bulk_runs import run_bulk
    from airflow_provider_cb.invoicing.canary import run_with_canary
    from airflow_provider_cb.invoicing.resume import plan_resume, read_back

    plan = plan_resume(journal, invoice_ids)
    again: list[str] = []
    if plan.settled or plan.read_back:
        log.info(
            "resuming try %s: %d invoices settled by earlier tries are not sent again; "
            "%d left in flight are read back first",
            journal.try_number,
            len(plan.settled),
            len(plan.read_back),
        )
    if plan.read_back:
        records, again = read_back(
            acting.client,
            acting.action,
            plan.read_back,
            acting.fields,
            include_invoice=acting.include_invoice,
        )
        for record in records:
            summary.add(record)
    sending = set(plan.fresh) | set(again)
    to_send = [invoice_id for invoice_id in invoice_ids if invoice_id in sending]

    def run(batch: Sequence[str], stop_on_failure: bool) -> None:
        run_bulk(
            journal.ahead(batch, acting.keys),
            acting,
            action=acting.action.name,
            total=summary.total,
            max_workers=policy.max_workers,
            is_failure=policy.is_failure,
            fail_fast=stop_on_failure or policy.fail_fast,
            retries=lambda: acting.client.retries,
            summary=summary,
            keys=acting.keys,
        )

    run_with_canary(
        to_send,
        run,
        summary=summary,
        canary_size=policy.canary_size or len(to_send),
        is_failure=policy.is_failure,
    )
