"""The journal over a dict store: written ahead, flushed, merged, resumed, sized."""

from __future__ import annotations

import json
from typing import Any

import pytest

from airflow_provider_cb.invoicing.bulk_runs import BulkSummary
from airflow_provider_cb.invoicing.journal import (
    INDEX_KEY,
    Journal,
    JournalUnavailableError,
    MemoryStore,
    batch_key,
)
from airflow_provider_cb.invoicing.outcomes import ActionRecord, Outcome
from airflow_provider_cb.invoicing.resume import plan_resume
from airflow_provider_cb.invoicing.tasksummary import whole_task_records, whole_task_summary

IDS = [f"inv_{n:06d}" for n in range(1, 8)]
KEYS = {i: f"af-close-{i}" for i in IDS}


def journal(store: MemoryStore, try_number: int = 1, generation: int = 1, **kw: Any) -> Journal:
    return Journal(
        store, action=kw.pop("action", "close"), try_number=try_number, generation=generation, **kw
    ).open()


def record(invoice_id: str, outcome: Outcome = "done", **fields: Any) -> ActionRecord:
    return ActionRecord(invoice_id=invoice_id, action="close", outcome=outcome, **fields)


def test_each_batch_is_in_the_store_before_its_first_invoice_is_yielded() -> None:
    store = MemoryStore()
    first = journal(store, batch_size=3)
    seen: list[list[str]] = []
    for invoice_id in first.ahead(IDS, KEYS):
        batch = store.get(batch_key(1, IDS.index(invoice_id) // 3))
        seen.append(batch["ids"])
        assert invoice_id in batch["ids"] and batch["keys"][batch["ids"].index(invoice_id)]
    assert seen[0] == IDS[:3] and seen[-1] == IDS[6:]
    assert store.get(INDEX_KEY)["batches"] == 3


@pytest.mark.parametrize(("flush_seconds", "stored"), [(0.0, [1, 2, 3, 4]), (3600, [0, 0, 0, 4])])
def test_outcomes_reach_the_store_within_flush_seconds_and_when_a_batch_is_complete(
    flush_seconds: float, stored: list[int]
) -> None:
    store = MemoryStore()
    first = journal(store, batch_size=4, flush_seconds=flush_seconds)
    seen = []
    for invoice_id in first.ahead(IDS[:4], KEYS):
        first.record(record(invoice_id))
        seen.append(len(store.get(batch_key(1, 0))["outcomes"]))
    assert seen == stored


def test_a_store_that_refuses_the_write_ahead_stops_the_run_before_sending() -> None:
    class Broken(MemoryStore):
        def set(self, key: str, value: Any) -> None:
            if key != INDEX_KEY:
                raise OSError("No space left on device")
            super().set(key, value)

    first = journal(Broken())
    with pytest.raises(JournalUnavailableError, match="No space left"):
        next(iter(first.ahead(IDS, KEYS)))


def test_a_retry_skips_settled_invoices_reads_back_the_unseen_and_judges_the_rest() -> None:
    store = MemoryStore()
    first = journal(store, batch_size=10)
    sent = list(first.ahead(IDS[:6], KEYS))
    first.record(record(sent[0]))
    first.record(record(sent[1], "already_done"))
    first.record(record(sent[2], "not_eligible", reason="voided"))
    first.record(record(sent[3], "failed", retryable=True, api_error_code="http_503"))
    first.record(record(sent[4], "failed", api_error_code="resource_not_found"))
    first.flush()  # inv 6 stays in flight: written ahead, no outcome
    second = journal(store, try_number=2)
    plan = plan_resume(second, IDS)
    assert plan.settled == IDS[:2]
    assert [e.invoice_id for e in plan.read_back] == [IDS[3], IDS[5]]
    assert plan.fresh == [IDS[2], IDS[4], IDS[6]]
    assert second.tries == [1, 2]


def test_pause_and_resume_are_judged_afresh_even_when_done() -> None:
    store = MemoryStore()
    first = journal(store, action="pause_dunning")
    for invoice_id in first.ahead(IDS[:1], KEYS):
        first.record(ActionRecord(invoice_id=invoice_id, action="pause_dunning", outcome="done"))
    first.close()
    assert plan_resume(journal(store, 2, action="pause_dunning"), IDS[:1]).fresh == IDS[:1]


def test_done_stays_done_when_a_later_try_finds_it_done() -> None:
    store = MemoryStore()
    first = journal(store, action="pause_dunning")
    for invoice_id in first.ahead(IDS[:1], KEYS):
        first.record(ActionRecord(invoice_id=invoice_id, action="pause_dunning", outcome="done"))
    first.close()
    second = journal(store, 2, action="pause_dunning")
    for invoice_id in second.ahead(IDS[:1], KEYS):
        second.record(
            ActionRecord(invoice_id=invoice_id, action="pause_dunning", outcome="already_done")
        )
    second.close()
    (entry,) = second.entries().values()
    assert entry.record is not None
    assert (entry.record["outcome"], entry.sent_in_try) == ("done", 1)


def test_a_clear_drops_the_earlier_journal() -> None:
    store = MemoryStore()
    first = journal(store)
    for invoice_id in first.ahead(IDS, KEYS):
        first.record(record(invoice_id))
    first.close()
    cleared = journal(store, try_number=3, generation=3)
    assert cleared.cleared_tries == [1] and cleared.past == {}
    assert store.get(batch_key(1, 0)) is None
    assert plan_resume(cleared, IDS).fresh == IDS


def test_the_summary_covers_every_try_and_counts_what_was_never_sent() -> None:
    store = MemoryStore()
    first = journal(store, batch_size=2)
    feed = first.ahead(IDS[:4], KEYS)
    for invoice_id in [next(feed), next(feed), next(feed)]:  # the 4th is written ahead only
        first.record(record(invoice_id, currency_code="EUR", total=100))
    unsent = first.close()
    assert unsent == [IDS[3]]
    this_try = BulkSummary(action="close", total=len(IDS))
    rows = whole_task_records(first, IDS, unsent, KEYS)
    summary = whole_task_summary(first, rows, this_try)
    assert summary["counts"] == {"done": 3, "not_sent": 4}
    assert summary["processed"] == 3
    assert summary["totals"] == {"done": {"EUR": 300}}
    assert summary["counts_by_try"] == {"1": {"done": 3}}
    assert [r.outcome for r, _ in rows].count("not_sent") == 4
    json.dumps(summary)


def test_a_batch_of_100_long_failures_stays_under_64_kb() -> None:
    store = MemoryStore()
    big = journal(store)
    ids = [f"inv_{n:06d}-with-a-longer-id-{n}" for n in range(100)]
    keys = {i: "af-close-" + "x" * 40 for i in ids}
    for invoice_id in big.ahead(ids, keys):
        big.record(
            record(
                invoice_id,
                "failed",
                message="m" * 5000,
                reason="r" * 50,
                api_error_code="internal_temporary_error",
                retryable=True,
                customer_id="cus_" + "c" * 40,
                currency_code="EUR",
                total=10**9,
                amount_due=10**9,
            )
        )
    big.close()
    assert len(json.dumps(store.get(batch_key(1, 0)))) < 65_535
