"""The "Chargebee invoice" extra link: from a task's XCom record to the invoice's page."""

from __future__ import annotations

import json
from types import SimpleNamespace
from typing import Any

import pytest
from airflow.sdk.execution_time.xcom import XCom

from airflow_provider_cb.client.errors import ChargebeeValidationError
from airflow_provider_cb.links import ChargebeeInvoiceLink
from airflow_provider_cb.operators import CloseInvoiceOperator, ListInvoicesOperator
from airflow_provider_cb.sensors import ChargebeeInvoiceSensor

from .conftest import API_KEY

TI_KEY = SimpleNamespace(dag_id="d", task_id="t", run_id="r", map_index=-1)


@pytest.fixture
def xcoms(monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """The task's XCom by key; what the worker would read from the API server."""
    stored: dict[str, Any] = {}

    def get_value(*, ti_key: Any, key: str) -> Any:
        assert ti_key is TI_KEY
        return stored.get(key)

    monkeypatch.setattr(XCom, "get_value", staticmethod(get_value))
    return stored


def use_connection(monkeypatch: pytest.MonkeyPatch, conn_id: str = "cb", **extra: Any) -> None:
    conn = {"conn_type": "chargebee", "host": "acme", "password": API_KEY, "extra": extra}
    monkeypatch.setenv(f"AIRFLOW_CONN_{conn_id.upper()}", json.dumps(conn))


def link_of(operator: Any) -> str:
    return ChargebeeInvoiceLink().get_link(operator, ti_key=TI_KEY)  # type: ignore[arg-type]


def close(conn_id: str = "cb") -> CloseInvoiceOperator:
    return CloseInvoiceOperator(task_id="close", invoice_id="inv_1", chargebee_conn_id=conn_id)


@pytest.mark.parametrize(
    ("extra", "expected"),
    [
        ({}, "https://acme.chargebee.com/d/invoices/inv_1"),
        ({"test_site": "true"}, "https://acme-test.chargebee.com/d/invoices/inv_1"),
        (
            {"extra__chargebee__test_site": True, "environment": "eu.chargebee.com"},
            "https://acme-test.eu.chargebee.com/d/invoices/inv_1",
        ),
        ({"base_url": "http://127.0.0.1:8080"}, "https://acme.chargebee.com/d/invoices/inv_1"),
    ],
    ids=["live", "test", "domain", "base_url"],
)
def test_links_a_single_invoice_record_to_its_page(
    xcoms: dict[str, Any], monkeypatch: pytest.MonkeyPatch, extra: dict[str, Any], expected: str
) -> None:
    use_connection(monkeypatch, **extra)
    xcoms["return_value"] = {"invoice_id": "inv_1", "action": "close", "outcome": "done"}

    assert link_of(close()) == expected


def test_a_failed_action_links_through_the_record_it_keeps(
    xcoms: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    use_connection(monkeypatch)
    xcoms["chargebee_result"] = {"invoice_id": "inv_9", "outcome": "failed"}

    assert link_of(close()) == "https://acme.chargebee.com/d/invoices/inv_9"


@pytest.mark.parametrize(
    "stored",
    [
        {},
        {"return_value": {"action": "close", "total": 3, "counts": {"done": 3}}},
        {"return_value": ["inv_1", "inv_2"]},
    ],
    ids=["nothing ran", "bulk summary", "list of ids"],
)
def test_no_link_without_a_single_invoice(
    xcoms: dict[str, Any], monkeypatch: pytest.MonkeyPatch, stored: dict[str, Any]
) -> None:
    use_connection(monkeypatch)
    xcoms.update(stored)

    assert link_of(close()) == ""


def test_no_link_for_a_bulk_task(xcoms: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> None:
    use_connection(monkeypatch)
    xcoms["return_value"] = {"invoice_id": "inv_1"}
    bulk = CloseInvoiceOperator(task_id="close", invoice_ids=["inv_1"], chargebee_conn_id="cb")

    assert link_of(bulk) == ""


def test_no_link_for_a_connection_without_a_site(
    xcoms: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    conn = {"conn_type": "chargebee", "password": API_KEY, "extra": {"base_url": "https://p.x"}}
    monkeypatch.setenv("AIRFLOW_CONN_CB", json.dumps(conn))
    xcoms["return_value"] = {"invoice_id": "inv_1"}

    assert link_of(close()) == ""


def test_a_site_that_is_not_a_site_name_is_refused(
    xcoms: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    conn = {
        "conn_type": "chargebee",
        "host": "evil.example/x",
        "password": API_KEY,
        "extra": {"base_url": "https://proxy.example"},
    }
    monkeypatch.setenv("AIRFLOW_CONN_CB", json.dumps(conn))
    xcoms["return_value"] = {"invoice_id": "inv_1"}

    with pytest.raises(ChargebeeValidationError, match="site"):
        link_of(close())


def test_single_invoice_tasks_carry_the_link() -> None:
    sensor = ChargebeeInvoiceSensor(task_id="s", invoice_id="inv_1", target_statuses=["paid"])
    for task in (close(), sensor):
        assert [link.name for link in task.operator_extra_links] == ["Chargebee invoice"]
    assert ListInvoicesOperator(task_id="list").operator_extra_links == ()
