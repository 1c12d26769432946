"""Selection and bulk mode inside real Airflow runs (``dag.test()``) against the emulator."""

from __future__ import annotations

from functools import partial

import pendulum
import pytest

from airflow_provider_cb.testing import ChargebeeEmulator
from airflow_provider_cb.testing.dags import DagFolder
from tests.helpers import run, xcom_of

OCTOBER = pendulum.datetime(2026, 10, 1, tz="UTC")
NOVEMBER = OCTOBER.add(months=1)
MONTHLY = 'CronDataIntervalTimetable("0 0 1 * *", timezone="UTC")'
run_monthly = partial(run, schedule=MONTHLY, logical_date=NOVEMBER)
"""The shared run() for a monthly DAG, by default over the data interval of October."""


@pytest.fixture
def emulator(chargebee_conn_env: ChargebeeEmulator) -> ChargebeeEmulator:
    return chargebee_conn_env


def in_october(day: int) -> int:
    return int(OCTOBER.add(days=day - 1).timestamp())


def test_selection_defaults_to_the_run_data_interval(
    chargebee_dags: DagFolder, emulator: ChargebeeEmulator
) -> None:
    october = emulator.seed(150, status="pending", date=in_october(12))
    emulator.seed(5, status="pending", prefix="sep_", date=in_october(1) - 1)
    emulator.seed(5, status="pending", prefix="nov_", date=int(OCTOBER.add(months=1).timestamp()))
    emulator.seed(5, status="paid", prefix="paid_", date=in_october(12))
    dag_run = run_monthly(
        chargebee_dags,
        "select_month",
        'ListInvoicesOperator(task_id="select", status="pending")',
    )
    assert xcom_of(dag_run, "select") == october


def test_selection_filters_and_chunks(
    chargebee_dags: DagFolder, emulator: ChargebeeEmulator
) -> None:
    emulator.seed(7, status="payment_due", customer_id="cus_a", date=in_october(3))
    emulator.seed(3, status="not_paid", prefix="np_", customer_id="cus_a", date=in_october(3))
    emulator.seed(4, status="payment_due", prefix="other_", customer_id="cus_b", date=in_october(3))
    dag_run = run_monthly(
        chargebee_dags,
        "select_filters",
        """
ListInvoicesOperator(task_id="select", status=["payment_due", "not_paid"], customer_id="cus_a",
                     period="all", chunk_size=4)
""",
    )
    chunks = xcom_of(dag_run, "select")
    assert [len(chunk) for chunk in chunks] == [4, 4, 2]
    flat = [invoice_id for chunk in chunks for invoice_id in chunk]
    assert sorted(flat) == sorted(
        [f"inv_{i:06d}" for i in range(1, 8)] + [f"np_{i:06d}" for i in range(1, 4)]
    )


def test_max_results_fails_instead_of_truncating(
    chargebee_dags: DagFolder, emulator: ChargebeeEmulator
) -> None:
    emulator.seed(12, status="pending", date=in_october(5))
    dag_run = run_monthly(
        chargebee_dags,
        "select_guard",
        'ListInvoicesOperator(task_id="select", status="pending", max_results=10)',
    )
    assert str(dag_run.get_task_instance("select").state) == "failed"
    assert dag_run.state == "failed"


def test_chunks_expand_over_bulk_tasks(
    chargebee_dags: DagFolder, emulator: ChargebeeEmulator
) -> None:
    ids = emulator.seed(230, status="pending", date=in_october(20))
    dag_run = run_monthly(
        chargebee_dags,
        "chunked_close",
        """
chunks = ListInvoicesOperator(task_id="select", status="pending", chunk_size=100)
CloseInvoiceOperator.partial(task_id="close", max_workers=4).expand(invoice_ids=chunks.output)
""",
    )
    counts = [xcom_of(dag_run, "close", map_index=i)["counts"] for i in range(3)]
    assert counts == [{"done": 100}, {"done": 100}, {"done": 30}]
    assert sorted(a.invoice_id for a in emulator.applied_actions) == ids
    assert emulator.duplicates() == {}


BULK_MIX = """
CloseInvoiceOperator(task_id="close", invoice_ids=["inv_000001", "voided_1", "inv_000002",
                     "missing_1", "inv_000003"], failure_policy="{policy}", max_workers=1)
"""


def seed_mix(emulator: ChargebeeEmulator) -> None:
    emulator.seed(3, status="pending")
    emulator.add_invoice("voided_1", status="voided")


def test_fail_at_end_attempts_every_invoice_then_fails_listing_failures(
    chargebee_dags: DagFolder, emulator: ChargebeeEmulator
) -> None:
    seed_mix(emulator)
    dag_run = run_monthly(
        chargebee_dags,
        "policy_at_end",
        BULK_MIX.format(policy="fail_at_end"),
    )
    ti = dag_run.get_task_instance("close")
    assert str(ti.state) == "failed"
    summary = xcom_of(dag_run, "close", key="chargebee_result")
    assert summary["counts"] == {"done": 3, "failed": 1, "not_eligible": 1}
    by_id = {record["invoice_id"]: record for record in summary["records"]}
    assert by_id["missing_1"]["api_error_code"] == "resource_not_found"
    assert "voided" in by_id["voided_1"]["message"]
    assert emulator.count_applied() == 3


def test_fail_fast_stops_feeding_after_the_first_failure(
    chargebee_dags: DagFolder, emulator: ChargebeeEmulator
) -> None:
    seed_mix(emulator)
    dag_run = run_monthly(
        chargebee_dags,
        "policy_fast",
        BULK_MIX.format(policy="fail_fast"),
    )
    summary = xcom_of(dag_run, "close", key="chargebee_result")
    assert summary["stopped_early"] is True
    assert summary["processed"] < summary["total"]
    assert emulator.count_applied() < 3


def test_record_policy_succeeds_and_a_rerun_has_only_failures_left(
    chargebee_dags: DagFolder, emulator: ChargebeeEmulator
) -> None:
    seed_mix(emulator)
    first = run_monthly(
        chargebee_dags,
        "policy_record",
        BULK_MIX.format(policy="record"),
    )
    assert str(first.get_task_instance("close").state) == "success"
    emulator.add_invoice("missing_1", status="pending")
    again = run_monthly(
        chargebee_dags,
        "policy_record_again",
        BULK_MIX.format(policy="record"),
    )
    summary = xcom_of(again, "close")
    assert summary["counts"] == {"already_done": 3, "done": 1, "not_eligible": 1}
    assert emulator.count_applied() == 4
    assert emulator.duplicates() == {}


def test_bulk_requests_are_spaced_by_the_rate_budget(
    chargebee_dags: DagFolder, emulator: ChargebeeEmulator
) -> None:
    """At 600 a minute (10/s, a burst of 10) the emulator sees request n no sooner than (n-10)/10 s."""
    ids = emulator.seed(30, status="pending")
    dag_run = run_monthly(
        chargebee_dags,
        "budgeted",
        f"CloseInvoiceOperator(task_id='close', invoice_ids={ids!r}, requests_per_minute=600, max_workers=8)",
    )
    assert xcom_of(dag_run, "close")["counts"] == {"done": 30}
    arrivals = sorted(r.at for r in emulator.requests if r.method == "POST")
    early = [n for n, at in enumerate(arrivals) if at - arrivals[0] < (n - 10) / 10 - 0.05]
    assert early == [], f"requests {early} came sooner than the budget allows"
