"""error_from_response: Chargebee's error bodies and gateway pages -> the exception hierarchy."""

from __future__ import annotations

import base64
import json
from typing import Any

import httpx
import pytest

from airflow_provider_cb.chargebee_api.answers import error_from_response, parse_retry_after
from airflow_provider_cb.chargebee_api.errors import (
    AuthenticationError,
    AuthorizationError,
    ChargebeeAPIError,
    ChargebeeError,
    IdempotencyConflictError,
    InvalidRequestError,
    InvalidStateError,
    NotFoundError,
    RateLimitError,
    ServerError,
)

from ..conftest import API_KEY

AUTH = "Basic " + base64.b64encode(f"{API_KEY}:".encode()).decode()


def response(
    status: int,
    content: bytes | str,
    *,
    content_type: str | None = "application/json",
    headers: dict[str, str] | None = None,
    method: str = "POST",
    url: str = "https://acme-test.chargebee.com/api/v2/invoices/inv_1/close",
) -> httpx.Response:
    request = httpx.Request(method, url, headers={"Authorization": AUTH})
    all_headers = dict(headers or {})
    if content_type:
        all_headers["content-type"] = content_type
    if isinstance(content, str):
        content = content.encode()
    return httpx.Response(status, content=content, headers=all_headers, request=request)


@pytest.mark.parametrize(
    ("status", "code", "error_type", "param", "cls", "retryable"),
    [
        (400, "param_wrong_value", "invalid_request", "comment", InvalidRequestError, False),
        (400, "payment_processing_failed", "payment", None, InvalidRequestError, False),
        (401, "api_authentication_failed", None, None, AuthenticationError, False),
        (403, "api_authorization_failed", None, None, AuthorizationError, False),
        (403, "request_blocked", None, None, AuthorizationError, False),
        (404, "resource_not_found", "invalid_request", None, NotFoundError, False),
        (404, "site_not_found", None, None, NotFoundError, False),
        (405, "http_method_not_supported", None, None, InvalidRequestError, False),
        (409, "invalid_state_for_request", "invalid_request", None, InvalidStateError, False),
        (
            422,
            "unable_to_process_request",
            "invalid_request",
            None,
            IdempotencyConflictError,
            False,
        ),
        (429, "api_request_limit_exceeded", None, None, RateLimitError, True),
        (429, "lock_timeout", None, None, RateLimitError, True),
        (500, "internal_error", "operation_failed", None, ServerError, True),
        (503, "site_not_ready", None, None, ServerError, True),
        (503, "internal_temporary_error", None, None, ServerError, True),
    ],
)
def test_json_error_bodies(
    status: int,
    code: str,
    error_type: str | None,
    param: str | None,
    cls: type[ChargebeeAPIError],
    retryable: bool,
) -> None:
    body: dict[str, Any] = {
        "message": f"Chargebee says {code}",
        "api_error_code": code,
        "error_cause_id": "cause_1",
        "http_status_code": status,
    }
    if error_type:
        body["type"] = error_type
    if param:
        body["param"] = param
    error = error_from_response(response(status, json.dumps(body)))
    assert type(error) is cls
    assert isinstance(error, ChargebeeError)
    assert error.http_status == status
    assert error.api_error_code == code
    assert error.error_type == error_type
    assert error.param == param
    assert error.error_cause_id == "cause_1"
    assert error.message.startswith(f"Chargebee says {code}")
    assert error.method == "POST"
    assert error.path == "/api/v2/invoices/inv_1/close"
    assert error.retryable is retryable
    text = str(error)
    assert f"HTTP {status}" in text
    assert code in text
    assert "POST /api/v2/invoices/inv_1/close" in text
    if param:
        assert f"param {param}" in text


def test_deprecated_error_code_is_the_fallback() -> None:
    error = error_from_response(response(400, '{"message": "bad", "error_code": "old_code"}'))
    assert error.api_error_code == "old_code"


def test_api_error_code_wins_over_error_code() -> None:
    body = '{"message": "bad", "error_code": "old_code", "api_error_code": "param_wrong_value"}'
    assert error_from_response(response(400, body)).api_error_code == "param_wrong_value"


