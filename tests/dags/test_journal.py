"""The task's journal in real DAG runs: retries resume, one summary for every try, the
summary before the report, reports kept per try, previews that book nothing."""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from airflow_provider_cb.testing import ChargebeeEmulator
from airflow_provider_cb.testing.dags import CONNECTION_ENV, DagFolder
from tests.dags.test_audit_report import rows_of
from tests.dags.test_operators_in_dags import posts
from tests.helpers import REPO, airflow_cli, run, state_of, xcom_of
from tests.journal_support import clear_task, schedule_retry, stored_journal, task_instance
from tests.reliability.support import connection_json


@pytest.fixture
def emulator(chargebee_emulator: ChargebeeEmulator, monkeypatch: pytest.MonkeyPatch) -> Any:
    """The emulator, its connection retrying nothing: one 503 is a retryable failed invoice."""
    monkeypatch.setenv(CONNECTION_ENV, connection_json(chargebee_emulator, max_retries=0))
    return chargebee_emulator


def test_a_retry_sends_nothing_already_done_and_its_summary_covers_both_tries(
    chargebee_dags: DagFolder, emulator: ChargebeeEmulator
) -> None:
    ids = emulator.seed(31, status="pending", currency_code="EUR", amount_due=1_000)
    emulator.faults.script(["server_503"], only_methods={"POST"})  # the first POST fails
    dag_run = run(
        chargebee_dags,
        "journal_retry",
        f'CloseInvoiceOperator(task_id="close", invoice_ids={ids!r}, max_workers=1)',
        retries=1,
    )
    assert state_of(dag_run, "close") == "success"
    summary = xcom_of(dag_run, "close")
    assert summary["counts"] == {"done": 31}
    assert summary["totals"] == {"done": {"EUR": 31_000}}
    assert summary["tries"] == [1, 2] and summary["try_number"] == 2
    assert summary["counts_by_try"] == {"1": {"done": 30}, "2": {"done": 1}}
    # 31 POSTs that acted, one that failed; try 2 read the failed one back (one list page).
    assert len(posts(emulator)) == 32
    assert emulator.count_applied("close") == 31 and emulator.duplicates() == {}
    journal = stored_journal("journal_retry", dag_run.run_id, "close")
    assert {e.record["outcome"] for e in journal.entries().values() if e.record} == {"done"}


def test_a_report_below_a_regular_file_keeps_the_summary_and_every_try_is_recorded(
    chargebee_dags: DagFolder, emulator: ChargebeeEmulator, tmp_path: Path
) -> None:
    ids = emulator.seed(20, status="pending")
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a regular file")
    report = blocker / "close.csv"
    dag_run = run(
        chargebee_dags,
        "journal_report_fails",
        f'CloseInvoiceOperator(task_id="close", invoice_ids={ids!r}, report_path={str(report)!r})',
        retries=1,
    )
    assert state_of(dag_run, "close") == "failed"
    summary = xcom_of(dag_run, "close", key="chargebee_result")
    assert summary["counts"] == {"done": 20}
    assert summary["tries"] == [1, 2]  # the report failure was retryable; the retry sent nothing
    assert summary["counts_by_try"] == {"1": {"done": 20}}
    assert summary["report_path"] is None
    assert (
        "NotADirectoryError" in summary["report_error"] or "FileExists" in summary["report_error"]
    )
    assert [(r["try"], r["error"] is not None) for r in summary["reports"]] == [
        (1, True),
        (2, True),
    ]
    assert all(str(blocker) in r["path"] for r in summary["reports"])
    assert len(posts(emulator)) == 20


