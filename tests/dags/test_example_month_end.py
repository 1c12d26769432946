"""The example month-end DAG, run by the real `airflow dags test` against the emulator."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pendulum
import pytest

from airflow_provider_cb.testing import ChargebeeEmulator
from tests.helpers import REPO, airflow_cli

MONTH = pendulum.datetime(2026, 10, 1, tz="UTC")
# A run dated the first of a month closes the month before it (its data interval).
RUN_DATE = MONTH.add(months=1).to_date_string()


def dags_test(home: Path, emulator: ChargebeeEmulator, logical_date: str) -> str:
    env = {
        **os.environ,
        "AIRFLOW_HOME": str(home),
        "AIRFLOW__CORE__DAGS_FOLDER": str(REPO / "example_dags"),
        "AIRFLOW_CONN_CHARGEBEE_DEFAULT": emulator.connection_json(),
    }
    subprocess.run(
        [*airflow_cli(), "pools", "set", "chargebee", "4", "Chargebee site"],
        env=env,
        check=True,
        capture_output=True,
    )
    done = subprocess.run(
        [*airflow_cli(), "dags", "test", "chargebee_month_end", logical_date],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    return done.stdout + done.stderr


@pytest.mark.slow
def test_month_end_closes_each_pending_invoice_of_the_month_exactly_once(
    airflow_home: Path, chargebee_emulator: ChargebeeEmulator
) -> None:
    in_month = int(MONTH.add(days=10).timestamp())
    pending = chargebee_emulator.seed(1100, status="pending", date=in_month)
    chargebee_emulator.seed(
        30, status="pending", prefix="next_", date=int(MONTH.add(months=1, days=3).timestamp())
    )
    chargebee_emulator.seed(20, status="payment_due", prefix="due_", date=in_month)

    first = dags_test(airflow_home, chargebee_emulator, RUN_DATE)
    assert '"done": 1100' in first
    assert chargebee_emulator.count_applied(action="close") == 1100
    assert {a.invoice_id for a in chargebee_emulator.applied_actions} == set(pending)
    assert all(chargebee_emulator.invoice(i)["status"] == "payment_due" for i in pending)
    assert chargebee_emulator.invoice("next_000001")["status"] == "pending"

    requests_after_first = len(chargebee_emulator.requests)
    dags_test(airflow_home, chargebee_emulator, RUN_DATE)
    second_run = chargebee_emulator.requests.snapshot()[requests_after_first:]
    assert [r.method for r in second_run] == ["GET"]  # one list page: nothing is pending
    assert chargebee_emulator.count_applied(action="close") == 1100
    assert chargebee_emulator.duplicates() == {}
