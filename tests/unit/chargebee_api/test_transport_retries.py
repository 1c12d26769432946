"""Transport: retries, Retry-After, idempotency keys and request headers, over MockTransport."""

from __future__ import annotations

import base64
import re
from typing import Any
from urllib.parse import parse_qsl

import httpx
import pytest

from airflow_provider_cb import __version__
from airflow_provider_cb.chargebee_api.encoding import RequestOrigin
from airflow_provider_cb.chargebee_api.errors import (
    AuthenticationError,
    AuthorizationError,
    ChargebeeAPIError,
    ChargebeeError,
    ChargebeeTransportError,
    ChargebeeValidationError,
    ConnectionFailedError,
    IdempotencyConflictError,
    InvalidRequestError,
    InvalidStateError,
    NotFoundError,
    RateLimitError,
    ServerError,
)
from airflow_provider_cb.chargebee_api.ratebudget import RateBudget
from airflow_provider_cb.chargebee_api.retries import (
    BACKOFF_CAP_SECONDS,
    MAX_RETRY_AFTER_SECONDS,
    retry_delay,
    should_retry,
)
from airflow_provider_cb.chargebee_api.settings import SITE_BLOCK_SECONDS
from airflow_provider_cb.chargebee_api.transport import IDEMPOTENCY_HEADER

from ..conftest import API_KEY, api_error, json_response, make_rig

OK = {"invoice": {"id": "inv_1", "status": "payment_due"}}
CLOSE = "/invoices/inv_1/close"


def ok() -> httpx.Response:
    return json_response(200, OK)


def html(status: int) -> httpx.Response:
    return httpx.Response(
        status, content=b"<html>gateway</html>", headers={"content-type": "text/html"}
    )


# -- Retry-After and backoff ------------------------------------------------------------


@pytest.mark.parametrize(("header", "expected"), [("7", 7.0), ("0.5", 0.5), ("500", 120.0)])
def test_429_with_retry_after_pauses_the_budget_exactly(header: str, expected: float) -> None:
    rig = make_rig(
        [api_error(429, "api_request_limit_exceeded", headers={"Retry-After": header}), ok()]
    )
    result = rig.transport.request("POST", CLOSE)
    assert result.body == OK
    assert result.attempts == 2
    assert rig.clock.sleeps == [expected]  # waited through RateBudget.pause_for
    assert rig.backoff_sleeps == []  # and not a second time through backoff
    assert rig.transport.budget.waited_seconds == expected
    assert rig.transport.retries == 1
    assert len(rig.server.requests) == 2


def test_retry_after_cap_constant() -> None:
    assert MAX_RETRY_AFTER_SECONDS == 120.0


@pytest.mark.parametrize("code", ["api_request_limit_exceeded", None])
def test_a_site_limit_without_retry_after_pauses_the_site_for_the_documented_block(
    code: str | None,
) -> None:
    """Retries within seconds would spend every retry inside Chargebee's minute-long block."""
    body = {"message": "slow down"} | ({"api_error_code": code} if code else {})
    rig = make_rig([*[json_response(429, body) for _ in range(4)], ok()])
    result = rig.transport.request("GET", "/invoices/inv_1")
    assert result.attempts == 5
    assert rig.clock.sleeps == [SITE_BLOCK_SECONDS] * 4  # through the budget: every worker
    assert rig.backoff_sleeps == []
    assert SITE_BLOCK_SECONDS == 60.0


def test_the_block_is_shortened_through_rate_limit_block_seconds() -> None:
    rig = make_rig(
        [api_error(429, "api_request_limit_exceeded"), ok()], rate_limit_block_seconds=1.5
    )
    assert rig.transport.request("GET", "/invoices/inv_1").attempts == 2
    assert rig.clock.sleeps == [1.5]


