"""Every operator inside real Airflow DAG runs (``dag.test()`` on SQLite) against the emulator."""

from __future__ import annotations

from typing import Any

import pytest

from airflow_provider_cb.testing import ChargebeeEmulator
from airflow_provider_cb.testing.dags import DagFolder
from tests.helpers import dag_source, new_year, run, state_of, xcom_of

PAY_BY = new_year(1)
"""An expected payment date: 1 January next year, so the date never falls in the past."""


def posts(emulator: ChargebeeEmulator) -> list[Any]:
    return [r for r in emulator.requests if r.method == "POST"]


@pytest.fixture
def emulator(chargebee_conn_env: ChargebeeEmulator) -> ChargebeeEmulator:
    return chargebee_conn_env


def test_each_operator_acts_and_returns_its_record(
    chargebee_dags: DagFolder, emulator: ChargebeeEmulator
) -> None:
    emulator.seed(2, status="pending")
    emulator.seed(3, status="payment_due", prefix="due_")
    emulator.add_invoice("paused_1", status="payment_due", expected_payment_date=2_000_000_000)
    dag_run = run(
        chargebee_dags,
        "each_operator",
        """
CloseInvoiceOperator(task_id="close", invoice_id="inv_000001", invoice_note="Thanks",
                     comment="closed by {{ dag.dag_id }} run {{ run_id }}")
CollectInvoiceOperator(task_id="collect", invoice_id="inv_000002")
WriteOffInvoiceOperator(task_id="write_off", invoice_id="due_000001", comment="bad debt")
StopDunningOperator(task_id="stop", invoice_id="due_000002")
PauseDunningOperator(task_id="pause", invoice_id="due_000003",
                     expected_payment_date="{{ macros.datetime(YEAR, 1, 1).isoformat() }}Z")
ResumeDunningOperator(task_id="resume", invoice_id="paused_1")
""".replace("YEAR", str(PAY_BY.year)),
    )
    assert dag_run.state == "success"
    expected = {
        "close": ("inv_000001", "payment_due"),
        "collect": ("inv_000002", "payment_due"),
        "write_off": ("due_000001", "paid"),
        "stop": ("due_000002", "not_paid"),
        "pause": ("due_000003", "payment_due"),
        "resume": ("paused_1", "payment_due"),
    }
    for task_id, (invoice_id, status) in expected.items():
        record = xcom_of(dag_run, task_id)
        assert record["invoice_id"] == invoice_id
        assert record["outcome"] == "done"
        assert record["status_after"] == status
        assert emulator.invoice(invoice_id)["status"] == status
    assert emulator.invoice("due_000003")["expected_payment_date"] == int(PAY_BY.timestamp())
    assert emulator.invoice("paused_1").get("expected_payment_date") is None
    close = next(a for a in emulator.applied_actions if a.action == "close")
    assert close.params["comment"].startswith("closed by each_operator run manual__")
    collect = next(r for r in posts(emulator) if r.path.endswith("/collect"))
    assert collect.path.startswith("/api/v1/")
    assert emulator.count_applied() == 6


def test_ids_come_from_xcom_by_template_xcomarg_and_expand(
    chargebee_dags: DagFolder, emulator: ChargebeeEmulator
) -> None:
    ids = emulator.seed(5, status="pending")
    dag_run = run(
        chargebee_dags,
        "ids_from_xcom",
        """
@task
def pick_one():
    return "inv_000001"

@task
def pick_many():
    return ["inv_000002", "inv_000003"]

@task
def pick_list():
    return ["inv_000004", "inv_000005"]

one = pick_one()
templated = CloseInvoiceOperator(task_id="templated",
                                 invoice_id="{{ ti.xcom_pull(task_ids='pick_one') }}")
one >> templated
CloseInvoiceOperator(task_id="bulk", invoice_ids=pick_many())
CloseInvoiceOperator.partial(task_id="mapped").expand(invoice_id=pick_list())
""",
    )
    assert dag_run.state == "success"
    assert xcom_of(dag_run, "templated")["invoice_id"] == "inv_000001"
    assert xcom_of(dag_run, "bulk")["counts"] == {"done": 2}
    assert {xcom_of(dag_run, "mapped", map_index=i)["invoice_id"] for i in (0, 1)} == {
        "inv_000004",
        "inv_000005",
    }
    assert sorted(a.invoice_id for a in emulator.applied_actions) == ids


