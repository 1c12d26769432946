"""The dry-run switch, the canary and the start line inside real ``dag.test()`` runs."""

from __future__ import annotations

from functools import partial

import pendulum
import pytest

from airflow_provider_cb.testing import ChargebeeEmulator
from airflow_provider_cb.testing.dags import DagFolder
from tests.dags.conftest import Output
from tests.helpers import run, xcom_of

RUN_DATE = pendulum.datetime(2026, 11, 2, tz="UTC")
run_on_run_date = partial(run, retries=2, logical_date=RUN_DATE)
"""The shared run(), with two retries, for RUN_DATE."""


def with_params(params: str, *, native: bool = False) -> str:
    """DAG arguments: the DAG's ``params`` (source text) and how templates render."""
    return f"params={params}, render_template_as_native_obj={native}, "


@pytest.fixture
def emulator(chargebee_conn_env: ChargebeeEmulator) -> ChargebeeEmulator:
    return chargebee_conn_env


@pytest.mark.parametrize(
    ("switch", "native", "applied"),
    [(False, False, 3), (True, False, 0), (False, True, 3), (True, True, 0)],
    ids=["false-text", "true-text", "false-native", "true-native"],
)
def test_a_templated_dry_run_switch_switches(
    chargebee_dags: DagFolder, emulator: ChargebeeEmulator, switch: bool, native: bool, applied: int
) -> None:
    ids = emulator.seed(3, status="pending")
    dag_run = run_on_run_date(
        chargebee_dags,
        "preview_switch",
        f"""
CloseInvoiceOperator(task_id="bulk", invoice_ids={ids!r}, dry_run="{{{{ params.dry }}}}")
CloseInvoiceOperator.partial(task_id="mapped", dry_run="{{{{ params.dry }}}}").expand(
    invoice_ids=[{ids!r}])
""",
        dag_arguments=with_params(f'{{"dry": {switch}}}', native=native),
    )
    assert dag_run.state == "success"
    assert xcom_of(dag_run, "bulk")["dry_run"] is switch
    assert xcom_of(dag_run, "mapped", map_index=0)["dry_run"] is switch
    assert emulator.count_applied() == applied
    posts = [r for r in emulator.requests if r.method == "POST"]
    assert (posts == []) is switch


@pytest.mark.parametrize("value", ["yes", "1", "", "None"])
def test_anything_but_a_boolean_fails_naming_dry_run_without_a_retry(
    chargebee_dags: DagFolder, emulator: ChargebeeEmulator, output: Output, value: str
) -> None:
    ids = emulator.seed(2, status="pending")
    dag_run = run_on_run_date(
        chargebee_dags,
        "preview_bad_switch",
        f'CloseInvoiceOperator(task_id="bulk", invoice_ids={ids!r}, dry_run="{{{{ params.dry }}}}")',
        dag_arguments=with_params(f"{{'dry': {value!r}}}", native=False),
    )
    ti = dag_run.get_task_instance("bulk")
    assert str(ti.state) == "failed"
    assert ti.try_number == 1
    assert "dry_run: " in output.text()
    assert list(emulator.requests) == [], "refused before any request"


def test_a_dry_run_says_so_and_lists_what_it_would_act_on(
    chargebee_dags: DagFolder, emulator: ChargebeeEmulator, output: Output
) -> None:
    emulator.seed(2, status="pending", amount_due=4_200, currency_code="EUR")
    dag_run = run_on_run_date(
        chargebee_dags,
        "preview_log",
        """
CloseInvoiceOperator(task_id="bulk", invoice_ids=["inv_000001", "inv_000002"], dry_run=True,
                     requests_per_minute=600, max_workers=2)
""",
    )
    assert dag_run.state == "success"
    text = output.text()
    assert (
        "DRY RUN: closing 2 invoices at <= 600/min with 2 workers, dry run: yes; "
        "the pace is this process's own (no rate_limit_store): parallel tasks or chunks "
        "on the site each pace alone, so together they multiply it"
    ) in text
    assert 'DRY RUN close: {"would_act": 2}' in text
    for invoice_id in ("inv_000001", "inv_000002"):
        assert f"DRY RUN: would close {invoice_id}" in text
    assert all(r.method != "POST" for r in emulator.requests)


def test_a_dry_run_shows_each_amount_in_its_currencys_major_unit(
    chargebee_dags: DagFolder, emulator: ChargebeeEmulator, output: Output
) -> None:
    emulator.add_invoice("nov_eur_007", status="pending", currency_code="EUR", amount_due=25_007)
    emulator.add_invoice("nov_jpy_001", status="pending", currency_code="JPY", amount_due=10_000)
    emulator.add_invoice("nov_bhd_001", status="pending", currency_code="BHD", amount_due=1_234)
    dag_run = run(
        chargebee_dags,
        "preview_money",
        """
CloseInvoiceOperator(task_id="bulk", invoice_ids=["nov_eur_007", "nov_jpy_001", "nov_bhd_001"],
                     dry_run=True)
""",
    )
    assert dag_run.state == "success"
    text = output.text()
    assert "DRY RUN: would close nov_eur_007 (EUR 250.07 due)" in text
    assert "DRY RUN: would close nov_jpy_001 (JPY 10,000 due)" in text
    assert "DRY RUN: would close nov_bhd_001 (BHD 1.234 due)" in text


def test_a_real_run_states_what_it_is_about_to_do(
    chargebee_dags: DagFolder, emulator: ChargebeeEmulator, output: Output
) -> None:
    ids = emulator.seed(3, status="payment_due", dunning_status="in_progress")
    run_on_run_date(
        chargebee_dags,
        "start_line",
        f"StopDunningOperator(task_id='stop', invoice_ids={ids!r}, requests_per_minute=1000)",
    )
    assert (
        "stopping dunning on 3 invoices at <= 1000/min with 8 workers, dry run: no" in output.text()
    )


CANARY = """
CloseInvoiceOperator(task_id="close", invoice_ids={ids!r}, canary_size=3, max_workers=4)
"""


def test_a_failing_canary_leaves_the_rest_untouched(
    chargebee_dags: DagFolder, emulator: ChargebeeEmulator
) -> None:
    ids = emulator.seed(10, status="pending")
    ids.insert(1, "missing_1")
    dag_run = run_on_run_date(
        chargebee_dags,
        "canary_fails",
        CANARY.format(ids=ids),
    )
    assert str(dag_run.get_task_instance("close").state) == "failed"
    summary = xcom_of(dag_run, "close", key="chargebee_result")
    assert summary["stopped_early"] is True
    assert summary["total"] == 11
    # Every invoice is accounted for: the eight the canary kept back were never sent.
    assert summary["counts"] == {"done": 2, "failed": 1, "not_sent": 8}
    assert summary["processed"] == 3
    assert sorted(a.invoice_id for a in emulator.applied_actions) == ids[0:1] + ids[2:3]


def test_a_passing_canary_goes_on_with_the_rest(
    chargebee_dags: DagFolder, emulator: ChargebeeEmulator
) -> None:
    ids = emulator.seed(10, status="pending")
    dag_run = run_on_run_date(
        chargebee_dags,
        "canary_passes",
        CANARY.format(ids=ids),
    )
    summary = xcom_of(dag_run, "close")
    assert summary["counts"] == {"done": 10}
    assert summary["total"] == 10 and summary["stopped_early"] is False
    assert emulator.count_applied() == 10
    assert emulator.duplicates() == {}
