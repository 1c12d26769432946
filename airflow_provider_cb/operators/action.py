"""The shared base of every invoice action operator.

A subclass names its :class:`~airflow_provider_cb.invoicing.action_table.InvoiceAction`
and takes that endpoint's body fields as keyword arguments (Airflow checks
``partial()`` and ``expand()`` arguments against ``__init__`` signatures);
template fields, validation and state handling all come from the entry.
Modules that open connections are imported in ``run`` so that parsing a DAG
file stays cheap.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

from airflow.sdk import BaseOperatorLink

from airflow_provider_cb.chargebee_api.validation import (
    check_bool,
    rendered_invoice_id,
    rendered_invoice_ids,
)
from airflow_provider_cb.invoicing.action_table import InvoiceAction
from airflow_provider_cb.links import ChargebeeInvoiceLink
from airflow_provider_cb.operators.base import ChargebeeBaseOperator
from airflow_provider_cb.operators.bulk import log_preview, log_start, name_chunk
from airflow_provider_cb.operators.endings import (
    Verdicts,
    asset_event_extra,
    fail_for_report,
    push_result,
    selection_period,
    single_result,
)
from airflow_provider_cb.operators.idempotency_keys import DEFAULT_IDENTITY_TEMPLATE, derive_key
from airflow_provider_cb.operators.ledger import start_ledger, store_ledger
from airflow_provider_cb.operators.report import ReportRequest, check_report_path, write_report
from airflow_provider_cb.operators.selection import PLAN_XCOM_KEY

if TYPE_CHECKING:
    from airflow.sdk import Context

    from airflow_provider_cb.invoicing.journal import Journal
    from airflow_provider_cb.invoicing.outcomes import ActionRecord
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


@dataclass(frozen=True)
class TaskInputs:
    """Everything the task was given, checked before any request."""

    dry_run: bool
    include_invoice: bool
    fields: dict[str, Any]
    invoice_ids: list[str]
    keys: dict[str, str]
    report_path: str | None


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
    :param report_path: write an audit report after each try (templated): a CSV with
        one row per invoice and a Markdown summary beside it, to a local path or any
        URL ``ObjectStoragePath`` takes. Each try's files carry the run id and try number
        (``close.csv`` -> ``close.<run id>.try-<n>.csv``; a mapped task's also its map
        index); the last try's covers every try. The summary is in XCom first.

    Every try keeps a journal in the task instance's ``task_state_store``: a retry
    sends nothing an earlier try settled and reads back what was in flight.
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
        self._acting_now = False
        self.canary_size = canary_size
        self.report_path = report_path

    def body_fields(self) -> dict[str, Any]:
        """The endpoint's body fields, checked; raises before anything is sent."""
        values = {name: getattr(self, name, None) for name in self.action.field_names}
        return self.action.build_body(values)

    def hook_options(self) -> dict[str, Any]:
        return {"skip_events": self.skip_events, "requests_per_minute": self.requests_per_minute}

    def inputs(self) -> TaskInputs:
        """The rendered parameters, checked; every boolean through one parser."""
        self.is_dry_run = check_bool("dry_run", self.is_dry_run)
        ids = (
            rendered_invoice_ids("invoice_ids", self.invoice_ids)
            if self._bulk
            else [rendered_invoice_id("invoice_id", self.invoice_id)]
        )
        return TaskInputs(
            dry_run=self.is_dry_run,
            include_invoice=check_bool("include_invoice", self.include_invoice),
            fields=self.body_fields(),
            invoice_ids=ids,
            keys={i: derive_key(self.idempotency_key, self.action.name, i) for i in ids},
            report_path=None if self.report_path is None else check_report_path(self.report_path),
        )

    def run(self, context: Context) -> dict[str, Any]:
        from airflow_provider_cb.invoicing.bulk_runs import BulkSummary
        from airflow_provider_cb.invoicing.journal import JournalUnavailableError
        from airflow_provider_cb.operators.task_state import open_journal, unopened_journal

        inputs = self.inputs()
        ending: BaseException | None = None
        try:
            journal = open_journal(
                context, self.action.name, retries=self.retries or 0, durable=not inputs.dry_run
            )
        except Exception as error:
            # Nothing is sent without the journal; the summary still says so, invoice by invoice.
            journal = unopened_journal(context, self.action.name, error)
            ending = JournalUnavailableError(
                f"the task's journal could not be opened ({journal.error}); nothing was sent. "
                "A retry is safe"
            )
            ending.__cause__ = error
        ti = context["ti"]
        ledger = start_ledger(self, context, ti.map_index if ti.map_index is not None else -1)
        summary = BulkSummary(
            action=self.action.name,
            total=len(inputs.invoice_ids),
            listener=lambda record: self._listen(journal, ledger, record),
        )
        try:
            if ending is None:
                self._act(context, inputs, journal, summary)
        except BaseException as error:
            ending = error
            summary.interrupted_by = summary.interrupted_by or type(error).__name__
            log.error("%s stopped by %s: %s", self.action.name, type(error).__name__, error)
        unsent = journal.close()
        result, rows = self._result(inputs, journal, summary, unsent)
        push_result(context, result)  # the summary first: whatever follows, it is in XCom
        try:
            result["ledger_path"] = store_ledger(ledger)
        except OSError as error:
            # Like a report, a ledger that cannot be written never erases the summary.
            log.error("the month ledger could not be written: %s", error)
            result["ledger_error"] = str(error)
        if inputs.report_path is not None:
            self._report(context, inputs, journal, result, rows)
            push_result(context, result)
        if ending is not None:
            raise ending
        if self._bulk:
            if inputs.dry_run:
                log_preview(summary)
            ended = self._verdicts.end_bulk(context, result, summary.site_failure)
        else:
            ended = self._verdicts.end_single(context, rows[0][0], result)
        fail_for_report(self.task_id, result)
        self._describe_outlets(context, result)
        return ended

    def on_kill(self) -> None:
        """SIGTERM while acting: stop where it is, so the summary is saved first.

        Airflow calls this from the SIGTERM handler and lets ``execute`` run on; the
        exception raised here unwinds the run, which records every invoice in flight;
        :meth:`run` then pushes the summary and writes the report before the task ends.
        """
        if self._acting_now:
            from airflow.sdk.exceptions import AirflowTaskTerminated

            raise AirflowTaskTerminated(f"{self.task_id}: terminated while acting on invoices")

    @staticmethod
    def _listen(journal: Journal, ledger: TaskLedger, record: ActionRecord) -> None:
        """Every record goes to the task's journal (for its tries) and the month ledger."""
        journal.record(record)
        ledger.add(record)

    def _act(self, context: Context, inputs: TaskInputs, journal: Journal, summary: Any) -> None:
        from airflow_provider_cb.operators.attempt import Acting, TryPolicy, run_try

        client = self.hook.get_conn()
        if self.execution_timeout is not None:
            # Waiting out an in-flight duplicate never outlasts the task.
            client.end_waits_by(self.execution_timeout.total_seconds())
        if self._bulk:
            rate, pace_scope = client.pace()
            log_start(
                self.action.name,
                len(inputs.invoice_ids),
                rate=rate,
                max_workers=self.max_workers,
                dry_run=inputs.dry_run,
                pace_scope=pace_scope,
            )
            name_chunk(context, inputs.invoice_ids)
        acting = Acting(
            client,
            self.action,
            inputs.fields,
            inputs.keys,
            dry_run=inputs.dry_run,
            include_invoice=inputs.include_invoice,
        )
        policy = TryPolicy(
            max_workers=self.max_workers if self._bulk else 1,
            canary_size=self.canary_size,
            fail_fast=self.failure_policy == "fail_fast",
            is_failure=self._verdicts.is_failure,
        )
        self._acting_now = True
        try:
            run_try(acting, journal, inputs.invoice_ids, summary, policy)
        finally:
            self._acting_now = False

    def _result(
        self, inputs: TaskInputs, journal: Journal, summary: Any, unsent: list[str]
    ) -> tuple[dict[str, Any], list[tuple[ActionRecord, int | None]]]:
        from airflow_provider_cb.invoicing.tasksummary import whole_task_records, whole_task_summary

        rows = whole_task_records(journal, inputs.invoice_ids, unsent, inputs.keys)
        if self._bulk:
            result = whole_task_summary(journal, rows, summary)
        else:
            result = single_result(journal, rows[0])
        result["dry_run"] = inputs.dry_run
        if journal.error is not None:
            result["journal_error"] = journal.error
        prefix = "DRY RUN " if inputs.dry_run else ""
        described = json.dumps(result["counts"] if self._bulk else result)
        log.info("%s%s: %s in %.1fs", prefix, self.action.name, described, summary.elapsed_seconds)
        return result, rows

    def _report(
        self,
        context: Context,
        inputs: TaskInputs,
        journal: Journal,
        result: dict[str, Any],
        rows: list[tuple[ActionRecord, int | None]],
    ) -> None:
        """Write this try's report (covering every try); its path or failure goes in ``result``."""
        ti = context["ti"]
        assert inputs.report_path is not None
        request = ReportRequest(
            report_path=inputs.report_path,
            map_index=ti.map_index if ti.map_index is not None else -1,
            run_id=context["run_id"],
            try_number=journal.try_number,
            tries=journal.tries,
            action=self.action.name,
            header={
                "task": self.task_id,
                "dry run": "yes" if inputs.dry_run else "no",
                **inputs.fields,  # what Chargebee was sent: the comment names the approver
            },
        )
        written = write_report(request, rows)
        journal.note_report(written)
        result["report_path"] = written["path"] if written["error"] is None else None
        result["report_error"] = written["error"]
        result["reports"] = journal.index.get("reports", [])

    def _describe_outlets(self, context: Context, result: dict[str, Any]) -> None:
        """Each outlet's asset event carries the summary, for the DAGs scheduled on it."""
        if not self.outlets:
            return
        upstream = sorted(self.upstream_task_ids)
        plans = context["ti"].xcom_pull(task_ids=upstream, key=PLAN_XCOM_KEY) if upstream else []
        extra = asset_event_extra(
            result, run_id=context["run_id"], period=selection_period(plans or [])
        )
        for outlet in self.outlets:
            context["outlet_events"][outlet].extra.update(extra)
