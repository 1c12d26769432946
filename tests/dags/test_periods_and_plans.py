"""Selection periods, plans and guards inside real Airflow runs (``dag.test()``) against the emulator."""

from __future__ import annotations

from typing import Any

import pendulum
import pytest

from airflow_provider_cb.testing import ChargebeeEmulator
from airflow_provider_cb.testing.dags import DagFolder
from tests.dags.conftest import Output
from tests.helpers import xcom_of

BERLIN = "Europe/Berlin"
OCTOBER_BERLIN = pendulum.datetime(2026, 10, 1, tz=BERLIN)


def dag_source(dag_id: str, schedule: str, body: str) -> str:
    indented = "\n".join("    " + line for line in body.strip().splitlines())
    return f"""
import pendulum
from airflow.sdk import DAG, CronDataIntervalTimetable, CronTriggerTimetable, task
from airflow_provider_cb.operators import *

with DAG("{dag_id}", schedule={schedule}, start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
         default_args={{"retries": 2, "retry_delay": pendulum.duration(seconds=1)}}) as dag:
{indented}
"""


def run(chargebee_dags: DagFolder, dag_id: str, schedule: str, body: str, logical_date: Any) -> Any:
    dag = chargebee_dags.load(dag_id, dag_source(dag_id, schedule, body))
    return dag.test(logical_date=logical_date)


def state(dag_run: Any, task_id: str, map_index: int = -1) -> str:
    return str(dag_run.get_task_instance(task_id, map_index=map_index).state)


@pytest.fixture
def emulator(chargebee_conn_env: ChargebeeEmulator) -> ChargebeeEmulator:
    return chargebee_conn_env


def seed_around_october_in_berlin(emulator: ChargebeeEmulator) -> list[str]:
    """October in Berlin, plus invoices minutes outside it on either side."""
    start, end = OCTOBER_BERLIN, OCTOBER_BERLIN.add(months=1)
    emulator.add_invoice("sep_last", status="pending", date=int(start.timestamp()) - 60)
    emulator.add_invoice("nov_first", status="pending", date=int(end.timestamp()))
    october = ["oct_first", "oct_early", "oct_last"]
    emulator.add_invoice("oct_first", status="pending", date=int(start.timestamp()))
    # 02:30 on the 1st: a "0 3 1 * *" data interval would put this in September.
    emulator.add_invoice(
        "oct_early", status="pending", date=int(start.add(hours=2, minutes=30).timestamp())
    )
    emulator.add_invoice("oct_last", status="pending", date=int(end.timestamp()) - 1)
    return october


def test_a_zero_length_interval_fails_without_a_request_or_a_retry(
    chargebee_dags: DagFolder, emulator: ChargebeeEmulator, output: Output
) -> None:
    """A schedule=None run with a logical date has an empty interval: fail, never widen."""
    emulator.seed(3, status="pending")
    dag_run = run(
        chargebee_dags,
        "period_zero_length",
        "None",
        """
pending = ListInvoicesOperator(task_id="select", status="pending")
CloseInvoiceOperator(task_id="close", invoice_ids=pending.output)
""",
        OCTOBER_BERLIN.add(months=1),
    )
    ti = dag_run.get_task_instance("select")
    assert str(ti.state) == "failed"
    assert ti.try_number == 1
    assert state(dag_run, "close") == "upstream_failed"
    assert [r for r in emulator.requests if r.path.startswith("/api/v2/invoices")] == []
    assert emulator.count_applied() == 0
    log = output.text()
    assert "period: 'data_interval' but this run's data interval" in log
    assert "is empty" in log and 'pass period="previous_month"' in log


def test_previous_month_is_the_calendar_month_in_the_timezone_whatever_the_cron_time(
    chargebee_dags: DagFolder, emulator: ChargebeeEmulator, output: Output
) -> None:
    october = seed_around_october_in_berlin(emulator)
    dag_run = run(
        chargebee_dags,
        "period_previous_month",
        f'CronTriggerTimetable("0 3 1 * *", timezone="{BERLIN}")',
        f'ListInvoicesOperator(task_id="select", status="pending", period="previous_month", timezone="{BERLIN}")',
        OCTOBER_BERLIN.add(months=1, hours=3),
    )
    assert sorted(xcom_of(dag_run, "select")) == sorted(october)
    plan = xcom_of(dag_run, "select", key="chargebee_plan")
    assert plan["range"] == f"2026-10-01..2026-10-31 {BERLIN}"
    assert plan["count"] == 3
    assert f"selected 3 pending invoices dated 2026-10-01..2026-10-31 {BERLIN}" in output.text()


def test_month_follows_the_logical_date_not_the_cron_hour(
    chargebee_dags: DagFolder, emulator: ChargebeeEmulator
) -> None:
    """A scheduled "0 3 1 * *" run for October has logical date 1 Oct 03:00: its month is October."""
    october = seed_around_october_in_berlin(emulator)
    dag_run = run(
        chargebee_dags,
        "period_month",
        f'CronDataIntervalTimetable("0 3 1 * *", timezone="{BERLIN}")',
        f'ListInvoicesOperator(task_id="select", status="pending", period="month", timezone="{BERLIN}")',
        OCTOBER_BERLIN.add(hours=3),
    )
    assert sorted(xcom_of(dag_run, "select")) == sorted(october)


