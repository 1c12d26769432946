"""The emulator's routes: unknown invoices and paths, API versions and HTTP methods."""

from __future__ import annotations

import httpx
import pytest

from airflow_provider_cb.invoicing.action_table import ACTIONS
from airflow_provider_cb.testing import ChargebeeEmulator
from tests.integration.emulator_calls import act, assert_error, ids


def test_unknown_invoice_is_404(http: httpx.Client) -> None:
    assert_error(http.get("/api/v2/invoices/inv_nope"), 404, "resource_not_found")
    assert_error(act(http, "close", "inv_nope"), 404, "resource_not_found")


@pytest.mark.parametrize(
    "path",
    ["/api/v3/invoices", "/api/v2/plans", "/", "/api/v2/invoices/inv_1/explode", "/api/v2"],
)
def test_unknown_paths_are_404(path: str, emulator: ChargebeeEmulator, http: httpx.Client) -> None:
    emulator.seed(1)
    assert_error(http.post(path), 404, "resource_not_found")


def test_each_action_is_served_only_on_its_api_version(
    emulator: ChargebeeEmulator, http: httpx.Client
) -> None:
    emulator.seed(1)
    for action in ACTIONS.values():
        other = "v2" if action.api_version == "v1" else "v1"
        response = act(http, action.endpoint, "inv_000001", version=other)
        assert_error(response, 404, "resource_not_found")
    assert emulator.count_applied() == 0
    assert emulator.invoice("inv_000001")["status"] == "pending"


def test_v1_and_v2_shapes(emulator: ChargebeeEmulator, http: httpx.Client) -> None:
    emulator.add_invoice("inv_1", date=1_700_000_000, subscription_id="sub_1")
    v1 = http.get("/api/v1/invoices/inv_1").json()["invoice"]
    v2 = http.get("/api/v2/invoices/inv_1").json()["invoice"]
    assert v1["start_date"] == v2["date"] == 1_700_000_000
    assert "date" not in v1
    assert "start_date" not in v2
    assert "id" not in v1["line_items"][0]
    assert v2["line_items"][0]["id"] == "li_inv_1_1"
    assert v1["recurring"] is True
    assert ids(http.get("/api/v1/invoices")) == ["inv_1"]


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/api/v2/invoices/inv_000001/close"),
        ("DELETE", "/api/v2/invoices/inv_000001"),
        ("POST", "/api/v2/invoices"),
        ("PUT", "/api/v1/invoices/inv_000001/collect"),
    ],
)
def test_wrong_method_is_405(
    method: str, path: str, emulator: ChargebeeEmulator, http: httpx.Client
) -> None:
    emulator.seed(1)
    assert_error(http.request(method, path), 405, "http_method_not_supported")
    assert emulator.count_applied() == 0
