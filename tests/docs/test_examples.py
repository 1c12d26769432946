"""Every ```python block in README.md and docs/ runs, so no example can rot.

A block that defines ``test_*`` functions has them called with the fixtures they
name (the emulator, or ``chargebee_dags`` for a whole-DAG test); a block that
builds a DAG is run with ``dag.test()`` against the emulator, seeded for that
DAG (as its page's emulator command line says, where the page gives one, and
run as its page's ``airflow dags test`` says); any other block is executed as a
script with the connection pointing at the emulator, and what it prints must
match its ``# prints`` comments. The shell blocks of docs/emulator.md run in
bash as written.
"""

from __future__ import annotations

import contextlib
import inspect
import io
import os
import re
import shlex
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pendulum
import pytest

from airflow_provider_cb.invoicing.action_table import ACTIONS
from airflow_provider_cb.testing import ChargebeeEmulator
from airflow_provider_cb.testing.__main__ import parser, seed_invoices
from airflow_provider_cb.testing.dags import DagFolder
from tests.helpers import REPO, airflow_cli

PAGES = [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))]
_TEST_FUNCTION = re.compile(r"^def test_", re.MULTILINE)
_BLOCK = re.compile(r"^```python\n(.*?)^```", re.MULTILINE | re.DOTALL)
THIS_MONTH = pendulum.now("UTC").start_of("month")
_SEED_COMMAND = re.compile(r"`python -m airflow_provider_cb\.testing (--[^`]*)`")
_DAGS_TEST = re.compile(r"`airflow dags test (\w+) ([\d-]+)`")
_PRINTS = re.compile(r"^# prints[^:]*: (.*)$", re.MULTILINE)
_DOCUMENTED_URL = "http://127.0.0.1:41235"


def _blocks() -> list[Any]:
    found = []
    for page in PAGES:
        text = page.read_text()
        for number, match in enumerate(_BLOCK.finditer(text), start=1):
            found.append(pytest.param(match.group(1), text, id=f"{page.name}#{number}"))
    return found


def _seed_as_documented(emulator: ChargebeeEmulator, page: str) -> None:
    """Seed the invoices the page's ``python -m airflow_provider_cb.testing`` line makes."""
    (command,) = _SEED_COMMAND.findall(page)
    seed_invoices(emulator, parser().parse_args(shlex.split(command)))


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


SEEDERS: dict[str, Callable[[ChargebeeEmulator], None]] = {
    "chargebee_write_off_old_debt": _seed_old_debt,
    "chargebee_wait_for_payment": _seed_paid,
    "chargebee_wait_for_payments": _seed_due_then_paid,
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
# Run by `airflow dags test DAG_ID DATE` as the page says, with what its log must say.
CLI_RUNS = {"chargebee_readme": "selected 5 pending invoices dated 2026-10-01..2026-10-31 UTC"}
LOGICAL_DATES = {
    "chargebee_write_off_old_debt": THIS_MONTH,
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


@pytest.mark.parametrize(("source", "page"), _blocks())
def test_example_runs(
    source: str,
    page: str,
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
        documented = dict(_DAGS_TEST.findall(page))
        if name in documented:
            _seed_as_documented(emulator, page)
        else:
            SEEDERS[name](emulator)
        dag = chargebee_dags.load(name, source)
        logical_date = (
            pendulum.parse(documented[name], tz="UTC")
            if name in documented
            else LOGICAL_DATES.get(name)
        )
        if name in CLI_RUNS:
            _dags_test(name, logical_date, expect=CLI_RUNS[name])  # type: ignore[arg-type]
        else:
            dag_run = dag.test(logical_date=logical_date)
            assert dag_run.state == "success", f"{name} ended {dag_run.state}"
        assert emulator.count_applied() == EXPECTED_ACTIONS[name]
        twice = {action: emulator.duplicates(action) for action in ACTIONS}
        assert {action: ids for action, ids in twice.items() if ids} == {}
        return
    namespace: dict[str, Any] = {"__name__": f"docs_example_{request.node.callspec.id}"}
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        exec(compile(source, request.node.callspec.id, "exec"), namespace)
    expected = _PRINTS.findall(source)
    if expected:
        shown = printed.getvalue().replace(emulator.base_url, _DOCUMENTED_URL).splitlines()
        assert shown[-len(expected) :] == expected

    tests = [f for name, f in namespace.items() if name.startswith("test_") and callable(f)]
    fixtures = {"chargebee_conn_env": emulator, "chargebee_dags": chargebee_dags}
    for test in tests:
        test(*(fixtures[name] for name in inspect.signature(test).parameters))


def _emulator_shell_blocks() -> list[str]:
    page = (REPO / "docs" / "emulator.md").read_text()
    section = page[page.index("## From the command line") : page.index("## In your tests")]
    return re.findall(r"^```bash\n(.*?)^```", section, re.MULTILINE | re.DOTALL)


def test_the_emulator_pages_command_line_runs_as_written(tmp_path: Path) -> None:
    """Serve in the background, export the connection, play the controls, stop: one shell."""
    start, controls = _emulator_shell_blocks()
    reach = (
        "python -c \"import json, os, httpx; c = json.loads(os.environ['AIRFLOW_CONN_CHARGEBEE_"
        "DEFAULT']); print('connection answers', httpx.get(c['extra']['base_url'] + "
        "'/api/v2/invoices', auth=(c['password'], '')).status_code)\"\n"
    )
    done = subprocess.run(
        ["bash", "-e", "-c", start + reach + controls + "wait\n"],
        env={
            **os.environ,
            "TMPDIR": str(tmp_path),
            "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}",
        },
        capture_output=True,
        text=True,
        timeout=120,
    )
    output = done.stdout + done.stderr
    assert done.returncode == 0, output
    url = (tmp_path / "chargebee-emulator.url").read_text().strip()
    (listening,) = re.findall(r"^# (chargebee emulator listening on .*)$", start, re.MULTILINE)
    lines = done.stdout.replace(url, _DOCUMENTED_URL).splitlines()
    assert listening in lines
    assert "connection answers 200" in lines
    assert "inv_000101: paid, amount due 0" in lines
    assert any(line.startswith("inv_000002: voided") for line in lines), output
    assert "added 20 invoices: inv_000121…inv_000140" in lines
    assert lines[-1] == "chargebee emulator stopped; applied actions: none"
