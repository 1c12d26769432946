"""Checks on user-supplied values, run before any request is built.

Every check raises :class:`ChargebeeValidationError` naming the parameter, so a
typo in a DAG fails at the edge instead of as a half-understood 400.
"""

from __future__ import annotations

import ast
import datetime as dt
import json
import math
import re
from collections.abc import Callable

import pendulum

from airflow_provider_cb.chargebee_api.errors import ChargebeeValidationError

ID_MAX_LENGTH = 50
_MAX_EPOCH_SECONDS = 253_402_300_800  # 10000-01-01
# Chargebee ids are short tokens; anything that could alter a URL path or query is refused.
_ID_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.@:+~-]*")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def _describe(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def check_id(param: str, value: object, max_length: int = ID_MAX_LENGTH) -> str:
    """Return a safe Chargebee id, or raise naming ``param``."""
    if not isinstance(value, str):
        raise ChargebeeValidationError(
            param, f"must be a string id, got {type(value).__name__} {_describe(value)}"
        )
    if not value.strip():
        raise ChargebeeValidationError(param, "must not be empty or whitespace")
    if len(value) > max_length:
        raise ChargebeeValidationError(
            param, f"is {len(value)} characters long; Chargebee ids have at most {max_length}"
        )
    if not _ID_PATTERN.fullmatch(value):
        raise ChargebeeValidationError(
            param,
            f"{_describe(value)} has characters not allowed in an id "
            "(letters, digits and _ . @ : + ~ - only; "
            "no '/', '?', '#', spaces or control characters)",
        )
    return value


def check_text(param: str, value: object, max_length: int) -> str:
    """A free-text body field: a string within Chargebee's length limit."""
    if not isinstance(value, str):
        raise ChargebeeValidationError(
            param, f"must be a string, got {type(value).__name__} {_describe(value)}"
        )
    if len(value) > max_length:
        raise ChargebeeValidationError(
            param, f"is {len(value)} characters long; Chargebee accepts at most {max_length}"
        )
    return value


def check_bool(param: str, value: object) -> bool:
    """Accept real booleans and the strings a rendered template produces."""
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ("true", "false"):
        return value.strip().lower() == "true"
    raise ChargebeeValidationError(
        param, f"must be true or false, got {type(value).__name__} {_describe(value)}"
    )


def check_header_value(param: str, value: object, *, ascii_only: bool = False) -> str:
    """A header value: a non-empty string with no CR/LF or other control characters."""
    if not isinstance(value, str):
        raise ChargebeeValidationError(
            param, f"must be a string, got {type(value).__name__} {_describe(value)}"
        )
    if not value.strip():
        raise ChargebeeValidationError(param, "must not be empty or whitespace")
    if _CONTROL.search(value):
        raise ChargebeeValidationError(
            param, "contains a control character (CR, LF, tab, ...), which could split the header"
        )
    if len(value) > 250:
        raise ChargebeeValidationError(param, f"is {len(value)} characters long; at most 250")
    if ascii_only and not value.isascii():
        raise ChargebeeValidationError(param, "must be ASCII")
    return value


def _to_datetime(param: str, value: object) -> dt.datetime:
    if isinstance(value, bool):
        raise ChargebeeValidationError(param, f"must be a date-time, got bool {value!r}")
    if isinstance(value, int | float):
        if not math.isfinite(value):
            raise ChargebeeValidationError(param, f"{value!r} is not a number of epoch seconds")
        if not 0 <= value < _MAX_EPOCH_SECONDS:
            raise ChargebeeValidationError(
                param, f"{value!r} is out of range for epoch seconds (milliseconds, perhaps?)"
            )
        return pendulum.from_timestamp(value)
    if isinstance(value, dt.datetime):
        if value.tzinfo is None or value.utcoffset() is None:
            raise ChargebeeValidationError(
                param, f"{value.isoformat()} has no time zone; pass an aware date-time"
            )
        return value
    if isinstance(value, str):
        text = value.strip()
        if re.fullmatch(r"\d{9,11}", text):
            return pendulum.from_timestamp(int(text))
        try:
            parsed = pendulum.parse(text, strict=True, exact=True)
        except (ValueError, pendulum.parsing.exceptions.ParserError) as exc:
            raise ChargebeeValidationError(
                param, f"{_describe(value)} is not an ISO-8601 date-time or epoch seconds"
            ) from exc
        if not isinstance(parsed, dt.datetime) or not re.search(r"(Z|[+-]\d\d:?\d\d)$", text):
            raise ChargebeeValidationError(
                param,
                f"{_describe(value)} has no time zone; add one (e.g. 'Z' or '+00:00')",
            )
        return parsed
    raise ChargebeeValidationError(
        param, f"must be a date-time, ISO-8601 string or epoch seconds, got {type(value).__name__}"
    )


