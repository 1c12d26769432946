"""Outcomes that stay true when Chargebee answers in either dialect, through real DAG runs.

Chargebee's specification answers a state conflict with 409; its error page says client
errors are "predominantly" 400. Every test here runs against both, and the answers that
differ from the emulator's defaults (in-flight duplicates, misleading 200s, legacy error
bodies) are produced by the emulator over HTTP.
"""

from __future__ import annotations

import json
import os
import signal
import threading
import time
from typing import Any

import pytest

from airflow_provider_cb.chargebee_api.settings import ClientSettings
from airflow_provider_cb.invoicing.clients import ChargebeeClient
from airflow_provider_cb.testing import ChargebeeEmulator
from airflow_provider_cb.testing.dags import DagFolder
from airflow_provider_cb.testing.pytest_plugin import CONNECTION_ENV
from airflow_provider_cb.testing.wire import Dialect
from tests.dags.test_operators_in_dags import posts
from tests.helpers import dag_source, new_year, run, state_of, xcom_of

PAY_BY = new_year(1).format("YYYY-MM-DDTHH:mm:ss") + "Z"
"""An expected payment date: 1 January next year, so the date never falls in the past."""

DIALECTS = [
    pytest.param(Dialect(conflict_status=409), id="409"),
    pytest.param(Dialect(conflict_status=400), id="400"),
]


@pytest.fixture(params=DIALECTS)
def emulator(chargebee_conn_env: ChargebeeEmulator, request: Any) -> ChargebeeEmulator:
    chargebee_conn_env.dialect = request.param
    return chargebee_conn_env


def connect(emulator: ChargebeeEmulator, monkeypatch: pytest.MonkeyPatch, **extra: Any) -> None:
    connection = json.loads(emulator.connection_json())
    connection["extra"].update(extra)
    monkeypatch.setenv(CONNECTION_ENV, json.dumps(connection))


def test_a_second_run_with_new_keys_reports_every_invoice_already_done(
    chargebee_dags: DagFolder, emulator: ChargebeeEmulator
) -> None:
    ids = emulator.seed(4, status="pending")
    body = f'CloseInvoiceOperator(task_id="close", invoice_ids={ids!r})'
    dag = chargebee_dags.load("second_run", dag_source("second_run", body))
    first, second = dag.test(), dag.test()
    assert first.run_id != second.run_id
    assert xcom_of(first, "close")["counts"] == {"done": 4}
    assert second.state == "success"
    assert xcom_of(second, "close")["counts"] == {"already_done": 4}
    conflicts = {r.status for r in emulator.requests if r.method == "POST" and r.status != 200}
    assert conflicts == {emulator.dialect.conflict_status}
    assert emulator.count_applied() == 4


IN_FLIGHT_WORDINGS = [
    "The previous request is still in progress. Please retry the request",
    "Invoice is not in pending state",
    "Another request with the same idempotency key is being processed",
    "",
]


@pytest.mark.parametrize(
    "wording", IN_FLIGHT_WORDINGS, ids=["documented-nowhere", "state", "key", "empty"]
)
def test_a_close_slower_than_the_client_timeout_ends_done_once(
    chargebee_dags: DagFolder,
    emulator: ChargebeeEmulator,
    monkeypatch: pytest.MonkeyPatch,
    wording: str,
) -> None:
    """The retry meets a state conflict while the invoice still reads pending, and sends
    the same key again until Chargebee replays the first request's answer, whatever the
    conflict's wording (the first one was recorded failed, not retryable)."""
    emulator.seed(1, status="pending")
    emulator.in_flight_message = wording
    emulator.processing_seconds = 2.5
    connect(emulator, monkeypatch, timeout=1)
    dag_run = run(
        chargebee_dags,
        "slow_close",
        'CloseInvoiceOperator(task_id="close", invoice_id="inv_000001")',
    )
    assert state_of(dag_run, "close") == "success"
    record = xcom_of(dag_run, "close")
    assert (record["outcome"], record["replayed"]) == ("done", True)
    answers = [r.status for r in posts(emulator)]
    assert emulator.dialect.conflict_status in answers  # at least one in-flight conflict
    assert {r.idempotency_key for r in posts(emulator)} == {record["idempotency_key"]}
    assert emulator.count_applied() == 1