def test_a_second_run_reports_already_done_and_acts_on_nothing(
    chargebee_dags: DagFolder, emulator: ChargebeeEmulator
) -> None:
    emulator.seed(3, status="pending")
    body = 'CloseInvoiceOperator(task_id="close", invoice_ids="{{ params.ids }}")'
    source = dag_source(
        "rerun", body, dag_arguments='params={"ids": ["inv_000001", "inv_000002", "inv_000003"]}, '
    )
    dag = chargebee_dags.load("rerun", source)
    first = dag.test()
    second = dag.test()
    assert xcom_of(first, "close")["counts"] == {"done": 3}
    assert xcom_of(second, "close")["counts"] == {"already_done": 3}
    assert emulator.count_applied(action="close") == 3
    assert emulator.duplicates() == {}


def test_same_attempt_within_30_minutes_is_replayed_and_later_resolved_by_state(
    chargebee_dags: DagFolder, emulator: ChargebeeEmulator
) -> None:
    """A fixed identity stands for one attempt retried: replayed within 30 minutes, read after."""
    emulator.seed(1, status="pending")
    body = 'CloseInvoiceOperator(task_id="close", invoice_id="inv_000001", idempotency_key="month-2026-10")'
    dag = chargebee_dags.load("replay", dag_source("replay", body))
    first = xcom_of(dag.test(), "close")
    replay = xcom_of(dag.test(), "close")
    emulator.advance(31 * 60)
    later = xcom_of(dag.test(), "close")
    assert (first["outcome"], first["replayed"]) == ("done", False)
    assert (replay["outcome"], replay["replayed"]) == ("done", True)
    assert replay["idempotency_key"] == first["idempotency_key"]
    assert later["outcome"] == "already_done"
    assert emulator.count_applied() == 1


def test_lost_response_is_retried_with_the_same_key_and_replayed(
    chargebee_dags: DagFolder, emulator: ChargebeeEmulator
) -> None:
    emulator.seed(1, status="pending")
    emulator.faults.script(["lose_response"], only_methods={"POST"})
    dag_run = run(
        chargebee_dags,
        "lost_response",
        'CloseInvoiceOperator(task_id="close", invoice_id="inv_000001")',
    )
    record = xcom_of(dag_run, "close")
    assert record["outcome"] == "done"
    assert record["replayed"] is True
    assert record["attempts"] == 2
    keys = {r.idempotency_key for r in posts(emulator)}
    assert keys == {record["idempotency_key"]}
    assert emulator.count_applied() == 1


def test_a_clear_a_day_later_acts_on_nothing_new(
    chargebee_dags: DagFolder, emulator: ChargebeeEmulator
) -> None:
    emulator.seed(2, status="pending")
    body = 'CloseInvoiceOperator(task_id="close", invoice_ids=["inv_000001", "inv_000002"])'
    dag = chargebee_dags.load("clear_later", dag_source("clear_later", body))
    dag.test()
    emulator.advance(24 * 3600)
    later = xcom_of(dag.test(), "close")
    assert later["counts"] == {"already_done": 2}
    assert emulator.count_applied() == 2


def test_dry_run_reads_and_sends_no_post(
    chargebee_dags: DagFolder, emulator: ChargebeeEmulator
) -> None:
    emulator.seed(2, status="pending")
    emulator.add_invoice("voided_1", status="voided")
    emulator.add_invoice("closed_1", status="payment_due")
    dag_run = run(
        chargebee_dags,
        "dry_run",
        """
CloseInvoiceOperator(task_id="preview", dry_run=True, if_not_eligible="succeed",
                     invoice_ids=["inv_000001", "inv_000002", "voided_1", "closed_1"])
CloseInvoiceOperator(task_id="preview_one", dry_run=True, invoice_id="inv_000001")
""",
    )
    summary = xcom_of(dag_run, "preview")
    assert summary["counts"] == {"would_act": 2, "not_eligible": 1, "already_done": 1}
    assert summary["dry_run"] is True
    assert xcom_of(dag_run, "preview_one")["outcome"] == "would_act"
    assert posts(emulator) == []
    assert emulator.invoice("inv_000001")["status"] == "pending"


