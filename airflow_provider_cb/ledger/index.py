"""The ledger's task summaries, indexed for the month-end page.

Ledger files are written once, so a summary read once stays true: a refresh
lists the ledger files and reads only the summaries it has not seen, and lists
at most every :data:`LIST_INTERVAL` seconds (a page load asks several times). A
ledger file whose summary is missing (the task died between the two writes) is
summarised from its lines.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator

from airflow_provider_cb.ledger.layout import (
    ENTRIES_SUFFIX,
    REPORTS_FOLDER,
    SUMMARY_SUFFIX,
    StoragePath,
)
from airflow_provider_cb.ledger.summary import TaskSummary
from airflow_provider_cb.ledger.writer import entries_of

LIST_INTERVAL = 2.0


def _folders(path: StoragePath) -> Iterator[StoragePath]:
    if path.exists():
        yield from sorted((child for child in path.iterdir() if child.is_dir()), key=str)


def period_run_folders(period: StoragePath) -> Iterator[StoragePath]:
    """Every ``<dag_id>/<run_id>`` folder of one ``<site>/<period>`` folder."""
    for dag in _folders(period):
        if dag.name != REPORTS_FOLDER:
            yield from _folders(dag)


def read_summary(folder: StoragePath, stem: str) -> TaskSummary:
    """A file's summary, or one rebuilt from its lines when the summary was never written."""
    summary_file = folder / (stem + SUMMARY_SUFFIX)
    if summary_file.exists():
        return TaskSummary.from_dict(json.loads(summary_file.read_text(encoding="utf-8")))
    entries = entries_of(folder / (stem + ENTRIES_SUFFIX))
    first = entries[0] if entries else {}
    identity = {
        name: first.get(name)
        for name in ("period", "run_id", "try_number", "dag_id", "task_id", "map_index", "dry_run")
    }
    return TaskSummary.of_entries(identity, entries)


class LedgerIndex:
    """Summaries by file, kept across requests; :meth:`refresh` reads only new files."""

    def __init__(self, root: StoragePath, list_interval: float = LIST_INTERVAL) -> None:
        self.root = root
        self.list_interval = list_interval
        self._summaries: dict[str, TaskSummary] = {}
        self._lock = threading.Lock()
        self._listed_at = -list_interval

    def refresh(self) -> list[TaskSummary]:
        """Every task try's summary."""
        with self._lock:
            if time.monotonic() - self._listed_at >= self.list_interval:
                self._read_new()
                self._listed_at = time.monotonic()
            return list(self._summaries.values())

    def _read_new(self) -> None:
        if not self.root.exists():
            return
        for child in self.root.rglob("*" + ENTRIES_SUFFIX):
            key = str(child)
            if key not in self._summaries:
                stem = child.name[: -len(ENTRIES_SUFFIX)]
                self._summaries[key] = read_summary(child.parent, stem)