def check_timestamp(
    param: str, value: object, *, when: str | None = None, now: Callable[[], float] | None = None
) -> int:
    """Convert to epoch seconds; ``when`` may require ``"past"`` (not after now) or ``"future"``."""
    moment = _to_datetime(param, value)
    try:
        seconds = int(moment.timestamp())
    except (ValueError, OverflowError):
        # A parsed offset of +24:00 or more only fails here, when first used.
        raise ChargebeeValidationError(
            param, f"{_describe(value)} has a time zone offset outside -23:59 to +23:59"
        ) from None
    current = (now or (lambda: pendulum.now("UTC").timestamp()))()
    if when == "past" and seconds > current:
        raise ChargebeeValidationError(
            param, f"{moment.isoformat()} is in the future; it must not be later than now"
        )
    if when == "future" and seconds <= current:
        raise ChargebeeValidationError(
            param, f"{moment.isoformat()} is not in the future; it must be later than now"
        )
    return seconds


NOTE_ENTITY_TYPES = frozenset(
    {
        "customer",
        "subscription",
        "coupon",
        "plan",
        "addon",
        "plan_item_price",
        "addon_item_price",
        "charge_item_price",
    }
)
"""The close endpoint's ``notes_to_remove[entity_type]`` values, as the official SDKs list them."""
NOTE_ENTITY_ID_MAX_LENGTH = 100


def check_notes_to_remove(param: str, value: object) -> list[dict[str, str]]:
    """A list of ``{"entity_type": ..., "entity_id": ...}`` without duplicates."""
    if not isinstance(value, list | tuple):
        raise ChargebeeValidationError(
            param, f"must be a list of {{entity_type, entity_id}}, got {type(value).__name__}"
        )
    notes: list[dict[str, str]] = []
    seen: set[tuple[str, str]] = set()
    for index, item in enumerate(value):
        where = f"{param}[{index}]"
        if not isinstance(item, dict) or set(item) != {"entity_type", "entity_id"}:
            raise ChargebeeValidationError(
                where,
                f"must be a dict with exactly entity_type and entity_id, got {_describe(item)}",
            )
        entity_type = item["entity_type"]
        if not isinstance(entity_type, str) or entity_type not in NOTE_ENTITY_TYPES:
            raise ChargebeeValidationError(
                f"{where}.entity_type",
                f"{_describe(entity_type)} is not one of {sorted(NOTE_ENTITY_TYPES)}",
            )
        entity_id = check_id(f"{where}.entity_id", item["entity_id"], NOTE_ENTITY_ID_MAX_LENGTH)
        if (entity_type, entity_id) in seen:
            raise ChargebeeValidationError(where, f"duplicates note {entity_type}/{entity_id}")
        seen.add((entity_type, entity_id))
        notes.append({"entity_type": entity_type, "entity_id": entity_id})
    return notes


def check_invoice_ids(param: str, value: object) -> list[str]:
    """A list of distinct, valid invoice ids; empty is fine (nothing to do this month)."""
    if isinstance(value, str) or not isinstance(value, list | tuple):
        raise ChargebeeValidationError(
            param, f"must be a list of invoice ids, got {type(value).__name__} {_describe(value)}"
        )
    ids = [check_id(f"{param}[{index}]", item) for index, item in enumerate(value)]
    seen: set[str] = set()
    for index, invoice_id in enumerate(ids):
        if invoice_id in seen:
            raise ChargebeeValidationError(
                f"{param}[{index}]", f"{invoice_id!r} appears more than once"
            )
        seen.add(invoice_id)
    return ids


def parse_rendered(param: str, value: object, what: str) -> object:
    """A value, or the JSON or Python literal a non-native template rendered it as."""
    if not isinstance(value, str):
        return value
    try:
        return json.loads(value)
    except ValueError:
        try:
            return ast.literal_eval(value)
        except (ValueError, SyntaxError):
            raise ChargebeeValidationError(param, f"{value!r:.60} is not {what}") from None


def rendered_invoice_ids(param: str, value: object) -> list[str]:
    """A list of ids from a list, or from the text a non-native template rendered."""
    return check_invoice_ids(param, parse_rendered(param, value, "a list of invoice ids"))


def rendered_invoice_id(param: str, value: object) -> str:
    """The one invoice id; the text ``None`` is what a template renders from a missing value."""
    if value == "None":
        raise ChargebeeValidationError(
            param,
            "rendered to 'None': the value the template read was None "
            "(did an upstream task return nothing?)",
        )
    return check_id(param, value)
