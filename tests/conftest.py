"""Shared fixtures. ``tests.helpers`` sets up the Airflow home before Airflow is imported."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.helpers import AIRFLOW_HOME, DagFiles, airflow_cli


@pytest.fixture(scope="session")
def airflow_home() -> Iterator[Path]:
    """A migrated SQLite Airflow home shared by the session's DAG tests."""
    subprocess.run([*airflow_cli(), "db", "migrate"], check=True, capture_output=True)
    yield AIRFLOW_HOME


@pytest.fixture
def dag_files(airflow_home: Path) -> DagFiles:
    return DagFiles(airflow_home / "dags")
