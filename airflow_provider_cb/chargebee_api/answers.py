"""Reading an answer: the decoded body, or the client's error for it. No I/O here.

The error class comes from the body's ``api_error_code`` (or the deprecated
``error_code``) first, then the HTTP status, then its ``type``. Chargebee documents
409 for a state conflict but says it "predominantly uses 400", so the status alone
cannot be trusted; the official SDKs choose their error class from ``type`` alone
(see docs/fidelity.md), which says too little to tell a state conflict from a bad
parameter. No message text decides anything. Anything quoted from an answer has
the request's credentials cut out first.
"""

from __future__ import annotations

import contextlib
import email.utils
import json
import logging
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import httpx

from airflow_provider_cb.chargebee_api.errors import (
    AuthenticationError,
    AuthorizationError,
    ChargebeeAPIError,
    ChargebeeError,
    ChargebeeTransportError,
    ConnectionFailedError,
    IdempotencyConflictError,
    InvalidRequestError,
    InvalidStateError,
    NotFoundError,
    RateLimitError,
    ServerError,
)
from airflow_provider_cb.chargebee_api.reading import too_slow
from airflow_provider_cb.chargebee_api.redaction import (
    body_excerpt,
    credentials_of,
    redact,
    redact_chain,
)

log = logging.getLogger(__name__)

REPLAYED_HEADER = "chargebee-idempotency-replayed"


@dataclass(frozen=True)
class ApiResponse:
    """A decoded successful answer and how it was obtained."""

    body: dict[str, Any]
    status_code: int
    replayed: bool
    attempts: int
    idempotency_key: str | None


BY_CODE: Mapping[str, type[ChargebeeAPIError]] = {
    "invalid_state_for_request": InvalidStateError,
    "unable_to_process_request": IdempotencyConflictError,
    "api_request_limit_exceeded": RateLimitError,
    "third_party_api_request_limit_exceeded": RateLimitError,
    "lock_timeout": RateLimitError,
    "site_not_ready": ServerError,
    "site_read_only_mode": ServerError,
    "internal_temporary_error": ServerError,
    "db_connection_failure": ServerError,
    "internal_error": ServerError,
    "resource_not_found": NotFoundError,
    "site_not_found": NotFoundError,
    "api_authentication_failed": AuthenticationError,
    "basic_authentication_failed": AuthenticationError,
    "api_authorization_failed": AuthorizationError,
    "request_blocked": AuthorizationError,
    "invalid_request": InvalidRequestError,
    "param_wrong_value": InvalidRequestError,
    "param_not_required": InvalidRequestError,
    "param_required": InvalidRequestError,
    "invalid_type_of_param": InvalidRequestError,
    "duplicate_entry": InvalidRequestError,
    "configuration_incompatible": InvalidRequestError,
    "http_method_not_supported": InvalidRequestError,
    "payment_processing_failed": InvalidRequestError,
}
"""``api_error_code`` -> class; the class says whether a retry can succeed."""

NOT_PROCESSED_CODES = frozenset(
    {"site_not_ready", "site_read_only_mode", "internal_temporary_error", "db_connection_failure"}
)
"""Server-side codes that say the request was refused before anything was done."""

SITE_WIDE_CODES = frozenset(
    {
        "api_authentication_failed",
        "basic_authentication_failed",
        "http_401",
        "api_authorization_failed",
        "request_blocked",
        "http_403",
        "site_not_found",
        "connection_failed",
    }
)
"""Codes (see :func:`error_code`) every invoice of the site would get alike: a wrong
key, a key without the right, a blocked or unknown site, a host that cannot be
reached. A bulk run stops at the first instead of meeting it once per invoice."""


def error_code(error: ChargebeeError) -> str:
    """The code a record keeps: Chargebee's ``api_error_code``, else ``http_<status>``, else
    ``connection_failed`` (nothing was sent) or ``transport_error`` (no usable answer)."""
    if isinstance(error, ChargebeeAPIError):
        return error.api_error_code or f"http_{error.http_status}"
    if isinstance(error, ConnectionFailedError):
        return "connection_failed"
    return "transport_error"


def is_site_wide(error: ChargebeeError) -> bool:
    """Whether every request to this site would fail the same way."""
    return error_code(error) in SITE_WIDE_CODES


_BY_TYPE: Mapping[str, type[ChargebeeAPIError]] = {
    "invalid_request": InvalidRequestError,
    "payment": InvalidRequestError,
}

_BY_STATUS: Mapping[int, type[ChargebeeAPIError]] = {
    400: InvalidRequestError,
    401: AuthenticationError,
    403: AuthorizationError,
    404: NotFoundError,
    405: InvalidRequestError,
    409: InvalidStateError,
    422: IdempotencyConflictError,
    429: RateLimitError,
}

_IDEMPOTENCY_CONFLICT_HINT = (
    " (this idempotency key was first used with a different request: most likely a "
    "templated field rendered differently on this attempt, e.g. a date taken from the "
    "current time; make the fields depend on the run only, or set another idempotency_key)"
)


def error_class(status: int, code: str | None, error_type: str | None) -> type[ChargebeeAPIError]:
    """The class for an error answer.

    A known ``api_error_code`` decides; failing that a specific status (401, 403,
    404, 409, 422, 429, 5xx); failing that the ``type`` (400 is used for nearly
    everything, so it says little).
    """
    by_code = BY_CODE.get(code or "")
    if by_code is not None:
        return by_code
    if status >= 500:
        return ServerError
    by_status = _BY_STATUS.get(status)
    if by_status is not None and status != 400:
        return by_status
    return _BY_TYPE.get(error_type or "", by_status or ChargebeeAPIError)


