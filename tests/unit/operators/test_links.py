"""The "Chargebee invoice" extra link: from a single-invoice task's rendered id to its page."""

from __future__ import annotations

import json
import logging
from types import SimpleNamespace
from typing import Any

import pytest

from airflow_provider_cb.links import ChargebeeInvoiceLink, publish_invoice_link
from airflow_provider_cb.operators import CloseInvoiceOperator, ListInvoicesOperator
from airflow_provider_cb.sensors import ChargebeeInvoiceSensor

from ..conftest import API_KEY

TI_KEY = SimpleNamespace(dag_id="d", task_id="t", run_id="r", map_index=-1)


def use_connection(monkeypatch: pytest.MonkeyPatch, conn_id: str = "cb", **extra: Any) -> None:
    conn = {"conn_type": "chargebee", "host": "acme", "password": API_KEY, "extra": extra}
    monkeypatch.setenv(f"AIRFLOW_CONN_{conn_id.upper()}", json.dumps(conn))


def link_of(operator: Any) -> str:
    return ChargebeeInvoiceLink().get_link(operator, ti_key=TI_KEY)  # type: ignore[arg-type]


def close(invoice_id: str = "inv_1", conn_id: str = "cb") -> CloseInvoiceOperator:
    return CloseInvoiceOperator(task_id="close", invoice_id=invoice_id, chargebee_conn_id=conn_id)


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
def test_links_the_rendered_invoice_to_its_page_before_any_request(
    monkeypatch: pytest.MonkeyPatch, extra: dict[str, Any], expected: str
) -> None:
    use_connection(monkeypatch, **extra)

    assert link_of(close()) == expected


@pytest.mark.parametrize(
    ("invoice_id", "conn_id"),
    [("None", "cb"), ("{{ ti.xcom_pull('x') }}", "cb"), ("inv_1", "missing")],
    ids=["rendered None", "unrendered", "no connection"],
)
def test_nothing_to_show_gives_an_empty_link_and_logs_no_error(
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    invoice_id: str,
    conn_id: str,
) -> None:
    use_connection(monkeypatch)
    with caplog.at_level(logging.DEBUG):
        assert link_of(close(invoice_id, conn_id)) == ""
    assert [r for r in caplog.records if r.levelno >= logging.WARNING] == []
    assert "no Chargebee invoice link" in caplog.text


def test_no_link_for_a_connection_without_a_site(monkeypatch: pytest.MonkeyPatch) -> None:
    conn = {"conn_type": "chargebee", "password": API_KEY, "extra": {"base_url": "https://p.x"}}
    monkeypatch.setenv("AIRFLOW_CONN_CB", json.dumps(conn))

    assert link_of(close()) == ""


def test_a_site_that_is_not_a_site_name_gets_no_link(monkeypatch: pytest.MonkeyPatch) -> None:
    conn = {
        "conn_type": "chargebee",
        "host": "evil.example/x",
        "password": API_KEY,
        "extra": {"base_url": "https://proxy.example"},
    }
    monkeypatch.setenv("AIRFLOW_CONN_CB", json.dumps(conn))

    assert link_of(close()) == ""


def test_single_invoice_tasks_carry_the_link_and_bulk_tasks_none() -> None:
    sensor = ChargebeeInvoiceSensor(task_id="s", invoice_id="inv_1", target_statuses=["paid"])
    for task in (close(), sensor):
        assert [link.name for link in task.operator_extra_links] == ["Chargebee invoice"]
    batch = ChargebeeInvoiceSensor(task_id="b", invoice_ids=["inv_1"], target_statuses=["paid"])
    bulk = CloseInvoiceOperator(task_id="close", invoice_ids=["inv_1"])
    for task in (batch, bulk, ListInvoicesOperator(task_id="list")):
        assert task.operator_extra_links == ()


def test_a_starting_task_publishes_its_link_for_the_ui(monkeypatch: pytest.MonkeyPatch) -> None:
    use_connection(monkeypatch)
    pushed: dict[str, Any] = {}
    ti = SimpleNamespace(xcom_push=lambda key, value: pushed.update({key: value}))

    publish_invoice_link(close(), {"ti": ti})  # type: ignore[typeddict-item]
    bulk = CloseInvoiceOperator(task_id="bulk", invoice_ids=["inv_1"], chargebee_conn_id="cb")
    publish_invoice_link(bulk, {"ti": ti})  # type: ignore[typeddict-item]

    assert pushed == {"_link_ChargebeeInvoiceLink": "https://acme.chargebee.com/d/invoices/inv_1"}
