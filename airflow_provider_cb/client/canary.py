"""Acting on a few invoices first, and on the rest only when those all went well."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from airflow_provider_cb.client.bulk import BulkSummary
    from airflow_provider_cb.client.outcomes import ActionRecord

log = logging.getLogger(__name__)


def run_with_canary(
    invoice_ids: Sequence[str],
    run: Callable[[Sequence[str], bool], BulkSummary],
    *,
    canary_size: int,
    is_failure: Callable[[ActionRecord], bool],
) -> BulkSummary:
    """``run(ids, fail_fast)`` on the first ``canary_size`` ids; on the rest only if none failed.

    A failed canary leaves every other invoice untouched: the summary counts the
    canary's invoices, keeps the full total and says ``stopped_early``.
    """
    canary, rest = invoice_ids[:canary_size], invoice_ids[canary_size:]
    if not canary or not rest:
        return run(invoice_ids, False)
    log.info("canary: acting on the first %d of %d invoices", len(canary), len(invoice_ids))
    first = run(canary, True)
    first.total = len(invoice_ids)
    failed = sum(1 for record in first.records if is_failure(record))
    if failed or first.stopped_early:
        first.stopped_early = True
        log.warning(
            "canary failed (%d of %d): the other %d invoices were not touched",
            failed,
            len(canary),
            len(rest),
        )
        return first
    log.info("canary passed: acting on the other %d invoices", len(rest))
    second = run(rest, False)
    first.counts.update(second.counts)
    first.records.extend(second.records)
    first.elapsed_seconds += second.elapsed_seconds
    first.retries += second.retries
    first.stopped_early = second.stopped_early
    return first
