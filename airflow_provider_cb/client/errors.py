"""Exceptions raised by the Chargebee client.

Everything derives from :class:`ChargebeeError`, so a DAG can catch one class::

    ChargebeeError
    ├── ChargebeeValidationError      bad input, raised before any request is sent
    ├── ChargebeeTransportError       no HTTP answer: connect/read failure, timeout
    └── ChargebeeAPIError             Chargebee answered with an error status
        ├── InvalidRequestError       400, 405
        ├── AuthenticationError       401
        ├── AuthorizationError        403
        ├── NotFoundError             404
        ├── InvalidStateError         409 invalid_state_for_request
        ├── IdempotencyConflictError  422: same idempotency key, different request
        ├── RateLimitError            429 (including lock_timeout)
        └── ServerError               5xx, including gateway HTML pages

Messages carry the request's method, path and Chargebee's identifiers; never the
API key, which is only ever handed to httpx's auth.
"""

from __future__ import annotations

import json
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
    """400/405: the request itself is wrong; retrying cannot help."""


class AuthenticationError(ChargebeeAPIError):
    """401: the API key is wrong or for another site."""


class AuthorizationError(ChargebeeAPIError):
    """403: the key lacks permission, or the request was blocked."""


class NotFoundError(ChargebeeAPIError):
    """404: unknown invoice or site."""


class InvalidStateError(ChargebeeAPIError):
    """409: the invoice is not in a state this action accepts."""


class IdempotencyConflictError(ChargebeeAPIError):
    """422: the idempotency key was used before for a different request."""


class RateLimitError(ChargebeeAPIError):
    """429: over the site's request budget, or a lock on the resource."""

    retryable = True


class ServerError(ChargebeeAPIError):
    """5xx: Chargebee or a gateway in front of it failed."""

    retryable = True


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


def _error_class(status: int) -> type[ChargebeeAPIError]:
    if status >= 500:
        return ServerError
    return _BY_STATUS.get(status, ChargebeeAPIError)


def _decode_error_body(response: httpx.Response) -> dict[str, Any] | None:
    try:
        body = json.loads(response.content)
    except ValueError:
        return None
    return body if isinstance(body, dict) else None


def parse_retry_after(value: str | None) -> float | None:
    """Read a Retry-After header given in seconds; dates and junk read as absent."""
    if value is None:
        return None
    try:
        seconds = float(value)
    except ValueError:
        return None
    return seconds if seconds >= 0 else None


def error_from_response(response: httpx.Response) -> ChargebeeAPIError:
    """Build the right exception from an error response, JSON or not."""
    status = response.status_code
    body = _decode_error_body(response)
    method = response.request.method
    path = response.request.url.path
    retry_after = parse_retry_after(response.headers.get("retry-after"))
    secrets = credentials_of(response.request)
    if body is None:
        return _error_class(status)(
            http_status=status,
            message=body_excerpt(response, secrets),
            method=method,
            path=path,
            retry_after=retry_after,
        )

    def text(key: str) -> str | None:
        value = body.get(key)
        return redact(str(value), secrets) if value is not None else None

    api_error_code = text("api_error_code") or text("error_code")
    return _error_class(status)(
        http_status=status,
        message=text("message") or "no message",
        api_error_code=api_error_code,
        error_type=text("type"),
        param=text("param"),
        error_cause_id=text("error_cause_id"),
        method=method,
        path=path,
        retry_after=retry_after,
    )
