"""Kill and rerun: a bulk task killed mid-way and run again acts on every invoice exactly once.

The first run is a real ``airflow dags test`` process killed with SIGKILL while the
emulator is part-way through the invoices; the second run is a new run id, so its
idempotency keys differ and exactly-once rests on the state-aware path: Chargebee's
409 for an invoice closed already, read back as ``already_done``. The same path
makes a backfill of three past months, run twice, act on nothing the second time.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import textwrap
import time
from pathlib import Path
from typing import Any

import pendulum
import pytest

from airflow_provider_cb.testing import ChargebeeEmulator
from airflow_provider_cb.testing.dags import DagFolder
from tests.helpers import airflow_cli, xcom_of
from tests.reliability.support import Figures, airflow_env, settle

INVOICES = 200
"""In CI; 2,000 as a long proof (``pytest -m long``)."""
SUMMARY_MARK = "KILL-RERUN-SUMMARY "

KILL_DAG = """
import json

import pendulum
from airflow.sdk import DAG, task
from airflow_provider_cb.operators import CloseInvoiceOperator

IDS = [f"inv_{{n:06d}}" for n in range(1, {invoices} + 1)]

with DAG("kill_and_rerun", schedule=None, start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
         default_args={{"retries": 0}}) as dag:
    close = CloseInvoiceOperator(task_id="close", invoice_ids=IDS, max_workers=4)

    @task
    def report(summary):
        counts = {{"counts": summary["counts"], "retries": summary["retries"]}}
        print("{mark}" + json.dumps(counts, sort_keys=True), flush=True)

    report(close.output)
"""


def _summary(output: str) -> dict[str, Any]:
    found = re.findall(re.escape(SUMMARY_MARK) + r"(\{.*\})", output)
    assert found, "no summary line in the output:\n" + output[-4000:]
    return dict(json.loads(found[-1]))


def _wait_until_applied(
    emulator: ChargebeeEmulator, process: subprocess.Popen[str], count: int
) -> None:
    deadline = time.monotonic() + 180
    while emulator.count_applied("close") < count:
        assert process.poll() is None, "the task ended before it could be killed"
        assert time.monotonic() < deadline, "the task never got going"
        time.sleep(0.02)


@pytest.mark.slow
@pytest.mark.parametrize("invoices", [INVOICES, pytest.param(2000, marks=pytest.mark.long)])
def test_bulk_close_killed_with_sigkill_and_run_again_closes_each_invoice_once(
    chargebee_airflow_home: Path,
    tmp_path: Path,
    chargebee_emulator: ChargebeeEmulator,
    figures: Figures,
    invoices: int,
) -> None:
    emulator = chargebee_emulator
    kill_after_applied = invoices * 3 // 20
    ids = emulator.seed(invoices, status="pending")
    dags = tmp_path / "dags"
    dags.mkdir()
    source = KILL_DAG.format(invoices=invoices, mark=SUMMARY_MARK)
    (dags / "kill_and_rerun.py").write_text(textwrap.dedent(source))
    env = airflow_env(chargebee_airflow_home, dags, emulator)
    command = [*airflow_cli(), "dags", "test", "kill_and_rerun"]
    # Slow every POST a little, so the kill lands with part of the invoices closed.
    emulator.faults.slow_seconds = 0.05
    emulator.faults.set_rates({"slow_response": 1.0}, only_methods={"POST"})

    first = subprocess.Popen(
        command,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    try:
        _wait_until_applied(emulator, first, kill_after_applied)
        os.killpg(first.pid, signal.SIGKILL)
    finally:
        first.kill()
        first_output, _ = first.communicate(timeout=60)
    assert first.returncode == -signal.SIGKILL
    emulator.faults.clear()
    settle(emulator, quiet_seconds=0.5)
    applied_before = emulator.count_applied("close")
    posts_before = [r for r in emulator.requests if r.method == "POST"]
    assert kill_after_applied <= applied_before < invoices
    assert SUMMARY_MARK not in first_output

    second = subprocess.run(command, env=env, capture_output=True, text=True, timeout=600)
    assert second.returncode == 0, second.stdout[-3000:] + second.stderr[-3000:]
    summary = _summary(second.stdout + second.stderr)

    assert summary["counts"] == {"already_done": applied_before, "done": invoices - applied_before}
    assert emulator.count_applied("close") == invoices
    assert emulator.duplicates() == {}
    assert sorted(a.invoice_id for a in emulator.applied_actions) == ids
    lost = [i for i in ids if emulator.invoice(i)["status"] != "payment_due"]
    assert lost == []
    # A new run id means new keys: the rerun was kept from acting twice by state, not by key.
    rerun_posts = [r for r in emulator.requests if r.method == "POST"][len(posts_before) :]
    assert len(rerun_posts) == invoices
    keys_before = {r.idempotency_key for r in posts_before}
    assert keys_before.isdisjoint(r.idempotency_key for r in rerun_posts)

    figures.record(
        f"kill_and_rerun_{invoices}",
        invoices=invoices,
        applied_before_kill=applied_before,
        rerun_counts=summary["counts"],
        rerun_retries=summary["retries"],
        requests=len(emulator.requests),
        duplicates=len(emulator.duplicates()),
        lost=len(lost),
    )


BACKFILL_DAG = """
import pendulum
from airflow.sdk import DAG, CronDataIntervalTimetable
from airflow_provider_cb.operators import CloseInvoiceOperator, ListInvoicesOperator

