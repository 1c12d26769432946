"""The dunning-control and write-off example DAGs, run for real against the emulator."""

from __future__ import annotations

import pendulum
import pytest

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


@pytest.mark.parametrize("run_twice", [False, True])
def test_write_off_old_debt_previews_then_writes_off_once(
    chargebee_dags: DagFolder, chargebee_conn_env: ChargebeeEmulator, run_twice: bool
) -> None:
    emulator = chargebee_conn_env
    run_date = pendulum.datetime(2026, 11, 2, 6, tz="UTC")
    old = int(run_date.subtract(years=2).timestamp())
    emulator.seed(4, status="not_paid", date=old)
    emulator.seed(2, status="payment_due", prefix="due_", date=old)
    emulator.seed(
        3, status="not_paid", prefix="recent_", date=int(run_date.subtract(days=30).timestamp())
    )
    dag = load_example(chargebee_dags, "chargebee_write_off_old_debt")
    first = dag.test(logical_date=run_date)  # type: ignore[attr-defined]
    assert xcom_of(first, "preview_write_off")["counts"] == {"would_act": 6}
    assert xcom_of(first, "write_off")["counts"] == {"done": 6}
    if run_twice:
        second = dag.test(logical_date=run_date)  # type: ignore[attr-defined]
        assert xcom_of(second, "select_old_debt") == []
    assert emulator.count_applied(action="write_off") == 6
    assert all(emulator.invoice(f"recent_{i:06d}")["status"] == "not_paid" for i in (1, 2, 3))
