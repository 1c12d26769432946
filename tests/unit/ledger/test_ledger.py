"""The month ledger without running Airflow: files written once, summaries, the month report's standing."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from types import SimpleNamespace
from typing import TYPE_CHECKING, cast

import pytest

from airflow_provider_cb.invoicing.outcomes import ActionRecord
from airflow_provider_cb.ledger.index import LedgerIndex
from airflow_provider_cb.ledger.layout import NO_PERIOD, TaskIdentity, period_of
from airflow_provider_cb.ledger.month import build_month_report, write_month_report
from airflow_provider_cb.ledger.writer import TaskLedger
from airflow_provider_cb.operators.ledger import ledger_period

if TYPE_CHECKING:
    from airflow.sdk import Context


def identity(run_id: str, try_number: int = 1, **changes: object) -> TaskIdentity:
    values: dict[str, object] = {
        "site": "acme",
        "period": "2026-10",
        "period_range": "2026-10-01..2026-10-31 Europe/Berlin",
        "timezone": "Europe/Berlin",
        "dag_id": "chargebee_month_end",
        "run_id": run_id,
        "try_number": try_number,
        "task_id": "close_pending",
        "map_index": 0,
        "action": "close",
        "dry_run": False,
    }
    values.update(changes)
    return TaskIdentity(**values)  # type: ignore[arg-type]


def store(root: Path, who: TaskIdentity, *records: ActionRecord) -> Path:
    ledger = TaskLedger(who)
    for record in records:
        ledger.add(record)
    return Path(str(ledger.store(root)))


def closed(invoice_id: str, outcome: str = "done", **fields: object) -> ActionRecord:
    return ActionRecord(
        invoice_id,
        "close",
        outcome,
        currency_code="JPY",
        total=10000,
        **fields,  # type: ignore[arg-type]
    )


@pytest.mark.parametrize(
    ("label", "expected"),
    [
        ("2026-10-01..2026-10-31 Europe/Berlin", ("2026-10", "Europe/Berlin")),
        ("2026-02-01..2026-02-28 UTC", ("2026-02", "UTC")),
        ("2026-10-01 03:00:00..2026-10-31 02:59:59 UTC", (NO_PERIOD, None)),
        ("per date filter {'before': '2025-12-01'}", (NO_PERIOD, None)),
        (None, (NO_PERIOD, None)),
    ],
)
def test_a_period_is_a_whole_calendar_month(label: str | None, expected: tuple[str, str]) -> None:
    assert period_of(label) == expected


LATE_30_NOVEMBER = dt.datetime(2026, 11, 30, 23, 30, tzinfo=dt.UTC)  # 1 December in Berlin


@pytest.mark.parametrize(
    ("label", "context", "expected"),
    [
        (
            "2026-10-01..2026-10-31 UTC",
            {"data_interval_end": LATE_30_NOVEMBER},
            ("2026-10", "2026-10-01..2026-10-31 UTC", "UTC"),
        ),
        (
            "per date filter {'before': '2025-12-01'}",
            {"data_interval_end": LATE_30_NOVEMBER},
            (
                "2026-11",
                "per date filter {'before': '2025-12-01'}, acted 2026-11-01..2026-11-30 UTC",
                "UTC",
            ),
        ),
        (
            "2026-11-01 03:00:00..2026-11-30 23:30:00 Europe/Berlin",
            {"data_interval_end": None, "dag_run": SimpleNamespace(run_after=LATE_30_NOVEMBER)},
            (
                "2026-12",
                "2026-11-01 03:00:00..2026-11-30 23:30:00 Europe/Berlin, "
                "acted 2026-12-01..2026-12-31 Europe/Berlin",
                "Europe/Berlin",
            ),
        ),
        (
            None,
            {"data_interval_end": LATE_30_NOVEMBER},
            ("2026-11", "acted 2026-11-01..2026-11-30 UTC", "UTC"),
        ),
        (None, {}, (NO_PERIOD, None, None)),
    ],
)
def test_a_selection_that_claims_no_month_files_under_the_month_the_run_acts_in(
    label: str | None, context: dict[str, object], expected: tuple[str, str | None, str | None]
) -> None:
    assert ledger_period(label, cast("Context", context)) == expected


def test_a_ledger_file_is_never_rewritten(tmp_path: Path) -> None:
    written = store(tmp_path, identity("run_1"), closed("inv_1"))
    assert written.name == "close_pending.0.try-1.jsonl"
    # The same try run again (`airflow tasks test`) writes beside it.
    again = store(tmp_path, identity("run_1"), closed("inv_2"))
    assert again.name == "close_pending.0.try-1+2.jsonl"
    assert again.with_name("close_pending.0.try-1+2.summary.json").exists()
    [line] = written.read_text().splitlines()
    assert json.loads(line)["invoice_id"] == "inv_1"
    # A retry is another try: its own file beside the first.
    assert store(tmp_path, identity("run_1", 2), closed("inv_1", "already_done")).exists()


def test_each_line_says_whose_action_it_was(tmp_path: Path) -> None:
    who = identity("scheduled__2026-11-01T03:00:00+00:00", approver="Jane Roe")
    written = store(tmp_path, who, closed("inv_1"))
    line = json.loads(written.read_text())
    assert {k: line[k] for k in ("period", "run_id", "try_number", "task_id", "approver")} == {
        "period": "2026-10",
        "run_id": "scheduled__2026-11-01T03:00:00+00:00",
        "try_number": 1,
        "task_id": "close_pending",
        "approver": "Jane Roe",
    }
    assert written.parent.name == "scheduled__2026-11-01T03-00-00-00-00"


def test_the_index_reads_new_files_and_summarises_one_without_its_summary(tmp_path: Path) -> None:
    index = LedgerIndex(tmp_path, list_interval=0.0)
    store(tmp_path, identity("run_1"), closed("inv_1"), closed("inv_2", "failed", reason="boom"))
    assert [dict(s.counts) for s in index.refresh()] == [{"done": 1, "failed": 1}]
    crashed = store(tmp_path, identity("run_2"), closed("inv_3"))
    crashed.with_name("close_pending.0.try-1.summary.json").unlink()
    counts = sorted(json.dumps(dict(s.counts)) for s in index.refresh())
    assert counts == ['{"done": 1, "failed": 1}', '{"done": 1}']


def test_the_month_report_keeps_what_an_earlier_run_did(tmp_path: Path) -> None:
    store(tmp_path, identity("run_1"), closed("inv_1"), closed("inv_2", "failed", reason="boom"))
    store(tmp_path, identity("run_2"), closed("inv_1", "already_done"), closed("inv_2"))
    store(tmp_path, identity("run_3", dry_run=True), closed("inv_9", "would_act"))
    store(tmp_path, identity("run_4"))  # a re-close with nothing left to do
    report = build_month_report(tmp_path, "acme", "2026-10")
    markdown = report.markdown(csv_name="m.csv", written_to="here")
    assert markdown.startswith(
        "# Chargebee month report: 2026-10 (2026-10-01..2026-10-31 Europe/Berlin; "
        "zone Europe/Berlin), site acme\n"
    )
    assert "| close | done | 2 | JPY 20,000 |" in markdown  # each invoice once, as closed
    assert "would_act" not in markdown.split("## Runs")[0]  # a dry run acted on nothing
    assert "| `run_4` | close_pending[0] | 1 | no | - | nothing to do |" in markdown
    assert "- runs: 4; task tries: 4; ledger lines: 5" in markdown
    assert "Needs attention" not in markdown  # inv_2 failed, then was closed


def test_a_month_report_is_never_rewritten(tmp_path: Path) -> None:
    store(tmp_path, identity("run_1"), closed("inv_1"))
    csv_file, markdown = write_month_report(tmp_path, "acme", "2026-10", "run_1.try-1")
    assert markdown.name == "month-2026-10.run_1.try-1.md"
    assert csv_file.read_text(encoding="utf-8-sig").splitlines()[1].count("inv_1") == 1
    first = markdown.read_bytes()
    store(tmp_path, identity("run_2"), closed("inv_2"))
    # The same run and try writing again (`airflow tasks test`) gets a name of its own.
    again = write_month_report(tmp_path, "acme", "2026-10", "run_1.try-1")[1]
    assert again.name == "month-2026-10.run_1.try-1+2.md"
    assert "- runs: 2;" in again.read_text()
    assert markdown.read_bytes() == first


def test_a_write_off_total_is_the_amount_written_off(tmp_path: Path) -> None:
    written_off = ActionRecord(
        "inv_1", "write_off", "done", currency_code="EUR", total=50000, write_off_amount=25007
    )
    store(tmp_path, identity("run_1", action="write_off", task_id="write_off"), written_off)
    markdown = build_month_report(tmp_path, "acme", "2026-10").markdown(csv_name="m", written_to="")
    assert "| write_off | done | 1 | EUR 250.07 |" in markdown
