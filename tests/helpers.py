"""Test helpers shared by the DAG tests.

The Airflow home is made by the provider's pytest plugin (``chargebee_airflow_home``
in pyproject.toml) before conftest or Airflow loads; DAG files go through its
``chargebee_dags`` fixture.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]


def airflow_cli() -> list[str]:
    return [str(Path(sys.executable).with_name("airflow"))]


def xcom_of(dag_run: Any, task_id: str, key: str = "return_value", map_index: int = -1) -> Any:
    ti = dag_run.get_task_instance(task_id, map_index=map_index)
    assert ti is not None, f"no task instance {task_id}[{map_index}]"
    return ti.xcom_pull(task_ids=task_id, key=key, map_indexes=map_index)
