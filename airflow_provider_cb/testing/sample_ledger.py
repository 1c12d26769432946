"""A month ledger of made-up runs, to try the month-end page or measure it without Chargebee.

``write_sample_ledger(root, periods=["2026-09", "2026-10"], runs_per_period=3)``
writes what that many month-end runs would have written: per run, a close task
whose invoices were closed, found closed already, or not eligible. Files are
written through :class:`~airflow_provider_cb.ledger.writer.TaskLedger`, as a
task writes them.
"""

from __future__ import annotations

import calendar
from collections.abc import Sequence

from airflow_provider_cb.invoicing.outcomes import ActionRecord, Outcome
from airflow_provider_cb.ledger.layout import StoragePath, TaskIdentity
from airflow_provider_cb.ledger.writer import TaskLedger

CURRENCIES = (("EUR", 25007), ("JPY", 10000), ("KWD", 12345))


def _record(number: int, run: int) -> ActionRecord:
    currency, amount = CURRENCIES[number % len(CURRENCIES)]
    invoice_id = f"inv_{number:06d}"
    if number % 17 == 3:
        return ActionRecord(
            invoice_id, "close", "not_eligible", reason="status paid", status_before="paid",
            status_after="paid", currency_code=currency, total=amount, amount_due=0,
        )  # fmt: skip
    outcome: Outcome = "done" if run == 0 else "already_done"
    return ActionRecord(
        invoice_id, "close", outcome, status_before="pending", status_after="payment_due",
        currency_code=currency, total=amount, amount_due=amount,
    )  # fmt: skip


def write_sample_ledger(
    root: StoragePath,
    periods: Sequence[str],
    *,
    runs_per_period: int = 3,
    invoices_per_run: int = 20,
    site: str = "acme",
    dag_id: str = "chargebee_month_end",
    zone: str = "UTC",
    map_index: int = 0,
) -> int:
    """Write the ledger files; returns how many were written."""
    written = 0
    for period in periods:
        year, month = (int(part) for part in period.split("-"))
        last = calendar.monthrange(year, month)[1]
        for run in range(runs_per_period):
            identity = TaskIdentity(
                site=site,
                period=period,
                period_range=f"{period}-01..{period}-{last:02d} {zone}",
                timezone=zone,
                dag_id=dag_id,
                run_id=f"manual__{period}-{run:04d}",
                try_number=1,
                task_id="close_pending",
                map_index=map_index,
                action="close",
                dry_run=False,
                invoice_url_prefix=f"https://{site}.chargebee.com/d/invoices/",
            )
            ledger = TaskLedger(identity)
            for number in range(1, invoices_per_run + 1):
                ledger.add(_record(number, run))
            ledger.store(root)
            written += 1
    return written
