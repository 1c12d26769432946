"""Selection periods, plans and guards inside real Airflow runs (``dag.test()``) against the emulator."""

from __future__ import annotations

import os
import subprocess

import pendulum
import pytest

from airflow_provider_cb.testing import ChargebeeEmulator
from airflow_provider_cb.testing.dags import DagFolder
from tests.dags.conftest import Output
from tests.helpers import airflow_cli, dag_source, run, state_of, xcom_of

BERLIN = "Europe/Berlin"
OCTOBER_BERLIN = pendulum.datetime(2026, 10, 1, tz=BERLIN)


@pytest.fixture
def emulator(chargebee_conn_env: ChargebeeEmulator) -> ChargebeeEmulator:
    return chargebee_conn_env


def seed_around_october_in_berlin(emulator: ChargebeeEmulator) -> list[str]:
    """October in Berlin, plus invoices minutes outside it on either side."""
    start, end = OCTOBER_BERLIN, OCTOBER_BERLIN.add(months=1)
    emulator.add_invoice("sep_last", status="pending", date=int(start.timestamp()) - 60)
    # The seconds either side of the month: the query asks one second wider.
    emulator.add_invoice("sep_edge", status="pending", date=int(start.timestamp()) - 1)
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
        """
pending = ListInvoicesOperator(task_id="select", status="pending")
CloseInvoiceOperator(task_id="close", invoice_ids=pending.output)
""",
        retries=2,
        logical_date=OCTOBER_BERLIN.add(months=1),
    )
    ti = dag_run.get_task_instance("select")
    assert str(ti.state) == "failed"
    assert ti.try_number == 1
    assert state_of(dag_run, "close") == "upstream_failed"
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
        f'ListInvoicesOperator(task_id="select", status="pending", period="previous_month", timezone="{BERLIN}")',
        schedule=f'CronTriggerTimetable("0 3 1 * *", timezone="{BERLIN}")',
        retries=2,
        logical_date=OCTOBER_BERLIN.add(months=1, hours=3),
    )
    assert sorted(xcom_of(dag_run, "select")) == sorted(october)
    plan = xcom_of(dag_run, "select", key="chargebee_plan")
    assert plan["range"] == f"2026-10-01..2026-10-31 {BERLIN}"
    assert plan["count"] == 3
    log = output.text()
    assert f"selected 3 pending invoices dated 2026-10-01..2026-10-31 {BERLIN}" in log
    assert "left out 2 invoices Chargebee returned dated outside the period" in log
    assert (
        "from 2026-10-01T00:00:00+02:00 (included) to 2026-11-01T00:00:00+01:00 (excluded)"
    ) in log
    assert "previous_month from logical date 2026-11-01T02:00:00+00:00" in log


def test_month_follows_the_logical_date_not_the_cron_hour(
    chargebee_dags: DagFolder, emulator: ChargebeeEmulator
) -> None:
    """A scheduled "0 3 1 * *" run for October has logical date 1 Oct 03:00: its month is October."""
    october = seed_around_october_in_berlin(emulator)
    dag_run = run(
        chargebee_dags,
        "period_month",
        f'ListInvoicesOperator(task_id="select", status="pending", period="month", timezone="{BERLIN}")',
        schedule=f'CronDataIntervalTimetable("0 3 1 * *", timezone="{BERLIN}")',
        retries=2,
        logical_date=OCTOBER_BERLIN.add(hours=3),
    )
    assert sorted(xcom_of(dag_run, "select")) == sorted(october)


def test_an_explicit_date_filter_wins_and_all_must_be_written_out(
    chargebee_dags: DagFolder, emulator: ChargebeeEmulator
) -> None:
    seed_around_october_in_berlin(emulator)
    dag_run = run(
        chargebee_dags,
        "period_explicit",
        f"""
ListInvoicesOperator(task_id="before_october", status="pending", period="previous_month",
                     date={{"before": {int(OCTOBER_BERLIN.timestamp())}}})
ListInvoicesOperator(task_id="everything", status="pending", period="all")
""",
        retries=2,
        logical_date=OCTOBER_BERLIN.add(months=1),
    )
    assert xcom_of(dag_run, "before_october") == ["sep_last", "sep_edge"]
    assert len(xcom_of(dag_run, "everything")) == 6


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
        'ListInvoicesOperator(task_id="select", status=["pending", "paid"], period="previous_month")',
        retries=2,
        logical_date=OCTOBER_BERLIN.add(months=1, days=2),
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
        f"""
pending = ListInvoicesOperator(task_id="select", status="pending", period="previous_month",
                               max_amount_due={limit!r})
CloseInvoiceOperator(task_id="close", invoice_ids=pending.output)
""",
        retries=2,
        logical_date=OCTOBER_BERLIN.add(months=1, days=2),
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
        """
chunks = ListInvoicesOperator(task_id="select", status="pending", period="previous_month",
                              chunk_size=100)
close = CloseInvoiceOperator.partial(task_id="close").expand(invoice_ids=chunks.output)
dunning = ListInvoicesOperator(task_id="after", status="payment_due", period="all")
close >> dunning
""",
        retries=2,
        logical_date=OCTOBER_BERLIN.add(months=1, days=2),
    )
    assert xcom_of(dag_run, "select") == [[]]
    assert state_of(dag_run, "close", map_index=0) == "success"
    assert xcom_of(dag_run, "close", map_index=0)["total"] == 0
    assert state_of(dag_run, "after") == "success"
    assert dag_run.state == "success"
    assert emulator.count_applied() == 0
    log = output.text()
    assert "nothing to do: no invoice matches" in log
    assert "close: nothing to do, no invoices were selected" in log


