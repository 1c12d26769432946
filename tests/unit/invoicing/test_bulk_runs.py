"""run_bulk with a fake act function: coverage, counts, fail_fast and bounded concurrency."""

from __future__ import annotations

import json
import logging
import threading
from collections import Counter
from collections.abc import Iterator

import pytest

from airflow_provider_cb.invoicing.bulk_runs import MAX_SUMMARY_RECORDS, run_bulk
from airflow_provider_cb.invoicing.outcomes import ActionRecord, Outcome

OUTCOMES: tuple[Outcome, ...] = ("done", "done", "already_done", "not_eligible", "failed")


def outcome_for(invoice_id: str) -> Outcome:
    return OUTCOMES[int(invoice_id.split("_")[1]) % len(OUTCOMES)]


def is_failed(record: ActionRecord) -> bool:
    return record.outcome == "failed"


class Recorder:
    """A thread-safe fake ``act`` that counts calls and answers by id."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.calls: Counter[str] = Counter()

    def __call__(self, invoice_id: str) -> ActionRecord:
        with self.lock:
            self.calls[invoice_id] += 1
        return ActionRecord(invoice_id=invoice_id, action="close", outcome=outcome_for(invoice_id))


@pytest.mark.parametrize(("count", "workers"), [(0, 4), (1, 1), (57, 1), (200, 4), (333, 16)])
def test_every_id_processed_once_with_counts(count: int, workers: int) -> None:
    ids = [f"inv_{i}" for i in range(count)]
    act = Recorder()
    summary = run_bulk(
        iter(ids), act, action="close", total=count, max_workers=workers, is_failure=is_failed
    )
    assert act.calls == Counter(ids)
    expected = Counter(outcome_for(i) for i in ids)
    assert summary.counts == expected
    assert summary.processed == count
    assert summary.total == count
    assert summary.stopped_early is False
    kept = sorted(r.invoice_id for r in summary.records)
    assert kept == sorted(i for i in ids if outcome_for(i) != "done")
    assert all(r.outcome != "done" for r in summary.records)


def test_summary_as_dict_is_json() -> None:
    ids = [f"inv_{i}" for i in range(10)]
    summary = run_bulk(
        ids, Recorder(), action="close", total=10, max_workers=2, is_failure=is_failed
    )
    data = summary.as_dict()
    assert json.loads(json.dumps(data)) == data
    assert data["processed"] == 10
    assert data["counts"] == {"already_done": 2, "done": 4, "failed": 2, "not_eligible": 2}
    assert len(data["records"]) == 6


def test_retries_are_reported_as_a_difference() -> None:
    readings = iter([5])

    def retries() -> int:  # the client's retry counter: 5 before the run, 8 after
        return next(readings, 8)

    summary = run_bulk(
        ["inv_0"],
        Recorder(),
        action="close",
        total=1,
        max_workers=1,
        is_failure=is_failed,
        retries=retries,
    )
    assert summary.retries == 3
    assert summary.as_dict()["retries"] == 3


def test_fail_fast_stops_feeding() -> None:
    """One worker runs ids in order: the failure of inv_4 is seen before inv_7 is fed."""
    ids = [f"inv_{i}" for i in range(4, 1000)]  # inv_4 fails (4 % 5 == 4)
    pulled: list[str] = []

    def feed() -> Iterator[str]:
        for invoice_id in ids:
            pulled.append(invoice_id)
            yield invoice_id

    act = Recorder()
    summary = run_bulk(
        feed(),
        act,
        action="close",
        total=len(ids),
        max_workers=1,
        is_failure=is_failed,
        fail_fast=True,
    )
    assert summary.stopped_early is True
    assert summary.counts["failed"] == 1
    assert summary.processed == len(act.calls) == 2
    assert set(act.calls) == {"inv_4", "inv_5"}
    assert len(pulled) == 3
    assert all(count == 1 for count in act.calls.values())


def test_without_fail_fast_failures_do_not_stop() -> None:
    ids = [f"inv_{i}" for i in range(4, 60)]
    summary = run_bulk(
        ids, Recorder(), action="close", total=len(ids), max_workers=1, is_failure=is_failed
    )
    assert summary.stopped_early is False
    assert summary.processed == len(ids)


def test_fail_fast_uses_the_callers_failure_rule() -> None:
    ids = [f"inv_{i}" for i in range(2, 100)]  # inv_2 is already_done
    summary = run_bulk(
        ids,
        Recorder(),
        action="close",
        total=len(ids),
        max_workers=1,
        is_failure=lambda r: r.outcome == "already_done",
        fail_fast=True,
    )
    assert summary.stopped_early is True
    assert summary.processed < len(ids)


@pytest.mark.parametrize("workers", [1, 3, 5])
def test_concurrency_and_lookahead_are_bounded(workers: int) -> None:
    """At most ``workers`` acts run at once and the id feed stays close to the finished work.

    A barrier makes every group of ``workers`` acts run together, so the maximum is
    reached; the counter shows it is never exceeded.
    """
    total = workers * 12
    barrier = threading.Barrier(workers, timeout=30)
    lock = threading.Lock()
    state = {"running": 0, "max_running": 0, "finished": 0, "max_ahead": 0}

    def act(invoice_id: str) -> ActionRecord:
        with lock:
            state["running"] += 1
            state["max_running"] = max(state["max_running"], state["running"])
        barrier.wait()
        with lock:
            state["running"] -= 1
            state["finished"] += 1
        return ActionRecord(invoice_id=invoice_id, action="close", outcome="done")

    def feed() -> Iterator[str]:
        for i in range(total):
            with lock:
                state["max_ahead"] = max(state["max_ahead"], i + 1 - state["finished"])
            yield f"inv_{i}"

    summary = run_bulk(
        feed(), act, action="close", total=total, max_workers=workers, is_failure=is_failed
    )
    assert summary.processed == total
    assert state["max_running"] == workers
    assert state["max_ahead"] <= 2 * workers + 1
    assert summary.records == []


def test_progress_is_logged_with_counts_rate_failures_and_eta(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """With a zero interval every completion logs a line; the last one has the final counts."""
    ids = [f"inv_{n}" for n in range(6)]

    def act(invoice_id: str) -> ActionRecord:
        outcome = "failed" if invoice_id == "inv_3" else "done"
        return ActionRecord(invoice_id=invoice_id, action="close", outcome=outcome)

    with caplog.at_level(logging.INFO, logger="airflow_provider_cb.invoicing.bulk_runs"):
        run_bulk(
            ids,
            act,
            action="close",
            total=len(ids),
            max_workers=2,
            is_failure=lambda r: r.outcome == "failed",
            progress_interval=0.0,
        )
    lines = [r.getMessage() for r in caplog.records]
    assert len(lines) >= 2
    assert lines[-1].startswith("close: 6/6 invoices (")
    assert "1 failed" in lines[-1]
    assert "ETA 0s" in lines[-1]


def test_an_unexpected_error_in_a_worker_becomes_that_invoices_record() -> None:
    """Tried as a new user would: one worker's exception ended the task with no summary."""
    ids = [f"inv_{i}" for i in range(50)]

    def act(invoice_id: str) -> ActionRecord:
        if invoice_id == "inv_7":
            raise TypeError("string indices must be integers")
        return ActionRecord(invoice_id=invoice_id, action="close", outcome="done")

    summary = run_bulk(
        ids,
        act,
        action="close",
        total=len(ids),
        max_workers=4,
        is_failure=is_failed,
        keys={"inv_7": "af-close-7"},
    )
    assert summary.counts == {"done": 49, "failed": 1}
    (record,) = summary.records
    assert (record.invoice_id, record.api_error_code) == ("inv_7", "unexpected_error")
    assert record.idempotency_key == "af-close-7"
    assert "re-run is safe" in (record.message or "")


