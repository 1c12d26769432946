"""Appending one task try's records: streamed to a local file, then stored once.

Records arrive from the bulk workers' collecting thread, so appends hold a lock;
lines go to a local spool file so memory stays flat for 100,000 invoices. The
stored file is written once under a name no other try shares, and a name that
exists already is refused rather than overwritten.
"""

from __future__ import annotations

import datetime as dt
import json
import tempfile
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any

from airflow_provider_cb.ledger.layout import StoragePath, TaskIdentity
from airflow_provider_cb.ledger.summary import TaskSummary

if TYPE_CHECKING:
    from airflow_provider_cb.client.outcomes import ActionRecord


class LedgerExistsError(FileExistsError):
    """A ledger file of this run, try, task and map index is there already: never rewritten."""


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
            target = self.identity.entries_file(root)
            if target.exists():
                raise LedgerExistsError(f"{target} exists: a ledger file is never rewritten")
            target_folder = self.identity.folder(root)
            target_folder.mkdir(parents=True, exist_ok=True)
            target.write_bytes(spool.read_bytes())
            self.summary.written_at = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
            self.identity.summary_file(root).write_text(self.summary.to_json(), encoding="utf-8")
            return target
        finally:
            spool.unlink(missing_ok=True)

    def discard(self) -> None:
        """Drop the spool without storing (nothing was acted on)."""
        with self._lock:
            self._spool.close()
            Path(self._spool.name).unlink(missing_ok=True)

    def __repr__(self) -> str:
        return f"TaskLedger({self.identity.file_stem!r}, {self.summary.invoices} records)"


def entries_of(path: StoragePath) -> list[dict[str, Any]]:
    """The records in one ledger file."""
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]
