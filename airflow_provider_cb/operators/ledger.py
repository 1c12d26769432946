"""The month ledger from Airflow's side: where it lives, whose task wrote it, for which period.

The location is one setting, ``[chargebee] ledger_path`` (environment:
``AIRFLOW__CHARGEBEE__LEDGER_PATH``), a local path or any ``ObjectStoragePath``
URL; by default ``$AIRFLOW_HOME/chargebee-ledger``. The month-end page reads
the same setting. The period comes from the upstream selection's plan (or, when
that claims no month, from when the run acts), the approver from an upstream
human-in-the-loop task's answer.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING

from airflow_provider_cb.chargebee_api.storeurl import redacted_store_url
from airflow_provider_cb.invoicing.months import month_of, zone
from airflow_provider_cb.ledger.layout import (
    NO_PERIOD,
    StoragePath,
    TaskIdentity,
    period_of,
    safe_name,
)
from airflow_provider_cb.ledger.writer import TaskLedger
from airflow_provider_cb.operators.endings import selection_period
from airflow_provider_cb.operators.periods import month_period
from airflow_provider_cb.operators.report import report_targets
from airflow_provider_cb.operators.selection import PLAN_XCOM_KEY

if TYPE_CHECKING:
    from airflow.sdk import Context, ObjectStoragePath

    from airflow_provider_cb.operators.action import InvoiceActionOperator

log = logging.getLogger(__name__)

LEDGER_SECTION = "chargebee"
LEDGER_OPTION = "ledger_path"
DEFAULT_FOLDER = "chargebee-ledger"


def ledger_location() -> str:
    """The configured ledger path or URL, or the default under ``AIRFLOW_HOME``."""
    from airflow.sdk.configuration import conf

    configured = conf.get(LEDGER_SECTION, LEDGER_OPTION, fallback=None)
    if configured and str(configured).strip():
        return str(configured).strip()
    home = os.environ.get("AIRFLOW_HOME") or str(Path("~/airflow").expanduser())
    return str(Path(home) / DEFAULT_FOLDER)


def ledger_root(location: str | None = None) -> ObjectStoragePath:
    """The ledger's folder: ``location``, or the configured one."""
    from airflow.sdk import ObjectStoragePath

    location = location or ledger_location()
    if "://" not in location:
        location = "file://" + str(Path(location).absolute())
    return ObjectStoragePath(location)


def shown(path: StoragePath) -> str:
    """A local file as a plain path, anything else as its URL without a password."""
    if getattr(path, "protocol", None) in ("file", "local"):
        return str(getattr(path, "path", path))
    return redacted_store_url(str(path))


def _approver(operator: InvoiceActionOperator, context: Context) -> str | None:
    """Who answered an upstream approval (Airflow records the responder), if one did."""
    try:
        from airflow.providers.standard.operators.hitl import HITLOperator
    except ImportError:  # a standard provider without human-in-the-loop: nobody approved
        return None
    dag = operator.get_dag()
    upstream = sorted(operator.upstream_task_ids)
    asked = [t for t in upstream if dag is not None and isinstance(dag.get_task(t), HITLOperator)]
    for answer in context["ti"].xcom_pull(task_ids=asked) if asked else []:
        user = answer.get("responded_by_user") if isinstance(answer, Mapping) else None
        if isinstance(user, Mapping) and user.get("name"):
            return str(user["name"])
    return None


def _site(operator: InvoiceActionOperator) -> tuple[str, str]:
    """The site's ledger name (``acme``, ``acme-test``) and its invoice pages' URL prefix."""
    settings = operator.hook.get_conn().settings
    site = (settings.site or "no-site") + ("-test" if settings.test_site else "")
    # The page URL of an invoice is this prefix and the escaped id.
    probe = "0"
    page = operator.hook.invoice_url(probe)
    return site, page[: -len(probe)] if page else ""


