"""One summary for the whole task, built from its journal: every try, not only the last.

The counts, totals per currency, records and report rows come from the journal's
merged entries (a ``done`` stays ``done`` when a later try found it done), so a
retry's summary still says what the earlier tries did, and which try did it.
What only the last try knows (its time, its retries, what stopped it) comes from
that try's own :class:`~airflow_provider_cb.invoicing.bulk_runs.BulkSummary`.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection, Sequence
from typing import Any

from airflow_provider_cb.invoicing.bulk_runs import BulkSummary, count_key
from airflow_provider_cb.invoicing.journal import Journal
from airflow_provider_cb.invoicing.outcomes import ActionRecord


def not_sent_record(action: str, invoice_id: str, key: str | None) -> ActionRecord:
    return ActionRecord(
        invoice_id=invoice_id,
        action=action,
        outcome="not_sent",
        idempotency_key=key,
        message="no request was sent: the task stopped before this invoice",
    )


def whole_task_records(
    journal: Journal,
    invoice_ids: Sequence[str],
    unsent: Collection[str],
    keys: dict[str, str],
) -> list[tuple[ActionRecord, int | None]]:
    """Each invoice's record over every try, in the task's order, with the try that sent it."""
    entries = journal.entries()
    unsent_ids = set(unsent)
    rows: list[tuple[ActionRecord, int | None]] = []
    for invoice_id in invoice_ids:
        entry = entries.get(invoice_id)
        if entry is None or (entry.record is None and invoice_id in unsent_ids):
            rows.append((not_sent_record(journal.action, invoice_id, keys.get(invoice_id)), None))
        else:
            record = entry.as_record(journal.action)
            record.invoice = journal.invoices.get(invoice_id)
            rows.append((record, entry.sent_in_try))
    return rows


def whole_task_summary(
    journal: Journal,
    rows: Sequence[tuple[ActionRecord, int | None]],
    this_try: BulkSummary,
) -> dict[str, Any]:
    """The task's summary: counts and totals over every try, and this try's own figures."""
    summary = BulkSummary(action=journal.action, total=len(rows))
    by_try: dict[int, Counter[str]] = {}
    not_sent = 0
    for record, sent_in_try in rows:
        if record.outcome == "not_sent":
            not_sent += 1  # counted, not listed: the report has a row for each
            continue
        summary.add(record)
        if sent_in_try is not None:
            by_try.setdefault(sent_in_try, Counter())[count_key(record)] += 1
    summary.elapsed_seconds = this_try.elapsed_seconds
    summary.retries = this_try.retries
    summary.stopped_early = this_try.stopped_early
    summary.interrupted_by = this_try.interrupted_by
    summary.site_failure = this_try.site_failure
    result = summary.as_dict()
    if not_sent:
        result["counts"] = dict(sorted({**result["counts"], "not_sent": not_sent}.items()))
    result["invoices_per_minute"] = this_try.as_dict()["invoices_per_minute"]
    result.update(
        try_number=journal.try_number,
        tries=journal.tries,
        counts_by_try={
            str(number): dict(sorted(counts.items())) for number, counts in sorted(by_try.items())
        },
        journal={
            "generation": journal.generation,
            "batches": journal.index["batches"],
            "cleared_tries": journal.cleared_tries,
            "writes": journal.writes,
            "bytes_written": journal.bytes_written,
            "write_seconds": round(journal.write_seconds, 3),
        },
    )
    return result