@pytest.mark.parametrize("retry_after", [None, "4"])
def test_lock_timeout_retries_that_request_alone_without_pausing_the_site(
    retry_after: str | None,
) -> None:
    headers = {"Retry-After": retry_after} if retry_after else None
    rig = make_rig([api_error(429, "lock_timeout", headers=headers), ok()])
    result = rig.transport.request("POST", CLOSE, idempotency_key="close-inv_1")
    assert result.attempts == 2
    assert rig.clock.sleeps == []  # the budget, every worker's, never paused
    if retry_after:
        assert rig.backoff_sleeps == [4.0]
    else:
        assert len(rig.backoff_sleeps) == 1 and 0.25 <= rig.backoff_sleeps[0] <= 0.5


def test_a_gateways_limit_waits_the_block_for_that_request_alone() -> None:
    rig = make_rig([api_error(429, "third_party_api_request_limit_exceeded"), ok()])
    result = rig.transport.request("POST", CLOSE, idempotency_key="collect-inv_1")
    assert result.attempts == 2
    assert rig.clock.sleeps == []  # the rest of the site goes on
    assert rig.backoff_sleeps == [SITE_BLOCK_SECONDS]


@pytest.mark.parametrize(
    ("code", "lowered"),
    [
        ("api_request_limit_exceeded", True),
        (None, True),
        ("lock_timeout", False),
        ("third_party_api_request_limit_exceeded", False),
    ],
)
def test_only_a_site_limit_lowers_the_rate(code: str | None, lowered: bool) -> None:
    budget = RateBudget(600, clock=lambda: 0.0, sleep=lambda _: None)
    with pytest.raises(RateLimitError), budget.turn():
        raise RateLimitError(http_status=429, message="x", api_error_code=code)
    assert budget.requests_per_minute is not None
    assert (budget.requests_per_minute < 600) is lowered


@pytest.mark.parametrize(
    ("attempt", "rand", "expected"),
    [
        (1, 0.0, 0.25),
        (1, 1.0, 0.5),
        (2, 0.0, 0.5),
        (2, 1.0, 1.0),
        (3, 0.5, 1.5),
        (4, 1.0, 4.0),
        (6, 1.0, 16.0),
        (7, 1.0, BACKOFF_CAP_SECONDS),
        (20, 1.0, BACKOFF_CAP_SECONDS),
        (20, 0.0, BACKOFF_CAP_SECONDS / 2),
    ],
)
def test_retry_delay_backoff(attempt: int, rand: float, expected: float) -> None:
    error = ServerError(http_status=502, message="gateway")
    assert retry_delay(attempt, error, rand=lambda: rand) == pytest.approx(expected)


@pytest.mark.parametrize(
    ("error", "expected"),
    [
        (RateLimitError(http_status=429, message="x", retry_after=7), 7.0),
        (RateLimitError(http_status=429, message="x", retry_after=3600), 120.0),
        (ServerError(http_status=503, message="x", retry_after=5), 5.0),
    ],
)
def test_retry_delay_obeys_retry_after(error: ChargebeeError, expected: float) -> None:
    assert retry_delay(1, error, rand=lambda: 0.0) == expected
    assert retry_delay(9, error, rand=lambda: 1.0) == expected


def test_retry_delay_for_transport_errors_is_backoff() -> None:
    error = ChargebeeTransportError("GET", "/x", "reset")
    assert retry_delay(3, error, rand=lambda: 1.0) == 2.0


# -- what is retried --------------------------------------------------------------------


@pytest.mark.parametrize("method", ["GET", "POST"])
def test_503_is_retried(method: str) -> None:
    rig = make_rig([api_error(503, "site_not_ready"), html(503), ok()])
    result = rig.transport.request(method, CLOSE if method == "POST" else "/invoices/inv_1")
    assert result.attempts == 3
    assert len(rig.backoff_sleeps) == 2


def test_503_retry_after_is_honoured() -> None:
    rig = make_rig([api_error(503, "site_not_ready", headers={"Retry-After": "3"}), ok()])
    rig.transport.request("GET", "/invoices/inv_1")
    assert rig.backoff_sleeps == [3.0]


