"""Every field the emulator answers with exists in Chargebee's official model of that object.

v2 objects are checked against the official Python SDK's response models
(``chargebee.models.<resource>.responses``), v1 invoices against the ``Invoice``
schema of the vendored v1 specification (whose ``additionalProperties: true``
would let any extra field through a schema validation, hence this walk).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from airflow_provider_cb.testing import ChargebeeEmulator
from tests.contract.official import V2_MODELS, sdk_fields, unknown_fields, v1_invoice_fields

KEY = "test_key"
DAY = 86_400


@pytest.fixture(scope="module")
def answers() -> Iterator[list[tuple[str, dict[str, Any]]]]:
    """Every kind of answer the emulator gives, from each action and read, by route."""
    with ChargebeeEmulator(KEY) as emulator:
        now = int(emulator.clock.now())
        emulator.add_customer("cus_1", auto_collection="on")
        emulator.add_subscription("sub_1", customer_id="cus_1", auto_collection="off")
        notes = [{"note": "Thanks", "entity_type": "customer", "entity_id": "cus_1"}, {"note": "g"}]
        emulator.add_invoice("inv_close", customer_id="cus_1", date=now - DAY, notes=notes)
        emulator.add_invoice("inv_collect", customer_id="cus_1", line_items=2)
        emulator.add_invoice("inv_write_off", status="not_paid", subscription_id="sub_1")
        emulator.add_invoice("inv_dunning", status="payment_due", dunning_status="in_progress")
        emulator.add_invoice("inv_stop", status="payment_due", dunning_status="in_progress")
        emulator.add_invoice("inv_paid", status="paid", customer_id="cus_1")
        emulator.add_invoice("inv_posted", status="posted", customer_id="cus_1")
        emulator.add_invoice("inv_voided", status="voided", customer_id="cus_1")
        calls = [
            ("POST", "v2", "/invoices/inv_close/close", {"comment": "c", "invoice_date": now}),
            ("POST", "v1", "/invoices/inv_collect/collect", None),
            ("POST", "v2", "/invoices/inv_write_off/write_off", {"comment": "old"}),
            ("POST", "v2", "/invoices/inv_stop/stop_dunning", None),
            (
                "POST",
                "v2",
                "/invoices/inv_dunning/pause_dunning",
                {"expected_payment_date": now + DAY},
            ),
            ("POST", "v2", "/invoices/inv_dunning/resume_dunning", None),
            ("GET", "v2", "/invoices", {"limit": 100}),
            ("GET", "v1", "/invoices", {"limit": 100}),
            ("GET", "v2", "/invoices/inv_write_off", None),
            ("GET", "v1", "/invoices/inv_paid", None),
            ("GET", "v1", "/invoices/inv_posted", None),
            ("GET", "v2", "/customers/cus_1", None),
            ("GET", "v2", "/subscriptions/sub_1", None),
        ]
        collected = []
        with httpx.Client(base_url=emulator.base_url, auth=(KEY, ""), timeout=10) as http:
            for method, version, path, data in calls:
                url = f"/api/{version}{path}"
                if method == "POST":
                    response = http.post(url, data=data)
                else:
                    response = http.get(url, params=data)
                assert response.status_code == 200, f"{method} {url}: {response.text}"
                collected.append((f"{method} {url}", response.json()))
        yield collected


def objects(answer: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    """The objects of an answer by key, list entries included."""
    for entry in answer.get("list", [answer]):
        yield from entry.items()


def test_every_route_was_answered(answers: list[tuple[str, dict[str, Any]]]) -> None:
    kinds = {kind for _, answer in answers for kind, _ in objects(answer)}
    assert kinds == {"invoice", "credit_note", "customer", "subscription"}


def test_v2_answers_carry_only_fields_of_the_sdk_models(
    answers: list[tuple[str, dict[str, Any]]],
) -> None:
    invented = [
        f"{route}: {path}"
        for route, answer in answers
        if "/api/v2/" in route
        for kind, value in objects(answer)
        for path in unknown_fields(value, sdk_fields(V2_MODELS[kind]), kind)
    ]
    assert invented == []


def test_v1_invoices_carry_only_fields_of_the_specification(
    answers: list[tuple[str, dict[str, Any]]],
) -> None:
    v1_routes = [(route, answer) for route, answer in answers if "/api/v1/" in route]
    assert v1_routes
    invented = [
        f"{route}: {path}"
        for route, answer in v1_routes
        for kind, value in objects(answer)
        for path in unknown_fields(value, v1_invoice_fields(), kind)
    ]
    assert invented == []


def test_the_walk_names_a_field_the_model_lacks() -> None:
    """The check itself: an invoice with ``auto_collection`` is caught, nested fields too."""
    invoice = {"id": "inv_1", "auto_collection": "on", "line_items": [{"id": "li", "colour": 1}]}
    fields = sdk_fields(V2_MODELS["invoice"])
    assert list(unknown_fields(invoice, fields, "invoice")) == [
        "invoice.auto_collection",
        "invoice.line_items[0].colour",
    ]
    assert list(unknown_fields({"line_items": [{"id": "li"}]}, v1_invoice_fields(), "v1")) == [
        "v1.line_items[0].id"
    ]
