"""What the emulated Chargebee site answers to one request, HTTP plumbing aside.

The order of checks follows the real API: authentication first, then the rate
limit, then the idempotency key, then routing, parameters and invoice state.
Bodies are checked and actions judged by the emulator's own
:mod:`~airflow_provider_cb.testing.rules`, never by the client's.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, unquote

from airflow_provider_cb.testing import creation, listing
from airflow_provider_cb.testing.clock import Clock
from airflow_provider_cb.testing.fields import check_id
from airflow_provider_cb.testing.idempotency import KEY_MAX_LENGTH, IdempotencyStore
from airflow_provider_cb.testing.params import Param, read_body
from airflow_provider_cb.testing.rules import SITE_ACTIONS, SiteAction
from airflow_provider_cb.testing.store import InvoiceStore
from airflow_provider_cb.testing.wire import (
    Answer,
    ApiError,
    decode_form,
    form_fingerprint,
    in_progress,
    not_found,
    rate_limited,
    wrong_value,
)

API_VERSIONS = ("v1", "v2")
IDEMPOTENCY_HEADER = "chargebee-idempotency-key"
REPLAYED_HEADER = ("chargebee-idempotency-replayed", "true")

_ACCOUNTS: Mapping[str, str] = {"customers": "customer", "subscriptions": "subscription"}
"""Resources read only for the setting they hold (auto collection), on v2."""
Creator = Callable[[InvoiceStore, Mapping[str, Any]], Answer]
_CREATE: Mapping[tuple[str, ...], tuple[tuple[Param, ...], Creator]] = {
    ("v2", "customers"): (creation.CUSTOMER_PARAMS, creation.create_customer),
    ("v2", "invoices", "create_for_charge_items_and_charges"): (
        creation.INVOICE_PARAMS,
        creation.create_invoice,
    ),
}
"""What a system test creates through the API: a customer, a closed invoice of charges."""
_NO_SUCH_URL = "Sorry, we couldn't find that resource"


@dataclass(frozen=True, slots=True)
class Request:
    """The parts of an HTTP request the site looks at; ``body`` None when it was unreadable."""

    method: str
    path: str
    query: str
    authorization: str | None
    idempotency_key: str | None
    body: bytes | None


class Site:
    """One emulated Chargebee site: its key, invoices, idempotency store and counters."""

    def __init__(self, api_key: str, clock: Clock, store: InvoiceStore) -> None:
        self._credentials = f"{api_key}:".encode()
        self._expected_header = "Basic " + base64.b64encode(self._credentials).decode()
        self._clock = clock
        self._store = store
        self._idempotency = IdempotencyStore(clock)
        self._counter_lock = threading.Lock()
        self._rate_limited = 0
        self._in_progress: set[str] = set()
        self.processing_seconds = 0.0
        """How long an idempotent POST stays "in progress" before it is handled."""

    @property
    def rate_limited_count(self) -> int:
        return self._rate_limited

    def handle(self, request: Request, retry_after: int | None) -> Answer:
        """Answer one request; ``retry_after`` is set when the rate limit refuses it."""
        try:
            if not self.authorized(request.authorization):
                raise ApiError(
                    401,
                    "api_authentication_failed",
                    "Sorry, authentication failed. Invalid api key",
                    error_type="untyped",
                )
            if retry_after is not None:
                with self._counter_lock:
                    self._rate_limited += 1
                raise rate_limited(retry_after)
            if request.body is None:
                raise ApiError(
                    400,
                    "invalid_request",
                    "The request body must come with a Content-Length and without chunking",
                )
            if request.method == "POST" and request.idempotency_key is not None:
                return self._idempotent(request, request.idempotency_key)
            return self._route(request)
        except ApiError as error:
            return error.answer()

    def authorized(self, header: str | None) -> bool:
        """HTTP Basic with the API key as user name and an empty password."""
        if header == self._expected_header:
            return True
        if header is None:
            return False
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "basic":
            return False
        try:
            credentials = base64.b64decode(token.strip(), validate=True)
        except (ValueError, binascii.Error):
            return False
        return hmac.compare_digest(credentials, self._credentials)

    def _idempotent(self, request: Request, key: str) -> Answer:
        """Replay a stored answer, refuse a reused key, or handle and store."""
        if not 0 < len(key) <= KEY_MAX_LENGTH:
            raise wrong_value(
                IDEMPOTENCY_HEADER, f"must be 1 to {KEY_MAX_LENGTH} characters, got {len(key)}"
            )
        fingerprint = (request.method, request.path, form_fingerprint(_text(request.body)))
        with self._counter_lock:
            stored = self._idempotency.get(key)
            if stored is None:
                if key in self._in_progress:
                    # Chargebee does not queue a same-key repeat: it says to retry later.
                    raise in_progress()
                self._in_progress.add(key)
        if stored is not None:
            if stored.fingerprint != fingerprint:
                raise ApiError(
                    422,
                    "unable_to_process_request",
                    "The idempotency key was already used with a different request",
                )
            previous = stored.answer
            return Answer(
                previous.status,
                previous.body,
                previous.content_type,
                (*previous.headers, REPLAYED_HEADER),
                replayed=True,
            )
        try:
            if self.processing_seconds:
                time.sleep(self.processing_seconds)
            answer = self._route(request)
            if answer.status < 500 and answer.status != 429:
                self._idempotency.put(key, fingerprint, answer)
            return answer
        finally:
            with self._counter_lock:
                self._in_progress.discard(key)

    def _route(self, request: Request) -> Answer:
        try:
            parts = request.path.split("/")
            if len(parts) < 4 or parts[:2] != ["", "api"] or parts[2] not in API_VERSIONS:
                raise not_found(_NO_SUCH_URL)
            version, resource, rest = parts[2], parts[3], parts[4:]
            create = _CREATE.get((version, resource, *rest))
            if create is not None:
                _allow(request, "POST")
                return self._create(request, *create)
            if resource in _ACCOUNTS and version == "v2" and len(rest) == 1:
                _allow(request, "GET")
                return self._store.retrieve_account(_ACCOUNTS[resource], _path_id(rest[0]))
            if resource != "invoices":
                raise not_found(_NO_SUCH_URL)
            if not rest:
                _allow(request, "GET")
                return self._list(request, version)
            if len(rest) == 1:
                _allow(request, "GET")
                return self._store.retrieve(_path_id(rest[0]), version)
            action = SITE_ACTIONS.get((version, rest[1])) if len(rest) == 2 else None
            if action is None:
                raise not_found(_NO_SUCH_URL)
            _allow(request, "POST")
            return self._act(request, action, _path_id(rest[0]))
        except ApiError as error:
            return error.answer()

    def _list(self, request: Request, version: str) -> Answer:
        query = listing.parse_query(parse_qsl(request.query, keep_blank_values=True))
        return self._store.page(query, version)

    def _create(self, request: Request, params: tuple[Param, ...], create: Creator) -> Answer:
        form = decode_form(_text(request.body))
        return create(self._store, read_body(params, form, int(self._clock.now())))

    def _act(self, request: Request, action: SiteAction, invoice_id: str) -> Answer:
        """Read the body by the endpoint's own parameters, then act on the invoice.

        Dates are judged by the emulator's clock, which tests can move.
        """
        form = decode_form(_text(request.body))
        body = read_body(action.params, form, int(self._clock.now()))
        return self._store.apply(action, invoice_id, body, idempotency_key=request.idempotency_key)


def _allow(request: Request, method: str) -> None:
    if request.method != method:
        raise ApiError(
            405,
            "http_method_not_supported",
            f"Sorry, the http method {request.method} is not supported for this url",
            headers=(("Allow", method),),
        )


def _path_id(segment: str) -> str:
    try:
        return check_id("id", unquote(segment))
    except ValueError:
        raise not_found(_NO_SUCH_URL) from None


def _text(body: bytes | None) -> str:
    return (body or b"").decode("utf-8", "replace")
