"""Chargebee's wire format, as the emulator speaks it: answers, error bodies, form bodies.

Every error leaves through :class:`ApiError`, so each one has Chargebee's shape
(``message``, ``type``, ``api_error_code``, ``param``, the deprecated
``error_code`` twin and ``http_status_code``) and a JSON content type.
"""

from __future__ import annotations

import email.utils
import json
import re
import time
from dataclasses import dataclass, replace
from enum import Enum
from typing import Any, Literal
from urllib.parse import parse_qsl

JSON_TYPE = "application/json;charset=utf-8"

_FORM_KEY = re.compile(r"([a-z][a-z0-9_]*)(?:\[([a-z][a-z0-9_]*)\]\[(\d{1,4})\])?")
_EPOCH_SECONDS = re.compile(r"\d{1,11}")


@dataclass(frozen=True, slots=True)
class Answer:
    """A complete HTTP answer; idempotent replays hand back the stored one."""

    status: int
    body: bytes
    content_type: str = JSON_TYPE
    headers: tuple[tuple[str, str], ...] = ()
    replayed: bool = False


class Disconnect(Enum):
    """No answer: the connection is reset (RST) or closed without a word."""

    RESET = "reset"
    DROP = "drop"


STATE_CONFLICT = "invalid_state_for_request"
IN_PROGRESS_MESSAGE = "The emulator is still processing a request with this idempotency key"
"""The emulator's own words: no Chargebee source states what a repeat in flight is told, and
nothing in the provider reads the message (``in_flight_message`` changes it for tests)."""


@dataclass(frozen=True, slots=True)
class Dialect:
    """How the site words its errors; Chargebee's documents leave each of these open.

    ``conflict_status``: the HTTP status of ``invalid_state_for_request`` (the
    specification says 409; the error page says client errors are "predominantly" 400).
    ``legacy_errors``: error bodies with only the v1-era ``error_msg``, ``error_code``
    and ``error_param``. ``retry_after``: ``Retry-After`` in seconds or as an HTTP date.
    """

    conflict_status: Literal[400, 409] = 409
    legacy_errors: bool = False
    retry_after: Literal["seconds", "http_date"] = "seconds"

    def apply(self, answer: Answer) -> Answer:
        """The answer as this dialect sends it (stored answers stay in the default shape)."""
        if self == DEFAULT_DIALECT or answer.status < 400 or answer.content_type != JSON_TYPE:
            return answer
        try:
            body = json.loads(answer.body)
        except ValueError:
            return answer
        status = answer.status
        if body.get("api_error_code") == STATE_CONFLICT:
            status = self.conflict_status
            body["http_status_code"] = status
        if self.legacy_errors:
            body = {
                "error_msg": body.get("message"),
                "error_code": body.get("api_error_code"),
                "http_status_code": status,
                **({"error_param": body["param"]} if "param" in body else {}),
            }
        headers = tuple(
            (name, self._retry_after(value) if name.lower() == "retry-after" else value)
            for name, value in answer.headers
        )
        encoded = json.dumps(body, separators=(",", ":")).encode()
        return replace(answer, status=status, body=encoded, headers=headers)

    def _retry_after(self, seconds: str) -> str:
        if self.retry_after == "seconds":
            return seconds
        return email.utils.formatdate(time.time() + float(seconds), usegmt=True)


DEFAULT_DIALECT = Dialect()


def json_answer(status: int, payload: Any, headers: tuple[tuple[str, str], ...] = ()) -> Answer:
    return Answer(status, json.dumps(payload, separators=(",", ":")).encode(), JSON_TYPE, headers)


class ApiError(Exception):
    """An error answer in Chargebee's shape; raise it anywhere below the router."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        *,
        error_type: str | None = "invalid_request",
        param: str | None = None,
        headers: tuple[tuple[str, str], ...] = (),
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.error_type = error_type
        self.param = param
        self.headers = headers

    def answer(self) -> Answer:
        body: dict[str, Any] = {"message": self.message}
        if self.error_type is not None:
            body["type"] = self.error_type
        body["api_error_code"] = self.code
        if self.param is not None:
            body["param"] = self.param
        body["error_code"] = self.code
        body["http_status_code"] = self.status
        return json_answer(self.status, body, self.headers)


def wrong_value(param: str, problem: str) -> ApiError:
    """400 ``param_wrong_value``, the answer to any bad parameter."""
    return ApiError(400, "param_wrong_value", f"{param} : {problem}", param=param)


def in_progress() -> ApiError:
    """A same-key repeat while the first request is still being handled."""
    return ApiError(409, STATE_CONFLICT, IN_PROGRESS_MESSAGE)


def not_found(message: str) -> ApiError:
    return ApiError(404, "resource_not_found", message)


def rate_limited(retry_after: int | None) -> ApiError:
    """429 as Chargebee sends it when the site's request budget is spent."""
    headers = (("Retry-After", str(retry_after)),) if retry_after is not None else ()
    return ApiError(
        429,
        "api_request_limit_exceeded",
        "Sorry, access has been blocked temporarily due to request count exceeding "
        "acceptable limits. Please try after some time.",
        error_type="operation_failed",
        headers=headers,
    )


def decode_form(text: str) -> dict[str, Any]:
    """Decode a form body: scalars stay strings, ``a[b][i]`` keys become a list of dicts.

    Index gaps, repeated keys and other nesting are refused as Chargebee refuses
    them, with the offending key as ``param``.
    """
    values: dict[str, Any] = {}
    arrays: dict[str, dict[int, dict[str, str]]] = {}
    for key, value in parse_qsl(text, keep_blank_values=True):
        match = _FORM_KEY.fullmatch(key)
        if match is None:
            raise wrong_value(key, "is not a parameter this endpoint accepts")
        name, sub, index = match.groups()
        if sub is None:
            if name in values:
                raise wrong_value(key, "is given more than once")
            values[name] = value
            continue
        item = arrays.setdefault(name, {}).setdefault(int(index), {})
        if sub in item:
            raise wrong_value(key, "is given more than once")
        item[sub] = value
    for name, items in arrays.items():
        if name in values:
            raise wrong_value(name, "is given both as a value and as a list")
        if sorted(items) != list(range(len(items))):
            raise wrong_value(name, "list indexes must run 0, 1, 2, ... without gaps")
        values[name] = [items[index] for index in range(len(items))]
    return values


def decode_timestamp(param: str, text: object) -> int:
    """Timestamps travel as integer epoch seconds; ISO strings are not accepted on the wire."""
    if not isinstance(text, str) or not _EPOCH_SECONDS.fullmatch(text):
        raise wrong_value(param, f"{text!r} is not a timestamp in integer seconds since the epoch")
    return int(text)


def form_fingerprint(text: str) -> tuple[tuple[str, str], ...]:
    """A form body's parameters in a canonical order, for idempotency comparisons."""
    return tuple(sorted(parse_qsl(text, keep_blank_values=True)))
