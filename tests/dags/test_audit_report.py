"""The audit report: a CSV row per invoice and a Markdown summary, from real DAG runs."""

from __future__ import annotations

import csv
import re
from pathlib import Path

from airflow_provider_cb.invoicing.audit_report import COLUMNS
from airflow_provider_cb.testing import ChargebeeEmulator
from airflow_provider_cb.testing.dags import DagFolder
from tests.helpers import dag_source, run, state_of, xcom_of


def rows_of(path: Path) -> list[dict[str, str]]:
    raw = path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")  # UTF-8 with a BOM: spreadsheets read it as UTF-8
    with path.open(encoding="utf-8-sig", newline="") as handle:
        reader = csv.DictReader(handle)
        assert tuple(reader.fieldnames or ()) == COLUMNS
        return list(reader)


def test_a_bulk_task_writes_every_invoice_and_a_summary(
    chargebee_dags: DagFolder, chargebee_conn_env: ChargebeeEmulator, tmp_path: Path
) -> None:
    emulator = chargebee_conn_env
    emulator.seed(3, status="pending", currency_code="EUR", amount_due=1_050)
    emulator.add_invoice("voided_1", status="voided", customer_id='=HYPERLINK("x"), "Müller"')
    ids = ["inv_000001", "inv_000002", "inv_000003", "voided_1"]
    report = tmp_path / "reports" / "{{ run_id }}" / "close.csv"
    dag_run = run(
        chargebee_dags,
        "report_bulk",
        f'CloseInvoiceOperator(task_id="close", invoice_ids={ids!r}, failure_policy="record", '
        f"report_path={str(report)!r})",
    )
    summary = xcom_of(dag_run, "close")
    # Each try's report is kept: its name carries the run and the try.
    safe_run = re.sub(r"[^A-Za-z0-9._-]+", "-", dag_run.run_id).strip("-")
    csv_path = tmp_path / "reports" / dag_run.run_id / f"close.{safe_run}.try-1.csv"
    assert summary["report_path"] == str(csv_path)
    assert summary["reports"] == [
        {
            "try": 1,
            "path": str(csv_path),
            "markdown_path": str(csv_path.with_suffix(".md")),
            "error": None,
        }
    ]
    rows = rows_of(csv_path)
    assert [row["invoice_id"] for row in sorted(rows, key=lambda r: r["invoice_id"])] == sorted(ids)
    done = [row for row in rows if row["outcome"] == "done"]
    assert len(done) == 3
    assert {(row["currency_code"], row["total"], row["status_after"]) for row in done} == {
        ("EUR", "10.50", "payment_due")
    }
    assert all(row["run_id"] == dag_run.run_id and row["try_number"] == "1" for row in rows)
    (voided,) = [row for row in rows if row["invoice_id"] == "voided_1"]
    assert (voided["outcome"], voided["reason"]) == ("not_eligible", "voided")
    assert voided["customer_id"] == '\'=HYPERLINK("x"), "Müller"'  # never run as a formula
    markdown = csv_path.with_suffix(".md").read_text()
    assert "| outcome | invoices | invoice total |" in markdown
    assert "| done | 3 | EUR 31.50 |" in markdown
    assert "| voided_1 | not_eligible | voided |" in markdown


def test_a_failed_single_invoice_task_still_writes_its_report_and_a_rerun_writes_its_own(
    chargebee_dags: DagFolder, chargebee_conn_env: ChargebeeEmulator, tmp_path: Path
) -> None:
    report = tmp_path / "close-one.csv"
    body = f'CloseInvoiceOperator(task_id="close", invoice_id="inv_000001", report_path={str(report)!r})'
    dag = chargebee_dags.load("report_single", dag_source("report_single", body))
    first = dag.test()
    assert state_of(first, "close") == "failed"
    first_report = Path(xcom_of(first, "close", key="chargebee_result")["report_path"])
    (row,) = rows_of(first_report)
    assert (row["outcome"], row["api_error_code"]) == ("failed", "resource_not_found")
    chargebee_conn_env.seed(1, status="pending")
    second = dag.test()
    assert state_of(second, "close") == "success"
    second_report = Path(xcom_of(second, "close")["report_path"])
    (row,) = rows_of(second_report)
    assert (row["outcome"], row["run_id"]) == ("done", second.run_id)
    assert second_report != first_report and rows_of(first_report)[0]["outcome"] == "failed"


def test_mapped_chunks_write_one_file_each(
    chargebee_dags: DagFolder, chargebee_conn_env: ChargebeeEmulator, tmp_path: Path
) -> None:
    chargebee_conn_env.seed(4, status="pending")
    report = tmp_path / "chunks.csv"
    dag_run = run(
        chargebee_dags,
        "report_chunks",
        f"""
CloseInvoiceOperator.partial(task_id="close", report_path={str(report)!r}).expand(
    invoice_ids=[["inv_000001", "inv_000002"], ["inv_000003", "inv_000004"]])
""",
    )
    assert dag_run.state == "success"
    for index, ids in enumerate((["inv_000001", "inv_000002"], ["inv_000003", "inv_000004"])):
        (csv_path,) = tmp_path.glob(f"chunks-{index}.*.try-1.csv")
        assert str(csv_path) == xcom_of(dag_run, "close", map_index=index)["report_path"]
        rows = rows_of(csv_path)
        assert sorted(row["invoice_id"] for row in rows) == ids
        assert csv_path.with_suffix(".md").exists()
