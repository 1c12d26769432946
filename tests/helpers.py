"""Test helpers: an Airflow home on SQLite made once per session, before Airflow loads.

Imported as ``tests.helpers`` by conftest and tests alike, so it runs once.
"""

from __future__ import annotations

import importlib.util
import os
import sys
import tempfile
import textwrap
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
AIRFLOW_HOME = Path(tempfile.mkdtemp(prefix="cb-airflow-home-"))
os.environ["AIRFLOW_HOME"] = str(AIRFLOW_HOME)
os.environ["AIRFLOW__CORE__LOAD_EXAMPLES"] = "False"
os.environ["AIRFLOW__CORE__DAGS_FOLDER"] = str(AIRFLOW_HOME / "dags")
(AIRFLOW_HOME / "dags").mkdir()


def airflow_cli() -> list[str]:
    return [str(Path(sys.executable).with_name("airflow"))]


class DagFiles:
    """Writes DAG files into the session's DAGs folder and loads them for ``dag.test()``.

    ``dag.test()`` only runs DAGs whose file lies in the configured DAGs folder.
    """

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def load(self, name: str, source: str) -> Any:
        path = self.folder / f"{name}.py"
        path.write_text(textwrap.dedent(source))
        spec = importlib.util.spec_from_file_location(f"cb_test_dag_{name}", path)
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        return module.dag


def xcom_of(dag_run: Any, task_id: str, key: str = "return_value", map_index: int = -1) -> Any:
    ti = dag_run.get_task_instance(task_id, map_index=map_index)
    assert ti is not None, f"no task instance {task_id}[{map_index}]"
    return ti.xcom_pull(task_ids=task_id, key=key, map_indexes=map_index)
