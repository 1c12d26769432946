"""settings_from_connection: an Airflow connection's parts -> ClientSettings."""

from __future__ import annotations

from typing import Any

import pytest

from airflow_provider_cb.chargebee_api.errors import ChargebeeValidationError
from airflow_provider_cb.hooks.chargebee import settings_from_connection

from ..conftest import API_KEY

P = "extra__chargebee__"


def test_defaults_from_host_and_password_only() -> None:
    result = settings_from_connection("acme", API_KEY, None, {})
    assert result.api_key == API_KEY
    assert result.site == "acme"
    assert result.test_site is False
    assert result.server_url() == "https://acme.chargebee.com/api/v2"
    assert (result.timeout, result.max_retries, result.requests_per_minute) == (30.0, 4, None)
    assert result.pace == 150  # the safe default, not unlimited
    assert (result.lift_rate_budget, result.rate_limit_block_seconds) == (False, 60.0)


def test_the_testing_knobs_from_uri_strings() -> None:
    extras = {"lift_rate_budget": "true", "rate_limit_block_seconds": "0.5"}
    result = settings_from_connection("acme", API_KEY, None, extras)
    assert (result.pace, result.rate_limit_block_seconds) == (None, 0.5)


@pytest.mark.parametrize("prefix", ["", P], ids=["bare", "prefixed"])
def test_extras_bare_or_prefixed(prefix: str) -> None:
    extras = {
        f"{prefix}test_site": True,
        f"{prefix}environment": "eu.chargebee.com",
        f"{prefix}timeout": 12.5,
        f"{prefix}max_retries": 2,
        f"{prefix}requests_per_minute": 150,
        f"{prefix}port": 8443,
    }
    result = settings_from_connection("acme", API_KEY, None, extras)
    assert result.server_url("v1") == "https://acme-test.eu.chargebee.com:8443/api/v1"
    assert (result.timeout, result.max_retries, result.requests_per_minute) == (12.5, 2, 150.0)


def test_bare_extra_wins_over_prefixed_and_empty_bare_falls_back() -> None:
    extras = {
        "environment": "eu.chargebee.com",
        f"{P}environment": "au.chargebee.com",
        "timeout": "",
        f"{P}timeout": "7",
    }
    result = settings_from_connection("acme", API_KEY, None, extras)
    assert result.environment == "eu.chargebee.com"
    assert result.timeout == 7.0


@pytest.mark.parametrize(
    ("value", "expected"),
    [("true", True), ("false", False), ("True", True), ("FALSE", False), (True, True), ("", False)],
)
def test_test_site_from_uri_strings(value: Any, expected: bool) -> None:
    result = settings_from_connection("acme", API_KEY, None, {"test_site": value})
    assert result.test_site is expected


@pytest.mark.parametrize("key", ["test_site", f"{P}test_site"])
def test_string_false_is_false_not_truthy(key: str) -> None:
    result = settings_from_connection("acme", API_KEY, None, {key: "false"})
    assert result.host == "acme.chargebee.com"


def test_allow_insecure_http_from_string() -> None:
    extras = {"protocol": "http", "allow_insecure_http": "true", "environment": "proxy.internal"}
    result = settings_from_connection("acme", API_KEY, None, extras)
    assert result.server_url() == "http://acme.proxy.internal/api/v2"


def test_allow_insecure_http_string_false_keeps_http_refused() -> None:
    extras = {"protocol": "http", "allow_insecure_http": "false"}
    with pytest.raises(ChargebeeValidationError) as info:
        settings_from_connection("acme", API_KEY, None, extras)
    assert info.value.param == "protocol"


def test_numbers_given_as_strings() -> None:
    extras = {
        "port": "8443",
        "timeout": "12.5",
        "max_retries": "3",
        "requests_per_minute": "1000",
    }
    result = settings_from_connection("acme", API_KEY, None, extras)
    assert (result.port, result.timeout, result.max_retries, result.requests_per_minute) == (
        8443,
        12.5,
        3,
        1000.0,
    )


def test_port_from_connection_and_extra_override() -> None:
    assert settings_from_connection("acme", API_KEY, 8443, {}).port == 8443
    assert settings_from_connection("acme", API_KEY, 8443, {"port": "9443"}).port == 9443


def test_base_url_without_host() -> None:
    result = settings_from_connection(None, API_KEY, None, {"base_url": "http://localhost:8080/"})
    assert result.server_url("v1") == "http://localhost:8080/api/v1"


@pytest.mark.parametrize(
    ("extras", "param"),
    [
        ({"port": "https"}, "port"),
        ({"port": "80.5x"}, "port"),
        ({"timeout": "fast"}, "timeout"),
        ({"timeout": "0"}, "timeout"),
        ({"max_retries": "3.5"}, "max_retries"),
        ({"max_retries": "many"}, "max_retries"),
        ({"max_retries": "99"}, "max_retries"),
        ({"requests_per_minute": "lots"}, "requests_per_minute"),
        ({"requests_per_minute": "0"}, "requests_per_minute"),
        ({"test_site": "yes"}, "test_site"),
        ({"test_site": 1}, "test_site"),
        ({"allow_insecure_http": "on"}, "allow_insecure_http"),
        ({"port": [443]}, "port"),
        ({"timeout": {"s": 1}}, "timeout"),
    ],
)
def test_bad_extras_name_the_field(extras: dict[str, Any], param: str) -> None:
    with pytest.raises(ChargebeeValidationError) as info:
        settings_from_connection("acme", API_KEY, None, extras)
    assert info.value.param == param


@pytest.mark.parametrize(
    ("host", "password", "param"),
    [
        (None, API_KEY, "site"),
        ("", API_KEY, "site"),
        ("acme", None, "api_key"),
        ("acme", "", "api_key"),
        ("acme-test", API_KEY, "site"),
        ("acme.chargebee.com", API_KEY, "site"),
    ],
)
def test_bad_host_or_password(host: str | None, password: str | None, param: str) -> None:
    with pytest.raises(ChargebeeValidationError) as info:
        settings_from_connection(host, password, None, {})
    assert info.value.param == param