def _decode_error_body(response: httpx.Response) -> dict[str, Any] | None:
    try:
        body = json.loads(response.content)
    except ValueError:
        return None
    return body if isinstance(body, dict) else None


def parse_retry_after(value: str | None, *, now: float | None = None) -> float | None:
    """Read a Retry-After header: seconds, or an HTTP date; junk reads as absent."""
    if value is None:
        return None
    try:
        seconds = float(value)
    except ValueError:
        try:
            moment = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return None
        if moment.tzinfo is None:
            return None
        seconds = moment.timestamp() - (time.time() if now is None else now)
        return max(0.0, seconds)
    return seconds if seconds >= 0 and seconds == seconds else None


def error_from_response(response: httpx.Response) -> ChargebeeAPIError:
    """Build the right exception from an error response, JSON or not, current or legacy."""
    status = response.status_code
    body = _decode_error_body(response)
    method = response.request.method
    path = response.request.url.path
    retry_after = parse_retry_after(response.headers.get("retry-after"))
    replayed = response.headers.get(REPLAYED_HEADER, "").lower() == "true"
    secrets = credentials_of(response.request)
    if body is None:
        return error_class(status, None, None)(
            http_status=status,
            message=body_excerpt(response, secrets),
            method=method,
            path=path,
            retry_after=retry_after,
            replayed=replayed,
        )

    def text(*keys: str) -> str | None:
        for key in keys:
            value = body.get(key)
            if value is not None and value != "":
                return redact(str(value), secrets)
        return None

    code = text("api_error_code", "error_code")
    error_type = text("type")
    message = text("message", "error_msg") or "no message"
    cls = error_class(status, code, error_type)
    if cls is IdempotencyConflictError:
        message += _IDEMPOTENCY_CONFLICT_HINT
    return cls(
        http_status=status,
        message=message,
        api_error_code=code,
        error_type=error_type,
        param=text("param", "error_param"),
        error_cause_id=text("error_cause_id"),
        method=method,
        path=path,
        retry_after=retry_after,
        replayed=replayed,
    )


def read_answer(response: httpx.Response, *, attempt: int, key: str | None) -> ApiResponse:
    """The decoded answer of one try, or the error it stands for."""
    method, path = response.request.method, response.request.url.path
    log.debug("%s %s -> HTTP %d (attempt %d)", method, path, response.status_code, attempt)
    if response.status_code >= 300:
        raise error_from_response(response)
    # Raised outside the except block: a decode error would carry the whole body
    # (which a misbehaving proxy may fill with request headers) as its context.
    decoded: Any = None
    problem = "a body that is not JSON"
    try:
        decoded = json.loads(response.content)
        problem = "a JSON body that is not an object"
    except ValueError:
        pass
    if not isinstance(decoded, dict):
        raise ChargebeeTransportError(method, path, f"HTTP {response.status_code} with {problem}")
    return ApiResponse(
        body=decoded,
        status_code=response.status_code,
        replayed=response.headers.get(REPLAYED_HEADER, "").lower() == "true",
        attempts=attempt,
        idempotency_key=key,
    )


def transport_error(
    method: str, path: str, exc: httpx.HTTPError, secrets: Sequence[str] = ()
) -> ChargebeeTransportError:
    """An httpx failure as the client's own error, saying whether the request went out.

    A connection that could not be made at all (refused, unknown host, TLS
    handshake) is :class:`ConnectionFailedError`: every request to the host would
    meet it. A connect or pool timeout also sent nothing, but may pass on a retry.
    """
    cause = type(exc).__name__
    detail = redact(str(exc), secrets)
    if detail:
        cause += f": {detail[:200]}"
    if isinstance(exc, httpx.ConnectError):
        return ConnectionFailedError(method, path, cause)
    never_sent = isinstance(exc, httpx.ConnectTimeout | httpx.PoolTimeout)
    return ChargebeeTransportError(method, path, cause, sent=not never_sent)


def runtime_error(
    method: str, path: str, exc: RuntimeError, *, client_closed: bool, secrets: Sequence[str] = ()
) -> ChargebeeTransportError:
    """A ``RuntimeError`` during a send, named: final, as a retry would fail the same way.

    httpx raises one when another thread has just closed the client; anything else is
    named as what it is, since the request may or may not have gone out.
    """
    text = f"{type(exc).__name__}: {redact(str(exc), secrets)[:200]}"
    cause = f"client closed during the request ({text})" if client_closed else text
    error = ChargebeeTransportError(method, path, cause)
    error.retryable = False
    return error


@contextlib.contextmanager
def failures_as_errors(
    method: str,
    path: str,
    timeout: float,
    *,
    secrets: Sequence[str] = (),
    client_closed: Callable[[], bool] = lambda: False,
) -> Iterator[None]:
    """Turn what sending can raise (httpx errors, a closed client, the deadline) into ours.

    The original stays attached as the cause, with every form of ``secrets`` cut out of
    its text and its own causes', since a traceback prints them all.
    """
    try:
        yield
    except httpx.HTTPError as exc:
        redact_chain(exc, secrets)
        raise transport_error(method, path, exc, secrets) from exc
    except TimeoutError as exc:
        raise too_slow(method, path, timeout) from exc
    except RuntimeError as exc:
        redact_chain(exc, secrets)
        closed = client_closed()
        raise runtime_error(method, path, exc, client_closed=closed, secrets=secrets) from exc
