"""ClientSettings: server selection and the checks on every connection field."""

from __future__ import annotations

from typing import Any

import pytest

from airflow_provider_cb.chargebee_api.errors import ChargebeeValidationError
from airflow_provider_cb.chargebee_api.settings import ClientSettings

from ..conftest import API_KEY


def settings(**kwargs: Any) -> ClientSettings:
    kwargs.setdefault("api_key", API_KEY)
    return ClientSettings(**kwargs)


@pytest.mark.parametrize(
    ("kwargs", "version", "expected"),
    [
        ({"site": "acme"}, "v2", "https://acme.chargebee.com/api/v2"),
        ({"site": "acme"}, "v1", "https://acme.chargebee.com/api/v1"),
        ({"site": "acme", "test_site": True}, "v2", "https://acme-test.chargebee.com/api/v2"),
        ({"site": "acme", "test_site": True}, "v1", "https://acme-test.chargebee.com/api/v1"),
        ({"site": "acme-eu", "test_site": True}, "v2", "https://acme-eu-test.chargebee.com/api/v2"),
        (
            {"site": "acme", "environment": "eu.chargebee.com"},
            "v2",
            "https://acme.eu.chargebee.com/api/v2",
        ),
        ({"site": "acme", "port": 8443}, "v2", "https://acme.chargebee.com:8443/api/v2"),
        (
            {
                "site": "acme",
                "protocol": "http",
                "allow_insecure_http": True,
                "environment": "proxy.internal",
                "port": 8080,
            },
            "v1",
            "http://acme.proxy.internal:8080/api/v1",
        ),
        ({"base_url": "https://proxy.example.com"}, "v2", "https://proxy.example.com/api/v2"),
        ({"base_url": "https://proxy.example.com/"}, "v1", "https://proxy.example.com/api/v1"),
        (
            {"base_url": "https://proxy.example.com:8443/cb/"},
            "v2",
            "https://proxy.example.com:8443/cb/api/v2",
        ),
        ({"base_url": "http://localhost:8080/"}, "v2", "http://localhost:8080/api/v2"),
        ({"base_url": "http://127.0.0.1:9000"}, "v1", "http://127.0.0.1:9000/api/v1"),
        ({"base_url": "http://[::1]:8000"}, "v2", "http://[::1]:8000/api/v2"),
        (
            {"base_url": "http://emulator.ci.internal:8000", "allow_insecure_http": True},
            "v2",
            "http://emulator.ci.internal:8000/api/v2",
        ),
        # base_url overrides site, test_site, environment and port.
        (
            {"base_url": "https://proxy.example.com/", "site": "acme", "test_site": True},
            "v2",
            "https://proxy.example.com/api/v2",
        ),
    ],
)
def test_server_url(kwargs: dict[str, Any], version: str, expected: str) -> None:
    assert settings(**kwargs).server_url(version) == expected  # type: ignore[arg-type]


def test_server_url_defaults_to_v2() -> None:
    assert settings(site="acme").server_url() == "https://acme.chargebee.com/api/v2"


def test_server_url_rejects_unknown_version() -> None:
    with pytest.raises(ChargebeeValidationError) as info:
        settings(site="acme").server_url("v3")  # type: ignore[arg-type]
    assert info.value.param == "api_version"


@pytest.mark.parametrize(
    ("kwargs", "host"),
    [
        ({"site": "acme"}, "acme.chargebee.com"),
        ({"site": "acme", "test_site": True}, "acme-test.chargebee.com"),
        ({"base_url": "http://localhost:8080"}, "localhost"),
    ],
)
def test_host(kwargs: dict[str, Any], host: str) -> None:
    assert settings(**kwargs).host == host


