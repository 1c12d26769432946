"""``GET /invoices``: query parsing, filters, sort order and the opaque offset.

The offset encodes the last item's sort key and id rather than a position, so
invoices that change (and drop out of a status filter) between pages never make
the next page skip or repeat an invoice that still matches. Sorting by
``updated_at`` cannot promise that for invoices acted on mid-listing, since
acting moves them; the default ``date`` order can.

A page bisects to its offset in a :class:`SortIndex` and walks on until it has
enough matches, so reading a whole list costs about one pass, not one per page.
"""

from __future__ import annotations

import base64
import binascii
import bisect
import itertools
import json
import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from airflow_provider_cb.testing.rules import DUNNING_STATUSES, INVOICE_STATUSES
from airflow_provider_cb.testing.wire import wrong_value

Invoice = Mapping[str, Any]
Predicate = Callable[[Invoice], bool]
SortKey = tuple[int, str]

DEFAULT_LIMIT = 10
MAX_LIMIT = 100
DEFAULT_SORT = "date"

_STRING_FIELDS: Mapping[str, tuple[str, ...] | None] = {
    "id": None,
    "customer_id": None,
    "subscription_id": None,
    "status": INVOICE_STATUSES,
    "dunning_status": DUNNING_STATUSES,
}
"""Filterable text fields, with their allowed values where Chargebee has an enum."""
_STRING_OPERATORS = ("is", "is_not", "in", "not_in")
_TIMESTAMP_FIELDS = ("date", "updated_at")
_TIMESTAMP_OPERATORS = ("after", "before", "on", "between")
_SORT_FIELDS = _TIMESTAMP_FIELDS
_DAY = 86_400

_FILTER_KEY = re.compile(r"([a-z_]+)\[([a-z_]+)\]")
_INTEGER = re.compile(r"\d{1,11}")


@dataclass(frozen=True, slots=True)
class ListQuery:
    """A parsed listing request."""

    limit: int
    filters: tuple[Predicate, ...]
    sort_field: str
    descending: bool
    after: SortKey | None


def parse_query(pairs: Iterable[tuple[str, str]]) -> ListQuery:
    """Read the query parameters; anything unknown or malformed is a 400 naming it."""
    seen: set[str] = set()
    limit = DEFAULT_LIMIT
    filters: list[Predicate] = []
    sort: tuple[str, bool] | None = None
    offset: str | None = None
    for key, text in pairs:
        if key in seen:
            raise wrong_value(key, "is given more than once")
        seen.add(key)
        if key == "limit":
            limit = _limit(text)
        elif key == "offset":
            offset = text
        elif key in ("sort_by[asc]", "sort_by[desc]"):
            if sort is not None:
                raise wrong_value(key, "only one of sort_by[asc] and sort_by[desc] may be given")
            if text not in _SORT_FIELDS:
                raise wrong_value(key, f"{text!r} is not one of {list(_SORT_FIELDS)}")
            sort = (text, key == "sort_by[desc]")
        else:
            filters.append(_filter(key, text))
    sort_field, descending = sort or (DEFAULT_SORT, False)
    after = _decode_offset(offset, sort_field, descending) if offset is not None else None
    return ListQuery(limit, tuple(filters), sort_field, descending, after)


class SortIndex:
    """Every invoice's key in each sort order, kept sorted as invoices come and change."""

    def __init__(self) -> None:
        self._keys: dict[str, list[SortKey]] = {field: [] for field in _SORT_FIELDS}

    def add(self, invoice: Invoice) -> None:
        for field, keys in self._keys.items():
            bisect.insort(keys, (invoice[field], invoice["id"]))

    def keys_of(self, invoice: Invoice) -> dict[str, SortKey]:
        """The invoice's keys now: hand them to :meth:`move` after changing it."""
        return {field: (invoice[field], invoice["id"]) for field in self._keys}

    def move(self, before: Mapping[str, SortKey], invoice: Invoice) -> None:
        """Re-file a changed invoice under the keys it has now."""
        for field, keys in self._keys.items():
            key = (invoice[field], invoice["id"])
            if key != before[field]:
                del keys[bisect.bisect_left(keys, before[field])]
                bisect.insort(keys, key)

    def walk(self, field: str, descending: bool, after: SortKey | None) -> Iterator[SortKey]:
        """Keys in the order asked for, starting just past ``after``."""
        keys = self._keys[field]
        if descending:
            end = len(keys) if after is None else bisect.bisect_left(keys, after)
            return (keys[position] for position in range(end - 1, -1, -1))
        start = 0 if after is None else bisect.bisect_right(keys, after)
        return itertools.islice(keys, start, None)


