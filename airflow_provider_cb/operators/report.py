"""Where an action task's audit report goes: a local path or any ObjectStoragePath URL."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any

from airflow_provider_cb.client.errors import ChargebeeValidationError

if TYPE_CHECKING:
    from airflow_provider_cb.client.report import AuditReport


def report_targets(report_path: object, map_index: int) -> tuple[str, str]:
    """The CSV and Markdown destinations; a mapped task's files carry its map index."""
    if not isinstance(report_path, str) or not report_path.strip().endswith(".csv"):
        raise ChargebeeValidationError(
            "report_path", f"{report_path!r:.80} must be a path or URL ending in .csv"
        )
    csv_path = report_path.strip()
    if map_index >= 0:
        csv_path = f"{csv_path[: -len('.csv')]}-{map_index}.csv"
    return csv_path, csv_path[: -len(".csv")] + ".md"


def start_report(run_id: str, try_number: int, action: str) -> AuditReport:
    from airflow_provider_cb.client.report import AuditReport

    folder = Path(tempfile.mkdtemp(prefix="chargebee-report-"))
    return AuditReport(folder / "report.csv", run_id=run_id, try_number=try_number, action=action)


def publish_report(
    report: AuditReport, report_path: str, map_index: int, extra: dict[str, Any]
) -> str:
    """Write the CSV and its Markdown summary to their destination; returns the CSV's."""
    report.close()
    csv_target, markdown_target = report_targets(report_path, map_index)
    markdown = report.markdown(
        title=f"Chargebee {report.action} report",
        csv_name=PurePosixPath(csv_target).name,
        extra=extra,
    )
    try:
        if "://" in csv_target:
            from airflow.sdk import ObjectStoragePath

            remote_csv = ObjectStoragePath(csv_target)
            remote_csv.parent.mkdir(parents=True, exist_ok=True)
            remote_csv.write_bytes(report.csv_file.read_bytes())
            ObjectStoragePath(markdown_target).write_text(markdown, encoding="utf-8")
        else:
            local_csv = Path(csv_target)
            local_csv.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(report.csv_file, local_csv)
            Path(markdown_target).write_text(markdown, encoding="utf-8")
    finally:
        shutil.rmtree(report.csv_file.parent, ignore_errors=True)
    return csv_target
