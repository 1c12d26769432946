"""The live Airflow of tests/e2e, started once and only when a test asks.

Package-scoped: it stops when the run leaves tests/e2e, so its four processes do not
idle beside the rest of the suite (with pytest-xdist, its tests run on one worker).
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.e2e.live import LiveAirflow, live_airflow


@pytest.fixture(scope="package")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveAirflow]:
    with live_airflow(tmp_path_factory.mktemp("live-airflow")) as running:
        yield running
