"""Selecting the invoices a month-end job acts on."""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from airflow.sdk.exceptions import AirflowFailException

from airflow_provider_cb.client.periods import check_period, check_timezone, resolve_period
from airflow_provider_cb.client.plans import SelectionPlan, check_max_amount_due
from airflow_provider_cb.operators.base import ChargebeeBaseOperator

if TYPE_CHECKING:
    from airflow.sdk import Context

    from airflow_provider_cb.client.periods import Period

log = logging.getLogger(__name__)

DEFAULT_MAX_RESULTS = 10_000
PLAN_XCOM_KEY = "chargebee_plan"


class ListInvoicesOperator(ChargebeeBaseOperator):
    """Return the ids of the invoices matching Chargebee's filters, within a period.

    Pages are read 100 at a time and only ids are returned, so XCom stays small;
    the plan (count, sums per currency, largest invoices, range) goes to the XCom
    key ``chargebee_plan`` and to the log.

    :param chargebee_conn_id: the Chargebee connection (templated).
    :param status: e.g. ``"pending"`` or ``["payment_due", "not_paid"]``.
    :param date: e.g. ``{"before": "2026-10-01T00:00:00Z"}``; an explicit date filter wins
        over ``period``.
    :param period: ``"data_interval"`` (default; fails when the run has none or an empty one),
        ``"previous_month"`` or ``"month"`` (the calendar month before, or of, the logical
        date in ``timezone``), or ``"all"`` (no date filter, written out on purpose).
    :param timezone: the timezone of a calendar month and of the logged range.
    :param customer_id: one id or a list.
    :param subscription_id: one id or a list.
    :param dunning_status: e.g. ``"in_progress"``.
    :param max_results: fail, rather than silently truncate, when more invoices match.
    :param max_amount_due: e.g. ``{"EUR": 5_000_000}`` (minor units): fail before anything
        acts when the selection owes more, or owes in a currency without a limit.
    :param chunk_size: return lists of at most this many ids, to ``.expand`` over; an empty
        selection returns one empty chunk, so the mapped task and its downstream still run.
    """

    template_fields: Sequence[str] = (
        *ChargebeeBaseOperator.template_fields,
        "status",
        "date",
        "customer_id",
        "subscription_id",
        "dunning_status",
    )

    def __init__(
        self,
        *,
        status: Any = None,
        date: Any = None,
        period: str = "data_interval",
        timezone: str = "UTC",
        customer_id: Any = None,
        subscription_id: Any = None,
        dunning_status: Any = None,
        max_results: int = DEFAULT_MAX_RESULTS,
        max_amount_due: dict[str, int] | None = None,
        chunk_size: int | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        if not isinstance(max_results, int) or max_results < 1:
            raise ValueError(f"max_results: {max_results!r} must be a positive integer")
        if chunk_size is not None and (not isinstance(chunk_size, int) or chunk_size < 1):
            raise ValueError(f"chunk_size: {chunk_size!r} must be a positive integer")
        self.status = status
        self.date = date
        self.period = check_period(period)
        self.timezone = check_timezone(timezone)
        self.customer_id = customer_id
        self.subscription_id = subscription_id
        self.dunning_status = dunning_status
        self.max_results = max_results
        self.max_amount_due = check_max_amount_due(max_amount_due)
        self.chunk_size = chunk_size

    def resolve_period(self, context: Context) -> Period | None:
        """The run's period, or None when an explicit ``date`` filter decides."""
        if self.date is not None:
            return None
        dag_run = context.get("dag_run")
        return resolve_period(
            self.period,
            timezone=self.timezone,
            logical_date=context.get("logical_date"),
            run_after=getattr(dag_run, "run_after", None),
            interval_start=context.get("data_interval_start"),
            interval_end=context.get("data_interval_end"),
        )

    def filters(self, period: Period | None) -> dict[str, Any]:
        return {
            "status": self.status,
            "date": self.date if period is None else period.date_filter(),
            "customer_id": self.customer_id,
            "subscription_id": self.subscription_id,
            "dunning_status": self.dunning_status,
            "sort_by": "date",
        }

    def run(self, context: Context) -> list[str] | list[list[str]]:
        from airflow_provider_cb.client.clients import pages_for

        period = self.resolve_period(context)
        filters = self.filters(period)
        stated = {k: v for k, v in filters.items() if v is not None and k != "sort_by"}
        plan = SelectionPlan(period.label() if period else f"per date filter {self.date!r}")
        ids: list[str] = []
        for invoice in self.hook.iter_invoices(max_pages=pages_for(self.max_results), **filters):
            if len(ids) == self.max_results:
                raise AirflowFailException(
                    f"more than max_results={self.max_results} invoices match {stated}; "
                    "raise max_results or narrow the filters"
                )
            ids.append(invoice["id"])
            plan.add(invoice)
        log.info(
            "selected %d %sinvoices dated %s; filters: %s",
            len(ids),
            _describe_status(self.status),
            plan.range,
            json.dumps(stated, default=str),
        )
        log.info("plan: %s", json.dumps(plan.as_dict()))
        result = self._shape(ids)
        ti = context.get("ti")
        if ti is not None:
            chunks = len(result) if self.chunk_size is not None else None
            ti.xcom_push(key=PLAN_XCOM_KEY, value={**plan.as_dict(), "chunks": chunks})
        plan.check(self.max_amount_due)
        if not ids:
            log.info("nothing to do: no invoice matches")
        return result

    def _shape(self, ids: list[str]) -> list[str] | list[list[str]]:
        """The ids, or chunks of them; an empty month is one empty chunk, so mapped tasks run."""
        if self.chunk_size is None:
            return ids
        size = self.chunk_size
        chunks: list[list[str]] = [ids[i : i + size] for i in range(0, len(ids), size)]
        empty: list[str] = []
        return chunks if chunks else [empty]


def _describe_status(status: Any) -> str:
    if isinstance(status, str):
        return f"{status} "
    if isinstance(status, list | tuple):
        return "/".join(str(s) for s in status) + " "
    return ""
