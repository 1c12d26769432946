"""What the month-end page shows, from the ledger index and the DAGs a user may read.

No web framework here: the page's API turns these dicts into JSON. A period's
counts and totals add up the latest try of each task of each real run (a dry run
is listed, not counted); amounts are shown in major units with their currency.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection, Iterable, Mapping
from typing import Any
from urllib.parse import quote

from airflow_provider_cb.invoicing.money import format_money
from airflow_provider_cb.ledger.summary import TaskSummary

RUNS_LISTED = 20
"""Runs a period's overview names; the period's own page lists them all."""


def _key(summary: TaskSummary) -> tuple[str, str]:
    return str(summary.identity.get("site")), str(summary.identity.get("period"))


def readable(summaries: Iterable[TaskSummary], dag_ids: Collection[str]) -> list[TaskSummary]:
    """Only what DAGs the user may read wrote."""
    return [s for s in summaries if s.identity.get("dag_id") in dag_ids]


def latest_tries(summaries: Iterable[TaskSummary]) -> list[TaskSummary]:
    """The last try of each task (and map index) of each run."""
    latest: dict[tuple[Any, ...], TaskSummary] = {}
    for summary in summaries:
        who = summary.identity
        task = (who.get("dag_id"), who.get("run_id"), who.get("task_id"), who.get("map_index"))
        held = latest.get(task)
        if held is None or int(who.get("try_number", 0)) > int(held.identity["try_number"]):
            latest[task] = summary
    return list(latest.values())


def money(totals: Mapping[str, Mapping[str, int]]) -> dict[str, list[str]]:
    return {
        outcome: [format_money(amount, currency) for currency, amount in sorted(per.items())]
        for outcome, per in sorted(totals.items())
    }


def _add_up(summaries: Iterable[TaskSummary]) -> tuple[Counter[str], dict[str, Counter[str]]]:
    counts: Counter[str] = Counter()
    totals: dict[str, Counter[str]] = {}
    for summary in latest_tries(summaries):
        if summary.identity.get("dry_run"):
            continue
        counts.update(summary.counts)
        for outcome, per in summary.totals.items():
            totals.setdefault(outcome, Counter()).update(per)
    return counts, totals


def log_url(identity: Mapping[str, Any]) -> str:
    """The task try's log in the Airflow UI."""
    path = (
        f"dags/{quote(str(identity.get('dag_id')), safe='')}/runs/"
        f"{quote(str(identity.get('run_id')), safe='')}/tasks/"
        f"{quote(str(identity.get('task_id')), safe='')}"
    )
    map_index = int(identity.get("map_index", -1))
    if map_index >= 0:
        path += f"/mapped/{map_index}"
    return f"{path}?try_number={identity.get('try_number')}"


def periods(summaries: Iterable[TaskSummary]) -> list[dict[str, Any]]:
    """Each site and period, newest first: runs, counts and totals, how much needs attention."""
    grouped: dict[tuple[str, str], list[TaskSummary]] = {}
    for summary in summaries:
        grouped.setdefault(_key(summary), []).append(summary)
    ordered = sorted(grouped.items(), key=lambda item: (item[0][1], item[0][0]), reverse=True)
    # Months (``YYYY-MM``) newest first, then what no month can claim.
    ordered.sort(key=lambda item: not item[0][1][:4].isdigit())
    listed = []
    for (site, period), members in ordered:
        counts, totals = _add_up(members)
        last_written: dict[tuple[str, str], str] = {}
        for m in members:
            run = (str(m.identity.get("run_id")), str(m.identity.get("dag_id")))
            last_written[run] = max(last_written.get(run, ""), str(m.written_at))
        runs = sorted(last_written, key=last_written.__getitem__, reverse=True)
        listed.append(
            {
                "site": site,
                "period": period,
                "ranges": sorted(
                    {
                        str(m.identity["period_range"])
                        for m in members
                        if m.identity.get("period_range")
                    }
                ),
                "dags": sorted({str(m.identity.get("dag_id")) for m in members}),
                "run_count": len(runs),
                "runs": [{"run_id": r, "dag_id": d} for r, d in runs[:RUNS_LISTED]],
                "counts": dict(sorted(counts.items())),
                "totals": money(totals),
                "attention": counts.get("failed", 0) + counts.get("not_eligible", 0),
            }
        )
    return listed


def period_detail(
    summaries: Iterable[TaskSummary], site: str, period: str, reports: list[str]
) -> dict[str, Any]:
    """One period: every run's task tries with links, and the invoices that need attention."""
    members = [s for s in summaries if _key(s) == (site, period)]
    counts, totals = _add_up(members)
    latest = {id(s) for s in latest_tries(members)}
    runs: dict[str, dict[str, Any]] = {}
    attention = []
    for summary in sorted(members, key=lambda s: str(s.written_at)):
        who = summary.identity
        run = runs.setdefault(
            str(who.get("run_id")),
            {"run_id": who.get("run_id"), "dag_id": who.get("dag_id"), "tasks": []},
        )
        run["tasks"].append(
            {
                "task_id": who.get("task_id"),
                "map_index": who.get("map_index"),
                "try_number": who.get("try_number"),
                "action": who.get("action"),
                "dry_run": bool(who.get("dry_run")),
                "approver": who.get("approver"),
                "invoices": summary.invoices,
                "counts": dict(sorted(summary.counts.items())),
                "totals": money(summary.totals),
                "written_at": summary.written_at,
                "log_url": log_url(who),
                "report_path": who.get("report_path"),
                "file": f"{who.get('dag_id')}/{who.get('run_id')}/{who.get('task_id')}"
                f"/{who.get('map_index')}/{who.get('try_number')}",
            }
        )
        if id(summary) not in latest or who.get("dry_run"):
            continue
        for item in summary.attention:
            amount, currency = item.get("amount"), item.get("currency_code")
            prefix = str(who.get("invoice_url_prefix") or "")
            attention.append(
                {
                    **item,
                    "amount": format_money(amount, currency)
                    if amount is not None and currency
                    else None,
                    "run_id": who.get("run_id"),
                    "dag_id": who.get("dag_id"),
                    "task_id": who.get("task_id"),
                    "log_url": log_url(who),
                    "invoice_url": prefix + quote(str(item.get("invoice_id")), safe="")
                    if prefix
                    else None,
                }
            )
    return {
        "site": site,
        "period": period,
        "ranges": sorted(
            {str(m.identity["period_range"]) for m in members if m.identity.get("period_range")}
        ),
        "counts": dict(sorted(counts.items())),
        "totals": money(totals),
        "runs": sorted(runs.values(), key=lambda r: str(r["run_id"]), reverse=True),
        "attention": attention,
        "reports": reports,
    }