def test_each_try_keeps_its_own_report_and_the_last_covers_every_try(
    chargebee_dags: DagFolder, emulator: ChargebeeEmulator, tmp_path: Path
) -> None:
    ids = emulator.seed(5, status="pending")
    emulator.faults.script(["server_503"], only_methods={"POST"})
    dag_run = run(
        chargebee_dags,
        "journal_reports",
        f'CloseInvoiceOperator(task_id="close", invoice_ids={ids!r}, max_workers=1, '
        f"report_path={str(tmp_path / 'close.csv')!r})",
        retries=1,
    )
    summary = xcom_of(dag_run, "close")
    first, second = (Path(r["path"]) for r in summary["reports"])
    assert re.fullmatch(r"close\.manual__.*\.try-1\.csv", first.name)
    assert second.name == first.name.replace("try-1", "try-2")
    assert summary["report_path"] == str(second)
    assert sorted(r["outcome"] for r in rows_of(first)) == ["done"] * 4 + ["failed"]
    last = rows_of(second)
    assert sorted(r["invoice_id"] for r in last) == ids
    assert sorted(r["try_number"] for r in last) == ["1"] * 4 + ["2"]
    assert {r["outcome"] for r in last} == {"done"}
    markdown = second.with_suffix(".md").read_text()
    assert "- tries: 1, 2 (this report: try 2, covering every try)" in markdown
    assert "| done | 5 |" in markdown


def test_a_comment_cannot_forge_the_markdown_report(
    chargebee_dags: DagFolder, emulator: ChargebeeEmulator, tmp_path: Path
) -> None:
    ids = emulator.seed(3, status="pending")
    forged = (
        "Approved by Eve\\n\\n## Outcomes\\n\\n| outcome | invoices |\\n|---|---|\\n| done | 0 |"
    )
    run(
        chargebee_dags,
        "journal_forged",
        f'CloseInvoiceOperator(task_id="close", invoice_ids={ids!r}, comment="{forged}", '
        f"report_path={str(tmp_path / 'close.csv')!r})",
        retries=1,
    )
    (markdown_file,) = tmp_path.glob("close.*.md")
    lines = markdown_file.read_text().splitlines()
    assert lines.count("## Outcomes") == 1
    assert "| done | 0 |" not in lines
    assert [line for line in lines if line.startswith("| done |")] == ["| done | 3 | USD 300.00 |"]
    (comment,) = [line for line in lines if line.startswith("- comment: ")]
    assert "\\| done \\| 0 \\|" in comment


def test_a_single_invoice_task_resumes_too(
    chargebee_dags: DagFolder, emulator: ChargebeeEmulator
) -> None:
    emulator.seed(1, status="pending")
    emulator.faults.script(["lose_response"], only_methods={"POST"})  # acts, the answer is lost
    dag_run = run(
        chargebee_dags,
        "journal_single",
        'CloseInvoiceOperator(task_id="close", invoice_id="inv_000001")',
        retries=1,
    )
    record = xcom_of(dag_run, "close")
    assert record["outcome"] == "done" and record["sent_in_try"] == 1
    assert record["tries"] == [1, 2]
    # Try 2 read the invoice back and found try 1's close: nothing was sent again.
    assert len(posts(emulator)) == 1 and emulator.count_applied("close") == 1


