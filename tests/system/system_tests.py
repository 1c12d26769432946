"""``get_test_run``, in the shape of Airflow's own ``tests_common.test_utils.system_tests``.

An example DAG file ends with ``test_run = get_test_run(dag)``: pytest collects
that function (``tests/system/conftest.py`` collects ``example_*.py``) and runs
the DAG with ``dag.test()`` against the site the ``system_site`` fixture chose.
Nothing of Airflow's development tooling is needed.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any


def get_test_run(dag: Any, **test_kwargs: Any) -> Callable[..., None]:
    """A pytest test running ``dag`` once, with the run conf the site prepared for it."""

    def test_run(system_site: Any, system_dags: Any) -> None:
        loaded = system_dags.load_file(dag.fileloc, dag_id=dag.dag_id)
        conf = system_site.run_conf(dag.dag_id)
        dag_run = loaded.test(run_conf=conf, **test_kwargs)
        assert dag_run.state == "success", f"{dag.dag_id} ended {dag_run.state} (conf {conf})"

    test_run.__test__ = True  # type: ignore[attr-defined]
    return test_run
