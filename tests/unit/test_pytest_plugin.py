"""The pytest plugin every install registers must be harmless in a user's own test suite."""

from __future__ import annotations

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
    assert result.stdout.split("\n")[0] == "[] 0 ['chargebee_conn_env', 'chargebee_emulator']"


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
