"""Thread safety: concurrent bulk workers sharing one hook never mix up requests, keys or records.

Three bulk runs (close, write-off, stop dunning) go at once through one hook's
client, 16 workers each, while the emulator faults about a fifth of all
requests. Every record is then checked against what the emulator saw: the right
invoice, action, body, idempotency key and resulting state, each acted on once.
"""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import pytest

from airflow_provider_cb.hooks.chargebee import ChargebeeHook
from airflow_provider_cb.invoicing.action_table import ACTIONS
from airflow_provider_cb.invoicing.bulk_runs import BulkSummary, run_bulk
from airflow_provider_cb.invoicing.outcomes import ActionRecord, perform_action
from airflow_provider_cb.operators.idempotency_keys import derive_key
from airflow_provider_cb.testing import FAULT_KINDS, AppliedAction, ChargebeeEmulator
from tests.reliability.support import (
    FAULTED_CONNECTION,
    SLOW_SECONDS,
    Figures,
    faulted_requests,
    settle,
    use_connection,
)

PER_ACTION = 300
WORKERS = 16
MAX_RETRIES = 20
IDENTITY = "thread_safety/bulk/manual__1/-1"
HIGH_FAULTS = {kind: 0.019 for kind in FAULT_KINDS if kind != "rate_limit"} | {"rate_limit": 0.005}
"""About 20% of requests faulted; 429 with Retry-After (a pause for every worker) is rarer."""


@dataclass(frozen=True)
class Lane:
    action: str
    prefix: str
    seed_status: str
    target_status: str


LANES = [
    Lane("close", "cl_", "pending", "payment_due"),
    Lane("write_off", "wo_", "payment_due", "paid"),
    Lane("stop_dunning", "sd_", "payment_due", "not_paid"),
]


@pytest.mark.slow
def test_concurrent_bulk_runs_sharing_one_hook_keep_every_record_straight(
    chargebee_emulator: ChargebeeEmulator, monkeypatch: pytest.MonkeyPatch, figures: Figures
) -> None:
    emulator = chargebee_emulator
    ids = {
        lane.action: emulator.seed(
            PER_ACTION, status=lane.seed_status, prefix=lane.prefix, dunning_status="in_progress"
        )
        for lane in LANES
    }
    lane_of = {invoice_id: lane for lane in LANES for invoice_id in ids[lane.action]}
    key_of = {i: derive_key(IDENTITY, lane.action, i) for i, lane in lane_of.items()}
    use_connection(monkeypatch, emulator, max_retries=MAX_RETRIES, **FAULTED_CONNECTION)
    emulator.faults.slow_seconds = SLOW_SECONDS
    emulator.faults.set_rates(HIGH_FAULTS, seed=7)

    hook = ChargebeeHook()
    client = hook.get_conn()
    records: dict[str, list[ActionRecord]] = {}
    lock = threading.Lock()

    def act(invoice_id: str) -> ActionRecord:
        lane = lane_of[invoice_id]
        record = perform_action(
            client,
            ACTIONS[lane.action],
            invoice_id,
            fields={"comment": f"{lane.action} {invoice_id}"},
            idempotency_key=key_of[invoice_id],
            include_invoice=True,
        )
        with lock:
            records.setdefault(invoice_id, []).append(record)
        return record

    def bulk(lane: Lane) -> BulkSummary:
        return run_bulk(
            ids[lane.action],
            act,
            action=lane.action,
            total=PER_ACTION,
            max_workers=WORKERS,
            is_failure=lambda record: record.outcome != "done",
        )

    try:
        with ThreadPoolExecutor(len(LANES)) as lanes:
            summaries = list(lanes.map(bulk, LANES))
    finally:
        hook.close()
    emulator.faults.clear()
    settle(emulator)

    requests = emulator.requests.snapshot()
    applied: dict[str, list[AppliedAction]] = {}
    for action in emulator.applied_actions:
        applied.setdefault(action.invoice_id, []).append(action)
    injected = faulted_requests(emulator)

    # A lost answer is replayed on retry and counted apart from a fresh action.
    assert [s.counts["done"] + s.counts["replayed"] for s in summaries] == [PER_ACTION] * len(LANES)
    assert all(set(s.counts) <= {"done", "replayed"} for s in summaries)
    assert sorted(records) == sorted(lane_of)
    for invoice_id, lane in lane_of.items():
        (record,) = records[invoice_id]
        assert (record.invoice_id, record.action, record.outcome) == (
            invoice_id,
            lane.action,
            "done",
        )
        assert record.idempotency_key == key_of[invoice_id]
        assert record.invoice is not None and record.invoice["id"] == invoice_id
        assert record.status_after == lane.target_status
        assert emulator.invoice(invoice_id)["status"] == lane.target_status
        (change,) = applied[invoice_id]
        assert change.action == lane.action
        assert change.idempotency_key == key_of[invoice_id]
        assert change.params["comment"] == f"{lane.action} {invoice_id}"
    posts = [request for request in requests if request.method == "POST"]
    read_backs = [request for request in requests if request.method == "GET"]
    for request in posts:
        _, _, version, _, invoice_id, endpoint = request.path.split("/")
        assert version == "v2"
        assert endpoint == lane_of[invoice_id].action
        assert request.idempotency_key == key_of[invoice_id]
    # Only replays are read back, once each (plus the retries of a faulted read).
    replays = sum(s.counts["replayed"] for s in summaries)
    assert {r.path.split("/")[4] for r in read_backs} <= set(lane_of)
    assert emulator.duplicates() == {}
    assert set(injected) == set(FAULT_KINDS)
    assert sum(injected.values()) >= 0.12 * len(requests)
    assert client.transport.retries == len(requests) - len(lane_of) - replays

    figures.record(
        "thread_safety",
        invoices=len(lane_of),
        workers=WORKERS * len(LANES),
        requests=len(requests),
        faults=sum(injected.values()),
        faults_by_kind=dict(sorted(injected.items())),
        retries=client.transport.retries,
        duplicates=len(emulator.duplicates()),
        lost=sum(
            1 for i, lane in lane_of.items() if emulator.invoice(i)["status"] != lane.target_status
        ),
        records_checked=len(records),
    )
