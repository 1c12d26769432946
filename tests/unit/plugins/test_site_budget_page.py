"""The month-end page's site budgets: rate in use and 429s learned, from a real Redis store."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from airflow_provider_cb.chargebee_api.sharedbudget import SharedBudget
from airflow_provider_cb.hooks.chargebee import ChargebeeHook
from airflow_provider_cb.plugins import app as page
from tests.redis_server import RedisServer, free_port

from ..conftest import API_KEY


def set_connection(monkeypatch: pytest.MonkeyPatch, conn_id: str, **extra: Any) -> None:
    connection = {"conn_type": "chargebee", "host": "acme", "password": API_KEY, "extra": extra}
    monkeypatch.setenv(f"AIRFLOW_CONN_{conn_id.upper()}", json.dumps(connection))


def budgets(readable: set[str]) -> dict[str, dict[str, Any]]:
    app = page.create_app()
    app.dependency_overrides[page.connection_reader] = lambda: readable.__contains__
    with TestClient(app) as client:
        answer = client.get("/api/budgets")
    assert answer.status_code == 200
    assert "s3cret" not in answer.text and "redis://" not in answer.text
    return {entry["conn_id"]: entry for entry in answer.json()["budgets"]}


@pytest.fixture
def store_conn(
    chargebee_airflow_home: Path, redis_server: RedisServer, monkeypatch: pytest.MonkeyPatch
) -> Iterator[str]:
    set_connection(
        monkeypatch, "cb_store", rate_limit_store=redis_server.url, requests_per_minute=600
    )
    set_connection(monkeypatch, "cb_alone", requests_per_minute=600)
    monkeypatch.setenv("AIRFLOW_CONN_OTHER_HTTP", "http://example.invalid")
    yield "cb_store"


def test_a_site_with_a_store_shows_its_rate_and_the_429s_it_learned(store_conn: str) -> None:
    shared = SharedBudget(ChargebeeHook(chargebee_conn_id=store_conn).connection_settings()[0])
    try:
        paced_at = shared.acquire()
        shared.slow_down(paced_at)
        shared.slow_down(paced_at)
    finally:
        shared.close()

    shown = budgets({"cb_store", "cb_alone", "other_http"})

    assert list(shown) == ["cb_store"]  # no store, or not Chargebee: nothing to show
    site = shown["cb_store"]
    assert (site["site"], site["host"], site["configured_per_minute"]) == (
        "acme",
        "acme.chargebee.com",
        600,
    )
    assert (site["requests_per_minute"], site["learned_per_minute"]) == (500, 500)
    assert (site["site_429s"], site["lowered_to"], site["processes"]) == (2, 500, 1)
    assert site["lowered_at"] is not None and site["lowered_at"].endswith("+00:00")
    assert site["first_429_at"] <= site["last_429_at"]


def test_a_quiet_site_shows_nothing_learned(store_conn: str) -> None:
    site = budgets({store_conn})[store_conn]
    assert (site["requests_per_minute"], site["site_429s"], site["lowered_at"]) == (None, 0, None)


def test_only_connections_the_user_may_read_are_shown(store_conn: str) -> None:
    assert budgets(set()) == {}


def test_a_store_that_does_not_answer_is_said_without_its_url(
    chargebee_airflow_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    gone = f"redis://:s3cret-gone@127.0.0.1:{free_port()}/0"
    set_connection(monkeypatch, "cb_gone", rate_limit_store=gone)

    site = budgets({"cb_gone"})["cb_gone"]

    assert site["error"] == "the rate_limit_store did not answer (ConnectionError)"
    assert site["site"] == "acme"


def test_connections_in_the_metadata_database_are_listed(
    chargebee_airflow_home: Path, redis_server: RedisServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    from airflow.models.connection import Connection
    from airflow.utils.session import create_session

    # What the API server sets: its hooks read connections from the metadata database too.
    monkeypatch.setenv("_AIRFLOW_PROCESS_CONTEXT", "server")

    stored = Connection(
        conn_id="cb_in_db",
        conn_type="chargebee",
        host="globex",
        password=API_KEY,
        extra=json.dumps({"rate_limit_store": redis_server.url}),
    )
    with create_session() as session:
        session.add(stored)
    try:
        site = budgets({"cb_in_db"})["cb_in_db"]
    finally:
        with create_session() as session:
            session.query(Connection).filter(Connection.conn_id == "cb_in_db").delete()

    assert (site["site"], site["configured_per_minute"], site["site_429s"]) == ("globex", 150, 0)
