"""Selecting the invoices a month-end job acts on."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from airflow.sdk import BaseOperator
from airflow.sdk.exceptions import AirflowFailException

if TYPE_CHECKING:
    from airflow.sdk import Context

log = logging.getLogger(__name__)

DEFAULT_MAX_RESULTS = 10_000


class ListInvoicesOperator(BaseOperator):
    """Return the ids of the invoices matching Chargebee's filters.

    Pages are read 100 at a time and only ids are kept, so XCom stays small. With
    ``use_data_interval`` (default) and no ``date`` filter, invoices dated within
    the run's data interval are selected: the month of a monthly schedule.

    :param status: e.g. ``"pending"`` or ``["payment_due", "not_paid"]``.
    :param date: e.g. ``{"before": "2026-10-01T00:00:00Z"}`` or ``{"between": (start, end)}``.
    :param customer_id: one id or a list.
    :param subscription_id: one id or a list.
    :param dunning_status: e.g. ``"in_progress"``.
    :param max_results: fail, rather than silently truncate, when more invoices match.
    :param chunk_size: return lists of at most this many ids, to ``.expand`` over.
    """

    template_fields: Sequence[str] = (
        "status",
        "date",
        "customer_id",
        "subscription_id",
        "dunning_status",
    )

    def __init__(
        self,
        *,
        chargebee_conn_id: str = "chargebee_default",
        status: Any = None,
        date: Any = None,
        customer_id: Any = None,
        subscription_id: Any = None,
        dunning_status: Any = None,
        use_data_interval: bool = True,
        max_results: int = DEFAULT_MAX_RESULTS,
        chunk_size: int | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        if not isinstance(max_results, int) or max_results < 1:
            raise ValueError(f"max_results: {max_results!r} must be a positive integer")
        if chunk_size is not None and (not isinstance(chunk_size, int) or chunk_size < 1):
            raise ValueError(f"chunk_size: {chunk_size!r} must be a positive integer")
        self.chargebee_conn_id = chargebee_conn_id
        self.status = status
        self.date = date
        self.customer_id = customer_id
        self.subscription_id = subscription_id
        self.dunning_status = dunning_status
        self.use_data_interval = use_data_interval
        self.max_results = max_results
        self.chunk_size = chunk_size

    def filters(self, context: Context) -> dict[str, Any]:
        date = self.date
        start, end = context.get("data_interval_start"), context.get("data_interval_end")
        if date is None and self.use_data_interval and start is not None and end is not None:
            date = {"between": (start, end.subtract(seconds=1))}
        return {
            "status": self.status,
            "date": date,
            "customer_id": self.customer_id,
            "subscription_id": self.subscription_id,
            "dunning_status": self.dunning_status,
            "sort_by": "date",
        }

    def execute(self, context: Context) -> list[str] | list[list[str]]:
        from airflow_provider_cb.client.errors import ChargebeeValidationError

        try:
            return self._select(context)
        except ChargebeeValidationError as error:
            raise AirflowFailException(f"{self.task_id}: {error}") from error

    def _select(self, context: Context) -> list[str] | list[list[str]]:
        from airflow_provider_cb.client.api import pages_for
        from airflow_provider_cb.hooks.chargebee import ChargebeeHook

        filters = self.filters(context)
        hook = ChargebeeHook(self.chargebee_conn_id)
        ids: list[str] = []
        try:
            for invoice in hook.iter_invoices(max_pages=pages_for(self.max_results), **filters):
                if len(ids) == self.max_results:
                    raise AirflowFailException(
                        f"more than max_results={self.max_results} invoices match "
                        f"{ {k: v for k, v in filters.items() if v is not None} }; "
                        "raise max_results or narrow the filters"
                    )
                ids.append(invoice["id"])
        finally:
            hook.close()
        log.info("selected %d invoices", len(ids))
        if self.chunk_size is None:
            return ids
        return [ids[i : i + self.chunk_size] for i in range(0, len(ids), self.chunk_size)]
