"""What a client says about where it sends, and how long it waits on an unexplained conflict."""

from __future__ import annotations

import time

import pytest

from airflow_provider_cb.chargebee_api.errors import ChargebeeTransportError, ConnectionFailedError
from airflow_provider_cb.chargebee_api.settings import ClientSettings
from airflow_provider_cb.invoicing.clients import (
    FIRST_SEND_IN_FLIGHT_WAIT_SECONDS,
    IN_FLIGHT_WAIT_SECONDS,
    ChargebeeClient,
    site_label,
)


@pytest.mark.parametrize(
    ("settings", "connection_id", "label"),
    [
        (
            ClientSettings(api_key="test_key_123", site="acme", test_site=True),
            "chargebee_default",
            "connection 'chargebee_default', host acme-test.chargebee.com",
        ),
        (
            ClientSettings(api_key="test_key_123", base_url="http://127.0.0.1:8099"),
            None,
            "host 127.0.0.1:8099",
        ),
    ],
)
def test_the_site_is_named_by_connection_and_host(
    settings: ClientSettings, connection_id: str | None, label: str
) -> None:
    assert site_label(settings, connection_id) == label


def test_an_error_names_where_it_went() -> None:
    error: ChargebeeTransportError = ConnectionFailedError("GET", "/invoices/x", "refused")
    error.at("connection 'c', host h")
    assert str(error) == "GET /invoices/x: refused (connection 'c', host h)"


def test_the_in_flight_wait_is_short_after_one_send_and_never_past_the_deadline() -> None:
    client = ChargebeeClient(ClientSettings(api_key="test_key_123", site="acme"))
    with client:
        now = time.monotonic()
        short = client.in_flight_until(sent_before=False) - now
        long = client.in_flight_until(sent_before=True) - now
        assert FIRST_SEND_IN_FLIGHT_WAIT_SECONDS <= short < FIRST_SEND_IN_FLIGHT_WAIT_SECONDS + 1
        assert IN_FLIGHT_WAIT_SECONDS <= long < IN_FLIGHT_WAIT_SECONDS + 1
        client.deadline = now + 5
        assert client.in_flight_until(sent_before=True) == now + 5
        client.in_flight_wait = 2
        assert client.in_flight_until(sent_before=False) - now < 3
