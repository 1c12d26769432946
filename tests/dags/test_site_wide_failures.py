"""A failure every invoice would meet stops a bulk run at once, through real DAG runs.

Tried as a new user would: a wrong API key on 45 invoices sent 45 requests and
recorded 45 x 401; a dead host produced a retry warning per try per invoice before
the task ended. Either now ends the run after the first answer, records the invoices
nothing was sent for as ``not_sent`` and names the connection and the host once.
"""

from __future__ import annotations

import json
import logging
import socket
from pathlib import Path

import pytest

from airflow_provider_cb.invoicing.audit_report import result_message
from airflow_provider_cb.testing import ChargebeeEmulator
from airflow_provider_cb.testing.dags import DagFolder
from airflow_provider_cb.testing.pytest_plugin import CONNECTION_ENV
from tests.dags.test_operators_in_dags import posts
from tests.helpers import run, state_of, xcom_of

WORKERS = 4
BULK_CLOSE = f"""
CloseInvoiceOperator(task_id="close", invoice_ids=[f"inv_{{n:06d}}" for n in range(1, 46)],
                     max_workers={WORKERS})
"""


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _connect(monkeypatch: pytest.MonkeyPatch, emulator: ChargebeeEmulator, **changes: str) -> None:
    connection = json.loads(emulator.connection_json())
    extra = connection["extra"]
    extra["base_url"] = changes.pop("base_url", extra["base_url"])
    connection.update(changes)
    monkeypatch.setenv(CONNECTION_ENV, json.dumps(connection))


@pytest.fixture
def emulator(chargebee_conn_env: ChargebeeEmulator) -> ChargebeeEmulator:
    chargebee_conn_env.seed(45, status="pending")
    return chargebee_conn_env


def test_a_wrong_key_stops_the_run_after_the_first_answers(
    chargebee_dags: DagFolder,
    emulator: ChargebeeEmulator,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    tmp_path: Path,
) -> None:
    _connect(monkeypatch, emulator, password="key_of_another_site_7c1")
    report = tmp_path / "close.csv"
    body = BULK_CLOSE.replace("max_workers=", f"report_path={str(report)!r}, max_workers=")
    dag_run = run(chargebee_dags, "wrong_key", body)
    assert state_of(dag_run, "close") == "failed"  # not up_for_retry: the key will not heal
    sent = len(posts(emulator))
    assert 1 <= sent <= WORKERS  # only the requests already on their way when the first 401 came
    summary = xcom_of(dag_run, "close", key="chargebee_result")
    assert summary["counts"] == {"failed": sent, "not_sent": 45 - sent}
    assert summary["processed"] == sent  # `total` minus `not_sent` (docs/rerun-guarantees.md)
    stopped = summary["stopped_by"]
    assert "api_authentication_failed" in stopped
    assert "connection 'chargebee_default'" in stopped and "127.0.0.1" in stopped
    assert "key_of_another_site_7c1" not in caplog.text
    assert emulator.count_applied() == 0
    message = result_message(summary)
    assert f"not_sent {45 - sent}" in message and "stopped by: " in message
    written = Path(summary["report_path"])  # one file per try, named by run and try
    assert written.parent == tmp_path and written.name.startswith("close.")
    markdown = written.with_suffix(".md").read_text(encoding="utf-8")
    assert (
        f"| not_sent | {45 - sent} |" in markdown
        and "run stopped: api\\_authentication\\_failed" in markdown  # Markdown-escaped
    )


def test_a_dead_host_stops_the_run_without_a_storm_of_retries(
    chargebee_dags: DagFolder,
    emulator: ChargebeeEmulator,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.WARNING)
    dead = f"http://127.0.0.1:{_closed_port()}"
    _connect(monkeypatch, emulator, base_url=dead)
    dag_run = run(chargebee_dags, "dead_host", BULK_CLOSE)
    assert state_of(dag_run, "close") == "failed"
    summary = xcom_of(dag_run, "close", key="chargebee_result")
    assert summary["counts"] == {"not_sent": 45}
    stopped = summary["stopped_by"]
    assert "connection 'chargebee_default'" in stopped and dead.removeprefix("http://") in stopped
    retry_warnings = [r for r in caplog.records if "retry" in r.getMessage()]
    assert retry_warnings == []
    assert list(emulator.requests) == []
