"""A listing server that never ends: one invoice per page with a fresh offset each time.

Chargebee returns no total count, so only the client can end such a listing. It
stops after a few short pages that still offer a next page, or when its page
budget is spent, with an error that says which, and the selection task fails at
once instead of retrying into the same server.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from airflow_provider_cb.chargebee_api.settings import ClientSettings
from airflow_provider_cb.invoicing.clients import ChargebeeClient
from airflow_provider_cb.invoicing.list_filters import SHORT_PAGES_ALLOWED, ListingStoppedError
from airflow_provider_cb.testing.dags import DagFolder
from tests.reliability.hostile import HostileServer, endless_listing
from tests.reliability.support import Figures

KEY = "test_Hostile1isting_k3y"


@pytest.fixture
def one_per_page() -> Iterator[HostileServer]:
    with HostileServer(endless_listing(1), max_requests=200) as server:
        yield server


def connection(server: HostileServer) -> str:
    extra = {"base_url": server.base_url, "requests_per_minute": 6000}
    return json.dumps({"conn_type": "chargebee", "host": "acme", "password": KEY, "extra": extra})


def test_the_client_stops_after_a_few_short_pages(
    one_per_page: HostileServer, figures: Figures
) -> None:
    settings = ClientSettings(api_key=KEY, base_url=one_per_page.base_url, max_retries=0)
    stopped = pytest.raises(ListingStoppedError, match="fewer than 100 invoices yet offered")
    with ChargebeeClient(settings) as client, stopped:
        list(client.iter_invoices(status="pending"))
    assert len(one_per_page.requests) == SHORT_PAGES_ALLOWED + 1
    figures.record("one_invoice_per_page_listing", requests_sent=len(one_per_page.requests))


def run_selection(
    chargebee_dags: DagFolder, server: HostileServer, monkeypatch: Any, dag_id: str, args: str
) -> Any:
    monkeypatch.setenv("AIRFLOW_CONN_HOSTILE", connection(server))
    source = f"""
import pendulum
from airflow.sdk import DAG
from airflow_provider_cb.operators import ListInvoicesOperator

with DAG("{dag_id}", schedule=None, start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
         default_args={{"retries": 2, "retry_delay": pendulum.duration(seconds=1)}}) as dag:
    ListInvoicesOperator(task_id="select", chargebee_conn_id="hostile", status="pending",
                         period="all", {args})
"""
    return chargebee_dags.load(dag_id, source).test()


def test_the_selection_fails_once_with_a_clear_error(
    chargebee_dags: DagFolder, one_per_page: HostileServer, monkeypatch: Any, capsys: Any
) -> None:
    dag_run = run_selection(chargebee_dags, one_per_page, monkeypatch, "hostile_short", "")
    ti = dag_run.get_task_instance("select")
    assert str(ti.state) == "failed"
    assert ti.try_number == 1, "a listing that would not end is not retried"
    assert len(one_per_page.requests) == SHORT_PAGES_ALLOWED + 1
    assert "listing stopped: 4 pages held fewer than 100 invoices" in capsys.readouterr().out


def test_the_page_budget_is_the_users_to_set(
    chargebee_dags: DagFolder, monkeypatch: Any, capsys: Any
) -> None:
    with HostileServer(endless_listing(100), max_requests=50) as full_pages:
        dag_run = run_selection(
            chargebee_dags, full_pages, monkeypatch, "hostile_budget", "max_pages=3"
        )
        assert len(full_pages.requests) == 3
    assert str(dag_run.get_task_instance("select").state) == "failed"
    assert "the page budget max_pages=3 is spent (300 invoices read)" in capsys.readouterr().out
