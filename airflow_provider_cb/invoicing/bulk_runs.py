"""Acting on many invoices with bounded concurrency under one rate budget.

Workers share the client, so they share its connection pool and rate budget; a
429 pauses them all. Ids are fed lazily with a bounded number in flight and only
records that need attention are kept (up to a cap, the rest go to the log), so
memory stays flat for 100,000 ids.

Whatever ends the run, every invoice it touched is in the summary: an unexpected
error in a worker becomes that invoice's ``failed`` record, and when the task is
stopped (timeout, SIGTERM) the requests still in flight are recorded as such
before the exception goes on.

A failure every invoice would meet (a wrong key, a key without the right, an
unknown or blocked site, a host that refuses connections) stops the run at the
first: nothing more is sent, and each invoice left is recorded ``not_sent``.
"""

from __future__ import annotations

import heapq
import itertools
import logging
import time
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from airflow_provider_cb.chargebee_api.answers import SITE_WIDE_CODES
from airflow_provider_cb.invoicing.money import format_money, summed_amount

if TYPE_CHECKING:
    from airflow_provider_cb.invoicing.outcomes import ActionRecord

log = logging.getLogger(__name__)

MAX_SUMMARY_RECORDS = 200
"""Records kept in a summary (XCom stays small); the rest are logged."""
LARGEST_LISTED = 5
"""The largest invoices a summary names per currency: what a reviewer looks at first."""


def count_key(record: ActionRecord) -> str:
    """The summary's bucket: a replayed action is counted apart from a fresh one."""
    return "replayed" if record.outcome == "done" and record.replayed else record.outcome


@dataclass
class BulkSummary:
    """Counts per outcome, totals per outcome and currency, and the records worth reading."""

    action: str
    total: int = 0
    counts: Counter[str] = field(default_factory=Counter)
    records: list[ActionRecord] = field(default_factory=list)
    amounts: dict[str, Counter[str]] = field(default_factory=dict)
    elapsed_seconds: float = 0.0
    retries: int = 0
    stopped_early: bool = False
    interrupted_by: str | None = None
    records_logged: int = 0
    largest: dict[str, list[tuple[int, str, str | None]]] = field(default_factory=dict)
    """Per currency, a min-heap of the largest invoices acted on (or to act on, in a preview)."""
    listener: Callable[[ActionRecord], None] | None = None
    """Sees every record (an audit report's rows), not only the ones kept here."""
    site_failure: ActionRecord | None = None
    """The first failure every invoice would meet, which stopped the run."""

    @property
    def processed(self) -> int:
        return sum(self.counts.values())

    def add(self, record: ActionRecord) -> None:
        """Count one invoice's record; keep it when it needs attention."""
        if self.listener is not None:
            self.listener(record)
        key = count_key(record)
        self.counts[key] += 1
        amount = summed_amount(
            self.action,
            total=record.total,
            amount_due=record.amount_due,
            write_off_amount=record.write_off_amount,
        )
        if record.currency_code is not None and amount is not None:
            self.amounts.setdefault(key, Counter())[record.currency_code] += amount
            if key in ("done", "would_act"):
                self._rank(record.currency_code, amount, record)
        if key == "done":
            return
        if key == "not_sent" and len(self.records) >= MAX_SUMMARY_RECORDS:
            return  # all stopped by one failure, named once in ``stopped_by``
        if len(self.records) < MAX_SUMMARY_RECORDS:
            self.records.append(record)
        else:
            self.records_logged += 1
            money = (
                f" ({format_money(amount, record.currency_code)})"
                if record.currency_code is not None and amount is not None
                else ""
            )
            why = record.reason or record.api_error_code or record.message or ""
            log.warning(
                "%s %s: %s%s %s; record: %s",
                self.action,
                record.invoice_id,
                key,
                money,
                why,
                record.as_dict(),
            )

    def _rank(self, currency: str, amount: int, record: ActionRecord) -> None:
        """Keep the record among its currency's largest, by the amount the totals sum."""
        heap = self.largest.setdefault(currency, [])
        entry = (amount, record.invoice_id, record.customer_id)
        if len(heap) < LARGEST_LISTED:
            heapq.heappush(heap, entry)
        else:
            heapq.heappushpop(heap, entry)

    def as_dict(self) -> dict[str, Any]:
        rate = self.processed / self.elapsed_seconds * 60 if self.elapsed_seconds else 0.0
        return {
            "action": self.action,
            "total": self.total,
            "processed": self.processed,
            "counts": dict(sorted(self.counts.items())),
            "totals": {
                key: dict(sorted(per_currency.items()))
                for key, per_currency in sorted(self.amounts.items())
            },
            "elapsed_seconds": round(self.elapsed_seconds, 3),
            "invoices_per_minute": round(rate, 1),
            "retries": self.retries,
            "stopped_early": self.stopped_early,
            "interrupted_by": self.interrupted_by,
            "stopped_by": self.site_failure.message if self.site_failure is not None else None,
            "records": [record.as_dict() for record in self.records],
            "records_only_in_log": self.records_logged,
            "largest": {
                currency: [
                    {"invoice_id": invoice_id, "customer_id": customer_id, "amount": amount}
                    for amount, invoice_id, customer_id in sorted(heap, reverse=True)
                ]
                for currency, heap in sorted(self.largest.items())
            },
        }


