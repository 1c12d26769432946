"""Marks the tests that never load Airflow (``airflow_free``); see tests/airflow_free.py."""

from __future__ import annotations

import pytest

from tests.airflow_free import is_airflow_free
from tests.helpers import REPO


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if is_airflow_free(item.path.relative_to(REPO).as_posix()):
            item.add_marker(pytest.mark.airflow_free)
