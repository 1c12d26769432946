"""Acting on a few invoices first, and on the rest only when those all went well."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from airflow_provider_cb.invoicing.bulk_runs import BulkSummary
    from airflow_provider_cb.invoicing.outcomes import ActionRecord

log = logging.getLogger(__name__)


def run_with_canary(
    invoice_ids: Sequence[str],
    run: Callable[[Sequence[str], bool], None],
    *,
    summary: BulkSummary,
    canary_size: int,
    is_failure: Callable[[ActionRecord], bool],
) -> None:
    """``run(ids, fail_fast)`` on the first ``canary_size`` ids; on the rest only if none failed.

    Both runs fill ``summary``. A failed canary leaves every other invoice untouched:
    the summary counts the canary's invoices, keeps the full total and says
    ``stopped_early``.
    """
    canary, rest = invoice_ids[:canary_size], invoice_ids[canary_size:]
    if not canary or not rest:
        run(invoice_ids, False)
        return
    log.info("canary: acting on the first %d of %d invoices", len(canary), len(invoice_ids))
    run(canary, True)
    failed = sum(1 for record in summary.records if is_failure(record))
    if failed or summary.stopped_early:
        summary.stopped_early = True
        log.warning(
            "canary failed (%d of %d): the other %d invoices were not touched",
            failed,
            len(canary),
            len(rest),
        )
        return
    log.info("canary passed: acting on the other %d invoices", len(rest))
    run(rest, False)
