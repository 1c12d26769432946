"""Listing invoices: query parameters from friendly Python values, and a listing that ends.

``status="pending"`` becomes ``status[is]=pending``; a list becomes ``[in]`` with
JSON array text; a dict names the operators: ``date={"between": (start, end)}``.
Dates accept what :func:`~airflow_provider_cb.chargebee_api.validation.check_timestamp` does.
A filter that says nothing (``{}``, ``[]``, ``""``) is refused, never dropped:
dropping it would widen the selection. Chargebee returns no total count, so
:class:`ListingGuard` bounds how many pages a listing may read.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from airflow_provider_cb.chargebee_api.errors import (
    ChargebeeTransportError,
    ChargebeeValidationError,
)
from airflow_provider_cb.chargebee_api.validation import check_id, check_timestamp
from airflow_provider_cb.invoicing.action_table import DUNNING_STATUSES, INVOICE_STATUSES

_ID_OPERATORS = ("is", "is_not", "in", "not_in")
_DATE_OPERATORS = ("after", "before", "on", "between")
FILTERS: Mapping[str, tuple[str, ...]] = {
    "status": _ID_OPERATORS,
    "dunning_status": _ID_OPERATORS,
    "id": _ID_OPERATORS,
    "customer_id": _ID_OPERATORS,
    "subscription_id": _ID_OPERATORS,
    "date": _DATE_OPERATORS,
    "updated_at": _DATE_OPERATORS,
}
_ENUMS: Mapping[str, tuple[str, ...]] = {
    "status": INVOICE_STATUSES,
    "dunning_status": DUNNING_STATUSES,
}
SORTABLE = ("date", "updated_at")
PAGE_SIZE = 100
"""Invoices per page: Chargebee's largest ``limit``."""
SHORT_PAGES_ALLOWED = 3
"""Pages shorter than asked for that still offer a next page, before the listing stops."""
DEFAULT_MAX_PAGES = 1_000
"""Pages a listing reads at most unless told otherwise: 100,000 invoices."""


def _check_value(name: str, value: object) -> str:
    param = name
    if name in _ENUMS:
        if value not in _ENUMS[name]:
            raise ChargebeeValidationError(
                param, f"{value!r} is not one of {', '.join(_ENUMS[name])}"
            )
        return str(value)
    return check_id(param, value)


def _compact_json(items: list[Any]) -> str:
    """List filter values as the official SDKs send them: ``["a","b"]``, no spaces."""
    return json.dumps(items, separators=(",", ":"))


def _encode_one(name: str, operator: str, value: object) -> str:
    param = f"{name}[{operator}]"
    if operator not in FILTERS[name]:
        raise ChargebeeValidationError(
            param, f"unknown operator; {name} takes {', '.join(FILTERS[name])}"
        )
    if name in ("date", "updated_at"):
        if operator == "between":
            if not isinstance(value, list | tuple) or len(value) != 2:
                raise ChargebeeValidationError(param, "must be a pair (start, end)")
            start, end = (check_timestamp(param, item) for item in value)
            if start > end:
                raise ChargebeeValidationError(param, "start is after end")
            return _compact_json([start, end])
        return str(check_timestamp(param, value))
    if operator in ("in", "not_in"):
        if isinstance(value, str) or not isinstance(value, list | tuple | set | frozenset):
            raise ChargebeeValidationError(param, "must be a list")
        if not value:
            raise ChargebeeValidationError(param, "must not be empty")
        return _compact_json([_check_value(name, item) for item in value])
    return _check_value(name, value)


def encode_filters(filters: Mapping[str, Any]) -> dict[str, str]:
    """Check and encode listing filters; ``sort_by="-date"`` sorts descending."""
    query: dict[str, str] = {}
    for name, value in filters.items():
        if value is None:
            continue
        if name == "sort_by":
            field = str(value).lstrip("-")
            if field not in SORTABLE:
                raise ChargebeeValidationError(
                    "sort_by", f"{value!r}: sort by {' or '.join(SORTABLE)}"
                )
            query[f"sort_by[{'desc' if str(value).startswith('-') else 'asc'}]"] = field
            continue
        if name not in FILTERS:
            raise ChargebeeValidationError(
                name, f"is not a supported filter ({', '.join(sorted(FILTERS))}, sort_by)"
            )
        if isinstance(value, Mapping):
            if not value:
                raise ChargebeeValidationError(
                    name, "is empty; an empty filter would select every invoice"
                )
            operations = dict(value)
        elif name in ("date", "updated_at"):
            raise ChargebeeValidationError(
                name, "needs an operator, e.g. {'after': ...} or {'between': (start, end)}"
            )
        elif isinstance(value, list | tuple | set | frozenset):
            operations = {"in": value}
        else:
            operations = {"is": value}
        for operator, operand in operations.items():
            query[f"{name}[{operator}]"] = _encode_one(name, operator, operand)
    return query


def pages_for(max_results: int) -> int:
    """Pages enough to list ``max_results`` invoices, learn that one more matches, and
    allow the short pages :class:`ListingGuard` tolerates."""
    return -(-(max_results + 1) // PAGE_SIZE) + SHORT_PAGES_ALLOWED


class ListingStoppedError(ChargebeeTransportError):
    """A listing that would not end, or would end past its page budget; nothing acted yet.

    Not retryable: a server that paged this way pages the same way again.
    """

    retryable = False

    def __init__(self, problem: str) -> None:
        super().__init__("GET", "/invoices", f"listing stopped: {problem}")


class ListingGuard:
    """Follows one listing page by page and stops one that would run long.

    A next offset on an empty page, or one already given, would loop for ever;
    Chargebee fills every page but the last, so more than ``SHORT_PAGES_ALLOWED``
    short pages that still offer a next page are an anomaly; and a listing reads
    at most ``max_pages`` pages (default ``DEFAULT_MAX_PAGES``).
    """

    def __init__(self, *, page_size: int = PAGE_SIZE, max_pages: int | None = None) -> None:
        if max_pages is not None and (
            isinstance(max_pages, bool) or not isinstance(max_pages, int) or max_pages < 1
        ):
            raise ChargebeeValidationError("max_pages", f"{max_pages!r} must be a positive integer")
        self.page_size = page_size
        self.max_pages = DEFAULT_MAX_PAGES if max_pages is None else max_pages
        self.pages = 0
        self.invoices = 0
        self.short_pages = 0
        self._offsets: set[str] = set()

    def follow(self, invoices: list[Any], next_offset: str) -> None:
        """Allow reading the page at ``next_offset``, or raise :class:`ListingStoppedError`."""
        self.pages += 1
        self.invoices += len(invoices)
        if not invoices:
            raise ListingStoppedError(f"an empty page still gave next_offset {next_offset!r:.60}")
        if next_offset in self._offsets:
            raise ListingStoppedError(
                f"next_offset {next_offset!r:.60} was given before, so the pages would repeat"
            )
        self._offsets.add(next_offset)
        if len(invoices) < self.page_size:
            self.short_pages += 1
            if self.short_pages > SHORT_PAGES_ALLOWED:
                raise ListingStoppedError(
                    f"{self.short_pages} pages held fewer than {self.page_size} invoices yet "
                    f"offered a next page ({self.invoices} invoices in {self.pages} pages); "
                    "Chargebee fills every page but the last, so this server is not paging "
                    "as Chargebee does"
                )
        if self.pages >= self.max_pages:
            raise ListingStoppedError(
                f"the page budget max_pages={self.max_pages} is spent ({self.invoices} "
                "invoices read) and another page is offered; raise max_pages or max_results, "
                "or narrow the filters"
            )
