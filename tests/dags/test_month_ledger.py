"""The month ledger and month report through the example month-end DAG (`airflow dags test`).

Issue 23, tried as a finance team would: a re-close of October selects nothing
(the closed invoices are no longer pending) and used to leave no trace of what
the first close did. The month report of the re-close now shows them, by run.
"""

from __future__ import annotations

import csv
import json
import re
from pathlib import Path

import pendulum
import pytest

from airflow_provider_cb.testing import ChargebeeEmulator
from tests.dags.test_example_month_end import RUN_DATE, airflow, month_end_dag

# The example DAG in a folder of its own, where ``airflow`` finds it.
pytestmark = pytest.mark.usefixtures(month_end_dag.__name__)

OCTOBER = pendulum.datetime(2026, 10, 12, tz="UTC")


def month_report(output: str) -> Path:
    match = re.search(r"month report: (\S+\.md)", output)
    assert match, output[-3000:]
    return Path(match.group(1))


@pytest.mark.slow
def test_a_re_close_keeps_what_the_first_close_did_in_the_month_report(
    chargebee_airflow_home: Path,
    chargebee_emulator: ChargebeeEmulator,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    emulator = chargebee_emulator
    ledger = tmp_path / "ledger"
    monkeypatch.setenv("AIRFLOW__CHARGEBEE__LEDGER_PATH", str(ledger))
    in_october = int(OCTOBER.timestamp())
    euros = emulator.seed(
        4, status="pending", date=in_october, amount_due=25007, currency_code="EUR"
    )
    yen = emulator.seed(
        2, status="pending", prefix="jpy_", date=in_october, amount_due=10000, currency_code="JPY"
    )
    airflow(emulator, "pools", "set", "chargebee", "4", "Chargebee site")
    conf = json.dumps({"report_dir": str(tmp_path / "reports")})

    first = airflow(emulator, "dags", "test", "chargebee_month_end", RUN_DATE, "-c", conf)
    assert 'month-end close: {"done": 6}' in first
    first_files = {p: p.read_bytes() for p in ledger.rglob("*.jsonl")}
    assert len(first_files) == 1

    second = airflow(emulator, "dags", "test", "chargebee_month_end", RUN_DATE, "-c", conf)
    assert "month-end close: {}" in second  # nothing pending: the selection is empty
    report = month_report(second)
    text = report.read_text(encoding="utf-8")
    assert text.startswith(
        "# Chargebee month report: 2026-10 (2026-10-01..2026-10-31 UTC; zone UTC), site acme\n"
    )
    assert "| close | done | 6 | EUR 1,000.28, JPY 20,000 |" in text
    assert "- runs: 2;" in text
    assert f"- written to: `{report}`" in text
    rows = list(csv.DictReader(report.with_suffix(".csv").read_text("utf-8-sig").splitlines()))
    first_run = {row["run_id"] for row in rows}
    assert len(first_run) == 1  # every line is the first run's: the re-close acted on none
    assert sorted(row["invoice_id"] for row in rows) == sorted(euros + yen)
    assert {row["outcome"] for row in rows} == {"done"}
    # Earlier ledger files are never rewritten; the re-close added its own.
    assert all(path.read_bytes() == data for path, data in first_files.items())
    assert len(list(ledger.rglob("*.jsonl"))) == 2
    # Each run's month report is its own file: the first one is still there.
    assert len(list(report.parent.glob("month-2026-10.*.md"))) == 2
    assert "ledger: 6 records of close_pending[0] try 1 for 2026-10" in first
