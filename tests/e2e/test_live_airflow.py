"""The provider in a real Airflow, seen as a user sees it: through the REST API.

Each test triggers DAG runs on the session's live Airflow (tests/e2e/live.py) and
reads states, XCom, links and logs back through the REST API, as the UI does.
"""

from __future__ import annotations

import base64
import json
import re
from pathlib import Path

import pytest

from tests.e2e.live import CANARY_KEY, SEED_DATE, SITE, WRONG_KEY, LiveAirflow, poll

pytestmark = pytest.mark.slow

SECRETS = (CANARY_KEY, WRONG_KEY)


def invoice_page(invoice_id: str) -> str:
    return f"https://{SITE}.chargebee.com/d/invoices/{invoice_id}"


def wait_deferred(live: LiveAirflow, dag_id: str, run_id: str, task_id: str) -> None:
    def deferred() -> bool | None:
        state = live.task_state(dag_id, run_id, task_id)
        assert state not in ("failed", "success"), f"{task_id} ended {state} before deferring"
        return state == "deferred" or None

    poll(f"{task_id} to defer", deferred, 60)


def test_the_scheduled_month_end_closes_the_month_and_signals_the_ledger(
    live: LiveAirflow,
) -> None:
    # The scheduler starts the example's latest cron run (03:00 on the 1st) by itself.
    run_id = live.run_of_type("chargebee_month_end", "scheduled")

    assert live.wait_for_run("chargebee_month_end", run_id) == "success"
    chunk = live.xcom("chargebee_month_end", run_id, "close_pending", map_index=0)
    assert (chunk["action"], chunk["total"], chunk["counts"]) == ("close", 12, {"done": 12})
    assert live.xcom("chargebee_month_end", run_id, "report") == {"done": 12}
    closed = [
        live.emulator("GET", f"/invoices/inv_{n:06d}")["invoice"]["status"] for n in range(1, 13)
    ]
    assert closed == ["payment_due"] * 12
    assert live.emulator("GET", "/invoices", **{"status[is]": "pending"})["list"] == []
    close = live.get(
        f"/api/v2/dags/chargebee_month_end/dagRuns/{run_id}/taskInstances/close_pending/0"
    )
    assert close["rendered_map_index"] == "chunk 1/1: inv_000001…inv_000012 (12)"
    # A bulk chunk names no single invoice: it carries no link and stores no empty one.
    links = live.api.get(
        f"/api/v2/dags/chargebee_month_end/dagRuns/{run_id}/taskInstances/close_pending/xcomEntries/"
        "_link_ChargebeeInvoiceLink",
        params={"map_index": 0},
    )
    assert links.status_code == 404
    # The chunk's asset event carries the close's summary for the jobs scheduled on it...
    events = live.get("/api/v2/assets/events", source_run_id=run_id)["asset_events"]
    (event,) = [e for e in events if e["uri"] == "chargebee://acme/month-end-close"]
    assert (event["extra"]["action"], event["extra"]["counts"]) == ("close", {"done": 12})
    assert event["extra"]["totals"] == {"done": {"USD": 120_000}}
    month = SEED_DATE.start_of("month")
    period = f"{month.to_date_string()}..{month.end_of('month').to_date_string()} UTC"
    assert event["extra"]["period"] == period
    # ...and the ledger DAG scheduled on that asset runs on it and reads it.
    ledger_run = live.run_of_type("chargebee_after_close", "asset_triggered")
    assert live.wait_for_run("chargebee_after_close", ledger_run) == "success"
    booked = live.xcom("chargebee_after_close", ledger_run, "book_closed_invoices")
    assert booked == [
        {"period": period, "counts": {"done": 12}, "totals": {"done": {"USD": 120_000}}}
    ]


def test_a_run_without_a_logical_date_never_selects_the_wrong_month(live: LiveAirflow) -> None:
    dag_id, run_id = "chargebee_periods", "periods_e2e"
    live.trigger(dag_id, run_id)  # logical_date: null, as a REST client or the UI sends
    assert live.wait_for_run(dag_id, run_id) == "failed"

    by_interval = live.get(f"/api/v2/dags/{dag_id}/dagRuns/{run_id}/taskInstances/by_data_interval")
    assert (by_interval["state"], by_interval["try_number"]) == ("failed", 1)
    task = f"/api/v2/dags/{dag_id}/dagRuns/{run_id}/taskInstances/by_data_interval"
    log = live.api.get(f"{task}/logs/1", headers={"Accept": "application/json"}).text
    assert "this run has no data interval" in log and "previous_month" in log

    last = SEED_DATE.start_of("month")
    previous = live.xcom(dag_id, run_id, "previous_month", key="chargebee_plan")
    assert (
        previous["range"] == f"{last.to_date_string()}..{last.end_of('month').to_date_string()} UTC"
    )
    assert previous["count"] == 20  # every seeded invoice
    assert len(live.xcom(dag_id, run_id, "previous_month")) == 20
    this_month = live.xcom(dag_id, run_id, "this_month", key="chargebee_plan")
    assert (this_month["count"], live.xcom(dag_id, run_id, "this_month")) == (0, [])


