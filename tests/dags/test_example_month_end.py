"""The example month-end DAG, run by the real `airflow dags test` against the emulator.

The DAG is the file users copy, but for its chunk size: 100 instead of 500, so that
two chunks take 180 invoices, not 900 (exactly-once at scale is proven in
tests/reliability at 2,000).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
from pathlib import Path
from typing import Any

import pendulum
import pytest

from airflow_provider_cb.testing import ChargebeeEmulator
from tests.helpers import REPO, airflow_cli
from tests.journal_support import clear_task, schedule_retry

MONTH = pendulum.datetime(2026, 10, 1, tz="UTC")
# A run dated the first of a month closes the month before it (its data interval).
RUN_DATE = MONTH.add(months=1).to_date_string()
CHUNK_SIZE = 100
PENDING = 180
CHUNKS = 2
DAGS_FOLDER = "CB_TEST_MONTH_END_DAGS"
"""Where the test's copy of the example DAG is, for the ``airflow`` commands."""


@pytest.fixture(autouse=True)
def month_end_dag(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The example month-end DAG with chunks of :data:`CHUNK_SIZE`, in a folder of its own."""
    source = (REPO / "example_dags" / "chargebee_month_end.py").read_text()
    assert source.count("CHUNK_SIZE = 500") == 1, "the example DAG's chunk size moved"
    folder = tmp_path / "dags"
    folder.mkdir()
    dag = folder / "chargebee_month_end.py"
    dag.write_text(source.replace("CHUNK_SIZE = 500", f"CHUNK_SIZE = {CHUNK_SIZE}"))
    monkeypatch.setenv(DAGS_FOLDER, str(folder))
    return dag


def airflow(emulator: ChargebeeEmulator, *args: str) -> str:
    env = {
        **os.environ,
        "AIRFLOW__CORE__DAGS_FOLDER": os.environ[DAGS_FOLDER],
        # The DAG splits a real site's limit between chunks; the emulator limits nothing.
        "AIRFLOW_CONN_CHARGEBEE_DEFAULT": emulator.connection_json(lift_rate_budget=True),
    }
    done = subprocess.run(
        [*airflow_cli(), *args], env=env, capture_output=True, text=True, timeout=600
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    return done.stdout + done.stderr


def latest_run_id(emulator: ChargebeeEmulator) -> str:
    listing = airflow(emulator, "dags", "list-runs", "chargebee_month_end", "-o", "json")
    line = next(line for line in listing.splitlines() if line.startswith("[{"))
    runs: list[dict[str, Any]] = json.loads(line)
    return max(runs, key=lambda run: run["run_after"])["run_id"]


def grid_labels(run_id: str) -> list[str | None]:
    """The names the grid shows for the mapped close tasks (their rendered map index)."""
    from airflow.models.taskinstance import TaskInstance
    from airflow.utils.session import create_session

    with create_session() as session:
        tis = (
            session.query(TaskInstance)
            .filter_by(dag_id="chargebee_month_end", task_id="close_pending", run_id=run_id)
            .order_by(TaskInstance.map_index)
            .all()
        )
        return [ti.rendered_map_index for ti in tis]


def rerun_close_tasks(emulator: ChargebeeEmulator, run_id: str) -> dict[str, int]:
    """Run each mapped close task again in the same DAG run, as a retry or a clear would."""
    totals: dict[str, int] = {}
    for map_index in range(CHUNKS):
        output = airflow(
            emulator,
            "tasks",
            "test",
            "chargebee_month_end",
            "close_pending",
            run_id,
            "--map-index",
            str(map_index),
        )
        match = re.search(r"close: (\{.*?\}) in ", output)
        assert match, output[-2000:]
        for outcome, count in json.loads(match.group(1)).items():
            totals[outcome] = totals.get(outcome, 0) + count
    return totals


@pytest.mark.slow
def test_month_end_closes_each_pending_invoice_of_the_month_exactly_once(
    chargebee_airflow_home: Path, chargebee_emulator: ChargebeeEmulator, tmp_path: Path
) -> None:
    emulator = chargebee_emulator
    in_month = int(MONTH.add(days=10).timestamp())
    pending = emulator.seed(PENDING, status="pending", date=in_month)
    emulator.seed(
        30, status="pending", prefix="next_", date=int(MONTH.add(months=1, days=3).timestamp())
    )
    emulator.seed(20, status="payment_due", prefix="due_", date=in_month)
    airflow(emulator, "pools", "set", "chargebee", "4", "Chargebee site")

    conf = json.dumps({"report_dir": str(tmp_path)})
    first = airflow(emulator, "dags", "test", "chargebee_month_end", RUN_DATE, "-c", conf)
    assert f'month-end close: {{"done": {PENDING}}}' in first
    assert f"selected {PENDING} pending invoices dated 2026-10-01..2026-10-31 UTC" in first
    assert f"closing {CHUNK_SIZE} invoices at <= " in first and "dry run: no" in first
    assert grid_labels(latest_run_id(emulator)) == [
        "chunk 1/2: inv_000001…inv_000100 (100)",
        "chunk 2/2: inv_000101…inv_000180 (80)",
    ]
    assert emulator.count_applied(action="close") == PENDING
    assert {a.invoice_id for a in emulator.applied_actions} == set(pending)
    assert all(emulator.invoice(i)["status"] == "payment_due" for i in pending)
    assert emulator.invoice("next_000001")["status"] == "pending"
    # One audit report per chunk of the run: a row per invoice, a summary beside it.
    folder = tmp_path / "chargebee_month_end" / latest_run_id(emulator).replace(":", "-")
    reported = []
    for chunk in (0, 1):
        (report,) = folder.glob(f"close-{chunk}.*.try-1.csv")  # one file per chunk and try
        lines = report.read_text(encoding="utf-8-sig").splitlines()
        reported += [line.split(",")[4] for line in lines[1:]]
        assert "| done |" in report.with_suffix(".md").read_text()
    assert sorted(reported) == sorted(pending)

    # The same task instances run again (as a retry would): each chunk's journal says
    # every invoice is done, so nothing is sent and the summaries still say done.
    run_id = latest_run_id(emulator)
    requests_before = len(emulator.requests)
    assert rerun_close_tasks(emulator, run_id) == {"done": PENDING}
    assert len(emulator.requests) == requests_before

    # Cleared within Chargebee's 30-minute window: a new journal, the same keys are
    # replayed (and counted apart from fresh actions), nothing is applied twice.
    clear_task("chargebee_month_end", "close_pending", run_id)
    schedule_retry("chargebee_month_end", "close_pending", run_id)
    assert rerun_close_tasks(emulator, run_id) == {"replayed": PENDING}
    assert emulator.count_applied(action="close") == PENDING

    # Cleared the next day: Chargebee forgot the keys; each invoice is read on 409.
    emulator.advance(24 * 3600)
    clear_task("chargebee_month_end", "close_pending", run_id)
    schedule_retry("chargebee_month_end", "close_pending", run_id)
    assert rerun_close_tasks(emulator, run_id) == {"already_done": PENDING}
    assert emulator.count_applied(action="close") == PENDING

    # A new run for the same month selects nothing: nothing is pending any more.
    requests_before = len(emulator.requests)
    empty = airflow(emulator, "dags", "test", "chargebee_month_end", RUN_DATE)
    second_run = emulator.requests.snapshot()[requests_before:]
    # An empty month is one empty chunk: the close runs, says so, and the report still runs.
    assert "close: nothing to do" in empty
    assert "month-end close: {}" in empty
    assert [r.method for r in second_run] == ["GET"]
    assert emulator.count_applied(action="close") == PENDING
    assert emulator.duplicates() == {}