@pytest.mark.parametrize(
    ("kwargs", "param"),
    [
        # site
        ({}, "site"),
        ({"site": None}, "site"),
        ({"site": ""}, "site"),
        ({"site": "acme/evil"}, "site"),
        ({"site": "acme.chargebee.com"}, "site"),
        ({"site": "acme.evil"}, "site"),
        ({"site": "acme-test"}, "site"),
        ({"site": "ACME-TEST"}, "site"),
        ({"site": "-acme"}, "site"),
        ({"site": "acme?x=1"}, "site"),
        ({"site": "ac me"}, "site"),
        # api key
        ({"site": "acme", "api_key": ""}, "api_key"),
        ({"site": "acme", "api_key": "   "}, "api_key"),
        ({"site": "acme", "api_key": None}, "api_key"),
        ({"site": "acme", "api_key": "test_abc def123"}, "api_key"),
        ({"site": "acme", "api_key": "test_abcdef\r\nX-Evil: 1"}, "api_key"),
        ({"site": "acme", "api_key": "test_abcdef123\n"}, "api_key"),
        ({"site": "acme", "api_key": "test_abcdef123\r"}, "api_key"),
        ({"site": "acme", "api_key": '"test_abcdef123"'}, "api_key"),
        # environment
        ({"site": "acme", "environment": "chargebee.com/evil"}, "environment"),
        ({"site": "acme", "environment": "localhost"}, "environment"),
        ({"site": "acme", "environment": "evil.com?"}, "environment"),
        # protocol
        ({"site": "acme", "protocol": "ftp"}, "protocol"),
        ({"site": "acme", "protocol": "HTTPS"}, "protocol"),
        ({"site": "acme", "protocol": "http"}, "protocol"),
        # base_url
        ({"base_url": "https://user:pw@proxy.example.com"}, "base_url"),
        ({"base_url": "https://user@proxy.example.com"}, "base_url"),
        ({"base_url": "https://proxy.example.com/?x=1"}, "base_url"),
        ({"base_url": "https://proxy.example.com/#frag"}, "base_url"),
        ({"base_url": "http://proxy.example.com"}, "base_url"),
        ({"base_url": "http://localhost.evil.com"}, "base_url"),
        ({"base_url": "http://10.0.0.5:8080"}, "base_url"),
        ({"base_url": "ftp://proxy.example.com"}, "base_url"),
        ({"base_url": "proxy.example.com"}, "base_url"),
        ({"base_url": "https://"}, "base_url"),
        # port
        ({"site": "acme", "port": 0}, "port"),
        ({"site": "acme", "port": -1}, "port"),
        ({"site": "acme", "port": 65536}, "port"),
        ({"site": "acme", "port": "443"}, "port"),
        ({"site": "acme", "port": True}, "port"),
        # timeout
        ({"site": "acme", "timeout": 0}, "timeout"),
        ({"site": "acme", "timeout": -5}, "timeout"),
        ({"site": "acme", "timeout": 601}, "timeout"),
        ({"site": "acme", "timeout": float("nan")}, "timeout"),
        ({"site": "acme", "timeout": float("inf")}, "timeout"),
        # max_retries
        ({"site": "acme", "max_retries": -1}, "max_retries"),
        ({"site": "acme", "max_retries": 21}, "max_retries"),
        # requests_per_minute
        ({"site": "acme", "requests_per_minute": 0}, "requests_per_minute"),
        ({"site": "acme", "requests_per_minute": -1}, "requests_per_minute"),
        ({"site": "acme", "requests_per_minute": 100_001}, "requests_per_minute"),
    ],
)
def test_rejects(kwargs: dict[str, Any], param: str) -> None:
    kwargs = dict(kwargs)
    api_key = kwargs.pop("api_key", API_KEY)
    with pytest.raises(ChargebeeValidationError) as info:
        ClientSettings(api_key=api_key, **kwargs)
    assert info.value.param == param
    assert str(info.value).startswith(f"{param}: ")


@pytest.mark.parametrize(
    ("kwargs", "param"),
    [
        ({"timeout": "30"}, "timeout"),
        ({"max_retries": None}, "max_retries"),
        ({"max_retries": "3"}, "max_retries"),
    ],
)
def test_rejects_non_numbers_naming_the_field(kwargs: dict[str, Any], param: str) -> None:
    with pytest.raises(ChargebeeValidationError) as info:
        settings(site="acme", **kwargs)
    assert info.value.param == param


@pytest.mark.parametrize(
    "base_url", ["https://proxy.example.com:99999/", "https://proxy.example.com:abc/"]
)
def test_rejects_base_url_with_bad_port(base_url: str) -> None:
    with pytest.raises(ChargebeeValidationError) as info:
        settings(base_url=base_url)
    assert info.value.param == "base_url"


@pytest.mark.parametrize("port", [1, 443, 65535])
def test_accepts_ports_in_range(port: int) -> None:
    assert settings(site="acme", port=port).port == port


@pytest.mark.parametrize("max_retries", [0, 20])
def test_accepts_max_retries_bounds(max_retries: int) -> None:
    assert settings(site="acme", max_retries=max_retries).max_retries == max_retries


def test_http_site_allowed_only_when_insecure_http_is_allowed() -> None:
    ok = settings(site="acme", protocol="http", allow_insecure_http=True)
    assert ok.server_url() == "http://acme.chargebee.com/api/v2"


def test_api_key_is_not_in_repr_or_str() -> None:
    value = settings(site="acme", test_site=True)
    assert API_KEY not in repr(value)
    assert API_KEY not in str(value)
    assert "acme" in repr(value)


def test_bad_api_key_is_not_echoed_in_the_error() -> None:
    secret = "test_secret value"
    with pytest.raises(ChargebeeValidationError) as info:
        settings(site="acme", api_key=secret)
    assert secret not in str(info.value)
    assert "secret" not in str(info.value)


def test_settings_are_frozen() -> None:
    value = settings(site="acme")
    with pytest.raises(AttributeError):
        value.site = "other"  # type: ignore[misc]


@pytest.mark.parametrize(
    ("site", "environment", "param"),
    [("evil.example/x", "chargebee.com", "site"), ("acme", "chargebee.com/x", "environment")],
)
def test_site_and_domain_are_checked_even_with_base_url(
    site: str, environment: str, param: str
) -> None:
    with pytest.raises(ChargebeeValidationError) as error:
        ClientSettings(
            api_key="test_abcdefgh",
            site=site,
            environment=environment,
            base_url="http://127.0.0.1:8080",
        )
    assert error.value.param == param