def test_a_clear_starts_a_new_journal_and_judges_every_invoice_afresh(
    chargebee_dags: DagFolder, emulator: ChargebeeEmulator
) -> None:
    ids = emulator.seed(3, status="pending")
    body = f'CloseInvoiceOperator(task_id="close", invoice_ids={ids!r})'
    first = run(chargebee_dags, "journal_clear", body, retries=1)
    assert xcom_of(first, "close")["counts"] == {"done": 3}
    env = {**os.environ, CONNECTION_ENV: os.environ[CONNECTION_ENV]}
    clear_task("journal_clear", "close", first.run_id)
    assert task_instance("journal_clear", "close")[2] == 2  # a clear raises max_tries
    schedule_retry("journal_clear", "close", first.run_id)  # the scheduler's next try
    again = subprocess.run(
        [*airflow_cli(), "tasks", "test", "journal_clear", "close", first.run_id],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert again.returncode == 0, again.stdout[-2000:] + again.stderr[-2000:]
    journal = stored_journal("journal_clear", first.run_id, "close")
    assert journal.cleared_tries == [] and journal.tries == [2] and journal.generation == 2
    # Judged afresh: sent again with the same keys, Chargebee replayed, nothing acted twice.
    assert 'close: {"replayed": 3}' in again.stdout + again.stderr
    assert len(posts(emulator)) == 6 and emulator.count_applied("close") == 3


def test_a_preview_event_books_nothing_downstream(
    chargebee_dags: DagFolder, emulator: ChargebeeEmulator
) -> None:
    from tests.dags.test_asset_events import events_of

    ids = emulator.seed(2, status="pending")
    uri = "chargebee://acme/month-end-close"
    dag_run = run(
        chargebee_dags,
        "journal_preview",
        "from airflow.sdk import Asset\n"
        f'CloseInvoiceOperator(task_id="close", invoice_ids={ids!r}, dry_run="TRUE", '
        f"outlets=[Asset({uri!r})])",
        retries=1,
    )
    (extra,) = events_of(uri, dag_run.run_id)
    assert extra["dry_run"] is True and extra["counts"] == {"would_act": 2}
    assert posts(emulator) == []
    ledger = chargebee_dags.load_file(REPO / "tests/e2e/dags/chargebee_after_close.py")
    book = ledger.get_task("book_closed_invoices").python_callable
    from airflow.sdk import Asset

    events = {Asset(uri): [SimpleNamespace(extra=extra)]}
    assert book(triggering_asset_events=events) == []
    real = {**extra, "dry_run": False, "counts": {"done": 2}}
    booked = book(triggering_asset_events={Asset(uri): [SimpleNamespace(extra=real)]})
    assert booked == [{"period": None, "counts": {"done": 2}, "totals": extra["totals"]}]


def test_a_timeout_mid_run_is_resumed_by_the_retry_without_sending_again(
    chargebee_dags: DagFolder, emulator: ChargebeeEmulator
) -> None:
    ids = emulator.seed(150, status="pending")
    dag_run = run(
        chargebee_dags,
        "journal_timeout",
        f"""
CloseInvoiceOperator(task_id="close", invoice_ids={ids!r}, requests_per_minute=3000,
                     execution_timeout=__import__("datetime").timedelta(seconds=2))
""",
        retries=3,
    )
    assert state_of(dag_run, "close") == "success"
    summary = xcom_of(dag_run, "close")
    assert len(summary["tries"]) >= 2  # the first try timed out part-way
    assert summary["counts"].get("done", 0) + summary["counts"].get("replayed", 0) == 150
    assert emulator.count_applied("close") == 150 and emulator.duplicates() == {}
    # Before the journal every retry sent all 150 again; now only what was in flight.
    assert len(posts(emulator)) < 150 + 50


@pytest.mark.parametrize("bulk", [True, False], ids=["bulk", "single"])
def test_a_store_down_when_the_journal_opens_sends_nothing_and_leaves_a_summary(
    chargebee_dags: DagFolder,
    emulator: ChargebeeEmulator,
    monkeypatch: pytest.MonkeyPatch,
    bulk: bool,
) -> None:
    from airflow.sdk.execution_time.context import TaskStateStoreAccessor

    def down(self: Any, key: str, default: Any = None) -> Any:
        raise ConnectionError("the task state store does not answer")

    monkeypatch.setattr(TaskStateStoreAccessor, "get", down)
    ids = emulator.seed(3, status="pending")
    chosen = f"invoice_ids={ids!r}" if bulk else f"invoice_id={ids[0]!r}"
    dag_run = run(
        chargebee_dags, "journal_store_down", f'CloseInvoiceOperator(task_id="close", {chosen})'
    )
    assert state_of(dag_run, "close") == "failed"
    result = xcom_of(dag_run, "close", key="chargebee_result")
    if bulk:
        assert result["counts"] == {"not_sent": 3}
    else:
        assert (result["invoice_id"], result["outcome"]) == (ids[0], "not_sent")
    assert result["journal_error"] == "ConnectionError: the task state store does not answer"
    assert len(emulator.requests) == 0