def test_write_off_tells_a_customers_payment_from_a_write_off(
    chargebee_dags: DagFolder, emulator: ChargebeeEmulator
) -> None:
    emulator.add_invoice("paid_by_customer", status="paid")
    emulator.add_invoice("written_off", status="payment_due")
    emulator.add_invoice("unpaid", status="payment_due")
    settings = ClientSettings(
        api_key=emulator.api_key, base_url=emulator.base_url, lift_rate_budget=True
    )
    with ChargebeeClient(settings) as client:
        client.invoke("write_off", "written_off", idempotency_key="earlier-run")
    dag_run = run(
        chargebee_dags,
        "write_off_mix",
        """
WriteOffInvoiceOperator(task_id="write_off", failure_policy="record",
                        invoice_ids=["paid_by_customer", "written_off", "unpaid"])
""",
    )
    summary = xcom_of(dag_run, "write_off")
    assert summary["counts"] == {"already_done": 1, "done": 1, "not_eligible": 1}
    by_id = {record["invoice_id"]: record for record in summary["records"]}
    assert by_id["paid_by_customer"]["outcome"] == "not_eligible"
    assert by_id["paid_by_customer"]["reason"] == "paid by the customer"
    assert by_id["written_off"]["outcome"] == "already_done"
    assert emulator.invoice("unpaid")["write_off_amount"] == 10_000
    assert emulator.count_applied(action="write_off") == 2


def test_a_legacy_error_body_surfaces_its_message_and_param(
    chargebee_dags: DagFolder, emulator: ChargebeeEmulator
) -> None:
    emulator.dialect = Dialect(conflict_status=emulator.dialect.conflict_status, legacy_errors=True)
    emulator.seed(1, status="pending")
    dag_run = run(
        chargebee_dags,
        "legacy_error",
        """
CloseInvoiceOperator(task_id="close", invoice_id="inv_000001",
                     invoice_date="2026-01-01T00:00:00Z")
""",
    )
    assert state_of(dag_run, "close") == "failed"
    record = xcom_of(dag_run, "close", key="chargebee_result")
    assert record["api_error_code"] == "param_wrong_value"
    assert "(param invoice_date)" in record["message"]
    assert "is before the invoice's date" in record["message"]
    assert emulator.count_applied() == 0


def test_misleading_success_answers_are_checked_against_the_invoice(
    chargebee_dags: DagFolder, emulator: ChargebeeEmulator
) -> None:
    """Tried as a new user would: each answer below was recorded ``done``."""
    ids = emulator.seed(40, status="pending")
    kinds = ["answer_empty", "answer_invoice_text", "answer_other_invoice", "answer_unchanged"]
    emulator.faults.script(
        [kinds[i % 4] if i < 8 else None for i in range(40)], only_methods={"POST"}
    )
    dag_run = run(
        chargebee_dags,
        "misleading",
        f'CloseInvoiceOperator(task_id="close", failure_policy="record", max_workers=1, invoice_ids={ids!r})',
    )
    summary = xcom_of(dag_run, "close")
    not_acted = [r for r in summary["records"] if r["outcome"] == "failed"]
    assert summary["counts"] == {"done": 38, "failed": 2}
    assert {r["api_error_code"] for r in not_acted} == {"unexpected_answer"}
    assert all("read back has status pending" in r["message"] for r in not_acted)
    closed = {a.invoice_id for a in emulator.applied_actions}
    assert closed == set(ids) - {r["invoice_id"] for r in not_acted}


def test_a_bulk_run_cleared_within_30_minutes_counts_replays_apart(
    chargebee_dags: DagFolder, emulator: ChargebeeEmulator
) -> None:
    ids = emulator.seed(3, status="pending")
    body = f'CloseInvoiceOperator(task_id="close", idempotency_key="close-2026-10", invoice_ids={ids!r})'
    dag = chargebee_dags.load("cleared", dag_source("cleared", body))
    first, cleared = xcom_of(dag.test(), "close"), xcom_of(dag.test(), "close")
    assert first["counts"] == {"done": 3}
    assert cleared["counts"] == {"replayed": 3}
    assert emulator.count_applied() == 3


def test_a_replayed_pause_reports_a_resume_made_since(
    chargebee_dags: DagFolder, emulator: ChargebeeEmulator
) -> None:
    emulator.add_invoice("due_1", status="payment_due")
    pause = f"""
PauseDunningOperator(task_id="pause", invoice_id="due_1", idempotency_key="pause-due-1",
                     if_not_eligible="succeed", expected_payment_date="{PAY_BY}")
"""
    dag = chargebee_dags.load("pause_replay", dag_source("pause_replay", pause))
    assert xcom_of(dag.test(), "pause")["outcome"] == "done"
    run(
        chargebee_dags,
        "resume_since",
        'ResumeDunningOperator(task_id="resume", invoice_id="due_1")',
    )
    replay = xcom_of(dag.test(), "pause")
    assert replay["replayed"] is True
    assert replay["outcome"] == "not_eligible"
    assert replay["reason"].startswith("changed since an earlier attempt acted")
    assert replay["status_after"] == "payment_due"


