"""Query parameters for listing invoices, from friendly Python values.

``status="pending"`` becomes ``status[is]=pending``; a list becomes ``[in]`` with
JSON array text; a dict names the operators: ``date={"between": (start, end)}``.
Dates accept what :func:`~airflow_provider_cb.client.validation.check_timestamp` does.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from airflow_provider_cb.client.errors import ChargebeeValidationError
from airflow_provider_cb.client.invoices import DUNNING_STATUSES, INVOICE_STATUSES
from airflow_provider_cb.client.validation import check_id, check_timestamp

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