ASUNCION = "America/Asuncion"


def test_asuncion_closes_september_though_1_october_has_no_midnight(
    chargebee_dags: DagFolder, emulator: ChargebeeEmulator, output: Output
) -> None:
    """Issue 21: this run selected 30-31 August instead of September."""
    september = pendulum.datetime(2023, 9, 1, tz=ASUNCION)
    october_starts = pendulum.datetime(2023, 10, 1, 4, tz="UTC")  # 01:00 -03
    emulator.add_invoice("aug_31", status="pending", date=int(september.timestamp()) - 3600)
    emulator.add_invoice("sep_01", status="pending", date=int(september.timestamp()))
    emulator.add_invoice("sep_30", status="pending", date=int(october_starts.timestamp()) - 1)
    emulator.add_invoice("oct_01", status="pending", date=int(october_starts.timestamp()))
    dag_run = run(
        chargebee_dags,
        "period_asuncion",
        f'ListInvoicesOperator(task_id="select", status="pending", period="previous_month", '
        f'timezone="{ASUNCION}")',
        retries=2,
        logical_date=pendulum.datetime(2023, 10, 1, 7, tz="UTC"),
    )
    assert sorted(xcom_of(dag_run, "select")) == ["sep_01", "sep_30"]
    assert f"selected 2 pending invoices dated 2023-09-01..2023-09-30 {ASUNCION}" in output.text()


NEW_YORK_MONTH_END = """
ListInvoicesOperator(task_id="select", status="pending", period="previous_month",
                     timezone="America/New_York")
"""
NEW_YORK_OCTOBER = pendulum.datetime(2026, 10, 15, tz="America/New_York")
BARE_DATE = pendulum.datetime(2026, 11, 1, tz="UTC")


def seed_september_and_october_in_new_york(emulator: ChargebeeEmulator) -> None:
    emulator.add_invoice("oct_ny", status="pending", date=int(NEW_YORK_OCTOBER.timestamp()))
    september = NEW_YORK_OCTOBER.subtract(months=1)
    emulator.add_invoice("sep_ny", status="pending", date=int(september.timestamp()))


def test_a_bare_date_west_of_utc_fails_naming_both_months(
    chargebee_dags: DagFolder, emulator: ChargebeeEmulator, output: Output
) -> None:
    """`airflow dags test fin_month_end_ny 2026-11-01` closed September, and was green."""
    seed_september_and_october_in_new_york(emulator)
    failed = run(
        chargebee_dags,
        "fin_month_end_ny",
        NEW_YORK_MONTH_END,
        retries=2,
        logical_date=BARE_DATE,
    )
    ti = failed.get_task_instance("select")
    assert (str(ti.state), ti.try_number) == ("failed", 1)
    assert [r for r in emulator.requests if r.path.startswith("/api/v2/invoices")] == []
    log = output.text()
    assert "Read as that instant, previous_month is 2026-09" in log
    assert "read as the date 2026-11-01 in America/New_York, it is 2026-10" in log
    assert 'pass month="2026-10"' in log


def test_airflow_dags_test_on_a_bare_date_fails_as_a_new_user_would_see_it(
    chargebee_dags: DagFolder, emulator: ChargebeeEmulator
) -> None:
    """The issue's command, as typed: `airflow dags test fin_month_end_ny_cli 2026-11-01`."""
    seed_september_and_october_in_new_york(emulator)
    chargebee_dags.load(
        "fin_month_end_ny_cli", dag_source("fin_month_end_ny_cli", NEW_YORK_MONTH_END)
    )
    done = subprocess.run(
        [*airflow_cli(), "dags", "test", "fin_month_end_ny_cli", "2026-11-01"],
        env={**os.environ, "AIRFLOW_CONN_CHARGEBEE_DEFAULT": emulator.connection_json()},
        capture_output=True,
        text=True,
        timeout=600,
    )
    output = done.stdout + done.stderr
    assert "Read as that instant, previous_month is 2026-09" in output, output[-3000:]
    assert "state=failed" in output
    assert [r for r in emulator.requests if r.path.startswith("/api/v2/invoices")] == []


