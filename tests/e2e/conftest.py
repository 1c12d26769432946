"""The live Airflow of tests/e2e, started once per session and only when a test asks."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.e2e.live import LiveAirflow, live_airflow


@pytest.fixture(scope="session")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveAirflow]:
    with live_airflow(tmp_path_factory.mktemp("live-airflow")) as running:
        yield running
