"""The pytest plugin every install registers must be harmless in a user's own test suite."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

PLUGIN_NAME = "chargebee_emulator"


def run_python(code: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_importing_the_plugin_imports_no_airflow_no_httpx_and_starts_nothing(
    tmp_path: Path,
) -> None:
    result = run_python(
        """
        import sys, threading
        threads = threading.active_count()
        import airflow_provider_cb.testing.pytest_plugin as plugin
        heavy = sorted(m for m in ("airflow", "httpx", "airflow_provider_cb.testing.emulator")
                       if m in sys.modules)
        public = sorted(n for n in vars(plugin) if not n.startswith("_") and callable(getattr(plugin, n))
                        and getattr(getattr(plugin, n), "__module__", "") == plugin.__name__)
        print(heavy, threading.active_count() - threads, public)
        """,
        tmp_path,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split("\n")[0] == (
        "[] 0 ['chargebee_airflow_home', 'chargebee_conn_env', 'chargebee_dags', "
        "'chargebee_emulator', 'chargebee_mock_emulator', 'chargebee_mock_transport', "
        "'pytest_addoption', 'pytest_load_initial_conftests', 'pytest_unconfigure']"
    )


def test_a_user_suite_sees_the_fixtures_and_can_switch_the_plugin_off(tmp_path: Path) -> None:
    (tmp_path / "test_user.py").write_text(
        textwrap.dedent(
            """
            def test_uses_the_kit(chargebee_emulator):
                (invoice_id,) = chargebee_emulator.seed(1, status="pending")
                assert chargebee_emulator.invoice(invoice_id)["status"] == "pending"
            """
        )
    )
    pytest_cmd = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "test_user.py"]
    enabled = subprocess.run(
        pytest_cmd, cwd=tmp_path, capture_output=True, text=True, timeout=120, check=False
    )
    assert enabled.returncode == 0, enabled.stdout + enabled.stderr
    assert "1 passed" in enabled.stdout
    disabled = subprocess.run(
        [*pytest_cmd, "-p", f"no:{PLUGIN_NAME}"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert disabled.returncode == pytest.ExitCode.TESTS_FAILED, disabled.stdout
    assert "fixture 'chargebee_emulator' not found" in disabled.stdout


USER_DAG = """
import pendulum
from airflow.sdk import dag
from airflow_provider_cb.operators import CloseInvoiceOperator


@dag(schedule=None, start_date=pendulum.datetime(2026, 1, 1, tz="UTC"))
def user_close():
    CloseInvoiceOperator(task_id="close", invoice_ids=["inv_000001", "inv_000002"])


user_close()
"""
USER_TEST = """
def test_the_users_dag(chargebee_dags):
    chargebee_dags.emulator.seed(2, status="pending")
    dag_run = chargebee_dags.load_file("dags/user_close.py").test()
    assert dag_run.state == "success"
    assert chargebee_dags.emulator.count_applied(action="close") == 2
"""


@pytest.mark.parametrize("enabled", [True, False])
def test_a_user_project_runs_a_whole_dag_with_the_home_option(
    enabled: bool, tmp_path: Path
) -> None:
    (tmp_path / "dags").mkdir()
    (tmp_path / "dags" / "user_close.py").write_text(USER_DAG)
    # A conftest importing Airflow at the top: the home must be set before it loads.
    (tmp_path / "conftest.py").write_text("import airflow.sdk  # noqa: F401\n")
    (tmp_path / "test_user_dag.py").write_text(USER_TEST)
    option = "chargebee_airflow_home = true\n" if enabled else ""
    (tmp_path / "pytest.ini").write_text("[pytest]\n" + option)
    env = {k: v for k, v in os.environ.items() if not k.startswith("AIRFLOW")}

    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "test_user_dag.py"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )

    if enabled:
        assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
        assert "1 passed" in result.stdout
    else:
        assert result.returncode == pytest.ExitCode.TESTS_FAILED, result.stdout[-3000:]
        assert "add 'chargebee_airflow_home = true'" in result.stdout
