"""Chargebee's official models as field trees: the SDK's response dataclasses and the v1 spec.

A :data:`Fields` tree maps each attribute a model declares to the tree of its
nested object (or None for a plain value), so an answer can be walked against
it and every attribute the model lacks named with its path.
"""

from __future__ import annotations

import dataclasses
import json
import typing
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from chargebee.models.credit_note.responses import CreditNoteResponse
from chargebee.models.customer.responses import CustomerResponse
from chargebee.models.invoice import operations as invoice_operations
from chargebee.models.invoice.responses import InvoiceResponse
from chargebee.models.subscription.responses import SubscriptionResponse

SPEC_PATH = Path(__file__).resolve().parent / "spec" / "chargebee-api-v1-invoices.json"

Fields = Mapping[str, "Fields | None"]

V2_MODELS: Mapping[str, type] = {
    "invoice": InvoiceResponse,
    "credit_note": CreditNoteResponse,
    "customer": CustomerResponse,
    "subscription": SubscriptionResponse,
}
"""Each object a v2 answer carries, by its key in the answer, and the SDK model it follows."""


def sdk_fields(model: type) -> Fields:
    """The attributes of an SDK response model (``raw_data`` is the SDK's own, not Chargebee's)."""
    hints = typing.get_type_hints(model)
    tree: dict[str, Fields | None] = {}
    for field in dataclasses.fields(model):
        if field.name == "raw_data":
            continue
        hint = hints[field.name]
        nested = typing.get_args(hint)[0] if typing.get_origin(hint) is list else hint
        tree[field.name] = sdk_fields(nested) if dataclasses.is_dataclass(nested) else None
    return tree


def spec() -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(SPEC_PATH.read_text())
    return loaded


def spec_fields(schema: Mapping[str, Any], document: Mapping[str, Any]) -> Fields:
    """The properties of a v1 specification schema, ``$ref`` and array items followed."""
    tree: dict[str, Fields | None] = {}
    for name, prop in schema.get("properties", {}).items():
        prop = _resolved(prop, document)
        if prop.get("type") == "array":
            prop = _resolved(prop.get("items", {}), document)
        tree[name] = spec_fields(prop, document) if "properties" in prop else None
    return tree


def v1_invoice_fields() -> Fields:
    document = spec()
    return spec_fields(document["components"]["schemas"]["Invoice"], document)


def _resolved(prop: Mapping[str, Any], document: Mapping[str, Any]) -> Mapping[str, Any]:
    ref = prop.get("$ref")
    if ref is None:
        return prop
    target: Any = document
    for part in ref.removeprefix("#/").split("/"):
        target = target[part]
    return _resolved(target, document)


def unknown_fields(value: Any, fields: Fields, path: str) -> Iterator[str]:
    """Every attribute path in ``value`` that ``fields`` does not declare."""
    if isinstance(value, list):
        for index, item in enumerate(value):
            yield from unknown_fields(item, fields, f"{path}[{index}]")
        return
    if not isinstance(value, dict):
        return
    for name, item in value.items():
        if name not in fields:
            yield f"{path}.{name}"
        elif (nested := fields[name]) is not None:
            yield from unknown_fields(item, nested, f"{path}.{name}")


def operation_params_type(endpoint: str) -> Any:
    """The SDK's params TypedDict for ``POST /invoices/{id}/<endpoint>``."""
    name = "".join(part.title() for part in endpoint.split("_")) + "Params"
    return getattr(invoice_operations.Invoice, name)


def operation_params(endpoint: str) -> Mapping[str, Any]:
    """The SDK's params for ``POST /invoices/{id}/<endpoint>``, names to types."""
    return typing.get_type_hints(
        operation_params_type(endpoint),
        globalns=vars(invoice_operations),
        localns={"Invoice": invoice_operations.Invoice},
    )