def test_summaries_keep_a_capped_number_of_records_and_log_the_rest(
    caplog: pytest.LogCaptureFixture,
) -> None:
    ids = [f"inv_{i}" for i in range(MAX_SUMMARY_RECORDS + 5)]

    def act(invoice_id: str) -> ActionRecord:
        return ActionRecord(invoice_id=invoice_id, action="close", outcome="not_eligible")

    with caplog.at_level(logging.WARNING, logger="airflow_provider_cb.invoicing.bulk_runs"):
        summary = run_bulk(
            ids, act, action="close", total=len(ids), max_workers=2, is_failure=is_failed
        )
    data = summary.as_dict()
    assert data["counts"] == {"not_eligible": len(ids)}
    assert len(data["records"]) == MAX_SUMMARY_RECORDS
    assert data["records_only_in_log"] == 5
    logged = {
        r.getMessage().split(":")[0] for r in caplog.records if "not_eligible" in r.getMessage()
    }
    assert len(logged) == 5


@pytest.mark.parametrize(
    "code", ["api_authentication_failed", "site_not_found", "connection_failed"]
)
def test_a_site_wide_failure_stops_the_run_and_records_the_rest_not_sent(code: str) -> None:
    ids = [f"inv_{i}" for i in range(1000)]
    calls: Counter[str] = Counter()
    lock = threading.Lock()

    def act(invoice_id: str) -> ActionRecord:
        with lock:
            calls[invoice_id] += 1
        return ActionRecord(invoice_id, "close", "failed", api_error_code=code, message="no")

    summary = run_bulk(
        iter(ids), act, action="close", total=1000, max_workers=4, is_failure=is_failed
    )
    assert 1 <= sum(calls.values()) <= 4  # the workers already sending when the first came back
    assert summary.counts == {"failed": sum(calls.values()), "not_sent": 1000 - sum(calls.values())}
    assert summary.site_failure is not None and summary.stopped_early
    assert summary.as_dict()["stopped_by"] == "no"
    unsent = [r for r in summary.records if r.outcome == "not_sent"]
    assert unsent and all(r.reason == f"run stopped: {code}" and r.retryable for r in unsent)
    assert len(summary.records) == MAX_SUMMARY_RECORDS  # the rest are counted, not listed
