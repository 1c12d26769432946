"""Marks the tests that never load Airflow (``airflow_free``; see tests/airflow_free.py),
and arranges the suite for parallel workers (pytest-xdist, ``--dist loadgroup``).

A server that tests share (the live Airflow of tests/e2e, the Celery cluster, the month
page's Airflow) is started once: every test that uses it runs on one worker, in one
``xdist_group``. The slow tests go first, so that no long test starts last while the
other workers idle.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests import closing_sections
from tests.airflow_free import is_airflow_free
from tests.helpers import REPO

SHARED_SERVERS = {"live": "live_airflow", "system_site": "system_site"}
"""Fixtures shared by several modules that start a server or make a site's objects, and
the one group of the tests that use each."""


def xdist_group_of(item: pytest.Item) -> str | None:
    """The group a test must run in, so that the servers it shares start once."""
    for fixture, group in SHARED_SERVERS.items():
        if fixture in getattr(item, "fixturenames", ()):
            return group
    if item.path.parent.name == "e2e":  # module-scoped servers: the module runs on one worker
        return item.path.stem
    return None


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if is_airflow_free(item.path.relative_to(REPO).as_posix()):
            item.add_marker(pytest.mark.airflow_free)
        group = xdist_group_of(item)
        if group is not None:
            item.add_marker(pytest.mark.xdist_group(group))
    items.sort(key=lambda item: item.get_closest_marker("slow") is None)


def pytest_sessionfinish(session: pytest.Session) -> None:
    closing_sections.hand_over(session.config)


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node: Any, error: object) -> None:
    """pytest-xdist: a worker finished; keep the sections it printed nothing of."""
    closing_sections.take_over(node.workeroutput)


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    closing_sections.print_all(terminalreporter)
