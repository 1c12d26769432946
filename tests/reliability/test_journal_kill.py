"""SIGKILL at a random point of a 2,000-invoice bulk run, then Airflow's retry of the same task.

The first try is a real ``airflow dags test`` process killed with SIGKILL once the
emulator has applied a random number of closes (seeded, printed). The task
instance then goes up for retry as the scheduler would put it, and its second try
runs through Airflow's task runner (``airflow tasks test`` on the same run). The
journal in the task state store, the actions the emulator applied and the final
summary must agree exactly: every invoice closed once, each by the try the
journal names, nothing sent again that the journal knew was done.

One kill runs in the default suite; ``pytest -m repeated_kills`` runs 20.
"""

from __future__ import annotations

import json
import random
import subprocess
import textwrap
from pathlib import Path
from typing import Any

import pytest

from airflow_provider_cb.testing import ChargebeeEmulator
from tests.helpers import airflow_cli
from tests.journal_support import kill_when_applied, schedule_retry, stored_journal, task_instance
from tests.reliability.support import Figures, airflow_env, settle

INVOICES = 2000
REPETITIONS = 20
DAG_ID = "journal_kill"

KILL_DAG = f"""
import pendulum
from airflow.sdk import DAG
from airflow_provider_cb.operators import CloseInvoiceOperator

with DAG("{DAG_ID}", schedule=None, start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
         default_args={{"retries": 1}}) as dag:
    CloseInvoiceOperator(task_id="close", invoice_ids=[f"inv_{{n:06d}}" for n in range(1, {INVOICES} + 1)],
                         max_workers=4)
"""


def _xcom(run_id: str) -> dict[str, Any]:
    from airflow.models.xcom import XComModel
    from airflow.utils.session import create_session
    from sqlalchemy import select

    with create_session() as session:
        value = session.scalars(
            select(XComModel.value).where(
                XComModel.dag_id == DAG_ID,
                XComModel.run_id == run_id,
                XComModel.task_id == "close",
                XComModel.key == "return_value",
            )
        ).one()
    return dict(value if isinstance(value, dict) else json.loads(value))


def kill_and_retry(
    home: Path, tmp_path: Path, emulator: ChargebeeEmulator, seed: int
) -> dict[str, Any]:
    """One kill at a random point and the retry; the figures of the run."""
    kill_after = random.Random(seed).randint(50, INVOICES - 50)
    ids = emulator.seed(INVOICES, status="pending")
    dags = tmp_path / "dags"
    dags.mkdir()
    (dags / f"{DAG_ID}.py").write_text(textwrap.dedent(KILL_DAG))
    env = airflow_env(home, dags, emulator)
    # Slow every POST a little, so the kill lands with part of the invoices closed.
    emulator.faults.slow_seconds = 0.01
    emulator.faults.set_rates({"slow_response": 1.0}, only_methods={"POST"})
    first = subprocess.Popen(
        [*airflow_cli(), "dags", "test", DAG_ID],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    kill_when_applied(emulator, first, kill_after)
    emulator.faults.clear()
    settle(emulator, quiet_seconds=0.5)
    applied_before = {a.invoice_id for a in emulator.applied_actions}
    requests_before = len(emulator.requests)

    run_id, try_number, _ = task_instance(DAG_ID, "close")
    assert try_number == 1
    journal_after_kill = stored_journal(DAG_ID, run_id, "close")
    known_done = {
        i
        for i, e in journal_after_kill.entries().items()
        if e.record and e.record["outcome"] == "done"
    }
    in_flight = {i for i, e in journal_after_kill.entries().items() if e.record is None}
    schedule_retry(DAG_ID, "close", run_id)
    second = subprocess.run(
        [*airflow_cli(), "tasks", "test", DAG_ID, "close", run_id],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert second.returncode == 0, second.stdout[-3000:] + second.stderr[-3000:]
    retry_requests = emulator.requests[requests_before:]
    summary = _xcom(run_id)
    journal = stored_journal(DAG_ID, run_id, "close")
    entries = journal.entries()

    # The emulator: every invoice closed exactly once, none left pending.
    assert emulator.duplicates() == {}
    assert sorted(a.invoice_id for a in emulator.applied_actions) == ids
    # Nothing the journal knew was done was sent again.
    assert known_done <= applied_before
    posted_again = {r.path.split("/")[-2] for r in retry_requests if r.method == "POST"}
    assert not known_done & posted_again
    # The journal: every invoice done, attributed to the try whose request closed it.
    assert sorted(entries) == ids
    assert all(e.record is not None and e.record["outcome"] == "done" for e in entries.values())
    by_try = {i: e.sent_in_try for i, e in entries.items()}
    assert {i for i, t in by_try.items() if t == 1} == applied_before
    # The summary: the whole task, both tries, agreeing with both.
    acted = summary["counts"].get("done", 0) + summary["counts"].get("replayed", 0)
    assert acted == INVOICES and summary["processed"] == INVOICES
    assert summary["tries"] == [1, 2] and summary["try_number"] == 2
    counts_by_try = summary["counts_by_try"]
    assert sum(counts_by_try["1"].values()) == len(applied_before)
    assert sum(counts_by_try["2"].values()) == INVOICES - len(applied_before)
    # The retry's requests: at most the invoices left plus those in flight.
    left = INVOICES - len(known_done) - len(in_flight)
    assert len(retry_requests) <= left + len(in_flight)
    return {
        "seed": seed,
        "killed_after": kill_after,
        "applied_before_kill": len(applied_before),
        "journaled_done": len(known_done),
        "in_flight": len(in_flight),
        "retry_requests": len(retry_requests),
        "summary_counts": summary["counts"],
    }


def _seeds() -> list[Any]:
    return [
        pytest.param(seed, marks=() if seed == 0 else pytest.mark.repeated_kills)
        for seed in range(REPETITIONS)
    ]


@pytest.mark.slow
@pytest.mark.parametrize("seed", _seeds())
def test_sigkill_at_a_random_point_then_retry_agrees_with_journal_and_emulator(
    chargebee_airflow_home: Path,
    tmp_path: Path,
    chargebee_emulator: ChargebeeEmulator,
    figures: Figures,
    seed: int,
) -> None:
    found = kill_and_retry(chargebee_airflow_home, tmp_path, chargebee_emulator, seed)
    figures.record("journal_kill", **found)
    # The guarantee in one line: the retry never re-proves what the journal knew was done.
    assert found["retry_requests"] <= INVOICES - found["journaled_done"]
