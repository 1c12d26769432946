"""Every ```python block in README.md and docs/ runs, so no example can rot.

A block that defines ``test_*`` functions has them called with the fixtures they
name (the emulator, or ``chargebee_dags`` for a whole-DAG test); a block that
builds a DAG is run with ``dag.test()`` against the emulator, seeded for that
DAG; any other block is executed as a script with the connection pointing at
the emulator.
"""

from __future__ import annotations

import inspect
import re
import subprocess
import threading
import time
from collections.abc import Callable
from typing import Any

import pendulum
import pytest

from airflow_provider_cb.testing import ChargebeeEmulator
from airflow_provider_cb.testing.dags import DagFolder
from tests.helpers import REPO, airflow_cli

PAGES = [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))]
_TEST_FUNCTION = re.compile(r"^def test_", re.MULTILINE)
_BLOCK = re.compile(r"^```python\n(.*?)^```", re.MULTILINE | re.DOTALL)
THIS_MONTH = pendulum.now("UTC").start_of("month")


def _blocks() -> list[Any]:
    found = []
    for page in PAGES:
        for number, match in enumerate(_BLOCK.finditer(page.read_text()), start=1):
            found.append(pytest.param(match.group(1), id=f"{page.name}#{number}"))
    return found


def _seed_readme(emulator: ChargebeeEmulator) -> None:
    yesterday = int(pendulum.now("UTC").subtract(days=1).timestamp())
    last_month = int(THIS_MONTH.subtract(days=10).timestamp())
    emulator.add_invoice("inv_000001", status="pending", date=yesterday)
    emulator.add_invoice("inv_000002", status="pending", date=yesterday)
    emulator.add_invoice("inv_000003", status="not_paid")
    emulator.add_invoice("inv_000004", status="payment_due", dunning_status="in_progress")
    emulator.add_invoice("inv_000005", status="payment_due", dunning_status="in_progress")
    emulator.add_invoice("inv_000006", status="payment_due", expected_payment_date=2_000_000_000)
    emulator.seed(5, status="pending", prefix="more_", date=last_month)
    emulator.seed(2, status="pending", prefix="this_month_", date=int(THIS_MONTH.timestamp()))


def _seed_operator_examples(emulator: ChargebeeEmulator) -> None:
    last_month = int(THIS_MONTH.subtract(days=10).timestamp())
    emulator.add_invoice("inv_000001", status="pending", date=last_month)
    for invoice_id in ("inv_000002", "inv_000003", "inv_000004"):
        emulator.add_invoice(invoice_id, status="payment_due", dunning_status="in_progress")
    for invoice_id in ("inv_000005", "inv_000006"):
        emulator.add_invoice(invoice_id, status="not_paid")


def _seed_old_debt(emulator: ChargebeeEmulator) -> None:
    emulator.seed(3, status="not_paid", date=int(THIS_MONTH.subtract(days=400).timestamp()))
    emulator.seed(2, status="not_paid", prefix="recent_")


def _seed_paid(emulator: ChargebeeEmulator) -> None:
    emulator.add_invoice("inv_000001", status="paid", dunning_status="success")


def _seed_due_then_paid(emulator: ChargebeeEmulator) -> None:
    """150 invoices due, paid by their customers once the selection has listed them."""
    ids = emulator.seed(150, status="payment_due")

    def pay_once_listed() -> None:
        deadline = time.monotonic() + 60
        while not any("status%5Bin%5D" in r.query for r in emulator.requests):
            if time.monotonic() > deadline:
                return
            time.sleep(0.05)
        for invoice_id in ids:
            emulator.record_payment(invoice_id)

    threading.Thread(target=pay_once_listed, daemon=True).start()


def _seed_last_month(emulator: ChargebeeEmulator) -> None:
    emulator.seed(40, status="pending", date=int(THIS_MONTH.subtract(days=10).timestamp()))


SEEDERS: dict[str, Callable[[ChargebeeEmulator], None]] = {
    "chargebee_readme": _seed_readme,
    "chargebee_operator_examples": _seed_operator_examples,
    "chargebee_write_off_old_debt": _seed_old_debt,
    "chargebee_month_end_chunked": _seed_last_month,
    "chargebee_wait_for_payment": _seed_paid,
    "chargebee_wait_for_payments": _seed_due_then_paid,
    "chargebee_signed_off_close": _seed_last_month,
}
EXPECTED_ACTIONS = {
    "chargebee_readme": 11,
    "chargebee_operator_examples": 4,
    "chargebee_write_off_old_debt": 3,
    "chargebee_month_end_chunked": 40,
    "chargebee_wait_for_payment": 0,
    "chargebee_wait_for_payments": 0,
    "chargebee_signed_off_close": 40,
}
# Run as a user would, by `airflow dags test DAG_ID DATE`, with what its log must say.
CLI_RUNS = {
    "chargebee_readme": (
        f"selected 5 pending invoices dated {THIS_MONTH.subtract(months=1).to_date_string()}"
        f"..{THIS_MONTH.subtract(days=1).to_date_string()} UTC"
    ),
}
LOGICAL_DATES = {
    "chargebee_readme": THIS_MONTH,
    "chargebee_operator_examples": THIS_MONTH,
    "chargebee_write_off_old_debt": THIS_MONTH,
    "chargebee_month_end_chunked": THIS_MONTH,
    "chargebee_signed_off_close": THIS_MONTH,
}


def _dags_test(dag_id: str, logical_date: pendulum.DateTime, expect: str) -> None:
    done = subprocess.run(
        [*airflow_cli(), "dags", "test", dag_id, logical_date.to_iso8601_string()],
        capture_output=True,
        text=True,
        timeout=300,
    )
    output = done.stdout + done.stderr
    assert done.returncode == 0, output[-3000:]  # "DagRun failed" exits non-zero
    assert expect in output, output[-3000:]


def test_every_page_has_been_searched() -> None:
    assert len(_blocks()) >= 8, "fewer examples than the docs hold: is the pattern broken?"


@pytest.mark.parametrize("source", _blocks())
def test_example_runs(
    source: str,
    chargebee_conn_env: ChargebeeEmulator,
    chargebee_dags: DagFolder,
    request: pytest.FixtureRequest,
) -> None:
    emulator = chargebee_conn_env
    dag_id = re.search(r'DAG\(\s*"([^"]+)"', source)
    if dag_id and not _TEST_FUNCTION.search(source):
        name = dag_id.group(1)
        subprocess.run(
            [*airflow_cli(), "pools", "set", "chargebee", "4", "Chargebee site"],
            check=True,
            capture_output=True,
        )
        SEEDERS[name](emulator)
        dag = chargebee_dags.load(name, source)
        if name in CLI_RUNS:
            _dags_test(name, LOGICAL_DATES[name], expect=CLI_RUNS[name])
        else:
            dag_run = dag.test(logical_date=LOGICAL_DATES.get(name))
            assert dag_run.state == "success", f"{name} ended {dag_run.state}"
        assert emulator.count_applied() == EXPECTED_ACTIONS[name]
        assert emulator.duplicates() == {}
        return
    namespace: dict[str, Any] = {"__name__": f"docs_example_{request.node.callspec.id}"}
    exec(compile(source, request.node.callspec.id, "exec"), namespace)
    tests = [f for name, f in namespace.items() if name.startswith("test_") and callable(f)]
    fixtures = {"chargebee_conn_env": emulator, "chargebee_dags": chargebee_dags}
    for test in tests:
        test(*(fixtures[name] for name in inspect.signature(test).parameters))
