"""System tests: example DAGs and a rehearsal against a real test site, or the emulator.

Laid out as Airflow's own providers lay out theirs (``tests/system/<provider>/``,
example DAG files ending in ``test_run = get_test_run(dag)``), with nothing of
Airflow's development tooling: this conftest collects ``example_*.py``, chooses
the site (see :mod:`tests.system.site`) and prints the rehearsal's table of
confirmed and contradicted assumptions at the end of the run.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from airflow_provider_cb.testing.dags import CONNECTION_ENV, DagFolder
from tests import closing_sections
from tests.system.findings import Findings
from tests.system.site import SystemSite

FINDINGS = Findings()


def pytest_collect_file(file_path: Path, parent: pytest.Collector) -> pytest.Module | None:
    if file_path.suffix == ".py" and file_path.name.startswith("example_"):
        return pytest.Module.from_parent(parent, path=file_path)
    return None


@pytest.fixture(scope="session")
def system_site() -> Iterator[SystemSite]:
    """The real test site the environment names, or a fresh emulator on 127.0.0.1."""
    with SystemSite.open(os.environ) as site:
        yield site


@pytest.fixture
def system_dags(
    chargebee_airflow_home: Path, system_site: SystemSite, monkeypatch: pytest.MonkeyPatch
) -> Iterator[DagFolder]:
    """The DAGs folder, with ``chargebee_default`` on the system site."""
    monkeypatch.setenv(CONNECTION_ENV, system_site.connection)
    folder = DagFolder(chargebee_airflow_home / "dags", system_site.emulator)  # type: ignore[arg-type]
    yield folder
    for written in folder.folder.glob("*.py"):
        written.unlink()


@pytest.fixture(scope="session")
def findings() -> Iterator[Findings]:
    yield FINDINGS
    if FINDINGS.rows:
        closing_sections.add("Chargebee assumptions, as this site answered", FINDINGS.table())
