"""What an emulated invoice is created with: the fields, their defaults and their checks.

:class:`InvoiceFields` is the one definition: ``add_invoice``, ``seed``, the
control API and the command line all take these names, and the runtime checks
read their types from it, so a wrong type is refused when the invoice is made,
never later by a request it would break. The checks are the emulator's own
(statuses from :mod:`~airflow_provider_cb.testing.rules`), not the client's.
"""

from __future__ import annotations

import datetime as dt
import re
import types
import typing
from collections.abc import Mapping
from typing import Any, TypedDict

from airflow_provider_cb.testing.rules import AUTO_COLLECTION, DUNNING_STATUSES, INVOICE_STATUSES

Moment = int | str | dt.datetime
"""Epoch seconds, ISO-8601 text (``2026-10-15`` is midnight UTC) or an aware datetime."""

DEFAULT_AMOUNT = 10_000
ID_MAX_LENGTH = 50
"""Chargebee's ids (invoice, customer, subscription): at most 50 characters (v1 specification)."""
_DAY_ONLY = re.compile(r"\d{4}-\d{2}-\d{2}")
_EPOCH_DIGITS = re.compile(r"\d{1,11}")
_MAX_EPOCH_SECONDS = 253_402_300_800  # 10000-01-01
_ID_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.@:+~-]*")


class InvoiceFields(TypedDict, total=False):
    """An invoice's starting state; each field left out takes its value from ``DEFAULTS``.

    ``amount_due`` is the invoice total in cents, owed unless the status is
    ``paid`` (then it counts as paid) or ``voided``. ``customer_id`` defaults to
    ``cus_<invoice_id>``, ``date`` to now (emulator clock). ``notes`` are dicts
    with ``note`` and optionally ``entity_type`` and ``entity_id``; a note without
    an entity is the general note that ``remove_general_note`` drops.

    The invoice's customer and subscription are created when new.
    ``auto_collection`` is not an invoice field (Chargebee's Invoice has none): it
    sets the **customer's** setting (``on`` for a new customer when left out),
    which a subscription added with its own setting overrides.
    """

    status: str
    customer_id: str | None
    subscription_id: str | None
    date: Moment | None
    amount_due: int
    auto_collection: str | None
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
    "auto_collection": None,
    "dunning_status": None,
    "line_items": 1,
    "expected_payment_date": None,
    "notes": None,
    "currency_code": "USD",
}
_CHOICES: Mapping[str, tuple[str, ...]] = {
    "status": INVOICE_STATUSES,
    "auto_collection": AUTO_COLLECTION,
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
    if isinstance(value, int):
        seconds = value
    elif isinstance(value, dt.datetime):
        if value.utcoffset() is None:
            raise ValueError(f"{param} {value.isoformat()} has no time zone")
        seconds = int(value.timestamp())
    elif _EPOCH_DIGITS.fullmatch(value.strip()):
        seconds = int(value.strip())
    else:
        try:
            moment = dt.datetime.fromisoformat(value.strip())
        except ValueError:
            raise ValueError(
                f"{param} {value!r:.60} is not ISO-8601 text, a bare day or epoch seconds"
            ) from None
        if moment.utcoffset() is None:
            raise ValueError(f"{param} {value!r:.60} has no time zone (add 'Z' or '+00:00')")
        seconds = int(moment.timestamp())
    if not 0 <= seconds < _MAX_EPOCH_SECONDS:
        raise ValueError(f"{param} {seconds} is out of range for epoch seconds")
    return seconds


def check_id(param: str, value: object) -> str:
    """An id the emulated site can serve under ``/<resource>/{id}``; ValueError otherwise."""
    if not isinstance(value, str):
        raise TypeError(f"{param} {value!r:.60} is a {type(value).__name__}, not text")
    if len(value) > ID_MAX_LENGTH or not _ID_PATTERN.fullmatch(value):
        raise ValueError(
            f"{param} {value!r:.60} must be 1 to {ID_MAX_LENGTH} letters, digits or _ . @ : + ~ -"
        )
    return value


def check_choice(param: str, value: object, choices: tuple[str, ...]) -> str:
    """One of ``choices``; ValueError naming the parameter otherwise."""
    if not isinstance(value, str) or value not in choices:
        raise ValueError(f"{param} {value!r:.40} is not one of {list(choices)}")
    return value


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
        elif name in _CHOICES and value is not None:
            check_choice(name, value, _CHOICES[name])
    return values


def _fits(value: object, kinds: tuple[type, ...]) -> bool:
    """isinstance, except that a bool is not taken for a number."""
    return not isinstance(value, bool) and isinstance(value, kinds)


def _describe(name: str) -> str:
    if name in _MOMENTS:
        return "epoch seconds, ISO-8601 text or an aware datetime (or None)"
    return " or ".join("None" if kind is types.NoneType else kind.__name__ for kind in _TYPES[name])
