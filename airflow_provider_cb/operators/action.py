"""The shared base of every invoice action operator.

A subclass names its :class:`~airflow_provider_cb.client.invoices.InvoiceAction`
and takes that endpoint's body fields as keyword arguments (Airflow checks
``partial()`` and ``expand()`` arguments against ``__init__`` signatures);
template fields, validation and state handling all come from the entry.
Modules that open connections are imported in ``run`` so that parsing a DAG
file stays cheap.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Collection, Sequence
from typing import TYPE_CHECKING, Any, ClassVar

from airflow.sdk import BaseOperatorLink

from airflow_provider_cb.client.errors import ChargebeeValidationError
from airflow_provider_cb.client.idempotency import DEFAULT_IDENTITY_TEMPLATE, derive_key
from airflow_provider_cb.client.invoices import InvoiceAction
from airflow_provider_cb.client.validation import rendered_invoice_id, rendered_invoice_ids
from airflow_provider_cb.links import ChargebeeInvoiceLink
from airflow_provider_cb.operators.base import ChargebeeBaseOperator
from airflow_provider_cb.operators.bulk import log_preview, log_start, name_chunk
from airflow_provider_cb.operators.endings import (
    Verdicts,
    asset_event_extra,
    push_result,
    selection_period,
)
from airflow_provider_cb.operators.ledger import start_ledger, store_ledger
from airflow_provider_cb.operators.report import publish_report, report_targets, start_report
from airflow_provider_cb.operators.selection import PLAN_XCOM_KEY

if TYPE_CHECKING:
    from airflow.sdk import Context

    from airflow_provider_cb.client.bulk import BulkSummary
    from airflow_provider_cb.client.clients import ChargebeeClient
    from airflow_provider_cb.client.outcomes import ActionRecord
    from airflow_provider_cb.client.report import AuditReport
    from airflow_provider_cb.ledger.writer import TaskLedger

log = logging.getLogger(__name__)

# ``dry_run`` is kept as ``is_dry_run``: BaseOperator.dry_run() is a method.
COMMON_TEMPLATE_FIELDS = (
    *ChargebeeBaseOperator.template_fields,
    "invoice_id",
    "invoice_ids",
    "idempotency_key",
    "skip_events",
    "is_dry_run",
    "report_path",
)


def action_template_fields(action: InvoiceAction) -> tuple[str, ...]:
    return (*COMMON_TEMPLATE_FIELDS, *action.field_names)


def _strict_bool(param: str, value: Any) -> bool:
    """A bool, or the text a template renders from one; anything else is refused."""
    if isinstance(value, bool):
        return value
    if value in ("true", "True"):
        return True
    if value in ("false", "False"):
        return False
    raise ChargebeeValidationError(
        param, f"{value!r:.60} is not a boolean (true/false, True/False or a bool param)"
    )


class InvoiceActionOperator(ChargebeeBaseOperator):
    """Run one Chargebee invoice action on one invoice or, in bulk, on many.

    :param invoice_id: the invoice to act on (templated; may come from XCom).
    :param invoice_ids: many invoices at once (a list, XComArg or template); exclusive
        with ``invoice_id``. Returns a summary instead of a single record.
    :param chargebee_conn_id: the Chargebee connection (templated).
    :param dry_run: read the invoices and report what would happen; send no POST.
        Templated: renders to a strict boolean (``true``/``false``, ``True``/``False``).
    :param if_already_done: ``succeed`` (default), ``skip`` or ``fail``. A bulk task is
        never skipped for some of its invoices: there ``skip`` records and goes on.
    :param if_not_eligible: ``fail`` (default), ``skip`` or ``succeed`` (record it); in
        bulk, ``skip`` records and goes on.
    :param failure_policy: bulk only: ``fail_at_end`` (default), ``fail_fast`` or ``record``.
    :param skip_events: suppress Chargebee's ``actions``, ``webhook`` and/or ``email``.
    :param idempotency_key: template naming the attempt; the key sent is derived from it,
        the action and the invoice id. The default names DAG, task, run and map index.
    :param include_invoice: put the full invoice in each record.
    :param max_workers: bulk only: concurrent requests.
    :param canary_size: bulk only: act on the first N invoices, and on the rest only
        when none of those failed.
    :param requests_per_minute: override the connection's rate budget for this task.
    :param report_path: write an audit report after the task (templated): a CSV with
        one row per invoice and a Markdown summary beside it, to a local path or any
        URL ``ObjectStoragePath`` takes; a mapped task's files carry its map index.
    """

    action: ClassVar[InvoiceAction]
    template_fields: Sequence[str] = COMMON_TEMPLATE_FIELDS
    ui_color = "#ffd7c2"
    operator_extra_links: Collection[BaseOperatorLink] = (ChargebeeInvoiceLink(),)

    def __init__(
        self,
        *,
        invoice_id: str | None = None,
        invoice_ids: Any = None,
        dry_run: bool | str = False,
        if_already_done: str = "succeed",
        if_not_eligible: str = "fail",
        failure_policy: str = "fail_at_end",
        skip_events: Any = None,
        idempotency_key: str = DEFAULT_IDENTITY_TEMPLATE,
        include_invoice: bool = False,
        max_workers: int = 8,
        requests_per_minute: float | None = None,
        canary_size: int | None = None,
        report_path: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        if (invoice_id is None) == (invoice_ids is None):
            raise ValueError(
                f"{self.task_id}: pass exactly one of invoice_id (one invoice) "
                "or invoice_ids (bulk)"
            )
        if not 1 <= max_workers <= 64:
            raise ValueError(f"max_workers: {max_workers!r} must be from 1 to 64")
        if not isinstance(dry_run, bool | str):
            raise ValueError(f"dry_run: {dry_run!r} must be a bool or a template")
        if canary_size is not None and (
            isinstance(canary_size, bool) or not isinstance(canary_size, int) or canary_size < 1
        ):
            raise ValueError(f"canary_size: {canary_size!r} must be a positive integer")
        self.invoice_id = invoice_id
        self.invoice_ids = invoice_ids
        # Decided here: a template may render either field to None at run time.
        self._bulk = invoice_ids is not None
        if self._bulk:
            self.operator_extra_links = ()  # many invoices have no one page to link to
        self.is_dry_run = dry_run
        self._verdicts = Verdicts(if_already_done, if_not_eligible, failure_policy)
        self.if_already_done = if_already_done
        self.if_not_eligible = if_not_eligible
        self.failure_policy = failure_policy
        self.skip_events = skip_events
        self.idempotency_key = idempotency_key
        self.include_invoice = include_invoice
        self.max_workers = max_workers
        self.requests_per_minute = requests_per_minute
        self._bulk_running = False
        self.canary_size = canary_size
        self.report_path = report_path
        self._report: AuditReport | None = None
        self._report_target: str | None = None
        self._ledger: TaskLedger | None = None

    def body_fields(self) -> dict[str, Any]:
        """The endpoint's body fields, checked; raises before anything is sent."""
        values = {name: getattr(self, name, None) for name in self.action.field_names}
        return self.action.build_body(values)

    def hook_options(self) -> dict[str, Any]:
        return {"skip_events": self.skip_events, "requests_per_minute": self.requests_per_minute}

    def run(self, context: Context) -> dict[str, Any]:
        result = self._act_on_all(context)
        if self.outlets:
            # Each outlet's asset event carries the summary, for the DAGs scheduled on it.
            upstream = sorted(self.upstream_task_ids)
            plans = (
                context["ti"].xcom_pull(task_ids=upstream, key=PLAN_XCOM_KEY) if upstream else []
            )
            extra = asset_event_extra(
                result, run_id=context["run_id"], period=selection_period(plans or [])
            )
            for outlet in self.outlets:
                context["outlet_events"][outlet].extra.update(extra)
        return result

    def on_kill(self) -> None:
        """SIGTERM during a bulk run: stop it where it is, so its summary is saved first.

        Airflow calls this from the SIGTERM handler and lets ``execute`` run on; the
        exception raised here unwinds the bulk run, which records every invoice in
        flight, and ``_run_bulk`` pushes the summary before the task ends.
        """
        if self._bulk_running:
            from airflow.sdk.exceptions import AirflowTaskTerminated

            raise AirflowTaskTerminated(f"{self.task_id}: terminated during a bulk run")

    def _act_on_all(self, context: Context) -> dict[str, Any]:
        self.is_dry_run = _strict_bool("dry_run", self.is_dry_run)
        fields = self.body_fields()
        identity = self.idempotency_key
        ids = (
            rendered_invoice_ids("invoice_ids", self.invoice_ids)
            if self._bulk
            else [rendered_invoice_id("invoice_id", self.invoice_id)]
        )
        keys = {
            invoice_id: derive_key(identity, self.action.name, invoice_id) for invoice_id in ids
        }
        ti = context["ti"]
        map_index = ti.map_index if ti.map_index is not None else -1
        ledger = self._ledger = start_ledger(self, context, map_index)
        if self.report_path is not None:
            self._report_target = report_targets(self.report_path, map_index)[0]
            self._report = start_report(context["run_id"], ti.try_number, self.action.name)
        try:
            client = self.hook.get_conn()
            if self.execution_timeout is not None:
                # Waiting out an in-flight duplicate never outlasts the task.
                client.deadline = time.monotonic() + self.execution_timeout.total_seconds()
            if not self._bulk:
                record = self._act(client, ids[0], fields, keys[ids[0]])
                self._listen(record)
                return self._finish_single(context, record)
            return self._run_bulk(context, client, ids, fields, keys)
        finally:
            store_ledger(ledger)
            if self._report is not None and self.report_path is not None:
                # Whatever ended the task, the report says what is known.
                publish_report(
                    self._report,
                    self.report_path,
                    map_index,
                    {
                        "task": f"`{self.task_id}`",
                        "dry run": "yes" if self.is_dry_run else "no",
                        **fields,  # what Chargebee was sent: the comment names the approver
                    },
                )

    def _act(
        self, client: ChargebeeClient, invoice_id: str, fields: dict[str, Any], key: str
    ) -> ActionRecord:
        from airflow_provider_cb.client.outcomes import perform_action, preview_action

        if self.is_dry_run:
            return preview_action(
                client,
                self.action,
                invoice_id,
                include_invoice=self.include_invoice,
                fields=fields,
            )
        return perform_action(
            client,
            self.action,
            invoice_id,
            fields=fields,
            idempotency_key=key,
            include_invoice=self.include_invoice,
        )

    def _listen(self, record: ActionRecord) -> None:
        """Every record goes to the task's ledger and, when one is asked for, its report."""
        if self._ledger is not None:
            self._ledger.add(record)
        if self._report is not None:
            self._report.add(record)

    def _finish_single(self, context: Context, record: ActionRecord) -> dict[str, Any]:
        result = record.as_dict()
        if self._report_target is not None:
            result["report_path"] = self._report_target
        log.info(
            "%s%s %s: %s",
            "DRY RUN " if self.is_dry_run else "",
            self.action.name,
            record.invoice_id,
            json.dumps(result),
        )
        return self._verdicts.end_single(context, record, result)

    def _run_bulk(
        self,
        context: Context,
        client: ChargebeeClient,
        ids: list[str],
        fields: dict[str, Any],
        keys: dict[str, str],
    ) -> dict[str, Any]:
        from airflow_provider_cb.client.bulk import BulkSummary, run_bulk
        from airflow_provider_cb.client.canary import run_with_canary

        log_start(
            self.action.name,
            len(ids),
            rate=client.transport.budget.requests_per_minute,
            max_workers=self.max_workers,
            dry_run=self.is_dry_run is True,
            pace_scope=client.transport.budget.scope(),
        )
        name_chunk(context, ids)
        summary = BulkSummary(
            action=self.action.name,
            total=len(ids),
            listener=self._listen,
        )
        is_failure = self._verdicts.is_failure

        def run(batch: Sequence[str], stop_on_failure: bool) -> None:
            run_bulk(
                batch,
                lambda invoice_id: self._act(client, invoice_id, fields, keys[invoice_id]),
                action=self.action.name,
                total=len(ids),
                max_workers=self.max_workers,
                is_failure=is_failure,
                fail_fast=stop_on_failure or self.failure_policy == "fail_fast",
                retries=lambda: client.transport.retries,
                summary=summary,
                keys=keys,
            )

        self._bulk_running = True
        try:
            run_with_canary(
                ids,
                run,
                summary=summary,
                canary_size=self.canary_size or len(ids),
                is_failure=is_failure,
            )
        except BaseException:
            result = self._summary_result(summary)
            log.error("%s interrupted; summary so far: %s", self.action.name, json.dumps(result))
            push_result(context, result)
            raise
        finally:
            self._bulk_running = False
        if self.is_dry_run:
            log_preview(summary)
        result = self._summary_result(summary)
        log.info(
            "%s%s: %s in %.1fs",
            "DRY RUN " if self.is_dry_run else "",
            self.action.name,
            json.dumps(result["counts"]),
            summary.elapsed_seconds,
        )
        return self._verdicts.end_bulk(context, summary, result)

    def _summary_result(self, summary: BulkSummary) -> dict[str, Any]:
        result = summary.as_dict()
        result["dry_run"] = self.is_dry_run
        if self._report_target is not None:
            result["report_path"] = self._report_target
        return result