@pytest.mark.parametrize(
    ("choice", "task_state", "run_state"),
    [
        ("fail", "failed", "failed"),
        ("skip", "skipped", "success"),
        ("succeed", "success", "success"),
    ],
)
def test_if_not_eligible(
    chargebee_dags: DagFolder,
    emulator: ChargebeeEmulator,
    choice: str,
    task_state: str,
    run_state: str,
) -> None:
    emulator.add_invoice("voided_1", status="voided")
    dag_id = f"not_eligible_{choice}"
    dag_run = run(
        chargebee_dags,
        dag_id,
        f'WriteOffInvoiceOperator(task_id="write_off", invoice_id="voided_1", if_not_eligible="{choice}")',
    )
    assert state_of(dag_run, "write_off") == task_state
    assert dag_run.state == run_state
    key = "return_value" if choice == "succeed" else "chargebee_result"
    record = xcom_of(dag_run, "write_off", key=key)
    assert record["outcome"] == "not_eligible"
    assert "voided" in record["message"]
    assert emulator.count_applied() == 0


@pytest.mark.parametrize(
    ("choice", "task_state"), [("fail", "failed"), ("skip", "skipped"), ("succeed", "success")]
)
def test_if_already_done(
    chargebee_dags: DagFolder, emulator: ChargebeeEmulator, choice: str, task_state: str
) -> None:
    emulator.add_invoice("stopped_1", status="not_paid", dunning_status="stopped")
    dag_run = run(
        chargebee_dags,
        f"already_done_{choice}",
        f'StopDunningOperator(task_id="stop", invoice_id="stopped_1", if_already_done="{choice}")',
    )
    assert state_of(dag_run, "stop") == task_state
    key = "return_value" if choice == "succeed" else "chargebee_result"
    assert xcom_of(dag_run, "stop", key=key)["outcome"] == "already_done"


def test_unknown_invoice_fails_without_spending_retries(
    chargebee_dags: DagFolder, emulator: ChargebeeEmulator
) -> None:
    source = dag_source(
        "not_found", 'CloseInvoiceOperator(task_id="close", invoice_id="missing_1", retries=3)'
    )
    dag_run = chargebee_dags.load("not_found", source).test()
    ti = dag_run.get_task_instance("close")
    assert str(ti.state) == "failed"
    assert ti.try_number == 1
    assert (
        xcom_of(dag_run, "close", key="chargebee_result")["api_error_code"] == "resource_not_found"
    )


def test_skip_events_and_origin_headers_reach_chargebee(
    chargebee_dags: DagFolder, emulator: ChargebeeEmulator
) -> None:
    emulator.seed(1, status="pending")
    run(
        chargebee_dags,
        "quiet_backfill",
        'CloseInvoiceOperator(task_id="close", invoice_id="inv_000001", skip_events=["email", "webhook"])',
    )
    (post,) = posts(emulator)
    assert post.headers["chargebee-event-email"] == "all-disabled"
    assert post.headers["chargebee-event-webhook"] == "all-disabled"
    assert "chargebee-event-actions" not in post.headers


def test_bad_input_fails_without_spending_retries_and_sends_nothing(
    chargebee_dags: DagFolder, emulator: ChargebeeEmulator
) -> None:
    emulator.seed(1, status="pending")
    source = dag_source(
        "bad_comment",
        'CloseInvoiceOperator(task_id="close", invoice_id="inv_000001", comment="x" * 301, retries=3)',
    )
    dag_run = chargebee_dags.load("bad_comment", source).test()
    ti = dag_run.get_task_instance("close")
    assert str(ti.state) == "failed"
    assert ti.try_number == 1
    assert list(emulator.requests) == []


def test_a_dry_run_records_an_unknown_invoice_like_the_real_action(
    chargebee_dags: DagFolder, emulator: ChargebeeEmulator
) -> None:
    """Tried as a new user would: the 404 raised out of the task, spending a retry."""
    emulator.seed(2, status="pending")
    dag_run = run(
        chargebee_dags,
        "dry_unknown",
        """
CloseInvoiceOperator(task_id="preview", dry_run=True, retries=3,
                     invoice_ids=["inv_000001", "inv_missing", "inv_000002"])
CloseInvoiceOperator(task_id="preview_recorded", dry_run=True, failure_policy="record",
                     invoice_ids=["inv_000001", "inv_missing"])
""",
    )
    ti = dag_run.get_task_instance("preview")
    assert (str(ti.state), ti.try_number) == ("failed", 1)
    summary = xcom_of(dag_run, "preview", key="chargebee_result")
    assert summary["counts"] == {"failed": 1, "would_act": 2}
    (missing,) = [r for r in summary["records"] if r["outcome"] == "failed"]
    assert (missing["invoice_id"], missing["api_error_code"]) == (
        "inv_missing",
        "resource_not_found",
    )
    assert state_of(dag_run, "preview_recorded") == "success"
    assert xcom_of(dag_run, "preview_recorded")["counts"] == {"failed": 1, "would_act": 1}
    assert posts(emulator) == []
