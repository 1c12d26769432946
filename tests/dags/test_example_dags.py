"""The dunning-control and write-off example DAGs, run for real against the emulator."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pendulum
import pytest

from airflow_provider_cb.invoicing.audit_report import markdown_text
from airflow_provider_cb.testing import ChargebeeEmulator
from airflow_provider_cb.testing.dags import DagFolder
from tests.helpers import REPO, xcom_of

EXAMPLES = REPO / "example_dags"


def load_example(chargebee_dags: DagFolder, name: str) -> object:
    return chargebee_dags.load(name, (EXAMPLES / f"{name}.py").read_text())


def test_every_example_dag_parses_without_import_errors(chargebee_airflow_home: object) -> None:
    from airflow.dag_processing.dagbag import DagBag

    bag = DagBag(dag_folder=str(EXAMPLES))
    assert bag.import_errors == {}
    assert set(bag.dag_ids) == {
        "chargebee_month_end",
        "chargebee_dunning_control",
        "chargebee_write_off_old_debt",
    }
    # Two write-off runs at once would each ask for approval of the same invoices.
    assert bag.dags["chargebee_write_off_old_debt"].max_active_runs == 1


def test_dunning_control_from_run_config(
    chargebee_dags: DagFolder, chargebee_conn_env: ChargebeeEmulator
) -> None:
    emulator = chargebee_conn_env
    emulator.add_invoice("disputed", status="payment_due", dunning_status="in_progress")
    emulator.add_invoice("promised", status="payment_due", dunning_status="in_progress")
    emulator.add_invoice("settled", status="payment_due", expected_payment_date=2_000_000_000)
    dag = load_example(chargebee_dags, "chargebee_dunning_control")
    conf = {"stop": ["disputed"], "pause": ["promised"], "resume": ["settled"], "pause_days": 7}
    dag_run = dag.test(run_conf=conf)  # type: ignore[attr-defined]
    assert dag_run.state == "success"
    assert emulator.invoice("disputed")["status"] == "not_paid"
    paused_until = emulator.invoice("promised")["expected_payment_date"]
    assert paused_until > pendulum.now("UTC").add(days=6).timestamp()
    assert emulator.invoice("settled").get("expected_payment_date") is None
    emails = {
        r.headers.get("chargebee-event-email") for r in emulator.requests if r.method == "POST"
    }
    assert emails == {"all-disabled"}
    comment = emulator.applied_actions.snapshot()[0].params["comment"]
    assert comment.startswith("Collections review (chargebee_dunning_control run ")


def test_dunning_control_with_nothing_to_do(
    chargebee_dags: DagFolder, chargebee_conn_env: ChargebeeEmulator
) -> None:
    dag_run = load_example(chargebee_dags, "chargebee_dunning_control").test()  # type: ignore[attr-defined]
    assert dag_run.state == "success"
    assert xcom_of(dag_run, "stop_dunning")["total"] == 0
    assert [r for r in chargebee_conn_env.requests if r.method == "POST"] == []


def seed_old_debt(emulator: ChargebeeEmulator, run_date: pendulum.DateTime) -> None:
    old = int(run_date.subtract(years=2).timestamp())
    emulator.seed(4, status="not_paid", date=old, amount_due=25_000)
    emulator.seed(2, status="payment_due", prefix="due_", date=old, amount_due=90_000)
    emulator.seed(
        3, status="not_paid", prefix="recent_", date=int(run_date.subtract(days=30).timestamp())
    )


@pytest.mark.parametrize("run_twice", [False, True])
def test_write_off_old_debt_runs_once_approved_and_names_the_approver(
    chargebee_dags: DagFolder,
    chargebee_conn_env: ChargebeeEmulator,
    run_twice: bool,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    emulator = chargebee_conn_env
    monkeypatch.setenv("AIRFLOW__CHARGEBEE__LEDGER_PATH", str(tmp_path / "ledger"))
    run_date = pendulum.datetime(2026, 11, 2, 6, tz="UTC")
    seed_old_debt(emulator, run_date)
    dag = load_example(chargebee_dags, "chargebee_write_off_old_debt")
    approvals = chargebee_dags.approvals
    approvals.approve("approve_write_off", by="alice")

    first = dag.test(logical_date=run_date, run_conf={"report_dir": str(tmp_path)})  # type: ignore[attr-defined]

    assert first.state == "success"
    assert xcom_of(first, "preview_write_off")["counts"] == {"would_act": 6}
    # The plan the approver saw: counts, the amount to write off, each invoice.
    asked = approvals.asked_of("approve_write_off")
    assert asked.subject == "Write off 6 invoices unpaid for over 365 days?"
    body = str(asked.body)
    # The body is Markdown: every line escaped, so no customer's name can forge it.
    assert markdown_text("DRY RUN: Chargebee write_off") in body
    assert markdown_text("6 of 6 invoices (dry run: nothing was sent): would_act 6") in body
    assert markdown_text("would_act: USD 2,800.00 (amount written off)") in body
    assert (
        markdown_text(
            "largest in USD by amount written off: due_000002 (cus_due_000002) USD 900.00; "
            "due_000001 (cus_due_000001) USD 900.00; inv_000004 (cus_inv_000004) USD 250.00; "
            "inv_000003 (cus_inv_000003) USD 250.00; inv_000002 (cus_inv_000002) USD 250.00"
        )
        in body
    )
    listed = [("due_000001", "900.00"), ("due_000002", "900.00")] + [
        (f"inv_00000{n}", "250.00") for n in (1, 2, 3, 4)
    ]
    assert body.endswith(
        "Invoices (amount written off):\n\n"
        + "\n".join(f"- {i}: USD {amount}" for i, amount in listed)
    )
    assert xcom_of(first, "write_off")["counts"] == {"done": 6}
    comments = {a.params["comment"] for a in emulator.applied_actions.snapshot()}
    assert comments == {f"Unpaid for over 365 days; write-off approved by alice ({first.run_id})"}
    (summary,) = tmp_path.glob("*/*/write_off.*.try-1.md")
    assert "approved by alice" in summary.read_text()
    # The month ledger names the approver too. A selection by age claims no month of
    # invoices: a run as of 2 November (its data interval's end, the date its selection
    # counts back from) files under November, not under "no-period".
    assert [p.name for p in (tmp_path / "ledger/acme").iterdir()] == ["2026-11"]
    (ledger,) = tmp_path.glob("ledger/acme/2026-11/*/*/write_off.-1.try-1.jsonl")
    lines = [json.loads(line) for line in ledger.read_text().splitlines()]
    assert {(line["approver"], line["outcome"], line["dry_run"]) for line in lines} == {
        ("alice", "done", False)
    }
    assert sum(line["write_off_amount"] for line in lines) == 280_000
    # The report task wrote November's month report, write-off and preview included.
    (report,) = tmp_path.glob("ledger/acme/2026-11/reports/month-2026-11.*.md")
    title, *_ = report.read_text(encoding="utf-8").splitlines()
    assert title == (
        "# Chargebee month report: 2026-11 (per date filter {'before': "
        "'2025-11-02T06:00:00+00:00'}, acted 2026-11-01..2026-11-30 UTC; zone UTC), site acme"
    )
    assert "| write_off | done | 6 | USD 2,800.00 |" in report.read_text(encoding="utf-8")
    if run_twice:
        second = dag.test(logical_date=run_date, run_conf={"report_dir": str(tmp_path)})  # type: ignore[attr-defined]
        assert xcom_of(second, "select_old_debt") == []
    assert emulator.count_applied(action="write_off") == 6
    assert all(emulator.invoice(f"recent_{i:06d}")["status"] == "not_paid" for i in (1, 2, 3))


def test_a_rejected_write_off_sends_nothing(
    chargebee_dags: DagFolder, chargebee_conn_env: ChargebeeEmulator
) -> None:
    emulator = chargebee_conn_env
    run_date = pendulum.datetime(2026, 11, 2, 6, tz="UTC")
    seed_old_debt(emulator, run_date)
    dag = load_example(chargebee_dags, "chargebee_write_off_old_debt")
    chargebee_dags.approvals.reject("approve_write_off", by="bob")

    dag_run = dag.test(logical_date=run_date)  # type: ignore[attr-defined]

    assert dag_run.state == "success"
    assert dag_run.get_task_instance("write_off").state == "skipped"
    assert [r for r in emulator.requests if r.method == "POST"] == []
    assert emulator.count_applied() == 0


def test_an_approval_nobody_answers_fails_its_task_instead_of_hanging(
    chargebee_dags: DagFolder, chargebee_conn_env: ChargebeeEmulator
) -> None:
    """The test a new user writes first: run the write-off DAG, with no answer arranged."""
    seed_old_debt(chargebee_conn_env, pendulum.datetime(2026, 11, 2, 6, tz="UTC"))
    dag = load_example(chargebee_dags, "chargebee_write_off_old_debt")
    chargebee_dags.approvals.timeout = 1

    dag_run = dag.test(logical_date=pendulum.datetime(2026, 11, 2, 6, tz="UTC"))  # type: ignore[attr-defined]

    assert dag_run.state == "failed"
    assert dag_run.get_task_instance("approve_write_off").state == "failed"
    assert chargebee_dags.approvals.asked_of("approve_write_off").answer is None
    assert chargebee_conn_env.count_applied() == 0


def test_an_approval_parked_again_after_its_answer_resumes_with_that_answer(
    chargebee_dags: DagFolder,
    chargebee_conn_env: ChargebeeEmulator,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """``dag.test()`` may write back the parked state of a task the desk just answered;
    Airflow refuses a second answer, so the desk must hand the task the answer it has."""
    from airflow.utils.state import TaskInstanceState

    from airflow_provider_cb.testing import approvals

    answer, parked_again = approvals._respond, []

    def answer_then_park_again(session: Any, ti: Any, given: Any) -> None:
        answer(session, ti, given)
        if not parked_again:  # once, committed with the answer: the run never sees it resumed
            ti.state = TaskInstanceState.AWAITING_INPUT
            parked_again.append(ti.id)

    monkeypatch.setattr(approvals, "_respond", answer_then_park_again)
    run_date = pendulum.datetime(2026, 11, 2, 6, tz="UTC")
    seed_old_debt(chargebee_conn_env, run_date)
    dag = load_example(chargebee_dags, "chargebee_write_off_old_debt")
    chargebee_dags.approvals.approve("approve_write_off", by="alice")

    dag_run = dag.test(logical_date=run_date)  # type: ignore[attr-defined]

    assert dag_run.state == "success"
    assert [asked.task_id for asked in chargebee_dags.approvals.asked] == ["approve_write_off"]
    assert chargebee_dags.approvals.errors == []
    assert chargebee_conn_env.count_applied(action="write_off") == 6
