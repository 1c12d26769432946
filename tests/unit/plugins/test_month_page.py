"""The month-end page's API: what a user sees of the ledger depends on the DAGs they may read."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from airflow_provider_cb.plugins import app as page
from airflow_provider_cb.testing.sample_ledger import write_sample_ledger


@pytest.fixture
def ledger(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = tmp_path / "ledger"
    monkeypatch.setenv("AIRFLOW__CHARGEBEE__LEDGER_PATH", str(root))
    write_sample_ledger(root, ["2026-09", "2026-10"], runs_per_period=2, invoices_per_run=20)
    write_sample_ledger(root, ["2026-10"], runs_per_period=1, dag_id="other_team_close")
    return root


def client_for(dag_ids: set[str]) -> Iterator[TestClient]:
    app = page.create_app()
    app.dependency_overrides[page.readable_dag_ids] = lambda: dag_ids
    with TestClient(app) as client:
        yield client


@pytest.fixture
def finance(ledger: Path) -> Iterator[TestClient]:
    yield from client_for({"chargebee_month_end"})


def test_the_overview_counts_each_period_in_major_units(finance: TestClient) -> None:
    periods = finance.get("/api/periods").json()["periods"]
    assert [(p["site"], p["period"], p["run_count"]) for p in periods] == [
        ("acme", "2026-10", 2),
        ("acme", "2026-09", 2),
    ]
    october = periods[0]
    # 20 invoices per run; 3 and 20 are not eligible; the second run finds the rest closed.
    assert october["counts"] == {"already_done": 18, "done": 18, "not_eligible": 4}
    assert october["totals"]["done"] == ["EUR 1,250.35", "JPY 70,000", "KWD 74.070"]
    assert october["ranges"] == ["2026-10-01..2026-10-31 UTC"]


def test_a_period_lists_runs_with_log_links_and_the_invoices_that_need_attention(
    finance: TestClient,
) -> None:
    detail = finance.get("/api/periods/acme/2026-10").json()
    assert [run["run_id"] for run in detail["runs"]] == [
        "manual__2026-10-0001",
        "manual__2026-10-0000",
    ]
    task = detail["runs"][0]["tasks"][0]
    assert task["log_url"] == (
        "dags/chargebee_month_end/runs/manual__2026-10-0001/tasks/close_pending/mapped/0"
        "?try_number=1"
    )
    assert {(a["invoice_id"], a["reason"]) for a in detail["attention"]} == {
        ("inv_000003", "status paid"),
        ("inv_000020", "status paid"),
    }
    assert detail["attention"][0]["invoice_url"] == (
        "https://acme.chargebee.com/d/invoices/inv_000003"
    )


def test_a_user_sees_nothing_of_dags_they_may_not_read(ledger: Path) -> None:
    for outsider in client_for(set()):
        assert outsider.get("/api/periods").json()["periods"] == []
        assert outsider.get("/api/periods/acme/2026-10").status_code == 404
    for other_team in client_for({"other_team_close"}):
        periods = other_team.get("/api/periods").json()["periods"]
        assert [(p["period"], p["run_count"]) for p in periods] == [("2026-10", 1)]


def test_a_month_report_is_shown_only_to_who_may_read_every_dag_of_its_period(
    ledger: Path,
) -> None:
    from airflow_provider_cb.ledger.month import write_month_report

    _, markdown = write_month_report(ledger, "acme", "2026-10", "manual__x.try-1")
    url = f"/api/reports/acme/2026-10/{markdown.name}"
    for finance in client_for({"chargebee_month_end"}):
        assert finance.get("/api/periods/acme/2026-10").json()["reports"] == []
        assert finance.get(url).status_code == 403
    for controller in client_for({"chargebee_month_end", "other_team_close"}):
        listed = controller.get("/api/periods/acme/2026-10").json()["reports"]
        assert markdown.name in listed
        shown = controller.get(url)
        assert shown.status_code == 200
        assert shown.text.startswith("# Chargebee month report: 2026-10 (")
        assert controller.get("/api/reports/acme/2026-10/..%2F..%2Fsecrets.md").status_code == 404


def test_the_page_and_its_assets_come_from_the_package(finance: TestClient) -> None:
    html = finance.get("/").text
    assert 'src="static/app.js"' in html and "http" not in html.split("<body>")[0]
    assert finance.get("/static/app.js").status_code == 200
    assert finance.get("/static/style.css").status_code == 200