def test_deferrable_sensor_waits_in_the_triggerer_until_paid(live: LiveAirflow) -> None:
    live.trigger("chargebee_wait_paid", "wait_paid_e2e")
    wait_deferred(live, "chargebee_wait_paid", "wait_paid_e2e", "wait_paid")
    task = "/api/v2/dags/chargebee_wait_paid/dagRuns/wait_paid_e2e/taskInstances/wait_paid"
    # The link works while the sensor waits, built from its rendered id.
    assert live.get(f"{task}/links")["extra_links"] == {
        "Chargebee invoice": invoice_page("inv_000013")
    }
    live.emulator("POST", "/invoices/inv_000013/write_off")

    assert live.wait_for_run("chargebee_wait_paid", "wait_paid_e2e") == "success"
    result = live.xcom("chargebee_wait_paid", "wait_paid_e2e", "wait_paid")
    assert (result["outcome"], result["invoice_id"], result["status"]) == (
        "reached",
        "inv_000013",
        "paid",
    )
    links = live.get(
        "/api/v2/dags/chargebee_wait_paid/dagRuns/wait_paid_e2e/taskInstances/wait_paid/links"
    )
    assert links["extra_links"] == {"Chargebee invoice": invoice_page("inv_000013")}


def test_connection_test_through_the_rest_api(live: LiveAirflow) -> None:
    good = live.post(
        "/api/v2/connections/test",
        {"connection_id": "chargebee_default", "conn_type": "chargebee"},
    )
    refused = live.post(
        "/api/v2/connections/test",
        {"connection_id": "chargebee_wrong_key", "conn_type": "chargebee"},
    )

    assert good["status"] is True
    assert re.fullmatch(
        r"Connected through http://127\.0\.0\.1:\d+ \(site 'acme', live site\)\.", good["message"]
    )
    assert refused["status"] is False
    assert "rejected the API key (401)" in refused["message"]
    assert not [key for key in SECRETS if key in json.dumps([good, refused])]


def _texts_of_run(live: LiveAirflow, dag_id: str, run_id: str) -> dict[str, str]:
    """Everything Airflow kept of a run, by where it came from."""
    texts: dict[str, str] = {}
    run = f"/api/v2/dags/{dag_id}/dagRuns/{run_id}"
    for ti in live.task_instances(dag_id, run_id):
        task = f"{run}/taskInstances/{ti['task_id']}"
        texts[f"rendered fields of {ti['task_id']}"] = json.dumps(ti["rendered_fields"])
        log = live.api.get(f"{task}/logs/1", headers={"Accept": "application/json"})
        texts[f"REST log of {ti['task_id']}"] = log.text
        for entry in live.get(f"{task}/xcomEntries")["xcom_entries"]:
            value = live.get(f"{task}/xcomEntries/{entry['key']}")
            texts[f"XCom {entry['key']} of {ti['task_id']}"] = json.dumps(value)
    for path in sorted(live.home.joinpath("logs").rglob("*")):
        if path.is_file():
            texts[str(path)] = path.read_text(errors="replace")
    for process in live.processes:
        texts[str(process.log)] = process.log.read_text(errors="replace")
    for database in live.home.glob("airflow.db*"):
        texts[str(database)] = database.read_bytes().decode("latin-1")
    return texts


def _leaks(texts: dict[str, str]) -> dict[str, list[str]]:
    forms: list[str] = []
    for key in SECRETS:
        # As sent in an Authorization header, too.
        forms += [key, base64.b64encode(f"{key}:".encode()).decode()]
    return {
        where: [f for f in forms if f in text]
        for where, text in texts.items()
        if any(f in text for f in forms)
    }


def test_no_api_key_in_logs_xcom_or_rendered_fields_of_failing_tasks(
    live: LiveAirflow, tmp_path: Path
) -> None:
    dag_id, run_id = "chargebee_error_paths", "error_paths_e2e"
    live.trigger(dag_id, run_id)
    wait_deferred(live, dag_id, run_id, "never_exhausted")
    live.emulator("POST", "/invoices/inv_000016/write_off")
    assert live.wait_for_run(dag_id, run_id) == "failed"

    states = {ti["task_id"]: ti["state"] for ti in live.task_instances(dag_id, run_id)}
    assert states == {
        "stop_dunning": "success",
        "unknown_invoice": "failed",
        "wrong_key": "failed",
        "unreachable": "failed",
        "never_exhausted": "failed",
    }
    texts = _texts_of_run(live, dag_id, run_id)
    logs = {name: text for name, text in texts.items() if name.startswith("REST log of ")}
    # The scan covers what it should: each error path's own failure and DEBUG records.
    expected = {
        "unknown_invoice": "resource_not_found",
        "wrong_key": "api_authentication_failed",
        "unreachable": "Connection refused",
        "never_exhausted": "it can never reach dunning status exhausted",
        "stop_dunning": '"level":"debug"',
    }
    for task_id, marker in expected.items():
        assert marker in logs[f"REST log of {task_id}"], f"{marker!r} not in {task_id}'s log"
    record = live.xcom(dag_id, run_id, "stop_dunning")
    assert (record["outcome"], record["status_after"]) == ("done", "not_paid")
    links = live.get(f"/api/v2/dags/{dag_id}/dagRuns/{run_id}/taskInstances/stop_dunning/links")
    assert links["extra_links"] == {"Chargebee invoice": invoice_page("inv_000014")}

    summary = {"sources": len(texts), "bytes": sum(len(text) for text in texts.values())}
    (tmp_path / "scan.json").write_text(json.dumps({**summary, "names": sorted(texts)}, indent=1))
    print(f"secret scan of {dag_id}: {summary}")
    assert _leaks(texts) == {}