def test_json_body_without_message() -> None:
    error = error_from_response(response(500, '{"api_error_code": "internal_error"}'))
    assert isinstance(error, ServerError)
    assert error.message == "no message"


@pytest.mark.parametrize("status", [502, 503, 504])
def test_html_gateway_page(status: int) -> None:
    html = f"<html><head><title>{status} Bad Gateway</title></head><body>nginx</body></html>"
    error = error_from_response(response(status, html, content_type="text/html"))
    assert isinstance(error, ServerError)
    assert error.retryable
    assert error.http_status == status
    assert error.api_error_code is None
    text = str(error)
    assert f"HTTP {status}" in text
    assert "text/html" in text
    assert "Bad Gateway" in text


def test_long_html_page_is_cut_short() -> None:
    html = "<html>" + "x" * 50_000 + "</html>"
    error = error_from_response(response(502, html, content_type="text/html"))
    assert len(str(error)) < 500


@pytest.mark.parametrize("content_type", [None, "text/plain"])
def test_empty_body(content_type: str | None) -> None:
    error = error_from_response(response(503, b"", content_type=content_type))
    assert isinstance(error, ServerError)
    text = str(error)
    assert "HTTP 503" in text
    assert "empty body" in text
    assert (content_type or "unknown content type") in text


@pytest.mark.parametrize("body", ["[]", '"oops"', "null", "{not json", "\xff\xfe"])
def test_non_object_or_broken_json_is_described(body: str) -> None:
    error = error_from_response(response(400, body))
    assert isinstance(error, InvalidRequestError)
    assert "HTTP 400" in str(error)
    assert "application/json" in str(error)


@pytest.mark.parametrize(
    ("status", "cls"),
    [(302, ChargebeeAPIError), (418, ChargebeeAPIError), (599, ServerError)],
)
def test_other_statuses(status: int, cls: type[ChargebeeAPIError]) -> None:
    error = error_from_response(response(status, b""))
    assert type(error) is cls
    assert error.http_status == status


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("30", 30.0),
        ("1.5", 1.5),
        ("0", 0.0),
        (" 7 ", 7.0),
        ("-1", None),
        ("Wed, 21 Oct 2015 07:28:00 GMT", 0.0),  # a date in the past: go now
        ("soon", None),
        ("", None),
        (None, None),
    ],
)
def test_parse_retry_after(value: str | None, expected: float | None) -> None:
    assert parse_retry_after(value) == expected


def test_retry_after_on_the_error() -> None:
    error = error_from_response(
        response(
            429,
            '{"message": "slow down", "api_error_code": "api_request_limit_exceeded"}',
            headers={"Retry-After": "42"},
        )
    )
    assert isinstance(error, RateLimitError)
    assert error.retry_after == 42.0
    html = error_from_response(
        response(503, "<html/>", content_type="text/html", headers={"Retry-After": "5"})
    )
    assert html.retry_after == 5.0
    assert error_from_response(response(429, "{}")).retry_after is None


@pytest.mark.parametrize(
    ("status", "body", "content_type"),
    [
        (
            401,
            '{"message": "Sorry, authentication failed", '
            '"api_error_code": "api_authentication_failed"}',
            "application/json",
        ),
        (502, "<html>Bad Gateway</html>", "text/html"),
        (503, "", None),
    ],
)
def test_message_never_carries_the_key(status: int, body: str, content_type: str | None) -> None:
    error = error_from_response(
        response(
            status,
            body,
            content_type=content_type,
            url="https://acme-test.chargebee.com/api/v2/invoices?limit=1&offset=secret_offset",
            method="GET",
        )
    )
    text = str(error) + repr(error) + repr(error.__dict__)
    assert AUTH not in text
    assert API_KEY not in text
    assert AUTH.split()[1] not in text
    assert "secret_offset" not in str(error)


# -- classified by code, then status, then type ----------------------------------------


