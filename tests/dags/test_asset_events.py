"""Action operators with outlets attach the task's summary to the asset event."""

from __future__ import annotations

from typing import Any

import pendulum

from airflow_provider_cb.testing import ChargebeeEmulator
from airflow_provider_cb.testing.dags import DagFolder
from tests.helpers import run, xcom_of

URI = "chargebee://acme/invoices/closed"


def events_of(uri: str, run_id: str) -> list[dict[str, Any]]:
    from airflow.models.asset import AssetEvent, AssetModel
    from airflow.utils.session import create_session
    from sqlalchemy import select

    with create_session() as session:
        rows = session.scalars(
            select(AssetEvent)
            .join(AssetModel, AssetEvent.asset_id == AssetModel.id)
            .where(AssetModel.uri == uri, AssetEvent.source_run_id == run_id)
        ).all()
        return [dict(row.extra) for row in rows]


def test_the_asset_event_carries_counts_totals_and_the_report(
    chargebee_dags: DagFolder, chargebee_conn_env: ChargebeeEmulator, tmp_path: Any
) -> None:
    chargebee_conn_env.seed(2, status="pending", currency_code="EUR", amount_due=2_500)
    report = tmp_path / "close.csv"
    dag_run = run(
        chargebee_dags,
        "asset_close",
        f"""
from airflow.sdk import Asset
CloseInvoiceOperator(task_id="close", invoice_ids=["inv_000001", "inv_000002"],
                     report_path={str(report)!r}, outlets=[Asset({URI!r})])
""",
    )
    assert dag_run.state == "success"
    (extra,) = events_of(URI, dag_run.run_id)
    assert extra == {
        "source": "chargebee",
        "action": "close",
        "run_id": dag_run.run_id,
        "period": None,  # the ids came from no selection: the event claims no period
        "dry_run": False,
        "counts": {"done": 2},
        "totals": {"done": {"EUR": 5000}},
        "report_path": xcom_of(dag_run, "close")["report_path"],
    }
    assert extra["report_path"].startswith(str(tmp_path / "close.manual__"))


def test_an_empty_chunk_still_emits_an_event_that_says_nothing_was_done(
    chargebee_dags: DagFolder, chargebee_conn_env: ChargebeeEmulator
) -> None:
    dag_run = run(
        chargebee_dags,
        "asset_empty",
        f"""
from airflow.sdk import Asset
CloseInvoiceOperator(task_id="close", invoice_ids=[], outlets=[Asset({URI!r})])
""",
    )
    assert dag_run.state == "success"
    (extra,) = events_of(URI, dag_run.run_id)
    assert (extra["counts"], extra["totals"]) == ({}, {})


def test_the_event_names_the_period_the_upstream_selection_listed(
    chargebee_dags: DagFolder, chargebee_conn_env: ChargebeeEmulator
) -> None:
    chargebee_conn_env.seed(3, status="pending", date="2026-10-15T12:00:00Z")
    dag_run = run(
        chargebee_dags,
        "asset_period",
        f"""
from airflow.sdk import Asset
selected = ListInvoicesOperator(task_id="select", status="pending", period="month")
CloseInvoiceOperator(task_id="close", invoice_ids=selected.output, outlets=[Asset({URI!r})])
""",
        logical_date=pendulum.datetime(2026, 10, 20, tz="UTC"),
    )
    assert dag_run.state == "success"
    (extra,) = events_of(URI, dag_run.run_id)
    assert (extra["period"], extra["counts"]) == ("2026-10-01..2026-10-31 UTC", {"done": 3})
