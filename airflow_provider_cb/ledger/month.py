"""The month report: every chunk, task, try and run of one period and site, in one place.

An invoice's standing for an action is ``done`` when any real (not dry) run acted
on it, whichever run that was; otherwise its latest outcome. So a re-close that
finds nothing left to do never hides what an earlier run closed. Amounts are in
major units with their currency; a write-off's total is the amount written off.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from airflow_provider_cb.invoicing.audit_report import COLUMNS as TASK_REPORT_COLUMNS
from airflow_provider_cb.invoicing.money import format_money
from airflow_provider_cb.ledger.index import period_run_folders, read_summary
from airflow_provider_cb.ledger.layout import (
    ENTRIES_SUFFIX,
    REPORTS_FOLDER,
    P,
    StoragePath,
    free_stem,
    period_folder,
    safe_name,
)
from airflow_provider_cb.ledger.summary import TaskSummary, outcome_key, summed_amount
from airflow_provider_cb.ledger.writer import entries_of

WHO = ("recorded_at", "period", "dag_id", "run_id", "try_number", "task_id", "map_index")
COLUMNS = (
    *WHO,
    "dry_run",
    "approver",
    *(column for column in TASK_REPORT_COLUMNS if column not in WHO),
)
"""A task report's columns, after who acted and for which period: one CSV reads like the other."""
ACTED = ("done", "replayed")


def _cell(value: Any) -> str:
    if value is None:
        return ""
    text = "true" if value is True else "false" if value is False else str(value)
    # A spreadsheet runs text that starts like a formula: keep it text.
    return "'" + text if text[:1] in ("=", "+", "-", "@") and not text[1:2].isdigit() else text


def money_list(per_currency: Mapping[str, int]) -> str:
    return ", ".join(format_money(amount, c) for c, amount in sorted(per_currency.items())) or "-"