@pytest.mark.parametrize(
    "failure",
    [
        lambda: api_error(500, "internal_error"),
        lambda: html(502),
        lambda: html(504),
        lambda: httpx.ReadTimeout("read timed out"),
        lambda: httpx.RemoteProtocolError("server disconnected"),
    ],
    ids=["500", "502-html", "504-html", "read-timeout", "disconnect"],
)
def test_post_failures_after_sending_are_retried_with_the_same_key(failure: Any) -> None:
    rig = make_rig([failure(), failure(), ok()])
    result = rig.transport.request("POST", CLOSE, idempotency_key="af-close-123")
    assert result.attempts == 3
    assert result.idempotency_key == "af-close-123"
    assert rig.server.header_values(IDEMPOTENCY_HEADER) == ["af-close-123"] * 3


def test_generated_key_is_used_and_reused_across_retries() -> None:
    rig = make_rig([api_error(500, "internal_error"), html(502), ok()])
    result = rig.transport.request("POST", CLOSE)
    keys = rig.server.header_values(IDEMPOTENCY_HEADER)
    assert len(keys) == 3
    assert keys[0] is not None
    assert re.fullmatch(r"cb-[0-9a-f]{32}", keys[0])
    assert len(set(keys)) == 1
    assert result.idempotency_key == keys[0]


def test_each_call_gets_its_own_generated_key() -> None:
    rig = make_rig([ok(), ok()])
    first = rig.transport.request("POST", CLOSE)
    second = rig.transport.request("POST", CLOSE)
    assert first.idempotency_key != second.idempotency_key


def test_get_has_no_idempotency_key() -> None:
    rig = make_rig([ok()])
    result = rig.transport.request("GET", "/invoices/inv_1")
    assert result.idempotency_key is None
    assert rig.server.header_values(IDEMPOTENCY_HEADER) == [None]


@pytest.mark.parametrize("method", ["GET", "POST"])
def test_connect_timeout_is_retried(method: str) -> None:
    rig = make_rig([httpx.ConnectTimeout("slow"), httpx.PoolTimeout("busy"), ok()])
    result = rig.transport.request(method, CLOSE if method == "POST" else "/invoices/inv_1")
    assert result.attempts == 3


@pytest.mark.parametrize("method", ["GET", "POST"])
def test_a_refused_connection_ends_the_request_at_once(method: str) -> None:
    """Tried as a new user would: a dead host gave a retry warning per try per invoice."""
    rig = make_rig([httpx.ConnectError("refused"), ok()])
    with pytest.raises(ConnectionFailedError) as info:
        rig.transport.request(method, CLOSE if method == "POST" else "/invoices/inv_1")
    assert (info.value.attempts, info.value.sent, info.value.retryable) == (1, False, True)
    assert rig.backoff_sleeps == []
    assert rig.transport.retries == 0


@pytest.mark.parametrize(
    ("status", "code", "cls"),
    [
        (400, "param_wrong_value", InvalidRequestError),
        (401, "api_authentication_failed", AuthenticationError),
        (403, "api_authorization_failed", AuthorizationError),
        (404, "resource_not_found", NotFoundError),
        (405, "http_method_not_supported", InvalidRequestError),
        (409, "invalid_state_for_request", InvalidStateError),
        (422, "unable_to_process_request", IdempotencyConflictError),
    ],
)
@pytest.mark.parametrize("method", ["GET", "POST"])
def test_client_errors_are_not_retried(
    method: str, status: int, code: str, cls: type[ChargebeeAPIError]
) -> None:
    rig = make_rig([api_error(status, code), ok()])
    with pytest.raises(cls) as info:
        rig.transport.request(method, CLOSE)
    assert info.value.attempts == 1
    assert info.value.api_error_code == code
    assert len(rig.server.requests) == 1
    assert rig.backoff_sleeps == []
    assert rig.transport.retries == 0


@pytest.mark.parametrize("max_retries", [0, 1, 3])
def test_max_retries_is_respected(max_retries: int) -> None:
    rig = make_rig([api_error(500, "internal_error")] * 10, max_retries=max_retries)
    with pytest.raises(ServerError) as info:
        rig.transport.request("POST", CLOSE)
    assert info.value.attempts == max_retries + 1
    assert len(rig.server.requests) == max_retries + 1
    assert rig.transport.retries == max_retries


