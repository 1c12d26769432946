"""Approval before write-off on the live Airflow: answered through the REST API, as the UI does."""

from __future__ import annotations

from pathlib import Path

import pendulum
import pytest

from airflow_provider_cb.invoicing.audit_report import markdown_text
from tests.e2e.live import LiveAirflow, poll

pytestmark = pytest.mark.slow

DAG_ID = "chargebee_write_off_old_debt"
APPROVAL = "approve_write_off"


def hitl(run_id: str) -> str:
    return f"/api/v2/dags/{DAG_ID}/dagRuns/{run_id}/taskInstances/{APPROVAL}/-1/hitlDetails"


def await_approval(live: LiveAirflow, run_id: str) -> dict[str, object]:
    def asked() -> bool | None:
        state = live.task_state(DAG_ID, run_id, APPROVAL)
        assert state not in ("failed", "success", "skipped"), f"{APPROVAL} ended {state}"
        return state == "awaiting_input" or None

    try:
        poll(f"{APPROVAL} to ask", asked, 120)
    except TimeoutError as error:
        states = {ti["task_id"]: ti["state"] for ti in live.task_instances(DAG_ID, run_id)}
        raise AssertionError(f"{error}; task states {states}\n{live.tails()}") from None
    # Airflow 3.3.2 fails a task whose answer lands before the executor has reported the
    # parked workload (about 5 s after it parks): answer once the scheduler has that report.
    poll("the executor's report of the parked task", lambda: parked(live, run_id), 60, 0.2)
    return dict(live.get(hitl(run_id)))


def parked(live: LiveAirflow, run_id: str) -> bool | None:
    """Whether the scheduler has logged the executor's event for the parked approval task."""
    (scheduler,) = [process for process in live.processes if process.name == "scheduler"]
    key = f"task_id='{APPROVAL}', run_id='{run_id}'"
    lines = scheduler.log.read_text(errors="replace").splitlines()
    return any("Received executor event" in line and key in line for line in lines) or None


def answer(live: LiveAirflow, run_id: str, option: str) -> dict[str, object]:
    response = live.api.patch(hitl(run_id), json={"chosen_options": [option]})
    assert response.status_code == 200, response.text
    return dict(response.json())


def test_write_off_waits_for_approval_rejected_sends_nothing_approved_applies(
    live: LiveAirflow, tmp_path: Path
) -> None:
    old = pendulum.now("UTC").subtract(days=400).isoformat()
    seeded = live.control(
        "seed",
        {"count": 3, "prefix": "old_", "status": "not_paid", "date": old, "amount_due": 40_000},
    )["ids"]
    conf = {"report_dir": str(tmp_path)}
    # Unpaused, the DAG schedules its latest month at once, and that run waits for its
    # approval; one run at a time (max_active_runs=1: nobody is asked twice for the same
    # invoices), so the test's own runs would queue behind it: it is stopped first.
    scheduled = live.run_of_type(DAG_ID, "scheduled")
    stopped = live.api.patch(f"/api/v2/dags/{DAG_ID}/dagRuns/{scheduled}", json={"state": "failed"})
    assert stopped.status_code == 200, stopped.text

    live.trigger(DAG_ID, "write_off_rejected", conf=conf)
    asked = await_approval(live, "write_off_rejected")
    assert asked["subject"] == "Write off 3 invoices unpaid for over 365 days?"
    # The body is Markdown, every line escaped (no customer's name can forge it).
    assert markdown_text("would_act: USD 1,200.00 (amount written off)") in str(asked["body"])
    answer(live, "write_off_rejected", "Reject")

    assert live.wait_for_run(DAG_ID, "write_off_rejected") == "success"
    assert live.task_state(DAG_ID, "write_off_rejected", "write_off") == "skipped"
    statuses = [live.emulator("GET", f"/invoices/{i}")["invoice"]["status"] for i in seeded]
    assert statuses == ["not_paid"] * 3

    live.trigger(DAG_ID, "write_off_approved", conf=conf)
    await_approval(live, "write_off_approved")
    approver = answer(live, "write_off_approved", "Approve")["responded_by"]["name"]  # type: ignore[index]

    assert live.wait_for_run(DAG_ID, "write_off_approved") == "success"
    written_off = live.xcom(DAG_ID, "write_off_approved", "write_off")
    assert (written_off["counts"], written_off["totals"]) == (
        {"done": 3},
        {"done": {"USD": 120_000}},
    )
    statuses = [live.emulator("GET", f"/invoices/{i}")["invoice"]["status"] for i in seeded]
    assert statuses == ["paid"] * 3  # a written-off invoice shows as paid, by a write-off
    (summary,) = tmp_path.glob(f"{DAG_ID}/write_off_approved/write_off.*.try-1.md")  # per try
    assert (
        markdown_text(f"write-off approved by {approver} (write_off_approved)")
        in summary.read_text()
    )
    assert list(tmp_path.glob(f"{DAG_ID}/write_off_rejected/*")) == []  # skipped: no report
