"""Exactly-once under faults: a bulk task with about 10% of requests faulted.

Each bulk task runs in a real Airflow DAG run (``dag.test()``) against the emulator,
which injects every fault kind it knows at a fixed seed. The task has no Airflow
retries: the client's own retries (``max_retries`` 10) must carry it through.
With faults drawn independently at 10% per request, one request fails for good
only if 11 attempts in a row are faulted: 1e-11 per request.

Scale is proven once in CI (close, 2,000 invoices); the other cases run at 200
invoices, and at 2,000 as long proofs (``pytest -m long``).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Literal

import pytest

from airflow_provider_cb.operators.idempotency_keys import derive_key
from airflow_provider_cb.testing import FAULT_KINDS, ChargebeeEmulator
from airflow_provider_cb.testing.dags import DagFolder
from airflow_provider_cb.testing.wire import Dialect
from tests.helpers import xcom_of
from tests.reliability.support import (
    CLIENT_TIMEOUT,
    FAULT_MIX,
    FAULTED_CONNECTION,
    SLOW_SECONDS,
    Figures,
    faulted_requests,
    settle,
    use_connection,
)

AT_SCALE = 2000
MAX_RETRIES = 10
FAULT_SEED = 20261031


@dataclass(frozen=True)
class BulkCase:
    action: str
    operator: str
    seed_status: str
    target_status: str
    conflict_status: Literal[400, 409] = 409
    invoices: int = 200

    @property
    def name(self) -> str:
        return f"{self.action}-{self.conflict_status}-{self.invoices}"


_CLOSE = BulkCase("close", "CloseInvoiceOperator", "pending", "payment_due")
_OTHERS = [
    BulkCase("close", "CloseInvoiceOperator", "pending", "payment_due", conflict_status=400),
    BulkCase("write_off", "WriteOffInvoiceOperator", "payment_due", "paid"),
    BulkCase("stop_dunning", "StopDunningOperator", "payment_due", "not_paid"),
]
CASES = [
    BulkCase(**{**asdict(_CLOSE), "invoices": AT_SCALE}),
    *_OTHERS,
    *(BulkCase(**{**asdict(case), "invoices": AT_SCALE}) for case in _OTHERS),
]
"""Close at scale, the others at 200 in CI and at scale as long proofs."""

SOURCE = """
import pendulum
from airflow.sdk import DAG
from airflow_provider_cb.operators import {operator}

IDS = [f"inv_{{n:06d}}" for n in range(1, {count} + 1)]

with DAG("{dag_id}", schedule=None, start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
         default_args={{"retries": 0}}) as dag:
    {operator}(task_id="act", invoice_ids=IDS, max_workers=16, comment="reliability run")
"""


def test_the_fault_mix_covers_every_kind_at_about_ten_percent() -> None:
    assert set(FAULT_MIX) == set(FAULT_KINDS)
    assert sum(FAULT_MIX.values()) == pytest.approx(0.10)
    assert SLOW_SECONDS > CLIENT_TIMEOUT


@pytest.mark.slow
@pytest.mark.parametrize(
    "case",
    [
        pytest.param(
            case,
            id=case.name,
            marks=[pytest.mark.long] if case.invoices == AT_SCALE and case != CASES[0] else [],
        )
        for case in CASES
    ],
)
def test_bulk_action_under_faults_acts_exactly_once(
    case: BulkCase,
    chargebee_dags: DagFolder,
    chargebee_emulator: ChargebeeEmulator,
    monkeypatch: pytest.MonkeyPatch,
    figures: Figures,
) -> None:
    emulator = chargebee_emulator
    emulator.dialect = Dialect(conflict_status=case.conflict_status)
    dunning = "in_progress" if case.seed_status == "payment_due" else None
    invoices = case.invoices
    ids = emulator.seed(invoices, status=case.seed_status, dunning_status=dunning)
    use_connection(monkeypatch, emulator, max_retries=MAX_RETRIES, **FAULTED_CONNECTION)
    emulator.faults.slow_seconds = SLOW_SECONDS
    emulator.faults.set_rates(FAULT_MIX, seed=FAULT_SEED + CASES.index(case))
    dag_id = f"faults_{case.action}_{case.conflict_status}_{invoices}"
    source = SOURCE.format(operator=case.operator, count=invoices, dag_id=dag_id)
    dag_run = chargebee_dags.load(dag_id, source).test()
    emulator.faults.clear()
    settle(emulator)

    assert dag_run.state == "success"
    summary = xcom_of(dag_run, "act")
    requests = emulator.requests.snapshot()
    posts = [r for r in requests if r.method == "POST"]
    injected = faulted_requests(emulator)
    lost = [i for i in ids if emulator.invoice(i)["status"] != case.target_status]

    # Every invoice acted on exactly once, none lost; a replay is counted apart.
    replayed = summary["counts"].get("replayed", 0)
    assert summary["counts"] == {
        "done": invoices - replayed,
        **({"replayed": replayed} if replayed else {}),
    }
    assert summary["stopped_early"] is False
    assert emulator.count_applied(case.action) == invoices
    assert sorted(a.invoice_id for a in emulator.applied_actions) == ids
    assert emulator.duplicates() == {}
    assert lost == []
    # Each invoice's tries carried one key, the one derived from this run's identity.
    identity = f"{dag_id}/act/{dag_run.run_id}/-1"
    keys: dict[str, set[str | None]] = {}
    for r in posts:
        keys.setdefault(r.path.split("/")[4], set()).add(r.idempotency_key)
    assert keys == {i: {derive_key(identity, case.action, i)} for i in ids}
    # The faults were really injected, every kind of them, and every one was retried.
    assert injected == emulator.faults.injected
    if invoices == AT_SCALE:
        assert set(injected) == set(FAULT_KINDS)
    else:  # ~20 faults over 11 kinds: every kind is proven at scale, most of them here
        assert len(injected) >= len(FAULT_KINDS) // 2
    assert sum(injected.values()) >= 0.05 * len(requests)
    # Each replay is read back once (its invoice may have changed since): not a retry.
    assert summary["retries"] == len(requests) - invoices - replayed
    assert summary["retries"] >= sum(injected.values())

    figures.record(
        f"exactly_once_{case.name}",
        invoices=invoices,
        requests=len(requests),
        faults=sum(injected.values()),
        faults_by_kind=dict(sorted(injected.items())),
        retries=summary["retries"],
        replayed=sum(1 for r in requests if r.replayed),
        duplicates=len(emulator.duplicates()),
        lost=len(lost),
        elapsed_seconds=summary["elapsed_seconds"],
    )
