"""Fixtures of the reliability tests: the emulator and the figures of the last run."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests import closing_sections
from tests.reliability.support import Figures


@pytest.fixture(scope="session")
def figures(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Figures]:
    """Figures of the slow tests, in ``<pytest basetemp>/reliability-figures.json``."""
    collected = Figures(tmp_path_factory.getbasetemp() / "reliability-figures.json")
    yield collected
    if collected.lines:
        closing_sections.add(
            "reliability figures", *collected.lines, f"written to {collected.path}"
        )


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """The repeated kills run only when asked for: ``pytest -m repeated_kills``."""
    if "repeated_kills" in (config.getoption("markexpr") or ""):
        return
    skip = pytest.mark.skip(reason="repeated kills: select with -m repeated_kills")
    for item in items:
        if item.get_closest_marker("repeated_kills"):
            item.add_marker(skip)
