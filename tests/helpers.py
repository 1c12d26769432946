"""Test helpers shared by the DAG tests: one way to write and run a DAG, XCom, dates.

The Airflow home is made by the provider's pytest plugin (``chargebee_airflow_home``
in pyproject.toml) before conftest or Airflow loads; DAG files go through its
``chargebee_dags`` fixture.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pendulum

if TYPE_CHECKING:
    from airflow_provider_cb.testing.dags import DagFolder

REPO = Path(__file__).resolve().parents[1]


def airflow_cli() -> list[str]:
    return [str(Path(sys.executable).with_name("airflow"))]


def xcom_of(dag_run: Any, task_id: str, key: str = "return_value", map_index: int = -1) -> Any:
    ti = dag_run.get_task_instance(task_id, map_index=map_index)
    assert ti is not None, f"no task instance {task_id}[{map_index}]"
    return ti.xcom_pull(task_ids=task_id, key=key, map_indexes=map_index)


DAG_HEADER = """
import pendulum
from airflow.sdk import DAG, CronDataIntervalTimetable, CronTriggerTimetable, task
from airflow_provider_cb.operators import *

with DAG("{dag_id}", schedule={schedule}, start_date=pendulum.datetime(2020, 1, 1, tz="UTC"),
         {dag_arguments}default_args={{"retries": {retries}, "retry_delay": pendulum.duration(seconds=1)}}) as dag:
"""


def dag_source(
    dag_id: str, body: str, *, schedule: str = "None", retries: int = 0, dag_arguments: str = ""
) -> str:
    """A DAG file with ``body`` (operators, one a line) indented inside its ``with DAG``.

    ``dag_arguments`` is source text put before ``default_args``, ending in ", ".
    """
    indented = "\n".join("    " + line for line in body.strip().splitlines())
    header = DAG_HEADER.format(
        dag_id=dag_id, schedule=schedule, retries=retries, dag_arguments=dag_arguments
    )
    return header + indented + "\n"


def run(
    dags: DagFolder,
    dag_id: str,
    body: str,
    *,
    schedule: str = "None",
    retries: int = 0,
    dag_arguments: str = "",
    **test_kwargs: Any,
) -> Any:
    """Load the DAG of :func:`dag_source` and run it once with ``dag.test(**test_kwargs)``."""
    source = dag_source(
        dag_id, body, schedule=schedule, retries=retries, dag_arguments=dag_arguments
    )
    return dags.load(dag_id, source).test(**test_kwargs)


def state_of(dag_run: Any, task_id: str, map_index: int = -1) -> str:
    return str(dag_run.get_task_instance(task_id, map_index=map_index).state)


def new_year(years_ahead: int) -> pendulum.DateTime:
    """Midnight UTC on 1 January, ``years_ahead`` years from now: a date always in the future."""
    return pendulum.datetime(pendulum.now("UTC").year + years_ahead, 1, 1, tz="UTC")
