"""The audit report of one task: a CSV row per invoice and a Markdown summary.

Rows are streamed to a local file as records arrive, so a bulk task over 100,000
invoices keeps no list of them in memory; totals are kept per outcome and
currency. Nothing here imports Airflow: the operator decides where the files go.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
import threading
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from airflow_provider_cb.invoicing.money import (
    format_money,
    major_units,
    summed_amount,
    total_name,
)

if TYPE_CHECKING:
    from airflow_provider_cb.invoicing.outcomes import ActionRecord

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
    "invoice_date",
    "idempotency_key",
    "replayed",
    "api_error_code",
    "message",
)
AMOUNT_COLUMNS = ("total", "amount_due", "write_off_amount")
"""Shown in the currency's major unit (``250.07`` for EUR 250.07, ``10000`` for JPY 10,000)."""
MAX_LISTED_FAILURES = 50
NEEDS_ATTENTION = ("failed", "not_eligible", "not_sent")
"""Outcomes a person has to look at: listed by name in the summary and the message."""
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
_MARKDOWN_SPECIAL = re.compile(r"([\\`*_{}\[\]()#!|~])")


def markdown_text(value: Any) -> str:
    """User text (a comment, a name, a reason) as inert Markdown: one line, nothing it can start.

    Newlines would end a table row or start a heading; ``|`` a cell; brackets,
    backticks and emphasis marks a link, code or style; ``<`` an HTML tag. All are
    neutralised, as formulas are in the CSV.
    """
    text = " ".join(str(value).split())
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return _MARKDOWN_SPECIAL.sub(r"\\\1", text)


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

    def add(self, record: ActionRecord, *, try_number: int | None = None) -> None:
        """One invoice's row, naming the try that sent it (this report's try by default)."""
        data = record.as_dict()
        outcome = "replayed" if data["outcome"] == "done" and data["replayed"] else data["outcome"]
        row = {
            **data,
            "run_id": self.run_id,
            "try_number": self.try_number if try_number is None else try_number,
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
            if data["outcome"] in NEEDS_ATTENTION and len(self.failures) < MAX_LISTED_FAILURES:
                self.failures.append(data)

    def close(self) -> None:
        with self._lock:
            if self._handle is not None:
                self._handle.close()
                self._handle = None

    def markdown(
        self,
        *,
        title: str,
        csv_name: str,
        tries: Sequence[int] = (),
        extra: Mapping[str, Any] | None = None,
    ) -> str:
        """The summary an accountant files next to the CSV; every user text escaped."""
        out = io.StringIO()
        out.write(f"# {markdown_text(title)}\n\n")
        out.write(f"- action: {markdown_text(self.action)}\n- run: {markdown_text(self.run_id)}\n")
        listed = ", ".join(str(number) for number in tries) or str(self.try_number)
        out.write(f"- tries: {listed} (this report: try {self.try_number}, covering every try)\n")
        for key, value in (extra or {}).items():
            out.write(f"- {markdown_text(key)}: {markdown_text(value)}\n")
        invoices = sum(self.counts.values())
        out.write(f"- invoices: {invoices} (one row each in {markdown_text(csv_name)})\n\n")
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
                out.write(
                    f"| {data['invoice_id']} | {data['outcome']} | {markdown_text(why or '')} |\n"
                )
            more = sum(self.counts[outcome] for outcome in NEEDS_ATTENTION) - len(self.failures)
            if more > 0:
                out.write(f"\n{more} more in the CSV.\n")
        return out.getvalue()


def _per_currency(amounts: Mapping[str, int]) -> str:
    """``{"EUR": 25007, "JPY": 10000}`` -> ``EUR 250.07, JPY 10,000``."""
    return ", ".join(format_money(amount, currency) for currency, amount in sorted(amounts.items()))


def result_message(result: Mapping[str, Any], *, title: str | None = None) -> str:
    """A task's record or bulk summary as a short message for people (email, chat).

    A preview says ``DRY RUN`` first: nothing it lists was done.
    """
    action = result.get("action", "chargebee")
    dry_run = bool(result.get("dry_run"))
    lines = [("DRY RUN: " if dry_run else "") + (title or f"Chargebee {action}")]
    if len(result.get("tries") or ()) > 1:
        lines.append("over tries " + ", ".join(str(n) for n in result["tries"]))
    if "counts" in result:
        counts = result["counts"]
        listed = ", ".join(f"{outcome} {n}" for outcome, n in sorted(counts.items()))
        dry = " (dry run: nothing was sent)" if dry_run else ""
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
    if result.get("stopped_by"):
        lines.append(f"stopped by: {result['stopped_by']}")
    attention = [r for r in records if r.get("outcome") in NEEDS_ATTENTION]
    for record in attention[:10]:
        why = record.get("reason") or record.get("api_error_code") or record.get("message")
        lines.append(f"- {record.get('invoice_id')} {record.get('outcome')}: {why}")
    if len(attention) > 10:
        lines.append(f"- and {len(attention) - 10} more")
    if result.get("report_path"):
        lines.append(f"report: {result['report_path']}")
    if result.get("report_error"):
        lines.append(f"the report could not be written: {result['report_error']}")
    return "\n".join(lines)


def result_markdown(result: Mapping[str, Any], *, title: str | None = None) -> str:
    """:func:`result_message` for a Markdown view (an approval's body): one escaped line each."""
    lines = result_message(result, title=title).split("\n")
    return "  \n".join(markdown_text(line) for line in lines)
