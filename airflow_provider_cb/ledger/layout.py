"""Where a task's ledger file lives, and which period a selection's range names.

``<root>/<site>/<period>/<dag_id>/<run_id>/<task_id>.<map_index>.try-<n>.jsonl``
with ``.summary.json`` beside it (``try-<n>+2`` for the same try run again). A
calendar month is its ``YYYY-MM`` key; any other range (an explicit date filter) is
filed under :data:`NO_PERIOD`, since the ledger claims no month it cannot show.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass
from typing import Any, Protocol, Self, TypeVar

NO_PERIOD = "no-period"
ENTRIES_SUFFIX = ".jsonl"
SUMMARY_SUFFIX = ".summary.json"
REPORTS_FOLDER = "reports"
_MONTH_RANGE = re.compile(
    r"^(?P<month>\d{4}-\d{2})-01\.\.(?P=month)-(?P<last>\d{2}) (?P<zone>\S+)$"
)
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


P = TypeVar("P", bound="StoragePath")


class StoragePath(Protocol):
    """What the ledger needs of a path: ``pathlib.Path`` and ``ObjectStoragePath`` both fit."""

    @property
    def name(self) -> str: ...
    def __truediv__(self, other: str) -> Self: ...
    def iterdir(self) -> Any: ...
    def rglob(self, pattern: str) -> Any: ...
    @property
    def parent(self) -> Self: ...
    def exists(self) -> bool: ...
    def is_dir(self) -> bool: ...
    def mkdir(self, mode: int = ..., parents: bool = ..., exist_ok: bool = ...) -> None: ...
    def read_text(self, encoding: str | None = ...) -> str: ...
    def write_text(self, data: str, encoding: str | None = ...) -> Any: ...
    def read_bytes(self) -> bytes: ...
    def write_bytes(self, data: bytes) -> Any: ...


def safe_name(text: str) -> str:
    """A folder or file name from an id: run ids carry ``:`` and ``+``."""
    return _UNSAFE.sub("-", text).strip("-") or "-"


def period_of(range_label: str | None) -> tuple[str, str | None]:
    """``("2026-10", "Europe/Berlin")`` for a whole calendar month, else ``(NO_PERIOD, zone)``."""
    if not range_label:
        return NO_PERIOD, None
    match = _MONTH_RANGE.match(range_label)
    if match is None:
        zone = range_label.rsplit(" ", 1)[-1] if "/" in range_label.rsplit(" ", 1)[-1] else None
        return NO_PERIOD, zone
    return match["month"], match["zone"]


@dataclass(frozen=True)
class TaskIdentity:
    """What every record of one task try shares: whose action it was, for which period."""

    site: str
    period: str
    period_range: str | None
    timezone: str | None
    dag_id: str
    run_id: str
    try_number: int
    task_id: str
    map_index: int
    action: str
    dry_run: bool
    approver: str | None = None
    invoice_url_prefix: str = ""
    report_path: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    def folder(self, root: StoragePath) -> StoragePath:
        return (
            root
            / safe_name(self.site)
            / safe_name(self.period)
            / safe_name(self.dag_id)
            / (safe_name(self.run_id))
        )

    @property
    def file_stem(self) -> str:
        return f"{safe_name(self.task_id)}.{self.map_index}.try-{self.try_number}"


def free_stem(folder: StoragePath, stem: str, suffix: str) -> str:
    """``stem``, or ``stem+2``, ``stem+3``...: the first that names no file yet."""
    free, runs = stem, 1
    while (folder / (free + suffix)).exists():
        runs += 1
        free = f"{stem}+{runs}"
    return free


def period_folder(root: P, site: str, period: str) -> P:
    return root / safe_name(site) / safe_name(period)
