"""Exceptions raised by the Chargebee client.

Everything derives from :class:`ChargebeeError`, so a DAG can catch one class::

    ChargebeeError
    ├── ChargebeeValidationError      bad input, raised before any request is sent
    ├── ChargebeeTransportError       no HTTP answer: read failure, timeout, unreadable body
    │   └── ConnectionFailedError     no connection at all (refused, unknown host, TLS handshake)
    ├── RateLimitStoreError           the shared budget's store (rate_limit_store) is unusable
    └── ChargebeeAPIError             Chargebee answered with an error
        ├── InvalidRequestError       invalid_request, param_wrong_value, ... (usually 400)
        ├── AuthenticationError       api_authentication_failed, ... (401)
        ├── AuthorizationError        api_authorization_failed, request_blocked (403)
        ├── NotFoundError             resource_not_found, site_not_found (404)
        ├── InvalidStateError         invalid_state_for_request (409, or 400)
        ├── IdempotencyConflictError  unable_to_process_request: same key, other request (422)
        ├── RateLimitError            api_request_limit_exceeded, lock_timeout, ... (429)
        └── ServerError               5xx, site_not_ready, gateway HTML pages

Which class an answer gets is decided in :mod:`airflow_provider_cb.chargebee_api.answers`.
Messages carry the request's method, path and Chargebee's identifiers, and a
failure every request to the site would meet names the connection and the host;
never the API key, which is only ever handed to httpx's auth.
"""

from __future__ import annotations


class ChargebeeError(Exception):
    """Base class of every error this provider raises."""

    #: Whether retrying the same request later can succeed.
    retryable = False
    #: How many times the request was sent before this error was raised.
    attempts = 0

    def at(self, site: str) -> None:
        """Add where the request went (connection and host): the path alone does not say."""
        self.args = (f"{self.args[0]} ({site})",)


class ChargebeeValidationError(ChargebeeError, ValueError):
    """A parameter failed validation; nothing was sent."""

    def __init__(self, param: str, problem: str) -> None:
        self.param = param
        self.problem = problem
        super().__init__(f"{param}: {problem}")


class ChargebeeTransportError(ChargebeeError):
    """The request got no usable HTTP answer (reset, timeout, unreadable body, no connection).

    ``sent`` is False only when the request surely never reached the server, which
    makes even a POST without an idempotency key safe to resend.
    """

    retryable = True

    def __init__(self, method: str, path: str, cause: str, *, sent: bool = True) -> None:
        self.method = method
        self.path = path
        self.sent = sent
        super().__init__(f"{method} {path}: {cause}")


class ConnectionFailedError(ChargebeeTransportError):
    """No connection could be made (refused, unknown host, TLS handshake); nothing was sent.

    Every request to the same host would fail alike, so it is not retried request by
    request: a bulk run stops at the first one, and a later try of the task is safe.
    """

    def __init__(self, method: str, path: str, cause: str) -> None:
        super().__init__(method, path, cause, sent=False)


class RateLimitStoreError(ChargebeeError):
    """The shared budget's store (``rate_limit_store``) could not be used.

    Nothing is sent without the site's shared budget; a later try of the task, once
    the store is back, is safe.
    """

    retryable = True
    param = "rate_limit_store"
    #: Whether an earlier try of the request reached Chargebee (its outcome is then unknown).
    sent = False


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
        replayed: bool = False,
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
        #: Chargebee answered with the stored answer of this idempotency key's first request.
        self.replayed = replayed
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


class IdempotencyConflictError(ChargebeeAPIError):
    """422: the idempotency key was used before for a different request."""


class RateLimitError(ChargebeeAPIError):
    """429: over the site's request budget, or a lock on the resource."""

    retryable = True


class ServerError(ChargebeeAPIError):
    """5xx: Chargebee or a gateway in front of it failed."""

    retryable = True
