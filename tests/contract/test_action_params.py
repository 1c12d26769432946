"""The body parameters the provider sends for each action exist in that operation's params.

v2 actions are checked against the official Python SDK's params for the
operation (``Invoice.CloseParams``...), nested list fields and enum values
included; the v1 ``collect`` against the v1 specification, which gives it no body.
The text lengths the API reference states hold in the client too.
"""

from __future__ import annotations

import enum
import re
import typing
from typing import Any

import pytest
from chargebee.models import enums

from airflow_provider_cb.chargebee_api.encoding import encode_form
from airflow_provider_cb.chargebee_api.errors import ChargebeeValidationError
from airflow_provider_cb.chargebee_api.validation import NOTE_ENTITY_TYPES
from airflow_provider_cb.invoicing.action_table import ACTIONS
from airflow_provider_cb.testing.rules import SITE_ACTIONS
from tests.contract.official import operation_params, operation_params_type, spec

SAMPLES: dict[str, Any] = {
    "comment": "month end",
    "invoice_note": "Thank you",
    "remove_general_note": True,
    "invoice_date": 1_700_000_000,
    "expected_payment_date": 4_000_000_000,
    "notes_to_remove": [{"entity_type": "customer", "entity_id": "cus_1"}],
}
"""A valid value for every body field an action takes, so the whole body can be encoded."""
_NESTED = re.compile(r"(\w+)\[(\w+)\]\[\d+\]")

V2_ACTIONS = sorted(name for name, action in ACTIONS.items() if action.api_version == "v2")


@pytest.mark.parametrize("name", V2_ACTIONS)
def test_every_body_field_is_a_param_of_the_sdk_operation(name: str) -> None:
    action = ACTIONS[name]
    params = operation_params(action.endpoint)
    assert set(action.field_names) - set(params) == set()
    for key, _ in encode_form(action.build_body({n: SAMPLES[n] for n in action.field_names})):
        nested = _NESTED.fullmatch(key)
        if nested is None:
            assert key in params
            continue
        item_type = typing.get_args(params[nested[1]])[0]
        assert nested[2] in typing.get_type_hints(item_type), key


@pytest.mark.parametrize("name", V2_ACTIONS)
def test_params_the_sdk_requires_are_required_by_the_provider(name: str) -> None:
    action = ACTIONS[name]
    required = set(operation_params_type(action.endpoint).__required_keys__)
    assert required == {field.name for field in action.fields if field.required}


def test_note_entity_types_are_values_of_the_sdk_enum() -> None:
    hint = typing.get_args(operation_params("close")["notes_to_remove"])[0]
    entity_type = typing.get_type_hints(hint)["entity_type"]
    assert issubclass(entity_type, enum.Enum) and entity_type is enums.EntityType
    assert NOTE_ENTITY_TYPES - {member.value for member in entity_type} == set()


def test_collect_sends_no_body_the_v1_specification_lacks() -> None:
    collect = spec()["paths"]["/invoices/{invoice-id}/collect"]["post"]
    documented = (
        collect.get("requestBody", {})
        .get("content", {})
        .get("application/x-www-form-urlencoded", {})
        .get("schema", {})
        .get("properties", {})
    )
    assert ACTIONS["collect"].api_version == "v1"
    assert set(ACTIONS["collect"].field_names) - set(documented) == set()


@pytest.mark.parametrize("name", V2_ACTIONS)
def test_the_provider_keeps_the_documented_lengths(name: str) -> None:
    """Text limits the API reference states (the emulator's rules carry them) hold in the client."""
    action = ACTIONS[name]
    site = SITE_ACTIONS[("v2", action.endpoint)]
    limited = [p for p in site.params if p.kind == "text" and p.max_length is not None]
    assert limited, f"{name} has no documented text limit"
    required = {f.name: SAMPLES[f.name] for f in action.fields if f.required}
    for param in limited:
        longest = "x" * (param.max_length or 0)
        assert action.build_body({**required, param.name: longest})[param.name] == longest
        with pytest.raises(ChargebeeValidationError, match=param.name):
            action.build_body({**required, param.name: longest + "x"})
