"""Whole-DAG tests: a throwaway Airflow home, its DAGs folder, and DAGs loaded for ``dag.test()``.

Airflow reads ``AIRFLOW_HOME`` once, when it is first imported, and
``dag.test()`` runs only DAGs whose file lies in the configured DAGs folder of a
migrated database. The pytest plugin calls :func:`make_home` before any test
module or conftest imports Airflow (when the ``chargebee_airflow_home`` option
is on); the ``chargebee_dags`` fixture then hands out a :class:`DagFolder`.
Nothing here imports Airflow at module level.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path
from typing import TYPE_CHECKING, Any

from airflow_provider_cb.testing.approvals import ApprovalDesk

if TYPE_CHECKING:
    from airflow_provider_cb.testing.emulator import ChargebeeEmulator

HOME_OPTION = "chargebee_airflow_home"
CONNECTION_ENV = "AIRFLOW_CONN_CHARGEBEE_DEFAULT"


def make_home() -> Path:
    """A new Airflow home on SQLite, set in the environment for this process and its children."""
    home = Path(tempfile.mkdtemp(prefix="chargebee-airflow-home-"))
    (home / "dags").mkdir()
    os.environ["AIRFLOW_HOME"] = str(home)
    os.environ["AIRFLOW__CORE__DAGS_FOLDER"] = str(home / "dags")
    os.environ["AIRFLOW__CORE__LOAD_EXAMPLES"] = "False"
    return home


def migrate(home: Path) -> None:
    """``airflow db migrate`` for ``home`` (about 4 s), in a child so this process stays clean."""
    done = subprocess.run(
        [sys.executable, "-m", "airflow", "db", "migrate"],
        env={**os.environ, "AIRFLOW_HOME": str(home)},
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"airflow db migrate failed in {home}:\n{done.stderr[-3000:]}")


def remove_home(home: Path) -> None:
    shutil.rmtree(home, ignore_errors=True)


class DagFolder:
    """The session's DAGs folder, with the emulator the DAGs' ``chargebee_default`` points at.

    :meth:`load` writes a DAG file there and imports it; :meth:`load_file` copies
    one of the project's own DAG files there. Either returns the DAG, ready for
    ``dag.test()``. ``approvals`` answers the DAGs' approvals while it is started
    (see :mod:`~airflow_provider_cb.testing.approvals`).
    """

    def __init__(
        self, folder: Path, emulator: ChargebeeEmulator, approvals: ApprovalDesk | None = None
    ) -> None:
        self.folder = folder
        self.emulator = emulator
        self.approvals = approvals or ApprovalDesk()

    def load(self, name: str, source: str, *, dag_id: str | None = None) -> Any:
        """Write ``source`` (dedented) to ``<name>.py`` in the DAGs folder and return its DAG."""
        path = self.folder / f"{name}.py"
        path.write_text(textwrap.dedent(source))
        return self._import(path, dag_id)

    def load_file(self, path: str | os.PathLike[str], *, dag_id: str | None = None) -> Any:
        """Copy a DAG file into the DAGs folder and return its DAG (``dag_id`` among several)."""
        copied = Path(shutil.copy(path, self.folder))
        return self._import(copied, dag_id)

    def lift_rate_budget(self) -> None:
        """Point ``chargebee_default`` at the emulator with every task's rate budget lifted."""
        os.environ[CONNECTION_ENV] = self.emulator.connection_json(lift_rate_budget=True)

    def _import(self, path: Path, dag_id: str | None) -> Any:
        """Parse the file as Airflow does, so ``@dag`` calls and unnamed ``with DAG`` count."""
        from airflow.dag_processing.dagbag import DagBag

        bag = DagBag(dag_folder=path)
        if bag.import_errors:
            raise ImportError(
                f"{path.name} failed to import:\n" + "\n".join(bag.import_errors.values())
            )
        dags = bag.dags
        if dag_id is not None:
            if dag_id not in dags:
                raise LookupError(f"{path.name} has no DAG {dag_id!r}; it has {sorted(dags)}")
            return dags[dag_id]
        if len(dags) != 1:
            raise LookupError(f"{path.name} has DAGs {sorted(dags)}: name one with dag_id=")
        return next(iter(dags.values()))
