"""What a failed send raises: our error, its cause kept and named, no secret in any of it."""

from __future__ import annotations

import base64
import traceback

import httpx
import pytest

from airflow_provider_cb.chargebee_api.errors import ChargebeeTransportError
from airflow_provider_cb.chargebee_api.redaction import secret_forms

from ..conftest import API_KEY, make_rig

GET = "/invoices/inv_1"
BASIC = base64.b64encode(f"{API_KEY}:".encode()).decode()


def _raised(step: Exception) -> ChargebeeTransportError:
    rig = make_rig([step], max_retries=0)
    with pytest.raises(ChargebeeTransportError) as caught:
        rig.transport.request("GET", GET)
    return caught.value


def test_a_network_failure_keeps_httpx_error_as_its_cause() -> None:
    error = _raised(httpx.ReadError("connection reset by peer"))
    assert isinstance(error.__cause__, httpx.ReadError)
    assert "ReadError: connection reset by peer" in str(error)
    assert error.retryable


def test_no_form_of_the_key_rides_along_in_a_chained_cause() -> None:
    root = OSError(f"peer echoed api_key={API_KEY}")
    failure = httpx.RemoteProtocolError(f"bad answer to Authorization: Basic {BASIC}")
    failure.__cause__ = root
    error = _raised(failure)

    printed = "".join(traceback.format_exception(error))
    assert "RemoteProtocolError" in printed and "OSError" in printed  # the chain is shown
    leaked = [form for form in secret_forms(API_KEY) if form in printed]
    assert leaked == []
    assert "[redacted]" in str(error)


def test_a_runtime_error_that_is_not_a_closed_client_is_named_as_itself() -> None:
    error = _raised(RuntimeError("Event loop is closed"))
    assert "RuntimeError: Event loop is closed" in str(error)
    assert "client closed" not in str(error)
    assert isinstance(error.__cause__, RuntimeError)
    assert error.retryable is False


def test_a_closed_client_is_reported_as_closed_and_names_httpx_message() -> None:
    rig = make_rig([], max_retries=3)
    rig.transport.close()
    with pytest.raises(ChargebeeTransportError) as caught:
        rig.transport.request("GET", GET)
    assert "client closed during the request (RuntimeError: " in str(caught.value)
    assert isinstance(caught.value.__cause__, RuntimeError)
    assert caught.value.attempts == 1