class ProgressLog:
    """Logs done/total, rate, failures and ETA at most every ``interval`` seconds."""

    def __init__(self, action: str, total: int, interval: float = 5.0) -> None:
        self.action = action
        self.total = total
        self.interval = interval
        self.started = time.monotonic()
        self._last = self.started

    def maybe_log(self, summary: BulkSummary, *, force: bool = False) -> None:
        now = time.monotonic()
        if not force and now - self._last < self.interval:
            return
        self._last = now
        elapsed = max(now - self.started, 1e-9)
        done = summary.processed
        rate = done / elapsed
        remaining = (self.total - done) / rate if rate else float("inf")
        log.info(
            "%s: %d/%d invoices (%.1f/s), %d failed, %d retries, ETA %s",
            self.action,
            done,
            self.total,
            rate,
            summary.counts.get("failed", 0),
            summary.retries,
            f"{remaining:.0f}s" if remaining != float("inf") else "unknown",
        )


def run_bulk(
    invoice_ids: Iterable[str],
    act: Callable[[str], ActionRecord],
    *,
    action: str,
    total: int,
    max_workers: int,
    is_failure: Callable[[ActionRecord], bool],
    fail_fast: bool = False,
    retries: Callable[[], int] = lambda: 0,
    progress_interval: float = 5.0,
    summary: BulkSummary | None = None,
    keys: Mapping[str, str] | None = None,
) -> BulkSummary:
    """Apply ``act`` to every id; ``fail_fast`` stops feeding new ids after a failure.

    A failure every invoice would meet stops it too, whatever the policy: the ids
    not yet sent (queued or never fed) are recorded ``not_sent``.

    Pass ``summary`` to keep it when the run is interrupted: it then holds every
    invoice touched so far, those in flight included, when the exception goes on.
    ``keys`` (invoice id -> idempotency key) go into the records made here.
    """
    summary = summary if summary is not None else BulkSummary(action=action, total=total)
    # A summary passed in may hold an earlier run's figures (a canary): add to them.
    elapsed_before, retries_so_far = summary.elapsed_seconds, summary.retries
    keys = keys or {}
    progress = ProgressLog(summary.action, summary.total, progress_interval)
    retries_before = retries()
    in_flight: dict[Future[ActionRecord], str] = {}
    stop = False
    # The code of the first failure every invoice would meet, set by the worker meeting it.
    site_down: list[str] = []

    def act_unless_stopped(invoice_id: str) -> ActionRecord:
        """Workers look before sending: once one meets a site-wide failure, no other sends."""
        if site_down:
            return not_sent_record(action, invoice_id, keys.get(invoice_id), site_down[0])
        record = act(invoice_id)
        if record.api_error_code in SITE_WIDE_CODES:
            site_down.append(record.api_error_code)
        return record

    def record_of(future: Future[ActionRecord]) -> ActionRecord:
        invoice_id = in_flight.pop(future)
        try:
            return future.result()
        except Exception as error:
            log.exception("%s %s: unexpected error", action, invoice_id)
            return unexpected_record(action, invoice_id, keys.get(invoice_id), error)

    def not_sent(unsent: Iterable[str]) -> None:
        code = summary.site_failure.api_error_code if summary.site_failure else None
        for invoice_id in unsent:
            summary.add(not_sent_record(action, invoice_id, keys.get(invoice_id), code))

    def collect(done: Iterable[Future[ActionRecord]]) -> None:
        nonlocal stop
        for future in done:
            record = record_of(future)
            summary.add(record)
            if summary.site_failure is None and record.api_error_code in SITE_WIDE_CODES:
                summary.site_failure = record
                summary.stopped_early = stop = True
                # Withdraw what no worker has started: nothing of it was sent.
                not_sent(in_flight.pop(queued) for queued in list(in_flight) if queued.cancel())
            if fail_fast and is_failure(record):
                stop = True
        summary.retries = retries_so_far + retries() - retries_before
        progress.maybe_log(summary)

    pool = ThreadPoolExecutor(max_workers=max_workers, thread_name_prefix="chargebee")
    ids = iter(invoice_ids)
    try:
        for invoice_id in ids:
            if not stop and len(in_flight) >= max_workers * 2:
                collect(_wait_some(set(in_flight)))
            if stop:
                summary.stopped_early = True
                if summary.site_failure is not None:
                    not_sent(itertools.chain([invoice_id], ids))
                break
            in_flight[pool.submit(act_unless_stopped, invoice_id)] = invoice_id
        while in_flight:
            collect(_wait_some(set(in_flight)))
    except BaseException as interruption:
        # Timeout or SIGTERM: record what finished and what may still be acting, now.
        summary.interrupted_by = type(interruption).__name__
        summary.stopped_early = True
        collect([future for future in list(in_flight) if future.done()])
        for future, invoice_id in list(in_flight.items()):
            future.cancel()
            summary.add(interrupted_record(action, invoice_id, keys.get(invoice_id), interruption))
        in_flight.clear()
        pool.shutdown(wait=False, cancel_futures=True)
        raise
    finally:
        summary.elapsed_seconds = elapsed_before + time.monotonic() - progress.started
        summary.retries = retries_so_far + retries() - retries_before
        progress.maybe_log(summary, force=True)
    pool.shutdown(wait=True)
    return summary