def test_re_pausing_until_another_date_says_so(
    chargebee_dags: DagFolder, emulator: ChargebeeEmulator
) -> None:
    paused_until, asked = new_year(1), new_year(2)
    emulator.add_invoice(
        "due_1", status="payment_due", expected_payment_date=int(paused_until.timestamp())
    )
    dag_run = run(
        chargebee_dags,
        "repause",
        f"""
PauseDunningOperator(task_id="pause", invoice_id="due_1",
                     expected_payment_date="{asked.format("YYYY-MM-DDTHH:mm:ss")}Z")
""",
    )
    assert state_of(dag_run, "pause") == "failed"
    record = xcom_of(dag_run, "pause", key="chargebee_result")
    assert record["outcome"] == "not_eligible"
    assert record["reason"] == (
        f"already done with expected_payment_date {int(paused_until.timestamp())}, "
        f"not {int(asked.timestamp())}"
    )
    assert emulator.invoice("due_1")["expected_payment_date"] == int(paused_until.timestamp())


def assert_every_touched_invoice_recorded(
    dag_run: Any, emulator: ChargebeeEmulator, interrupted_by: str
) -> set[str]:
    """The failed task's summary accounts for every invoice the emulator closed."""
    assert state_of(dag_run, "close") == "failed"
    summary = xcom_of(dag_run, "close", key="chargebee_result")
    assert summary["interrupted_by"] == interrupted_by
    in_flight = {
        r["invoice_id"] for r in summary["records"] if r["api_error_code"] == "interrupted"
    }
    time.sleep(1)  # requests that were in flight finish on the server
    closed = {a.invoice_id for a in emulator.applied_actions}
    assert len(closed - in_flight) == summary["counts"]["done"]
    assert summary["processed"] == summary["counts"]["done"] + len(in_flight)
    return closed


def test_an_execution_timeout_mid_bulk_leaves_every_touched_invoice_in_xcom(
    chargebee_dags: DagFolder, emulator: ChargebeeEmulator
) -> None:
    """Tried as a new user would: 179 of 300 closed and nothing in XCom."""
    ids = emulator.seed(300, status="pending")
    dag_run = run(
        chargebee_dags,
        "timeout_mid_bulk",
        f"""
CloseInvoiceOperator(task_id="close", invoice_ids={ids!r}, requests_per_minute=3000,
                     execution_timeout=__import__("datetime").timedelta(seconds=2))
""",
    )
    assert state_of(dag_run, "close") == "failed"
    summary = xcom_of(dag_run, "close", key="chargebee_result")
    assert summary["interrupted_by"] == "AirflowTaskTimeout"
    in_flight = {
        r["invoice_id"] for r in summary["records"] if r["api_error_code"] == "interrupted"
    }
    time.sleep(1)  # requests that were in flight finish on the server
    closed = {a.invoice_id for a in emulator.applied_actions}
    assert 0 < len(closed) < 300
    assert len(closed - in_flight) == summary["counts"]["done"]
    assert summary["processed"] == summary["counts"]["done"] + len(in_flight)


def test_sigterm_mid_bulk_leaves_every_touched_invoice_in_xcom(
    chargebee_dags: DagFolder, emulator: ChargebeeEmulator
) -> None:
    ids = emulator.seed(300, status="pending")

    def terminate_after_some_closes() -> None:
        deadline = time.monotonic() + 60
        while emulator.count_applied() < 40 and time.monotonic() < deadline:
            time.sleep(0.02)
        os.kill(os.getpid(), signal.SIGTERM)

    previous = signal.getsignal(signal.SIGTERM)
    killer = threading.Thread(target=terminate_after_some_closes)
    killer.start()
    try:
        dag_run = run(
            chargebee_dags,
            "sigterm_mid_bulk",
            f'CloseInvoiceOperator(task_id="close", invoice_ids={ids!r}, requests_per_minute=3000)',
        )
    finally:
        killer.join()
        signal.signal(signal.SIGTERM, previous)
    assert state_of(dag_run, "close") == "failed"
    summary = xcom_of(dag_run, "close", key="chargebee_result")
    assert summary["interrupted_by"] == "AirflowTaskTerminated"
    in_flight = {
        r["invoice_id"] for r in summary["records"] if r["api_error_code"] == "interrupted"
    }
    time.sleep(1)
    closed = {a.invoice_id for a in emulator.applied_actions}
    assert 40 <= len(closed) < 300
    assert len(closed - in_flight) == summary["counts"]["done"]
