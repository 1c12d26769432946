"""get_provider_info: the shape Airflow validates, and a form that matches what the hook reads."""

from __future__ import annotations

import json
from importlib.resources import files
from typing import Any

import jsonschema
import pytest

from airflow_provider_cb.get_provider_info import CONN_FIELDS, get_provider_info
from airflow_provider_cb.hooks.chargebee import ChargebeeHook, settings_from_connection

from ..conftest import API_KEY

BUILT_IN_FIELDS = ("description", "host", "port", "login", "password", "schema", "extra")


def airflow_schema(name: str) -> dict[str, Any]:
    return dict(json.loads(files("airflow").joinpath(name).read_text()))


def chargebee_connection_type() -> dict[str, Any]:
    (conn_type,) = get_provider_info()["connection-types"]
    return dict(conn_type)


class RecordingExtras(dict[str, Any]):
    """Extras that remember every name looked up in them."""

    def __init__(self, values: dict[str, Any]) -> None:
        super().__init__(values)
        self.read: set[str] = set()

    def get(self, key: str, default: Any = None) -> Any:
        self.read.add(key)
        return super().get(key, default)


class FakeConnection:
    def __init__(self, extras: dict[str, Any]) -> None:
        self.host, self.password, self.port = "acme", API_KEY, None
        self.extra_dejson = extras


def test_provider_info_passes_airflows_own_schemas() -> None:
    info = get_provider_info()
    jsonschema.validate(info, airflow_schema("provider_info.schema.json"))
    yaml_schema = airflow_schema("provider.yaml.schema.json")
    connection_item = yaml_schema["properties"]["connection-types"]["items"]
    jsonschema.validate(chargebee_connection_type(), connection_item)
    assert json.loads(json.dumps(info)) == info


def test_connection_type_and_form_behaviour() -> None:
    conn_type = chargebee_connection_type()
    behaviour = conn_type["ui-field-behaviour"]

    assert conn_type["connection-type"] == ChargebeeHook.conn_type
    assert conn_type["hook-class-name"] == "airflow_provider_cb.hooks.chargebee.ChargebeeHook"
    assert sorted(behaviour["hidden-fields"]) == ["login", "schema"]
    assert behaviour["relabeling"] == {"host": "Site", "password": "API key"}
    assert set(behaviour["placeholders"]) == {"host", "password", "port"}
    assert set(behaviour["hidden-fields"]) <= set(BUILT_IN_FIELDS)


def test_form_fields_are_the_documented_extras() -> None:
    assert list(CONN_FIELDS) == [
        "test_site",
        "environment",
        "protocol",
        "allow_insecure_http",
        "base_url",
        "origin_user",
        "origin_ip",
        "origin_device",
        "business_entity_id",
        "skip_events",
        "requests_per_minute",
        "max_concurrent_requests",
        "rate_limit_store",
        "timeout",
        "max_retries",
    ]
    labels = {name: field["label"] for name, field in CONN_FIELDS.items()}
    assert (labels["environment"], labels["base_url"]) == ("Domain", "Base URL override")
    assert CONN_FIELDS["protocol"]["schema"]["enum"] == ["https", "http"]
    secret = {
        name for name, field in CONN_FIELDS.items() if field["schema"].get("format") == "password"
    }
    # The store URL may carry a password: the form masks it as it masks the API key.
    assert secret == {"rate_limit_store"}


@pytest.mark.parametrize("prefix", ["", "extra__chargebee__"], ids=["bare", "prefixed"])
def test_the_hook_reads_every_form_field(prefix: str, monkeypatch: pytest.MonkeyPatch) -> None:
    extras = RecordingExtras({})
    monkeypatch.setattr(
        ChargebeeHook, "get_connection", staticmethod(lambda conn_id: FakeConnection(extras))
    )
    hook = ChargebeeHook("chargebee_default")
    hook.get_conn()
    hook.close()

    assert {f"{prefix}{name}" for name in CONN_FIELDS} <= extras.read


def test_values_saved_by_the_form_configure_the_hook(monkeypatch: pytest.MonkeyPatch) -> None:
    saved = {name: field["schema"].get("default") for name, field in CONN_FIELDS.items()}
    assert settings_from_connection("acme", API_KEY, None, saved).server_url() == (
        "https://acme.chargebee.com/api/v2"
    )
    saved.update(
        test_site=True,
        environment="eu.chargebee.com",
        origin_user="ops@example.com",
        business_entity_id="acme_eu",
        skip_events="webhook,email",
        requests_per_minute=150,
        max_concurrent_requests=20,
        timeout=12.5,
        max_retries=2,
    )
    monkeypatch.setattr(
        ChargebeeHook, "get_connection", staticmethod(lambda conn_id: FakeConnection(saved))
    )
    client = ChargebeeHook("chargebee_default").get_conn()
    client.close()

    settings, origin = client.settings, client.transport.origin
    assert settings.server_url() == "https://acme-test.eu.chargebee.com/api/v2"
    assert (
        settings.timeout,
        settings.max_retries,
        settings.requests_per_minute,
        settings.max_concurrent_requests,
    ) == (12.5, 2, 150.0, 20)
    assert client.transport.budget.max_concurrent_requests == 20
    assert origin.headers() == {
        "chargebee-request-origin-user": "ops@example.com",
        "chargebee-business-entity-id": "acme_eu",
        "chargebee-event-email": "all-disabled",
        "chargebee-event-webhook": "all-disabled",
    }


def test_airflow_builds_the_form_from_the_provider_info() -> None:
    from airflow.api_fastapi.core_api.services.ui.connections import HookMetaService

    (meta,) = [m for m in HookMetaService.hook_meta_data() if m.connection_type == "chargebee"]
    standard = meta.standard_fields
    assert standard is not None and standard.host is not None and standard.login is not None
    assert (standard.host.title, standard.login.hidden) == ("Site", True)
    assert meta.extra_fields is not None
    assert {name: f["schema"]["title"] for name, f in meta.extra_fields.items()} == {
        name: field["label"] for name, field in CONN_FIELDS.items()
    }