_RERUN_IS_SAFE = (
    "the action may have been applied. A re-run is safe: it sends the same idempotency key, "
    "then reads the invoice's state"
)


def unexpected_record(
    action: str, invoice_id: str, key: str | None, error: Exception
) -> ActionRecord:
    """An invoice whose worker raised: recorded as failed, never dropped."""
    return _unsettled(
        action, invoice_id, key, "unexpected_error", f"unexpected {type(error).__name__}"
    )


def interrupted_record(
    action: str, invoice_id: str, key: str | None, why: BaseException
) -> ActionRecord:
    """An invoice whose request was in flight when the task was stopped."""
    return _unsettled(
        action, invoice_id, key, "interrupted", f"the task was stopped ({type(why).__name__})"
    )


def not_sent_record(
    action: str, invoice_id: str, key: str | None, stopped_by: str | None
) -> ActionRecord:
    """An invoice nothing was sent for: the run stopped at a failure every invoice would meet."""
    from airflow_provider_cb.invoicing.outcomes import ActionRecord

    return ActionRecord(
        invoice_id=invoice_id,
        action=action,
        outcome="not_sent",
        reason=f"run stopped: {stopped_by}",
        idempotency_key=key,
        retryable=True,
        message="nothing was sent for this invoice: the run stopped at the first failure "
        "every invoice would meet",
    )


def _unsettled(action: str, invoice_id: str, key: str | None, code: str, what: str) -> ActionRecord:
    from airflow_provider_cb.invoicing.outcomes import ActionRecord

    return ActionRecord(
        invoice_id=invoice_id,
        action=action,
        outcome="failed",
        idempotency_key=key,
        retryable=True,
        api_error_code=code,
        message=f"{what} while acting; {_RERUN_IS_SAFE}",
    )


def _wait_some(futures: set[Future[ActionRecord]]) -> set[Future[ActionRecord]]:
    done, _ = wait(futures, return_when=FIRST_COMPLETED)
    return set(done)
