"""The emulator's v1 answers against Chargebee's published OpenAPI specification (v1 excerpt).

Schemas are validated with their ``#/components/schemas`` references resolved by
placing the specification's ``components`` at the root of each schema.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from jsonschema import Draft202012Validator

from airflow_provider_cb.testing import ChargebeeEmulator

# An excerpt of Chargebee's published OpenAPI specification, vendored with its MIT
# licence (spec/LICENSE-chargebee-openapi.txt) so the contract runs in any clone.
SPEC_PATH = Path(__file__).resolve().parent / "spec" / "chargebee-api-v1-invoices.json"
KEY = "test_key"


@pytest.fixture(scope="module")
def spec() -> dict[str, Any]:
    spec: dict[str, Any] = json.loads(SPEC_PATH.read_text())
    return spec


def check(spec: dict[str, Any], path: str, method: str, response: httpx.Response) -> None:
    """Validate a response against the schema the spec gives for its path, method and status."""
    documented = spec["paths"][path][method]["responses"][str(response.status_code)]
    schema = dict(documented["content"]["application/json"]["schema"])
    schema["components"] = spec["components"]
    assert response.headers["content-type"].startswith("application/json")
    errors = sorted(Draft202012Validator(schema).iter_errors(response.json()), key=str)
    assert not errors, "\n".join(f"{list(e.absolute_path)}: {e.message}" for e in errors)


@pytest.fixture
def emulator() -> Iterator[ChargebeeEmulator]:
    with ChargebeeEmulator(KEY) as emulator:
        emulator.add_invoice("inv_pending", subscription_id="sub_1", line_items=3)
        emulator.add_invoice("inv_due", status="payment_due", dunning_status="in_progress")
        emulator.add_invoice("inv_posted", status="posted", auto_collection="off")
        emulator.add_invoice(
            "inv_paid",
            status="paid",
            notes=[{"note": "Thanks", "entity_type": "customer", "entity_id": "cus_1"}],
        )
        emulator.add_invoice("inv_empty", line_items=0)
        yield emulator


@pytest.fixture
def v1(emulator: ChargebeeEmulator) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=f"{emulator.base_url}/api/v1", auth=(KEY, ""), timeout=10) as c:
        yield c


COLLECT = "/invoices/{invoice-id}/collect"
STOP_DUNNING = "/invoices/{invoice-id}/stop_dunning"
RETRIEVE = "/invoices/{invoice-id}"
LIST = "/invoices"


def test_collect_200(spec: dict[str, Any], v1: httpx.Client) -> None:
    response = v1.post("/invoices/inv_pending/collect")
    assert response.status_code == 200
    check(spec, COLLECT, "post", response)


def test_stop_dunning_200(
    spec: dict[str, Any], emulator: ChargebeeEmulator, v1: httpx.Client
) -> None:
    """stop_dunning is a v2 action in the action table, so the v1 shape is read back after it."""
    with httpx.Client(base_url=f"{emulator.base_url}/api/v2", auth=(KEY, "")) as v2:
        assert v2.post("/invoices/inv_due/stop_dunning").status_code == 200
    response = v1.get("/invoices/inv_due")
    assert response.json()["invoice"]["status"] == "not_paid"
    check(spec, STOP_DUNNING, "post", response)


@pytest.mark.parametrize("invoice_id", ["inv_pending", "inv_due", "inv_posted", "inv_paid"])
def test_retrieve_200(spec: dict[str, Any], v1: httpx.Client, invoice_id: str) -> None:
    response = v1.get(f"/invoices/{invoice_id}")
    assert response.status_code == 200
    check(spec, RETRIEVE, "get", response)


def test_list_200(spec: dict[str, Any], v1: httpx.Client) -> None:
    first = v1.get("/invoices", params={"limit": 2})
    assert first.status_code == 200
    check(spec, LIST, "get", first)
    rest = v1.get("/invoices", params={"limit": 100, "offset": first.json()["next_offset"]})
    check(spec, LIST, "get", rest)
    assert len(first.json()["list"]) + len(rest.json()["list"]) == 5


def test_errors_match_the_error_schemas(
    spec: dict[str, Any], emulator: ChargebeeEmulator, v1: httpx.Client
) -> None:
    answers = {
        400: v1.get("/invoices", params={"limit": 0}),
        401: httpx.post(f"{emulator.base_url}/api/v1/invoices/inv_pending/collect", auth=("x", "")),
        404: v1.post("/invoices/inv_nope/collect"),
        405: v1.get("/invoices/inv_pending/collect"),
        409: v1.post("/invoices/inv_empty/collect"),
    }
    v1.post("/invoices/inv_pending/collect", headers={"chargebee-idempotency-key": "k"})
    answers[422] = v1.post(
        "/invoices/inv_posted/collect", headers={"chargebee-idempotency-key": "k"}
    )
    emulator.faults.script(["site_not_ready", "server_503", "lock_timeout"])
    answers[503] = v1.post("/invoices/inv_paid/collect")
    second_503 = v1.post("/invoices/inv_paid/collect")
    lock_timeout = v1.post("/invoices/inv_paid/collect")
    emulator.advance(60 - emulator.clock.now() % 60 + 0.5)
    emulator.requests_per_minute = 1
    assert v1.get("/invoices/inv_paid").status_code == 200
    answers[429] = v1.post("/invoices/inv_paid/collect")
    for status, response in [*answers.items(), (503, second_503), (429, lock_timeout)]:
        assert response.status_code == status, response.text
        check(spec, COLLECT, "post", response)
