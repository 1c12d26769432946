"""Appending one task try's records: streamed to a local file, then stored once.

Records arrive from the bulk workers' collecting thread, so appends hold a lock;
lines go to a local spool file so memory stays flat for 100,000 invoices. The
stored file is written once under a name no other try shares; the same try run
again (``airflow tasks test``) gets the next free name, ``...try-1+2.jsonl``.
Nothing is ever overwritten.
"""

from __future__ import annotations

import datetime as dt
import json
import tempfile
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any

from airflow_provider_cb.ledger.layout import (
    ENTRIES_SUFFIX,
    SUMMARY_SUFFIX,
    StoragePath,
    TaskIdentity,
    free_stem,
)
from airflow_provider_cb.ledger.summary import TaskSummary

if TYPE_CHECKING:
    from airflow_provider_cb.invoicing.outcomes import ActionRecord


class TaskLedger:
    """The ledger lines of one task try, kept until :meth:`store` writes them beside the reports."""

    def __init__(self, identity: TaskIdentity) -> None:
        self.identity = identity
        self.summary = TaskSummary.start(identity)
        self._lock = threading.Lock()
        self._spool = tempfile.NamedTemporaryFile(  # noqa: SIM115 - closed by store()
            "w+", encoding="utf-8", prefix="chargebee-ledger-", suffix=".jsonl", delete=False
        )

    def add(self, record: ActionRecord) -> None:
        """One invoice's line: the record without the full invoice, with when and by whom."""
        data = record.as_dict()
        data.pop("invoice", None)
        line = {
            **data,
            "recorded_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            "period": self.identity.period,
            "run_id": self.identity.run_id,
            "try_number": self.identity.try_number,
            "dag_id": self.identity.dag_id,
            "task_id": self.identity.task_id,
            "map_index": self.identity.map_index,
            "dry_run": self.identity.dry_run,
            "approver": self.identity.approver,
        }
        with self._lock:
            self._spool.write(json.dumps(line, sort_keys=True) + "\n")
            self.summary.add(line)

    def store(self, root: StoragePath) -> StoragePath:
        """Write the lines and their summary under ``root``; returns the lines' file."""
        with self._lock:
            self._spool.close()
            spool = Path(self._spool.name)
        try:
            folder = self.identity.folder(root)
            folder.mkdir(parents=True, exist_ok=True)
            stem = free_stem(folder, self.identity.file_stem, ENTRIES_SUFFIX)
            target = folder / (stem + ENTRIES_SUFFIX)
            target.write_bytes(spool.read_bytes())
            self.summary.written_at = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
            (folder / (stem + SUMMARY_SUFFIX)).write_text(self.summary.to_json(), encoding="utf-8")
            return target
        finally:
            spool.unlink(missing_ok=True)

    def __repr__(self) -> str:
        return f"TaskLedger({self.identity.file_stem!r}, {self.summary.invoices} records)"


def entries_of(path: StoragePath) -> list[dict[str, Any]]:
    """The records in one ledger file."""
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]
