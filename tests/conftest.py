"""Shared fixtures. ``tests.helpers`` sets up the Airflow home before Airflow is imported."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.helpers import AIRFLOW_HOME, DagFiles, airflow_cli
from tests.redis_server import RedisServer


@pytest.fixture(scope="session")
def airflow_home() -> Iterator[Path]:
    """A migrated SQLite Airflow home shared by the session's DAG tests."""
    subprocess.run([*airflow_cli(), "db", "migrate"], check=True, capture_output=True)
    yield AIRFLOW_HOME


@pytest.fixture
def dag_files(airflow_home: Path) -> DagFiles:
    return DagFiles(airflow_home / "dags")


@pytest.fixture
def redis_server() -> Iterator[RedisServer]:
    """A fresh ``redis-server`` on loopback with a password (the test is skipped without one)."""
    if shutil.which("redis-server") is None:
        pytest.skip("redis-server is not installed (Debian: apt-get install redis-server)")
    with RedisServer(password="s3cret-store-pass") as server:
        yield server