@dataclass
class MonthReport:
    """The period's lines and, per action and invoice, where each invoice stands."""

    site: str
    period: str
    ranges: set[str] = field(default_factory=set)
    lines: list[dict[str, Any]] = field(default_factory=list)
    tries: list[TaskSummary] = field(default_factory=list)
    standing: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)

    def add(self, summary: TaskSummary, entries: Iterable[Mapping[str, Any]]) -> None:
        """One task try's ledger file: its summary (a try may have no lines) and its lines."""
        self.tries.append(summary)
        if summary.identity.get("period_range"):
            self.ranges.add(str(summary.identity["period_range"]))
        self.lines.extend(dict(entry) for entry in entries)

    def _settle(self) -> None:
        self.lines.sort(key=lambda e: (str(e.get("recorded_at")), str(e.get("run_id"))))
        self.standing = {}
        for entry in self.lines:
            if entry.get("dry_run"):
                continue
            key = (str(entry.get("action")), str(entry.get("invoice_id")))
            held = self.standing.get(key)
            if held is None or outcome_key(held) not in ACTED:
                self.standing[key] = entry

    @property
    def runs(self) -> list[str]:
        return sorted({str(t.identity.get("run_id")) for t in self.tries})

    def csv_text(self) -> str:
        self._settle()
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow(COLUMNS)
        for entry in self.lines:
            writer.writerow([_cell(entry.get(column)) for column in COLUMNS])
        return "\ufeff" + out.getvalue()

    def title(self) -> str:
        zones = sorted({r.rsplit(" ", 1)[-1] for r in self.ranges}) or ["no zone"]
        ranges = "; ".join(sorted(self.ranges)) or "no selection range"
        return (
            f"Chargebee month report: {self.period} ({ranges}; zone {', '.join(zones)}), "
            f"site {self.site}"
        )

    def markdown(self, *, csv_name: str, written_to: str) -> str:
        self._settle()
        out = io.StringIO()
        out.write(f"# {self.title()}\n\n")
        out.write(
            f"- runs: {len(self.runs)}; task tries: {len(self.tries)}; ledger lines: "
            f"{len(self.lines)} (one row each in `{csv_name}`)\n"
            f"- written to: `{written_to}`\n"
            f"- generated: {dt.datetime.now(dt.UTC).isoformat(timespec='seconds')}\n\n"
        )
        self._write_standing(out)
        self._write_runs(out)
        self._write_attention(out)
        return out.getvalue()

    def _write_standing(self, out: io.StringIO) -> None:
        out.write(
            "## Invoices by outcome\n\nEach invoice once per action: `done` when any run acted "
            "on it, else its latest outcome. Totals are invoice totals; for `write_off`, the "
            "amount written off. Dry runs are listed under runs only.\n\n"
            "| action | outcome | invoices | totals |\n|---|---|---:|---|\n"
        )
        counts: Counter[tuple[str, str]] = Counter()
        totals: dict[tuple[str, str], Counter[str]] = {}
        for (action, _), entry in self.standing.items():
            key = (action, outcome_key(entry))
            counts[key] += 1
            amount, currency = summed_amount(entry), entry.get("currency_code")
            if amount is not None and currency:
                totals.setdefault(key, Counter())[str(currency)] += amount
        for key in sorted(counts):
            money = money_list(totals.get(key, Counter()))
            out.write(f"| {key[0]} | {key[1]} | {counts[key]} | {money} |\n")
        if not counts:
            out.write("| - | - | 0 | - |\n")

    def _write_runs(self, out: io.StringIO) -> None:
        out.write(
            "\n## Runs\n\n| run | task | try | dry run | approver | outcomes |\n"
            "|---|---|---:|---|---|---|\n"
        )
        for summary in sorted(self.tries, key=_try_order):
            who = summary.identity
            task = (
                who.get("task_id")
                if int(who.get("map_index", -1)) < 0
                else (f"{who.get('task_id')}[{who.get('map_index')}]")
            )
            listed = ", ".join(f"{o} {n}" for o, n in sorted(summary.counts.items()))
            out.write(
                f"| `{who.get('run_id')}` | {task} | {who.get('try_number')} | "
                f"{'yes' if who.get('dry_run') else 'no'} | {who.get('approver') or '-'} | "
                f"{listed or 'nothing to do'} |\n"
            )

    def _write_attention(self, out: io.StringIO) -> None:
        waiting = [
            e for e in self.standing.values() if e.get("outcome") in ("failed", "not_eligible")
        ]
        if not waiting:
            return
        out.write(
            "\n## Needs attention\n\n| invoice | action | outcome | reason | run |\n"
            "|---|---|---|---|---|\n"
        )
        for entry in sorted(waiting, key=lambda e: str(e.get("invoice_id"))):
            why = entry.get("reason") or entry.get("api_error_code") or entry.get("message") or ""
            why = str(why).replace("|", "\\|").replace("\n", " ")
            out.write(
                f"| {entry.get('invoice_id')} | {entry.get('action')} | {entry.get('outcome')} "
                f"| {why} | `{entry.get('run_id')}` |\n"
            )


def build_month_report(root: StoragePath, site: str, period: str) -> MonthReport:
    """Every ledger file of the period and site: all DAGs, runs, tasks, chunks and tries."""
    report = MonthReport(site=site, period=period)
    folder = period_folder(root, site, period)
    for run in period_run_folders(folder):
        for child in sorted(run.iterdir(), key=str):
            if child.name.endswith(ENTRIES_SUFFIX):
                stem = child.name[: -len(ENTRIES_SUFFIX)]
                report.add(read_summary(run, stem), entries_of(child))
    return report


def _try_order(summary: TaskSummary) -> list[str]:
    who = summary.identity
    return [str(who.get(k)) for k in ("run_id", "task_id", "map_index", "try_number")]


def write_month_report(
    root: P,
    site: str,
    period: str,
    version: str,
    shown: Callable[[P], str] = str,
) -> tuple[P, P]:
    """The CSV and Markdown under ``<site>/<period>/reports/``, named by ``version``.

    Never rewritten: the same version written again is ``...+2.md``; ``shown`` is how the
    report names where it was written.
    """
    report = build_month_report(root, site, period)
    folder = period_folder(root, site, period) / REPORTS_FOLDER
    folder.mkdir(parents=True, exist_ok=True)
    stem = free_stem(folder, f"month-{safe_name(period)}.{safe_name(version)}", ".md")
    csv_file, markdown_file = folder / f"{stem}.csv", folder / f"{stem}.md"
    csv_file.write_text(report.csv_text(), encoding="utf-8")
    markdown_file.write_text(
        report.markdown(csv_name=csv_file.name, written_to=shown(markdown_file)), encoding="utf-8"
    )
    return csv_file, markdown_file
