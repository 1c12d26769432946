"""One task try's ledger file in brief: counts and totals per outcome, what needs attention.

The summary is written beside the entries so the month-end page reads a few
hundred bytes per task instead of every invoice's line; it is built from the
same records as they are appended, so it cannot disagree with them.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from airflow_provider_cb.ledger.layout import TaskIdentity

ATTENTION = ("failed", "not_eligible")
LISTED_ATTENTION = 50
"""Failed and not-eligible invoices a summary names; the month report names them all."""


def outcome_key(record: Mapping[str, Any]) -> str:
    """A replayed action is counted apart from a fresh one, as in task summaries."""
    outcome = str(record.get("outcome"))
    return "replayed" if outcome == "done" and record.get("replayed") else outcome


def summed_amount(record: Mapping[str, Any]) -> int | None:
    """The amount a total sums: what was written off for a write-off, else the invoice total."""
    if record.get("action") == "write_off" and record.get("write_off_amount") is not None:
        return int(record["write_off_amount"])
    total = record.get("total")
    return int(total) if total is not None else None


@dataclass
class TaskSummary:
    """Counts, totals per outcome and currency, and the invoices that need attention."""

    identity: dict[str, Any]
    invoices: int = 0
    counts: Counter[str] = field(default_factory=Counter)
    totals: dict[str, Counter[str]] = field(default_factory=dict)
    attention: list[dict[str, Any]] = field(default_factory=list)
    written_at: str | None = None

    @classmethod
    def start(cls, identity: TaskIdentity) -> TaskSummary:
        return cls(identity=identity.as_dict())

    def add(self, record: Mapping[str, Any]) -> None:
        key = outcome_key(record)
        self.invoices += 1
        self.counts[key] += 1
        amount, currency = summed_amount(record), record.get("currency_code")
        if amount is not None and currency:
            self.totals.setdefault(key, Counter())[str(currency)] += amount
        if record.get("outcome") in ATTENTION and len(self.attention) < LISTED_ATTENTION:
            self.attention.append(
                {
                    "invoice_id": record.get("invoice_id"),
                    "outcome": record.get("outcome"),
                    "reason": record.get("reason")
                    or record.get("api_error_code")
                    or record.get("message"),
                    "currency_code": currency,
                    "amount": amount,
                }
            )

    def as_dict(self) -> dict[str, Any]:
        return {
            "identity": self.identity,
            "invoices": self.invoices,
            "counts": dict(sorted(self.counts.items())),
            "totals": {k: dict(sorted(v.items())) for k, v in sorted(self.totals.items())},
            "attention": self.attention,
            "written_at": self.written_at,
        }

    def to_json(self) -> str:
        return json.dumps(self.as_dict(), sort_keys=True)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> TaskSummary:
        return cls(
            identity=dict(data["identity"]),
            invoices=int(data.get("invoices", 0)),
            counts=Counter(data.get("counts", {})),
            totals={k: Counter(v) for k, v in data.get("totals", {}).items()},
            attention=list(data.get("attention", [])),
            written_at=data.get("written_at"),
        )

    @classmethod
    def of_entries(
        cls, identity: Mapping[str, Any], entries: Iterable[Mapping[str, Any]]
    ) -> TaskSummary:
        """A summary rebuilt from a ledger file whose summary was never written (a crash)."""
        summary = cls(identity=dict(identity))
        for entry in entries:
            summary.add(entry)
        return summary
