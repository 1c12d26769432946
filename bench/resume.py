"""A retry after a kill at 50%: its requests and wall time without the journal and with it.

Each scenario is a real task instance on an SQLite Airflow home: a bulk close of
``INVOICES`` ids runs in ``airflow dags test`` and is SIGKILLed once the emulator
has applied half of them; the task instance then goes up for retry as the
scheduler puts it, and the retry runs through Airflow's task runner
(``airflow tasks test`` on the same run). *Before*: the journal is deleted first,
so the retry does what it did before the journal existed: send every invoice
again (Chargebee replays the keys, the provider reads each replayed invoice
back). *After*: the retry reads the journal. Then one task closes ``LARGE``
invoices to measure the journal's size and write cost.

Run with ``bench/run.sh resume 1`` (about four minutes on two cores).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path
from typing import Any

from bench.common import emit

INVOICES = int(os.environ.get("CB_RESUME_INVOICES", "10000"))
LARGE = int(os.environ.get("CB_RESUME_LARGE", "25000"))
TASK = "close"


def _airflow() -> list[str]:
    return [str(Path(sys.executable).with_name("airflow"))]


def _dag(dag_id: str, first: int, count: int, retries: int) -> str:
    return textwrap.dedent(f"""
        import pendulum
        from airflow.sdk import DAG
        from airflow_provider_cb.operators import CloseInvoiceOperator

        with DAG("{dag_id}", schedule=None, start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
                 default_args={{"retries": {retries}}}) as dag:
            CloseInvoiceOperator(
                task_id="{TASK}",
                invoice_ids=[f"inv_{{n:06d}}" for n in range({first}, {first + count})],
                max_workers=8,
            )
        """)


def _xcom(dag_id: str, run_id: str) -> dict[str, Any]:
    from airflow.models.xcom import XComModel
    from airflow.utils.session import create_session
    from sqlalchemy import select

    with create_session() as session:
        value = session.scalars(
            select(XComModel.value).where(
                XComModel.dag_id == dag_id,
                XComModel.run_id == run_id,
                XComModel.task_id == TASK,
                XComModel.key == "return_value",
            )
        ).one()
    return dict(value if isinstance(value, dict) else json.loads(value))


def _journal_bytes(dag_id: str, run_id: str) -> tuple[int, int]:
    """Bytes the journal holds in the store, and its largest single value."""
    from airflow.models.task_state_store import TaskStateStoreModel
    from airflow.utils.session import create_session
    from sqlalchemy import select

    with create_session() as session:
        values = session.scalars(
            select(TaskStateStoreModel.value).where(
                TaskStateStoreModel.dag_id == dag_id, TaskStateStoreModel.run_id == run_id
            )
        ).all()
    sizes = [len(value if isinstance(value, str) else json.dumps(value)) for value in values]
    return sum(sizes), max(sizes, default=0)


def _forget_journal(dag_id: str, run_id: str) -> None:
    from airflow._shared.state import TaskScope
    from airflow.state import get_state_backend

    get_state_backend().clear(TaskScope(dag_id=dag_id, run_id=run_id, task_id=TASK, map_index=-1))


def scenario(
    emulator: Any, env: dict[str, str], dags: Path, label: str, first: int
) -> dict[str, Any]:
    """Kill at 50%, then retry; ``label`` "before" deletes the journal first."""
    from tests.journal_support import (
        kill_when_applied,
        schedule_retry,
        stored_journal,
        task_instance,
    )
    from tests.reliability.support import settle

    dag_id = f"resume_{label}"
    (dags / f"{dag_id}.py").write_text(_dag(dag_id, first, INVOICES, retries=1))
    applied_at_start = emulator.count_applied("close")
    first_try = subprocess.Popen(
        [*_airflow(), "dags", "test", dag_id],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    kill_when_applied(emulator, first_try, applied_at_start + INVOICES // 2, timeout=900)
    settle(emulator, quiet_seconds=0.5)
    applied_before = emulator.count_applied("close") - applied_at_start
    run_id, _, _ = task_instance(dag_id, TASK)
    journal = stored_journal(dag_id, run_id, TASK)
    entries = journal.entries()
    in_flight = sum(1 for entry in entries.values() if entry.record is None)
    settled = sum(1 for entry in entries.values() if entry.record is not None)
    if label == "before":
        _forget_journal(dag_id, run_id)
    schedule_retry(dag_id, TASK, run_id)
    requests_before = len(emulator.requests)
    started = time.monotonic()
    retry = subprocess.run(
        [*_airflow(), "tasks", "test", dag_id, TASK, run_id],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    wall = time.monotonic() - started
    if retry.returncode != 0:
        raise RuntimeError(retry.stdout[-3000:] + retry.stderr[-3000:])
    requests = emulator.requests[requests_before:]
    summary = _xcom(dag_id, run_id)
    return {
        f"{label}_applied_before_kill": applied_before,
        f"{label}_retry_requests": len(requests),
        f"{label}_retry_posts": sum(1 for r in requests if r.method == "POST"),
        f"{label}_retry_wall_s": round(wall, 1),
        f"{label}_retry_task_s": summary["elapsed_seconds"],
        f"{label}_in_flight": in_flight,
        f"{label}_left": INVOICES - settled - in_flight,
        f"{label}_closed": summary["counts"].get("done", 0) + summary["counts"].get("replayed", 0),
    }


def journal_cost(emulator: Any, env: dict[str, str], dags: Path, first: int) -> dict[str, Any]:
    """One task closing LARGE invoices: the journal's writes, bytes and time."""
    from tests.journal_support import task_instance

    dag_id = "resume_large"
    (dags / f"{dag_id}.py").write_text(_dag(dag_id, first, LARGE, retries=0))
    done = subprocess.run(
        [*_airflow(), "dags", "test", dag_id], env=env, capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        raise RuntimeError(done.stdout[-3000:] + done.stderr[-3000:])
    run_id, _, _ = task_instance(dag_id, TASK)
    summary = _xcom(dag_id, run_id)
    stored, largest = _journal_bytes(dag_id, run_id)
    journal = summary["journal"]
    return {
        "large_invoices": LARGE,
        "large_closed": summary["counts"].get("done", 0),
        "large_task_s": summary["elapsed_seconds"],
        "journal_writes": journal["writes"],
        "journal_write_s": journal["write_seconds"],
        "journal_write_ms_each": round(1000 * journal["write_seconds"] / journal["writes"], 2),
        "journal_write_pct_of_task": round(
            100 * journal["write_seconds"] / summary["elapsed_seconds"], 1
        ),
        "journal_stored_kb": round(stored / 1024, 1),
        "journal_largest_value_kb": round(largest / 1024, 1),
    }


def main() -> None:
    from airflow_provider_cb.testing.dags import make_home, migrate

    home = make_home()  # before Airflow is imported
    migrate(home)
    from airflow_provider_cb.testing import ChargebeeEmulator

    with ChargebeeEmulator() as emulator:
        emulator.seed(2 * INVOICES + LARGE, status="pending")
        env = {**os.environ, "AIRFLOW_CONN_CHARGEBEE_DEFAULT": emulator.connection_json()}
        dags = home / "dags"
        figures: dict[str, Any] = {}
        figures.update(scenario(emulator, env, dags, "before", 1))
        figures.update(scenario(emulator, env, dags, "after", INVOICES + 1))
        figures["after_within_target"] = int(
            figures["after_retry_requests"] <= figures["after_left"] + figures["after_in_flight"]
        )
        figures.update(journal_cost(emulator, env, dags, 2 * INVOICES + 1))
        figures["duplicates"] = len(emulator.duplicates())
    emit("resume", figures, invoices=INVOICES, large=LARGE, workdir=tempfile.gettempdir())


if __name__ == "__main__":
    main()