def select(
    invoices: Mapping[str, Invoice], index: SortIndex, query: ListQuery
) -> tuple[list[Invoice], str | None]:
    """One page of matching invoices and the offset of the next page, if there is one."""
    matching = (
        invoice
        for invoice in (
            invoices[key[1]] for key in index.walk(query.sort_field, query.descending, query.after)
        )
        if all(check(invoice) for check in query.filters)
    )
    page = list(itertools.islice(matching, query.limit + 1))
    if len(page) <= query.limit:
        return page, None
    last = page[query.limit - 1]
    offset = _encode_offset(
        query.sort_field, query.descending, (last[query.sort_field], last["id"])
    )
    return page[: query.limit], offset


def _limit(text: str) -> int:
    if not _INTEGER.fullmatch(text) or not 1 <= int(text) <= MAX_LIMIT:
        raise wrong_value("limit", f"{text!r} must be an integer from 1 to {MAX_LIMIT}")
    return int(text)


def _filter(key: str, text: str) -> Predicate:
    match = _FILTER_KEY.fullmatch(key)
    if match is None:
        raise wrong_value(key, "is not a parameter of the invoice list")
    field, operator = match.groups()
    if field in _STRING_FIELDS and operator in _STRING_OPERATORS:
        return _string_filter(key, field, operator, text, _STRING_FIELDS[field])
    if field in _TIMESTAMP_FIELDS and operator in _TIMESTAMP_OPERATORS:
        return _timestamp_filter(key, field, operator, text)
    raise wrong_value(key, "is not a filter of the invoice list")


def _string_filter(
    param: str, field: str, operator: str, text: str, allowed: tuple[str, ...] | None
) -> Predicate:
    values = _json_list(param, text, str) if operator in ("in", "not_in") else [text]
    for value in values:
        if allowed is not None and value not in allowed:
            raise wrong_value(param, f"{value!r} is not one of {list(allowed)}")
    chosen = frozenset(values)
    if operator in ("is", "in"):
        return lambda inv: inv.get(field) in chosen
    return lambda inv: inv.get(field) not in chosen


def _timestamp_filter(param: str, field: str, operator: str, text: str) -> Predicate:
    if operator == "between":
        bounds = _json_list(param, text, int)
        if len(bounds) != 2 or bounds[0] > bounds[1]:
            raise wrong_value(param, "must be [from, to] with from <= to")
        low, high = bounds
        return lambda inv: low <= inv[field] <= high
    if not _INTEGER.fullmatch(text):
        raise wrong_value(param, f"{text!r} is not a timestamp in integer seconds")
    moment = int(text)
    if operator == "after":
        return lambda inv: inv[field] > moment
    if operator == "before":
        return lambda inv: inv[field] < moment
    day = moment - moment % _DAY
    return lambda inv: day <= inv[field] < day + _DAY


def _json_list(param: str, text: str, kind: type) -> list[Any]:
    """``[in]`` and ``[between]`` values are JSON array text, e.g. ``["pending","posted"]``."""
    try:
        values = json.loads(text)
    except ValueError:
        values = None
    if (
        not isinstance(values, list)
        or not values
        or not all(isinstance(v, kind) and not isinstance(v, bool) for v in values)
    ):
        raise wrong_value(param, f"{text!r} must be a non-empty JSON array of {kind.__name__}")
    return values


def _encode_offset(field: str, descending: bool, key: SortKey) -> str:
    text = json.dumps([field, descending, key[0], key[1]], separators=(",", ":"))
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


def _decode_offset(offset: str, field: str, descending: bool) -> SortKey:
    try:
        raw = base64.urlsafe_b64decode(offset + "=" * (-len(offset) % 4))
        decoded = json.loads(raw)
    except (ValueError, binascii.Error):
        decoded = None
    if (
        not isinstance(decoded, list)
        or len(decoded) != 4
        or decoded[:2] != [field, descending]
        or not isinstance(decoded[2], int)
        or not isinstance(decoded[3], str)
    ):
        raise wrong_value("offset", "is not a next_offset returned by this listing and sort order")
    return (decoded[2], decoded[3])
