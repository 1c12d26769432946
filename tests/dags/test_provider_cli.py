"""Airflow's own CLI sees the provider through its entry point."""

from __future__ import annotations

import subprocess
from pathlib import Path

from tests.helpers import airflow_cli


def airflow(*args: str) -> str:
    done = subprocess.run([*airflow_cli(), *args], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


def test_providers_list_shows_the_package(chargebee_airflow_home: Path) -> None:
    assert "airflow-provider-chargebee" in airflow("providers", "list", "-o", "plain")


def test_providers_hooks_shows_the_connection_type(chargebee_airflow_home: Path) -> None:
    hooks = airflow("providers", "hooks", "-o", "plain")
    line = next(line for line in hooks.splitlines() if line.startswith("chargebee"))
    assert "airflow_provider_cb.hooks.chargebee.ChargebeeHook" in line
