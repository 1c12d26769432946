"""The ledger's task summaries, indexed for the month-end page.

Ledger files are written once, so a summary read once stays true: a refresh
lists the folders and reads only the summaries it has not seen. A ledger file
whose summary is missing (the task died between the two writes) is summarised
from its lines.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator

from airflow_provider_cb.ledger.layout import (
    ENTRIES_SUFFIX,
    REPORTS_FOLDER,
    SUMMARY_SUFFIX,
    StoragePath,
)
from airflow_provider_cb.ledger.summary import TaskSummary
from airflow_provider_cb.ledger.writer import entries_of


def _folders(path: StoragePath) -> Iterator[StoragePath]:
    if path.exists():
        yield from sorted((child for child in path.iterdir() if child.is_dir()), key=str)


def period_run_folders(period: StoragePath) -> Iterator[StoragePath]:
    """Every ``<dag_id>/<run_id>`` folder of one ``<site>/<period>`` folder."""
    for dag in _folders(period):
        if dag.name != REPORTS_FOLDER:
            yield from _folders(dag)


def run_folders(root: StoragePath) -> Iterator[StoragePath]:
    """Every ``<site>/<period>/<dag_id>/<run_id>`` folder under the root."""
    for site in _folders(root):
        for period in _folders(site):
            yield from period_run_folders(period)


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

    def __init__(self, root: StoragePath) -> None:
        self.root = root
        self._summaries: dict[str, TaskSummary] = {}
        self._lock = threading.Lock()

    def refresh(self) -> list[TaskSummary]:
        """Every task try's summary, in file order."""
        with self._lock:
            for folder in run_folders(self.root):
                for child in folder.iterdir():
                    name = child.name
                    if not name.endswith(ENTRIES_SUFFIX):
                        continue
                    key = str(child)
                    if key not in self._summaries:
                        self._summaries[key] = read_summary(folder, name[: -len(ENTRIES_SUFFIX)])
            return list(self._summaries.values())
