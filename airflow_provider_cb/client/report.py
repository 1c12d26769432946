"""The audit report of one task: a CSV row per invoice and a Markdown summary.

Rows are streamed to a local file as records arrive, so a bulk task over 100,000
invoices keeps no list of them in memory; totals are kept per outcome and
currency. Nothing here imports Airflow: the operator decides where the files go.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import threading
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from airflow_provider_cb.client.money import (
    format_money,
    major_units,
    summed_amount,
    total_name,
)

if TYPE_CHECKING:
    from airflow_provider_cb.client.outcomes import ActionRecord

COLUMNS = (
    "run_id",
    "try_number",
    "recorded_at",
    "action",
    "invoice_id",
    "customer_id",
    "outcome",
    "reason",
    "status_before",
    "status_after",
    "currency_code",
    "total",
    "amount_due",
    "write_off_amount",
    "idempotency_key",
    "replayed",
    "api_error_code",
    "message",
)
AMOUNT_COLUMNS = ("total", "amount_due", "write_off_amount")
"""Shown in the currency's major unit (``250.07`` for EUR 250.07, ``10000`` for JPY 10,000)."""
MAX_LISTED_FAILURES = 50
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _cell(value: Any) -> str:
    """A value as a spreadsheet shows it; text a spreadsheet would run as a formula is quoted."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    text = str(value)
    if text.startswith(_FORMULA_STARTS) and not _is_number(text):
        return "'" + text
    return text


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


@dataclass
class AuditReport:
    """Collects one task's records into ``csv_file`` (UTF-8 with a byte-order mark)."""

    csv_file: Path
    run_id: str
    try_number: int
    action: str
    counts: Counter[str] = field(default_factory=Counter)
    totals: dict[str, Counter[str]] = field(default_factory=dict)
    failures: list[dict[str, Any]] = field(default_factory=list)
    _handle: IO[str] | None = None
    _writer: Any = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        self._handle = self.csv_file.open("w", encoding="utf-8-sig", newline="")
        self._writer = csv.writer(self._handle)
        self._writer.writerow(COLUMNS)

    def add(self, record: ActionRecord) -> None:
        """One invoice's row; safe to call from the bulk workers' collecting thread."""
        data = record.as_dict()
        outcome = "replayed" if data["outcome"] == "done" and data["replayed"] else data["outcome"]
        row = {
            **data,
            "run_id": self.run_id,
            "try_number": self.try_number,
            "recorded_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        }
        currency = data.get("currency_code")
        if currency:
            for column in AMOUNT_COLUMNS:
                if row.get(column) is not None:
                    row[column] = major_units(row[column], currency)
        summed = summed_amount(
            self.action,
            total=data.get("total"),
            amount_due=data.get("amount_due"),
            write_off_amount=data.get("write_off_amount"),
        )
        with self._lock:
            self._writer.writerow([_cell(row.get(column)) for column in COLUMNS])
            self.counts[outcome] += 1
            if currency and summed is not None:
                self.totals.setdefault(outcome, Counter())[currency] += summed
            if data["outcome"] in ("failed", "not_eligible") and (
                len(self.failures) < MAX_LISTED_FAILURES
            ):
                self.failures.append(data)

    def close(self) -> None:
        with self._lock:
            if self._handle is not None:
                self._handle.close()
                self._handle = None

    def markdown(self, *, title: str, csv_name: str, extra: Mapping[str, Any] | None = None) -> str:
        """The summary an accountant files next to the CSV."""
        out = io.StringIO()
        out.write(f"# {title}\n\n")
        out.write(f"- action: `{self.action}`\n- run: `{self.run_id}` (try {self.try_number})\n")
        for key, value in (extra or {}).items():
            out.write(f"- {key}: {value}\n")
        out.write(f"- invoices: {sum(self.counts.values())} (one row each in `{csv_name}`)\n\n")
        out.write(
            f"## Outcomes\n\n| outcome | invoices | {total_name(self.action)} |\n|---|---:|---|\n"
        )
        for outcome, count in sorted(self.counts.items()):
            money = _per_currency(self.totals.get(outcome, Counter()))
            out.write(f"| {outcome} | {count} | {money or '-'} |\n")
        if self.failures:
            out.write("\n## Needs attention\n\n| invoice | outcome | reason |\n|---|---|---|\n")
            for data in self.failures:
                why = data.get("reason") or data.get("api_error_code") or data.get("message")
                why = str(why or "").replace("|", "\\|").replace("\n", " ")
                out.write(f"| {data['invoice_id']} | {data['outcome']} | {why} |\n")
            more = self.counts["failed"] + self.counts["not_eligible"] - len(self.failures)
            if more > 0:
                out.write(f"\n{more} more in the CSV.\n")
        return out.getvalue()


def _per_currency(amounts: Mapping[str, int]) -> str:
    """``{"EUR": 25007, "JPY": 10000}`` -> ``EUR 250.07, JPY 10,000``."""
    return ", ".join(format_money(amount, currency) for currency, amount in sorted(amounts.items()))


def result_message(result: Mapping[str, Any], *, title: str | None = None) -> str:
    """A task's record or bulk summary as a short message for people (email, chat)."""
    action = result.get("action", "chargebee")
    lines = [title or f"Chargebee {action}"]
    if "counts" in result:
        counts = result["counts"]
        listed = ", ".join(f"{outcome} {n}" for outcome, n in sorted(counts.items()))
        dry = " (dry run)" if result.get("dry_run") else ""
        lines.append(
            f"{result.get('processed', 0)} of {result.get('total', 0)} invoices{dry}: "
            f"{listed or 'nothing to do'}"
        )
        summed = total_name(str(action))
        for outcome, per_currency in sorted(result.get("totals", {}).items()):
            lines.append(f"{outcome}: {_per_currency(per_currency)} ({summed})")
        for currency, invoices in sorted(result.get("largest", {}).items()):
            named = "; ".join(
                f"{i['invoice_id']} ({i['customer_id']}) {format_money(i['amount'], currency)}"
                for i in invoices
            )
            lines.append(f"largest in {currency} by {summed}: {named}")
        records = result.get("records", [])
    else:
        records = [result]
        lines.append(f"{result.get('invoice_id')}: {result.get('outcome')}")
    attention = [r for r in records if r.get("outcome") in ("failed", "not_eligible")]
    for record in attention[:10]:
        why = record.get("reason") or record.get("api_error_code") or record.get("message")
        lines.append(f"- {record.get('invoice_id')} {record.get('outcome')}: {why}")
    if len(attention) > 10:
        lines.append(f"- and {len(attention) - 10} more")
    if result.get("report_path"):
        lines.append(f"report: {result['report_path']}")
    return "\n".join(lines)


def result_markdown(result: Mapping[str, Any], *, title: str | None = None) -> str:
    """:func:`result_message` for a Markdown view (an approval's body): one line each."""
    return "  \n".join(result_message(result, title=title).split("\n"))