def test_transport_error_after_max_retries_carries_attempts() -> None:
    rig = make_rig([httpx.ConnectTimeout("slow")] * 3, max_retries=2)
    with pytest.raises(ChargebeeTransportError) as info:
        rig.transport.request("GET", "/invoices/inv_1")
    assert info.value.attempts == 3
    assert info.value.sent is False
    assert "ConnectTimeout" in str(info.value)


def test_rate_limit_after_max_retries_is_raised() -> None:
    rig = make_rig(
        [api_error(429, "api_request_limit_exceeded", headers={"Retry-After": "1"})] * 3,
        max_retries=2,
    )
    with pytest.raises(RateLimitError) as info:
        rig.transport.request("GET", "/invoices/inv_1")
    assert info.value.attempts == 3
    assert rig.clock.sleeps == [1.0, 1.0]


# -- should_retry truth table ---------------------------------------------------------------


def _api(cls: type[ChargebeeAPIError], status: int) -> ChargebeeAPIError:
    return cls(http_status=status, message="x")


SENT = ChargebeeTransportError("POST", "/x", "ReadTimeout", sent=True)
NOT_SENT = ChargebeeTransportError("POST", "/x", "ConnectTimeout", sent=False)
REFUSED = ConnectionFailedError("POST", "/x", "ConnectError")


@pytest.mark.parametrize(
    ("error", "expected"),
    [
        (_api(ServerError, 500), True),
        (_api(ServerError, 502), True),
        (_api(ServerError, 503), True),
        (_api(RateLimitError, 429), True),
        (SENT, True),
        (NOT_SENT, True),
        (REFUSED, False),
        (_api(InvalidStateError, 409), False),
        (_api(NotFoundError, 404), False),
        (_api(AuthenticationError, 401), False),
        (_api(IdempotencyConflictError, 422), False),
        (_api(ChargebeeAPIError, 302), False),
        (ChargebeeValidationError("x", "bad"), False),
    ],
)
def test_should_retry(error: ChargebeeError, expected: bool) -> None:
    # Safe for a POST too: every POST carries an idempotency key (tested above).
    assert should_retry(error) is expected


# -- redirects, headers and bodies ----------------------------------------------------------


@pytest.mark.parametrize("status", [301, 302, 307, 308])
def test_redirects_are_not_followed(status: int) -> None:
    redirect = httpx.Response(status, headers={"Location": "https://evil.example.com/steal"})
    rig = make_rig([redirect, ok()])
    with pytest.raises(ChargebeeAPIError) as info:
        rig.transport.request("GET", "/invoices/inv_1")
    assert info.value.http_status == status
    assert [str(r.url) for r in rig.server.requests] == [
        "https://acme-test.chargebee.com/api/v2/invoices/inv_1"
    ]


def test_standard_headers_and_url() -> None:
    rig = make_rig([ok()])
    rig.transport.request("GET", "/invoices/inv_1", query={"x": "1"})
    request = rig.server.requests[0]
    assert str(request.url) == "https://acme-test.chargebee.com/api/v2/invoices/inv_1?x=1"
    scheme, token = request.headers["Authorization"].split(" ", 1)
    assert scheme == "Basic"
    assert base64.b64decode(token).decode() == f"{API_KEY}:"
    assert request.headers["Accept"] == "application/json"
    assert request.headers["User-Agent"].startswith(f"airflow-provider-chargebee/{__version__}")
    assert "content-type" not in request.headers


def test_post_sends_form_body_and_write_headers() -> None:
    origin = RequestOrigin(
        origin_user="ann@example.com",
        business_entity_id="be_eu",
        skip_events="webhook",  # type: ignore[arg-type]
    )
    rig = make_rig([ok(), ok()], origin=origin)
    rig.transport.request(
        "POST",
        CLOSE,
        body={
            "comment": "month end & more",
            "remove_general_note": True,
            "invoice_note": None,
            "notes_to_remove": [{"entity_type": "customer", "entity_id": "cus_9"}],
        },
        idempotency_key="k-1",
    )
    request = rig.server.requests[0]
    assert request.headers["Content-Type"] == "application/x-www-form-urlencoded"
    assert parse_qsl(request.content.decode("ascii")) == [
        ("comment", "month end & more"),
        ("remove_general_note", "true"),
        ("notes_to_remove[entity_type][0]", "customer"),
        ("notes_to_remove[entity_id][0]", "cus_9"),
    ]
    assert request.headers["chargebee-request-origin-user"] == "ann@example.com"
    assert request.headers["chargebee-business-entity-id"] == "be_eu"
    assert request.headers["chargebee-event-webhook"] == "all-disabled"
    assert request.headers[IDEMPOTENCY_HEADER] == "k-1"

    rig.transport.request("GET", "/invoices/inv_1")
    read = rig.server.requests[1]
    assert "chargebee-event-webhook" not in read.headers
    assert read.headers["chargebee-request-origin-user"] == "ann@example.com"


