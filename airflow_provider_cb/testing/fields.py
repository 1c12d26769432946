"""What an emulated invoice is created with: the fields, their defaults and their checks.

:class:`InvoiceFields` is the one definition: ``add_invoice``, ``seed``, the
control API and the command line all take these names, and the runtime checks
read their types from it, so a wrong type is refused when the invoice is made,
never later by a request it would break.
"""

from __future__ import annotations

import datetime as dt
import re
import types
import typing
from collections.abc import Mapping
from typing import Any, TypedDict

from airflow_provider_cb.client.invoices import DUNNING_STATUSES, INVOICE_STATUSES
from airflow_provider_cb.client.validation import check_timestamp

Moment = int | str | dt.datetime
"""Epoch seconds, ISO-8601 text (``2026-10-15`` is midnight UTC) or an aware datetime."""

DEFAULT_AMOUNT = 10_000
_DAY_ONLY = re.compile(r"\d{4}-\d{2}-\d{2}")


class InvoiceFields(TypedDict, total=False):
    """An invoice's starting state; each field left out takes its value from ``DEFAULTS``.

    ``amount_due`` is the invoice total in cents, owed unless the status is
    ``paid`` (then it counts as paid) or ``voided``. ``customer_id`` defaults to
    ``cus_<invoice_id>``, ``date`` to now (emulator clock). ``notes`` are dicts
    with ``note`` and optionally ``entity_type`` and ``entity_id``; a note without
    an entity is the general note that ``remove_general_note`` drops.
    """

    status: str
    customer_id: str | None
    subscription_id: str | None
    date: Moment | None
    amount_due: int
    auto_collection: str
    dunning_status: str | None
    line_items: int
    expected_payment_date: Moment | None
    notes: list[dict[str, Any]] | None
    currency_code: str


DEFAULTS: InvoiceFields = {
    "status": "pending",
    "customer_id": None,
    "subscription_id": None,
    "date": None,
    "amount_due": DEFAULT_AMOUNT,
    "auto_collection": "on",
    "dunning_status": None,
    "line_items": 1,
    "expected_payment_date": None,
    "notes": None,
    "currency_code": "USD",
}
_CHOICES: Mapping[str, tuple[str, ...]] = {
    "status": INVOICE_STATUSES,
    "auto_collection": ("on", "off"),
    "dunning_status": DUNNING_STATUSES,
}
_MOMENTS = ("date", "expected_payment_date")
_COUNTS = ("amount_due", "line_items")


def _runtime_type(hint: Any) -> tuple[type, ...]:
    """``list[dict[str, Any]] | None`` as ``(list, NoneType)``: what isinstance can check."""
    members = typing.get_args(hint) if isinstance(hint, types.UnionType) else (hint,)
    return tuple(typing.get_origin(member) or member for member in members)


_TYPES = {name: _runtime_type(hint) for name, hint in typing.get_type_hints(InvoiceFields).items()}


def to_epoch(param: str, value: Moment) -> int:
    """Epoch seconds from any :data:`Moment`; a bare day means its midnight in UTC."""
    if isinstance(value, str) and _DAY_ONLY.fullmatch(value.strip()):
        value = f"{value.strip()}T00:00:00Z"
    return check_timestamp(param, value)


def complete(fields: Mapping[str, Any]) -> dict[str, Any]:
    """Every field, defaults filled in and moments as epoch seconds; refuses what does not fit.

    A wrong type or an unknown name is a TypeError, a wrong value a ValueError,
    both naming the field.
    """
    unknown = sorted(set(fields) - set(_TYPES))
    if unknown:
        raise TypeError(f"unknown invoice field(s) {unknown}; known: {sorted(_TYPES)}")
    values: dict[str, Any] = dict(DEFAULTS)
    values.update(fields)
    for name, value in values.items():
        if not _fits(value, _TYPES[name]):
            kind = type(value).__name__
            raise TypeError(f"{name} {value!r:.60} is a {kind}, not {_describe(name)}")
        if name in _MOMENTS and value is not None:
            values[name] = to_epoch(name, value)
        elif name in _COUNTS and value < 0:
            raise ValueError(f"{name} must not be negative, got {value}")
        elif name in _CHOICES and value is not None and value not in _CHOICES[name]:
            raise ValueError(f"{name} {value!r} is not one of {list(_CHOICES[name])}")
    return values


def _fits(value: object, kinds: tuple[type, ...]) -> bool:
    """isinstance, except that a bool is not taken for a number."""
    return not isinstance(value, bool) and isinstance(value, kinds)


def _describe(name: str) -> str:
    if name in _MOMENTS:
        return "epoch seconds, ISO-8601 text or an aware datetime (or None)"
    return " or ".join("None" if kind is types.NoneType else kind.__name__ for kind in _TYPES[name])