@pytest.mark.parametrize("status", [400, 409, 422, 500])
def test_a_state_conflict_is_read_from_its_code_whatever_the_status(status: int) -> None:
    body = {"message": "Invoice is not pending", "api_error_code": "invalid_state_for_request"}
    error = error_from_response(response(status, json.dumps(body)))
    assert type(error) is InvalidStateError
    assert error.retryable is False


IN_FLIGHT_WORDINGS = [
    "The previous request is still in progress. Please retry the request",
    "Invoice is not in pending state",
    "Another request with this idempotency key is being processed",
    "",
]


@pytest.mark.parametrize("wording", IN_FLIGHT_WORDINGS)
@pytest.mark.parametrize("status", [400, 409])
def test_no_wording_makes_a_state_conflict_anything_else(status: int, wording: str) -> None:
    """Chargebee documents no message for a repeat in flight: the invoice decides, not this."""
    body = {"message": wording, "api_error_code": "invalid_state_for_request"}
    error = error_from_response(response(status, json.dumps(body)))
    assert type(error) is InvalidStateError
    assert error.retryable is False
    assert error.replayed is False


def test_a_replayed_error_says_so() -> None:
    body = {"message": "x", "api_error_code": "invalid_state_for_request"}
    replayed = {"chargebee-idempotency-replayed": "true"}
    assert error_from_response(response(409, json.dumps(body), headers=replayed)).replayed


@pytest.mark.parametrize(
    ("code", "cls", "retryable"),
    [
        ("api_request_limit_exceeded", RateLimitError, True),
        ("third_party_api_request_limit_exceeded", RateLimitError, True),
        ("lock_timeout", RateLimitError, True),
        ("site_not_ready", ServerError, True),
        ("internal_temporary_error", ServerError, True),
        ("db_connection_failure", ServerError, True),
        ("resource_not_found", NotFoundError, False),
        ("param_wrong_value", InvalidRequestError, False),
        ("api_authentication_failed", AuthenticationError, False),
        ("api_authorization_failed", AuthorizationError, False),
        ("unable_to_process_request", IdempotencyConflictError, False),
    ],
)
def test_every_known_code_decides_on_a_400(
    code: str, cls: type[ChargebeeAPIError], retryable: bool
) -> None:
    error = error_from_response(response(400, json.dumps({"message": "m", "api_error_code": code})))
    assert type(error) is cls
    assert error.retryable is retryable


def test_a_reused_key_names_the_likely_cause_and_the_fix() -> None:
    body = {"message": "Key reused", "api_error_code": "unable_to_process_request"}
    error = error_from_response(response(422, json.dumps(body)))
    assert "rendered differently" in error.message
    assert "idempotency_key" in error.message


@pytest.mark.parametrize(
    ("status", "error_type", "cls"),
    [
        (400, "invalid_request", InvalidRequestError),
        (400, "payment", InvalidRequestError),
        (409, None, InvalidStateError),
        (429, None, RateLimitError),
        (502, None, ServerError),
        (418, None, ChargebeeAPIError),
    ],
)
def test_unknown_codes_fall_back_to_status_then_type(
    status: int, error_type: str | None, cls: type[ChargebeeAPIError]
) -> None:
    body: dict[str, Any] = {"message": "m", "api_error_code": "a_code_from_the_future"}
    if error_type:
        body["type"] = error_type
    assert type(error_from_response(response(status, json.dumps(body)))) is cls


def test_a_legacy_body_surfaces_its_message_code_and_param() -> None:
    body = {
        "error_msg": "invoice_date : cannot be earlier than the invoice date",
        "error_code": "param_wrong_value",
        "error_param": "invoice_date",
        "http_status_code": 400,
    }
    error = error_from_response(response(400, json.dumps(body)))
    assert type(error) is InvalidRequestError
    assert error.message == body["error_msg"]
    assert error.api_error_code == "param_wrong_value"
    assert error.param == "invoice_date"
    assert "(param invoice_date)" in str(error)


def test_retry_after_as_an_http_date_counts_from_now() -> None:
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:30 GMT", now=1445412480.0) == 30.0
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:30", now=1445412480.0) is None
