"""Where an action task's audit report goes, and writing it without losing the summary.

Each try writes its own files, never overwriting an earlier try's: ``close.csv``
becomes ``close.<run id>.try-<n>.csv`` (a mapped task's ``close-<index>.…``), with
the Markdown summary beside it. The last try's report covers every try, from the
journal. A report that cannot be written (a bad path, a full disk, a store that is
down) is logged with its path and returned as an error: the caller has already
pushed the task's summary.
"""

from __future__ import annotations

import logging
import re
import shutil
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any

from airflow_provider_cb.chargebee_api.errors import ChargebeeValidationError

if TYPE_CHECKING:
    from airflow_provider_cb.invoicing.outcomes import ActionRecord

log = logging.getLogger(__name__)
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


def check_report_path(report_path: object) -> str:
    """The path as given, checked: a path or URL ending in ``.csv``."""
    if not isinstance(report_path, str) or not report_path.strip().endswith(".csv"):
        raise ChargebeeValidationError(
            "report_path", f"{report_path!r:.80} must be a path or URL ending in .csv"
        )
    return report_path.strip()


def report_targets(
    report_path: object, map_index: int, run_id: str, try_number: int
) -> tuple[str, str]:
    """This try's CSV and Markdown destinations: named by map index, run and try."""
    stem = check_report_path(report_path)[: -len(".csv")]
    if map_index >= 0:
        stem = f"{stem}-{map_index}"
    stem = f"{stem}.{_UNSAFE.sub('-', run_id).strip('-')}.try-{try_number}"
    return f"{stem}.csv", f"{stem}.md"


@dataclass(frozen=True)
class ReportRequest:
    """What a report needs beyond the records: where it goes and what it says on top."""

    report_path: str
    map_index: int
    run_id: str
    try_number: int
    tries: Sequence[int]
    action: str
    header: Mapping[str, Any]


def write_report(
    request: ReportRequest, rows: Sequence[tuple[ActionRecord, int | None]]
) -> dict[str, Any]:
    """Write the report; returns ``{"try", "path", "markdown_path", "error"}``, never raises."""
    csv_target, markdown_target = report_targets(
        request.report_path, request.map_index, request.run_id, request.try_number
    )
    outcome: dict[str, Any] = {
        "try": request.try_number,
        "path": csv_target,
        "markdown_path": markdown_target,
        "error": None,
    }
    try:
        _write(request, rows, csv_target, markdown_target)
    except Exception as error:
        outcome["error"] = f"{type(error).__name__}: {error}"[:500]
        log.error("the report could not be written to %s: %s", csv_target, outcome["error"])
    else:
        log.info("report written to %s (summary %s)", csv_target, markdown_target)
    return outcome


def _write(
    request: ReportRequest,
    rows: Sequence[tuple[ActionRecord, int | None]],
    csv_target: str,
    markdown_target: str,
) -> None:
    from airflow_provider_cb.invoicing.audit_report import AuditReport

    folder = Path(tempfile.mkdtemp(prefix="chargebee-report-"))
    try:
        report = AuditReport(
            folder / "report.csv",
            run_id=request.run_id,
            try_number=request.try_number,
            action=request.action,
        )
        try:
            for record, sent_in_try in rows:
                report.add(record, try_number=sent_in_try)
        finally:
            report.close()
        markdown = report.markdown(
            title=f"Chargebee {request.action} report",
            csv_name=PurePosixPath(csv_target).name,
            tries=request.tries,
            extra=request.header,
        )
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
        shutil.rmtree(folder, ignore_errors=True)
