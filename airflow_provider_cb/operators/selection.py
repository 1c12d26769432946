"""Selecting the invoices a month-end job acts on.

Every setting that narrows or guards the selection may be a template; each is
checked again after rendering, and none may widen it: a filter that renders
empty is refused (never dropped), ``period="all"`` counts only when written
out, and a templated ``max_amount_due`` must render to limits.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from airflow.sdk.exceptions import AirflowFailException

from airflow_provider_cb.chargebee_api.errors import ChargebeeValidationError
from airflow_provider_cb.chargebee_api.validation import parse_rendered
from airflow_provider_cb.invoicing.list_filters import ListingStoppedError, pages_for
from airflow_provider_cb.invoicing.plans import SelectionPlan, check_max_amount_due
from airflow_provider_cb.operators.base import ChargebeeBaseOperator
from airflow_provider_cb.operators.periods import (
    check_month,
    check_period,
    check_timezone,
    resolve_period,
)

if TYPE_CHECKING:
    from airflow.sdk import Context

    from airflow_provider_cb.operators.periods import Period

log = logging.getLogger(__name__)

DEFAULT_MAX_RESULTS = 10_000
PLAN_XCOM_KEY = "chargebee_plan"
FILTERS = ("status", "date", "customer_id", "subscription_id", "dunning_status")
_NOTHING = ("", "None")
"""What a template renders from a missing value, besides None itself."""


def _templated(value: object) -> bool:
    """Whether Airflow will render something in ``value`` (checked again afterwards)."""
    if isinstance(value, str):
        return "{{" in value or "{%" in value
    if isinstance(value, Mapping):
        return any(_templated(v) for v in value.values())
    if isinstance(value, list | tuple | set):
        return any(_templated(v) for v in value)
    return value is not None and not isinstance(value, int | float)


def _empty(value: object) -> bool:
    if value is None or value in _NOTHING:
        return True
    return isinstance(value, Mapping | list | tuple | set | frozenset) and not value


def _refuse_empty(name: str, value: object) -> None:
    """A narrowing filter that says nothing would select every invoice: refuse it."""
    if _empty(value):
        raise ChargebeeValidationError(
            name,
            f"is empty ({value!r}); an empty filter would select every invoice. Give a value, "
            "or leave the filter out of the operator",
        )
    if isinstance(value, Mapping):
        for operator, operand in value.items():
            if _empty(operand):
                raise ChargebeeValidationError(
                    f"{name}[{operator}]",
                    f"is empty ({operand!r}); a partial filter would select more than meant",
                )


def _rendered_filter(name: str, value: object) -> object:
    """A filter, or the dict or list a non-native template rendered as text."""
    if isinstance(value, str) and value.strip()[:1] in ("{", "[", "("):
        return parse_rendered(name, value, "a filter")
    return value


def _minor_units(value: object) -> object:
    """Amounts a non-native template rendered as digit strings become integers."""
    if isinstance(value, Mapping):
        return {k: int(v) if isinstance(v, str) and v.isdigit() else v for k, v in value.items()}
    return value


class ListInvoicesOperator(ChargebeeBaseOperator):
    """Return the ids of the invoices matching Chargebee's filters, within a period.

    Pages are read 100 at a time and only ids are returned, so XCom stays small;
    the plan (count, sums per currency, largest invoices, range) goes to the XCom
    key ``chargebee_plan`` and to the log.

    :param chargebee_conn_id: the Chargebee connection (templated).
    :param status: e.g. ``"pending"`` or ``["payment_due", "not_paid"]``.
    :param date: e.g. ``{"before": "2026-10-01T00:00:00Z"}``; an explicit date filter wins
        over ``period``. Empty (``{}``) or with an empty bound, it is refused.
    :param period: ``"data_interval"`` (the default; fails when the run has none or an
        empty one), ``"previous_month"`` or ``"month"`` (the calendar month before, or of,
        the logical date in ``timezone``), or ``"all"`` (no date filter: only when written
        out, never from a template).
    :param month: ``"2026-10"``: that calendar month in ``timezone``, whatever the run's
        dates; rendered empty, ``period`` decides.
    :param timezone: the timezone of a calendar month and of the logged range.
    :param customer_id: one id or a list.
    :param subscription_id: one id or a list.
    :param dunning_status: e.g. ``"in_progress"``.
    :param max_results: fail, rather than silently truncate, when more invoices match.
    :param max_pages: the listing's page budget; by default the pages ``max_results``
        needs, and never more.
    :param max_amount_due: e.g. ``{"EUR": 5_000_000}`` (minor units): fail before anything
        acts when the selection owes more, or owes in a currency without a limit.
    :param chunk_size: return lists of at most this many ids, to ``.expand`` over; an empty
        selection returns one empty chunk, so the mapped task and its downstream still run.

    Every parameter but ``max_results``, ``max_pages`` and ``chunk_size`` is templated
    and checked again once rendered.
    """

    template_fields: Sequence[str] = (
        *ChargebeeBaseOperator.template_fields,
        *FILTERS,
        "period",
        "month",
        "timezone",
        "max_amount_due",
    )

    def __init__(
        self,
        *,
        status: Any = None,
        date: Any = None,
        period: str | None = None,
        month: str | None = None,
        timezone: str = "UTC",
        customer_id: Any = None,
        subscription_id: Any = None,
        dunning_status: Any = None,
        max_results: int = DEFAULT_MAX_RESULTS,
        max_pages: int | None = None,
        max_amount_due: dict[str, int] | str | None = None,
        chunk_size: int | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        for name, number in (("max_results", max_results), ("max_pages", max_pages)):
            if number is not None and (not isinstance(number, int) or number < 1):
                raise ValueError(f"{name}: {number!r} must be a positive integer")
        if chunk_size is not None and (not isinstance(chunk_size, int) or chunk_size < 1):
            raise ValueError(f"chunk_size: {chunk_size!r} must be a positive integer")
        self.status = status
        self.date = date
        self.period = period
        self.month = month
        self.timezone = timezone
        self.customer_id = customer_id
        self.subscription_id = subscription_id
        self.dunning_status = dunning_status
        self.max_results = max_results
        self.max_pages = min(max_pages or pages_for(max_results), pages_for(max_results))
        self.max_amount_due = max_amount_due
        self.chunk_size = chunk_size
        # What was given at all, and "all" written out: rendering must not change either.
        self._given = frozenset(name for name in FILTERS if getattr(self, name) is not None)
        self._all_written_out = period == "all"
        self._guarded = max_amount_due is not None
        self._limits: dict[str, int] | None = None
        # Literal settings fail the DAG at parse time; templated ones once rendered.
        literal = [name for name in self.template_fields if not _templated(getattr(self, name))]
        self._check_settings(literal)

    def _check_settings(self, names: Sequence[str]) -> None:
        """Check the named settings as they stand (literal, or rendered)."""
        for name in names:
            if name in self._given:
                setattr(self, name, _rendered_filter(name, getattr(self, name)))
                _refuse_empty(name, getattr(self, name))
        if "timezone" in names:
            self.timezone = check_timezone(self.timezone)
        if "period" in names and self.period is not None:
            if self.period == "all" and not self._all_written_out:
                raise ChargebeeValidationError(
                    "period",
                    "a template rendered 'all'; selecting invoices of every date must be "
                    'written out as period="all", never come from a template or a param',
                )
            self.period = check_period(self.period)
        if "month" in names and self.month is not None:
            self.month = None if self.month in _NOTHING else self.month
            if self.month is not None:
                check_month(self.month)
                if self.date is not None:
                    raise ChargebeeValidationError(
                        "month", f"{self.month!r} and a date filter contradict; pass one"
                    )
        if "max_amount_due" in names and self._guarded:
            limits = parse_rendered(
                "max_amount_due", self.max_amount_due, "a dict of currency code -> minor units"
            )
            if _empty(limits):
                raise ChargebeeValidationError(
                    "max_amount_due",
                    f"rendered empty ({self.max_amount_due!r}); a guard that is given must "
                    'render to limits such as {"EUR": 5000000}',
                )
            self._limits = check_max_amount_due(_minor_units(limits))

    def resolve_period(self, context: Context) -> Period | None:
        """The run's period, or None when an explicit ``date`` filter decides."""
        if self.date is not None:
            return None
        dag_run = context.get("dag_run")
        run_type = getattr(dag_run, "run_type", None)
        return resolve_period(
            self.period,
            month=self.month,
            timezone=self.timezone,
            logical_date=context.get("logical_date"),
            run_after=getattr(dag_run, "run_after", None),
            run_type=str(getattr(run_type, "value", run_type)) if run_type else None,
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
        self._check_settings(self.template_fields)
        period = self.resolve_period(context)
        if period is not None:
            log.info("%s", period.describe())
        filters = self.filters(period)
        stated = {k: v for k, v in filters.items() if v is not None and k != "sort_by"}
        plan = SelectionPlan(period.label() if period else f"per date filter {self.date!r}")
        ids: list[str] = []
        outside = 0
        try:
            for invoice in self.hook.iter_invoices(max_pages=self.max_pages, **filters):
                if period is not None and not period.contains(invoice.get("date")):
                    outside += 1
                    continue
                if len(ids) == self.max_results:
                    raise AirflowFailException(
                        f"more than max_results={self.max_results} invoices match {stated}; "
                        "raise max_results or narrow the filters"
                    )
                ids.append(invoice["id"])
                plan.add(invoice)
        except ListingStoppedError as error:
            raise AirflowFailException(f"{self.task_id}: {error}") from error
        if outside:
            log.info("left out %d invoices Chargebee returned dated outside the period", outside)
        log.info(
            "selected %d %sinvoices dated %s; filters: %s",
            len(ids),
            _describe_status(self.status),
            plan.range,
            json.dumps(stated, default=str),
        )
        log.info("plan: %s", plan.describe())
        result = self._shape(ids)
        ti = context.get("ti")
        if ti is not None:
            chunks = len(result) if self.chunk_size is not None else None
            ti.xcom_push(key=PLAN_XCOM_KEY, value={**plan.as_dict(), "chunks": chunks})
        plan.check(self._limits)
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
