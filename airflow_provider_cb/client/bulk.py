"""Acting on many invoices with bounded concurrency under one rate budget.

Workers share the client, so they share its connection pool and rate budget; a
429 pauses them all. Ids are fed lazily with a bounded number in flight and only
records that are not ``done`` are kept, so memory stays flat for 100,000 ids.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    from airflow_provider_cb.client.outcomes import ActionRecord

log = logging.getLogger(__name__)

FailurePolicy = Literal["fail_at_end", "fail_fast", "record"]
FAILURE_POLICIES: tuple[FailurePolicy, ...] = ("fail_at_end", "fail_fast", "record")


@dataclass
class BulkSummary:
    """Counts per outcome plus the records worth reading (everything not ``done``)."""

    action: str
    total: int = 0
    counts: Counter[str] = field(default_factory=Counter)
    records: list[ActionRecord] = field(default_factory=list)
    elapsed_seconds: float = 0.0
    retries: int = 0
    stopped_early: bool = False

    @property
    def processed(self) -> int:
        return sum(self.counts.values())

    def as_dict(self) -> dict[str, Any]:
        rate = self.processed / self.elapsed_seconds * 60 if self.elapsed_seconds else 0.0
        return {
            "action": self.action,
            "total": self.total,
            "processed": self.processed,
            "counts": dict(sorted(self.counts.items())),
            "elapsed_seconds": round(self.elapsed_seconds, 3),
            "invoices_per_minute": round(rate, 1),
            "retries": self.retries,
            "stopped_early": self.stopped_early,
            "records": [record.as_dict() for record in self.records],
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
) -> BulkSummary:
    """Apply ``act`` to every id; ``fail_fast`` stops feeding new ids after a failure."""
    summary = BulkSummary(action=action, total=total)
    progress = ProgressLog(action, total, progress_interval)
    lock = threading.Lock()
    retries_before = retries()
    in_flight: set[Future[ActionRecord]] = set()
    stop = False

    def collect(done: Iterable[Future[ActionRecord]]) -> None:
        nonlocal stop
        for future in done:
            record = future.result()
            with lock:
                summary.counts[record.outcome] += 1
                if record.outcome != "done":
                    summary.records.append(record)
                if fail_fast and is_failure(record):
                    stop = True
        summary.retries = retries() - retries_before
        progress.maybe_log(summary)

    with ThreadPoolExecutor(max_workers=max_workers, thread_name_prefix="chargebee") as pool:
        for invoice_id in invoice_ids:
            if stop:
                summary.stopped_early = True
                break
            if len(in_flight) >= max_workers * 2:
                done, in_flight = _wait_some(in_flight)
                collect(done)
                if stop:
                    summary.stopped_early = True
                    break
            in_flight.add(pool.submit(act, invoice_id))
        while in_flight:
            done, in_flight = _wait_some(in_flight)
            collect(done)
    summary.elapsed_seconds = time.monotonic() - progress.started
    summary.retries = retries() - retries_before
    progress.maybe_log(summary, force=True)
    return summary


def _wait_some(
    futures: set[Future[ActionRecord]],
) -> tuple[set[Future[ActionRecord]], set[Future[ActionRecord]]]:
    done, pending = wait(futures, return_when=FIRST_COMPLETED)
    return set(done), set(pending)