def test_a_month_param_chooses_the_month(
    chargebee_dags: DagFolder, emulator: ChargebeeEmulator, output: Output
) -> None:
    seed_september_and_october_in_new_york(emulator)
    chosen = run(
        chargebee_dags,
        "fin_month_end_ny_month",
        NEW_YORK_MONTH_END.replace(")\n", ', month="{{ params.month }}")\n'),
        retries=2,
        dag_arguments='params={"month": ""}, ',
        logical_date=BARE_DATE,
        run_conf={"month": "2026-10"},
    )
    assert xcom_of(chosen, "select") == ["oct_ny"]
    assert "month='2026-10' in America/New_York" in output.text()


def test_a_date_param_defaulting_to_empty_selects_nothing_and_fails(
    chargebee_dags: DagFolder, emulator: ChargebeeEmulator, output: Output
) -> None:
    """Issue 21: an empty date filter encoded to none; every pending invoice ever was selected."""
    emulator.seed(
        3, status="pending", date=int(pendulum.datetime(2019, 5, 1, tz="UTC").timestamp())
    )
    dag_run = run(
        chargebee_dags,
        "date_param_empty",
        'ListInvoicesOperator(task_id="select", status="pending", date="{{ params.date }}")',
        retries=2,
        dag_arguments='params={"date": {}}, render_template_as_native_obj=True, ',
        logical_date=OCTOBER_BERLIN,
    )
    ti = dag_run.get_task_instance("select")
    assert (str(ti.state), ti.try_number) == ("failed", 1)
    assert [r for r in emulator.requests if r.path.startswith("/api/v2/invoices")] == []
    assert "select: date: is empty ({})" in output.text()


GUARDS = """
ListInvoicesOperator(task_id="period_all", status="pending", period="{{ params.period_all }}")
ListInvoicesOperator(task_id="date_empty", status="pending", date="{{ params.date_empty }}")
ListInvoicesOperator(task_id="date_partial", status="pending",
                     date={"after": "{{ params.start }}", "before": "{{ params.end }}"})
ListInvoicesOperator(task_id="status_empty", status="{{ params.status }}", period="all")
ListInvoicesOperator(task_id="customer_none", status="pending", period="all",
                     customer_id="{{ params.customer }}")
ListInvoicesOperator(task_id="guard_none", status="pending", period="all",
                     max_amount_due="{{ params.no_limits }}")
ListInvoicesOperator(task_id="guard_tight", status="pending", period="{{ params.period }}",
                     timezone="{{ params.tz }}", max_amount_due="{{ params.tight }}")
ListInvoicesOperator(task_id="templated_ok", status="pending", period="{{ params.period }}",
                     timezone="{{ params.tz }}", max_amount_due="{{ params.limits }}")
"""
GUARD_PARAMS = (
    'params={"period_all": "all", "date_empty": {}, "start": "2026-10-01T00:00:00Z", '
    '"end": None, "status": "", "customer": None, "no_limits": None, "tz": "Europe/Berlin", '
    '"period": "previous_month", "tight": {"USD": 1}, "limits": {"USD": 10**9}}'
)
REFUSED = {
    "period_all": "period: a template rendered 'all'",
    "date_empty": "date: is empty ({})",
    "date_partial": "date[before]: is empty ('None')",
    "status_empty": "status: is empty ('')",
    "customer_none": "customer_id: is empty ('None')",
    "guard_none": "max_amount_due: rendered empty ('None')",
}


@pytest.mark.parametrize("native", [False, True], ids=["text", "native"])
def test_templated_filters_and_guards_are_checked_once_rendered_and_never_widen(
    chargebee_dags: DagFolder, emulator: ChargebeeEmulator, output: Output, native: bool
) -> None:
    october = seed_around_october_in_berlin(emulator)
    dag_run = run(
        chargebee_dags,
        f"templated_guards_{native}",
        GUARDS,
        retries=2,
        dag_arguments=f"{GUARD_PARAMS}, render_template_as_native_obj={native}, ",
        logical_date=OCTOBER_BERLIN.add(months=1, hours=3),
    )
    log = output.text()
    for task_id, problem in REFUSED.items():
        ti = dag_run.get_task_instance(task_id)
        assert (str(ti.state), ti.try_number) == ("failed", 1), task_id
        if not native:
            assert f"{task_id}: {problem}" in log
    assert state_of(dag_run, "guard_tight") == "failed"
    assert sorted(xcom_of(dag_run, "templated_ok")) == sorted(october)
    # Only the two tasks whose settings held listed anything.
    listed = [r.query for r in emulator.requests if r.path == "/api/v2/invoices"]
    assert len(listed) == 2 and len(set(listed)) == 1