with DAG("backfill_three_months", schedule=CronDataIntervalTimetable("0 0 1 * *", timezone="UTC"),
         start_date=pendulum.datetime(2025, 1, 1, tz="UTC"), catchup=False,
         default_args={"retries": 0}) as dag:
    select = ListInvoicesOperator(task_id="select", status="pending")
    CloseInvoiceOperator(task_id="close", invoice_ids=select.output, max_workers=4)
"""


def test_backfill_of_three_past_months_run_twice_acts_on_nothing_the_second_time(
    chargebee_dags: DagFolder, chargebee_conn_env: ChargebeeEmulator, figures: Figures
) -> None:
    emulator = chargebee_conn_env
    this_month = pendulum.now("UTC").start_of("month")
    months = [this_month.subtract(months=n) for n in (3, 2, 1)]
    expected: dict[str, list[str]] = {}
    for number, month in enumerate(months, start=1):
        prefix = f"m{number}_"
        day = int(month.add(days=9).timestamp())
        expected[month.to_date_string()] = [
            *emulator.seed(25, status="pending", prefix=prefix, date=day),
            # The first second of the month belongs to it; the last one too.
            emulator.add_invoice(f"{prefix}first", date=int(month.timestamp()))["id"],
            emulator.add_invoice(f"{prefix}last", date=int(month.end_of("month").timestamp()))[
                "id"
            ],
        ]
        emulator.seed(5, status="payment_due", prefix=f"{prefix}due_", date=day)
    untouched = [
        emulator.add_invoice("now_first", date=int(this_month.timestamp()))["id"],
        emulator.add_invoice("before_last", date=int(months[0].timestamp()) - 1)["id"],
    ]
    dag = chargebee_dags.load("backfill_three_months", BACKFILL_DAG)

    def backfill() -> list[dict[str, Any]]:
        summaries = []
        for month in months:
            dag_run = dag.test(logical_date=month.add(months=1))
            assert dag_run.state == "success"
            assert dag_run.data_interval_start == month
            summaries.append(xcom_of(dag_run, "close"))
        return summaries

    first = backfill()
    requests_after_first = len(emulator.requests)
    second = backfill()
    second_requests = emulator.requests.snapshot()[requests_after_first:]

    assert [s["counts"] for s in first] == [{"done": 27}] * 3
    for month, summary in zip(months, first, strict=True):
        assert summary["total"] == len(expected[month.to_date_string()])
    closed = sorted(a.invoice_id for a in emulator.applied_actions)
    assert closed == sorted(i for ids in expected.values() for i in ids)
    assert all(emulator.invoice(i)["status"] == "pending" for i in untouched)
    # The second pass finds nothing pending in those months and sends no POST.
    assert [s["total"] for s in second] == [0, 0, 0]
    assert [r.method for r in second_requests] == ["GET"] * 3
    assert emulator.count_applied() == 81
    assert emulator.duplicates() == {}
    figures.record(
        "backfill_twice",
        months=[m.to_date_string() for m in months],
        first_pass_closed=[s["counts"].get("done", 0) for s in first],
        second_pass_posts=sum(1 for r in second_requests if r.method == "POST"),
        second_pass_requests=len(second_requests),
        duplicates=len(emulator.duplicates()),
    )
