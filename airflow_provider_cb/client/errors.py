"""Exceptions raised by the Chargebee client.

Everything derives from :class:`ChargebeeError`, so a DAG can catch one class::

    ChargebeeError
    ├── ChargebeeValidationError      bad input, raised before any request is sent
    ├── ChargebeeTransportError       no HTTP answer: connect/read failure, timeout
    └── ChargebeeAPIError             Chargebee answered with an error
        ├── InvalidRequestError       invalid_request, param_wrong_value, ... (usually 400)
        ├── AuthenticationError       api_authentication_failed, ... (401)
        ├── AuthorizationError        api_authorization_failed, request_blocked (403)
        ├── NotFoundError             resource_not_found, site_not_found (404)
        ├── InvalidStateError         invalid_state_for_request (409, or 400)
        │   └── RequestInProgressError   the same key's first request is still running
        ├── IdempotencyConflictError  unable_to_process_request: same key, other request (422)
        ├── RateLimitError            api_request_limit_exceeded, lock_timeout, ... (429)
        └── ServerError               5xx, site_not_ready, gateway HTML pages

The class comes from the body's ``api_error_code`` (or the deprecated
``error_code``) first, then its ``type``, then the HTTP status, as the official
SDKs decide: Chargebee documents 409 for a state conflict but says it
"predominantly uses 400", so the status alone cannot be trusted.

Messages carry the request's method, path and Chargebee's identifiers; never the
API key, which is only ever handed to httpx's auth.
"""

from __future__ import annotations

import email.utils
import json
import time
from collections.abc import Mapping
from typing import Any

import httpx

from airflow_provider_cb.client.redaction import body_excerpt, credentials_of, redact


class ChargebeeError(Exception):
    """Base class of every error this provider raises."""

    #: Whether retrying the same request later can succeed.
    retryable = False
    #: How many times the request was sent before this error was raised.
    attempts = 0


class ChargebeeValidationError(ChargebeeError, ValueError):
    """A parameter failed validation; nothing was sent."""

    def __init__(self, param: str, problem: str) -> None:
        self.param = param
        self.problem = problem
        super().__init__(f"{param}: {problem}")


class ChargebeeTransportError(ChargebeeError):
    """The request got no usable HTTP answer (refused, reset, timeout, unreadable body).

    ``sent`` is False only when the request surely never reached the server, which
    makes even a POST without an idempotency key safe to resend.
    """

    retryable = True

    def __init__(self, method: str, path: str, cause: str, *, sent: bool = True) -> None:
        self.method = method
        self.path = path
        self.sent = sent
        super().__init__(f"{method} {path}: {cause}")


class RateLimitStoreError(ChargebeeError):
    """The shared budget's store (``rate_limit_store``) could not be used.

    Nothing is sent without the site's shared budget; a later try of the task, once
    the store is back, is safe.
    """

    retryable = True
    param = "rate_limit_store"


class ChargebeeAPIError(ChargebeeError):
    """Chargebee answered with an error status and (usually) its error body."""

    def __init__(
        self,
        *,
        http_status: int,
        message: str,
        api_error_code: str | None = None,
        error_type: str | None = None,
        param: str | None = None,
        error_cause_id: str | None = None,
        method: str = "",
        path: str = "",
        retry_after: float | None = None,
    ) -> None:
        self.http_status = http_status
        self.message = message
        self.api_error_code = api_error_code
        self.error_type = error_type
        self.param = param
        self.error_cause_id = error_cause_id
        self.method = method
        self.path = path
        self.retry_after = retry_after
        detail = f"HTTP {http_status}"
        if api_error_code:
            detail += f" {api_error_code}"
        if param:
            detail += f" (param {param})"
        where = f"{method} {path}: " if method else ""
        super().__init__(f"{where}{detail}: {message}")


class InvalidRequestError(ChargebeeAPIError):
    """The request itself is wrong (400, 405); retrying cannot help."""


class AuthenticationError(ChargebeeAPIError):
    """401: the API key is wrong or for another site."""


class AuthorizationError(ChargebeeAPIError):
    """403: the key lacks permission, or the request was blocked."""


class NotFoundError(ChargebeeAPIError):
    """404: unknown invoice or site."""


class InvalidStateError(ChargebeeAPIError):
    """The invoice is not in a state this action accepts (409, sometimes 400)."""


class RequestInProgressError(InvalidStateError):
    """Chargebee is still processing the first request sent with this idempotency key.

    Only its message tells it from a real state conflict. It is transient: the same
    request with the same key is answered with the stored result once the first
    finishes, so it is retried; when the wait runs out the action may or may not
    have been applied, and a re-run (same key, then the invoice's state) is safe.
    """

    retryable = True


class IdempotencyConflictError(ChargebeeAPIError):
    """422: the idempotency key was used before for a different request."""


class RateLimitError(ChargebeeAPIError):
    """429: over the site's request budget, or a lock on the resource."""

    retryable = True


class ServerError(ChargebeeAPIError):
    """5xx: Chargebee or a gateway in front of it failed."""

    retryable = True


IN_PROGRESS_MESSAGE = "previous request is still in progress"
"""What tells an in-flight duplicate from a real state conflict (same code and status)."""

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
"""``api_error_code`` -> class; the codes that mean Chargebee did not act are retryable."""

NOT_PROCESSED_CODES = frozenset(
    {"site_not_ready", "site_read_only_mode", "internal_temporary_error", "db_connection_failure"}
)
"""Server-side codes that say the request was refused before anything was done."""

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


def error_class(
    status: int, code: str | None, error_type: str | None, message: str
) -> type[ChargebeeAPIError]:
    """The class for an error answer.

    A known ``api_error_code`` decides; failing that a specific status (401, 403,
    404, 409, 422, 429, 5xx); failing that the ``type`` (400 is used for nearly
    everything, so it says little).
    """
    by_code = BY_CODE.get(code or "")
    if by_code is InvalidStateError and IN_PROGRESS_MESSAGE in message.lower():
        return RequestInProgressError
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
    secrets = credentials_of(response.request)
    if body is None:
        return error_class(status, None, None, "")(
            http_status=status,
            message=body_excerpt(response, secrets),
            method=method,
            path=path,
            retry_after=retry_after,
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
    cls = error_class(status, code, error_type, message)
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
    )