def test_an_explicit_date_filter_wins_and_all_must_be_written_out(
    chargebee_dags: DagFolder, emulator: ChargebeeEmulator
) -> None:
    seed_around_october_in_berlin(emulator)
    dag_run = run(
        chargebee_dags,
        "period_explicit",
        "None",
        f"""
ListInvoicesOperator(task_id="before_october", status="pending", period="previous_month",
                     date={{"before": {int(OCTOBER_BERLIN.timestamp())}}})
ListInvoicesOperator(task_id="everything", status="pending", period="all")
""",
        OCTOBER_BERLIN.add(months=1),
    )
    assert xcom_of(dag_run, "before_october") == ["sep_last"]
    assert len(xcom_of(dag_run, "everything")) == 5


def test_the_plan_sums_per_currency_and_names_the_largest(
    chargebee_dags: DagFolder, emulator: ChargebeeEmulator
) -> None:
    day = int(OCTOBER_BERLIN.add(days=9).timestamp())
    emulator.seed(3, status="pending", date=day, amount_due=1_000, currency_code="EUR")
    emulator.add_invoice(
        "big_usd", status="pending", date=day, amount_due=90_000, currency_code="USD"
    )
    emulator.add_invoice("paid_eur", status="paid", date=day, amount_due=5_000, currency_code="EUR")
    dag_run = run(
        chargebee_dags,
        "plan_sums",
        "None",
        'ListInvoicesOperator(task_id="select", status=["pending", "paid"], period="previous_month")',
        OCTOBER_BERLIN.add(months=1, days=2),
    )
    assert len(xcom_of(dag_run, "select")) == 5, "the return value stays the list of ids"
    plan = xcom_of(dag_run, "select", key="chargebee_plan")
    assert plan["count"] == 5
    assert plan["totals"] == {
        "EUR": {"amount_due": 3_000, "total": 8_000},
        "USD": {"amount_due": 90_000, "total": 90_000},
    }
    assert plan["largest"]["USD"] == [{"invoice_id": "big_usd", "amount_due": 90_000}]
    assert [entry["amount_due"] for entry in plan["largest"]["EUR"]] == [1_000, 1_000, 1_000, 0]


@pytest.mark.parametrize(
    ("limit", "expected"),
    [({"EUR": 2_999}, "failed"), ({"USD": 10**9}, "failed"), ({"EUR": 3_000}, "success")],
    ids=["over", "currency-without-limit", "at-limit"],
)
def test_max_amount_due_fails_the_selection_before_anything_acts(
    chargebee_dags: DagFolder, emulator: ChargebeeEmulator, limit: dict[str, int], expected: str
) -> None:
    emulator.seed(
        3,
        status="pending",
        date=int(OCTOBER_BERLIN.add(days=3).timestamp()),
        amount_due=1_000,
        currency_code="EUR",
    )
    dag_run = run(
        chargebee_dags,
        "plan_guard",
        "None",
        f"""
pending = ListInvoicesOperator(task_id="select", status="pending", period="previous_month",
                               max_amount_due={limit!r})
CloseInvoiceOperator(task_id="close", invoice_ids=pending.output)
""",
        OCTOBER_BERLIN.add(months=1, days=2),
    )
    ti = dag_run.get_task_instance("select")
    assert str(ti.state) == expected
    assert ti.try_number == 1
    assert emulator.count_applied() == (3 if expected == "success" else 0)


def test_an_empty_month_runs_the_chunked_close_and_everything_downstream(
    chargebee_dags: DagFolder, emulator: ChargebeeEmulator, output: Output
) -> None:
    emulator.seed(2, status="pending", date=int(OCTOBER_BERLIN.subtract(days=40).timestamp()))
    dag_run = run(
        chargebee_dags,
        "empty_month",
        "None",
        """
chunks = ListInvoicesOperator(task_id="select", status="pending", period="previous_month",
                              chunk_size=100)
close = CloseInvoiceOperator.partial(task_id="close").expand(invoice_ids=chunks.output)
dunning = ListInvoicesOperator(task_id="after", status="payment_due", period="all")
close >> dunning
""",
        OCTOBER_BERLIN.add(months=1, days=2),
    )
    assert xcom_of(dag_run, "select") == [[]]
    assert state(dag_run, "close", map_index=0) == "success"
    assert xcom_of(dag_run, "close", map_index=0)["total"] == 0
    assert state(dag_run, "after") == "success"
    assert dag_run.state == "success"
    assert emulator.count_applied() == 0
    log = output.text()
    assert "nothing to do: no invoice matches" in log
    assert "close: nothing to do, no invoices were selected" in log
