"""The body parameters an emulated endpoint takes, and how it reads them from a form.

The emulator checks request bodies against its own parameter lists (see
:mod:`~airflow_provider_cb.testing.rules`), never against the client's, so a
parameter the client invents or misspells is refused here as Chargebee refuses
it: 400 ``param_wrong_value`` naming the parameter as the form spelt it
(``notes_to_remove[entity_type][0]``).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from airflow_provider_cb.testing.wire import decode_timestamp, wrong_value

_INTEGER = re.compile(r"-?\d{1,15}")
Kind = Literal["text", "boolean", "integer", "timestamp", "objects"]


@dataclass(frozen=True, slots=True)
class Param:
    """One documented body parameter.

    ``when`` bounds a timestamp by the site's clock: ``past`` (not later than
    now) or ``future`` (later than now). ``items`` are the fields of each object
    of an ``objects`` list, sent as ``name[field][i]``.
    """

    name: str
    kind: Kind
    max_length: int | None = None
    choices: tuple[str, ...] | None = None
    required: bool = False
    when: Literal["past", "future"] | None = None
    items: tuple[Param, ...] = ()


def read_body(params: tuple[Param, ...], form: Mapping[str, Any], now: int) -> dict[str, Any]:
    """The body's values by parameter (strings, bools, ints, lists of dicts); refuses the rest."""
    known = {param.name: param for param in params}
    for name in form:
        if name not in known:
            raise wrong_value(name, "is not a parameter of this endpoint")
    body: dict[str, Any] = {}
    for param in params:
        value = form.get(param.name)
        if value is None:
            if param.required:
                raise wrong_value(param.name, "is required")
            continue
        body[param.name] = _read(param, param.name, value, now)
    return body


def _read(param: Param, spelt: str, value: Any, now: int) -> Any:
    if param.kind == "objects":
        if not isinstance(value, list):
            raise wrong_value(spelt, f"is a list: send {spelt}[<field>][0], [1], ...")
        return [_read_object(param, index, item, now) for index, item in enumerate(value)]
    if not isinstance(value, str):
        raise wrong_value(spelt, "takes one value, not a list")
    if param.kind == "boolean":
        if value not in ("true", "false"):
            raise wrong_value(spelt, f"{value!r:.40} is not true or false")
        return value == "true"
    if param.kind == "integer":
        if not _INTEGER.fullmatch(value):
            raise wrong_value(spelt, f"{value!r:.40} is not a whole number")
        return int(value)
    if param.kind == "timestamp":
        seconds = decode_timestamp(spelt, value)
        if param.when == "past" and seconds > now:
            raise wrong_value(spelt, f"{seconds} is in the future; it must not be later than now")
        if param.when == "future" and seconds <= now:
            raise wrong_value(spelt, f"{seconds} is not in the future")
        return seconds
    if param.max_length is not None and len(value) > param.max_length:
        raise wrong_value(
            spelt, f"is {len(value)} characters long; at most {param.max_length} are allowed"
        )
    if param.choices is not None and value not in param.choices:
        raise wrong_value(spelt, f"{value!r:.40} is not one of the allowed values")
    return value


def _read_object(param: Param, index: int, item: Mapping[str, str], now: int) -> dict[str, Any]:
    fields = {field.name: field for field in param.items}
    for name in item:
        if name not in fields:
            raise wrong_value(f"{param.name}[{name}][{index}]", "is not a parameter of the list")
    read: dict[str, Any] = {}
    for field in param.items:
        spelt = f"{param.name}[{field.name}][{index}]"
        if field.name not in item:
            if field.required:
                raise wrong_value(spelt, "is required")
            continue
        read[field.name] = _read(field, spelt, item[field.name], now)
    return read