def test_v1_request_uses_v1_server_and_no_business_entity() -> None:
    rig = make_rig([ok()], origin=RequestOrigin(business_entity_id="be_eu"))
    rig.transport.request("POST", "/invoices/inv_1/collect", api_version="v1")
    request = rig.server.requests[0]
    assert str(request.url) == "https://acme-test.chargebee.com/api/v1/invoices/inv_1/collect"
    assert "chargebee-business-entity-id" not in request.headers


def test_per_call_origin_overrides() -> None:
    rig = make_rig([ok()], origin=RequestOrigin(origin_user="ops@example.com"))
    rig.transport.request(
        "POST",
        CLOSE,
        origin=RequestOrigin(origin_user="ann@example.com", skip_events="email"),  # type: ignore[arg-type]
    )
    request = rig.server.requests[0]
    assert request.headers["chargebee-request-origin-user"] == "ann@example.com"
    assert request.headers["chargebee-event-email"] == "all-disabled"


def test_replayed_header_is_reported() -> None:
    rig = make_rig([json_response(200, OK, {"chargebee-idempotency-replayed": "true"}), ok()])
    assert rig.transport.request("POST", CLOSE, idempotency_key="k").replayed is True
    assert rig.transport.request("POST", CLOSE, idempotency_key="k").replayed is False


@pytest.mark.parametrize("key", ["", "has space", "a" * 101, "new\nline", "k/1", 42])
def test_bad_idempotency_key_is_refused_before_sending(key: Any) -> None:
    rig = make_rig([ok()])
    with pytest.raises(ChargebeeValidationError) as info:
        rig.transport.request("POST", CLOSE, idempotency_key=key)
    assert info.value.param == "idempotency_key"
    assert rig.server.requests == []


def test_idempotency_key_of_100_chars_is_accepted() -> None:
    rig = make_rig([ok()])
    rig.transport.request("POST", CLOSE, idempotency_key="k" * 100)
    assert rig.server.header_values(IDEMPOTENCY_HEADER) == ["k" * 100]


def malformed() -> httpx.Response:
    return httpx.Response(200, content=b"{not json", headers={"content-type": "application/json"})


def test_malformed_json_200_raises_transport_error() -> None:
    rig = make_rig([malformed()], max_retries=0)
    with pytest.raises(ChargebeeTransportError) as info:
        rig.transport.request("POST", CLOSE)
    assert "not JSON" in str(info.value)
    assert info.value.attempts == 1


def test_malformed_json_200_is_retried_for_post_with_key() -> None:
    rig = make_rig([malformed(), ok()])
    result = rig.transport.request("POST", CLOSE, idempotency_key="close-1")
    assert result.body == OK
    assert result.attempts == 2
    assert rig.server.header_values(IDEMPOTENCY_HEADER) == ["close-1", "close-1"]


@pytest.mark.parametrize("content", [b"[]", b'"text"', b"null"])
def test_json_that_is_not_an_object_is_a_transport_error(content: bytes) -> None:
    rig = make_rig([httpx.Response(200, content=content)], max_retries=0)
    with pytest.raises(ChargebeeTransportError):
        rig.transport.request("GET", "/invoices/inv_1")


def test_repr_does_not_show_the_key() -> None:
    rig = make_rig([])
    assert API_KEY not in repr(rig.transport)
    assert "acme-test.chargebee.com" in repr(rig.transport)