def ledger_period(period_range: str | None, context: Context) -> tuple[str, str | None, str | None]:
    """The period, range and zone the try's lines are filed under.

    A selection of a calendar month names it. Any other (an explicit ``date`` filter,
    as the write-off example's "unpaid for over a year") claims no month of invoices,
    so the lines go under the month the run acts in: the end of its data interval
    (a scheduled run's due time), else when it was triggered, in the selection's
    zone or UTC. Outside a run nothing names a month: ``no-period``.
    """
    period, tz = period_of(period_range)
    if period != NO_PERIOD:
        return period, period_range, tz
    dag_run = context.get("dag_run")
    acted = context.get("data_interval_end") or getattr(dag_run, "run_after", None)
    if acted is None:
        return NO_PERIOD, period_range, tz
    tz = tz or "UTC"
    year, month = month_of(int(acted.timestamp()), zone(tz))
    acted_in = month_period(year, month, tz, "the month the run acts in").label()
    selection = f"{period_range}, " if period_range else ""
    return f"{year}-{month:02d}", f"{selection}acted {acted_in}", tz


def start_ledger(operator: InvoiceActionOperator, context: Context, map_index: int) -> TaskLedger:
    """The ledger of this task try, before anything is sent."""
    ti = context["ti"]
    upstream = sorted(operator.upstream_task_ids)
    plans = ti.xcom_pull(task_ids=upstream, key=PLAN_XCOM_KEY) if upstream else []
    period, period_range, zone_name = ledger_period(selection_period(plans or []), context)
    site, invoice_pages = _site(operator)
    # An operator executed outside a task run (a user's unit test) has one try.
    try_number = getattr(ti, "try_number", None) or 1
    identity = TaskIdentity(
        site=site,
        period=period,
        period_range=period_range,
        timezone=zone_name,
        dag_id=operator.dag_id,
        run_id=context["run_id"],
        try_number=try_number,
        task_id=operator.task_id,
        map_index=map_index,
        action=operator.action.name,
        dry_run=operator.is_dry_run is True,
        approver=_approver(operator, context),
        invoice_url_prefix=invoice_pages,
        report_path=(
            report_targets(operator.report_path, map_index, context["run_id"], try_number)[0]
            if operator.report_path is not None
            else None
        ),
    )
    return TaskLedger(identity)


def store_ledger(ledger: TaskLedger) -> str:
    """Write the try's lines beside the reports, and say where in the log."""
    target = shown(ledger.store(ledger_root()))
    identity = ledger.identity
    task = identity.task_id
    if identity.map_index >= 0:
        task = f"{task}[{identity.map_index}]"
    log.info(
        "ledger: %d records of %s try %d for %s (%s), site %s: %s",
        ledger.summary.invoices,
        task,
        identity.try_number,
        identity.period,
        identity.period_range or "no selection period",
        identity.site,
        target,
    )
    return target


def publish_month_reports(context: Context) -> list[str]:
    """The month report of every period and site this run wrote to, versioned by run and try.

    Call it from a task after the action tasks (the example month-end DAG's report
    does): it covers every run of the period, earlier re-closes included.
    """
    from airflow_provider_cb.ledger.month import write_month_report

    ti = context["ti"]
    root = ledger_root()
    run_folder = safe_name(context["run_id"])
    written: list[str] = []
    for site in (s for s in root.iterdir() if s.is_dir()) if root.exists() else ():
        for period in (p for p in site.iterdir() if p.is_dir()):
            if not (period / safe_name(ti.dag_id) / run_folder).exists():
                continue
            version = f"{context['run_id']}.try-{ti.try_number}"
            csv_file, markdown_file = write_month_report(
                root, site.name, period.name, version, shown
            )
            log.info(
                "month report for %s, site %s: %s (rows in %s)",
                period.name,
                site.name,
                shown(markdown_file),
                shown(csv_file),
            )
            written.append(shown(markdown_file))
    return written
