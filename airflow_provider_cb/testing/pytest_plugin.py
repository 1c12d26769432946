"""pytest fixtures for testing DAGs against the Chargebee emulator.

Registered through the ``pytest11`` entry point, so installing the provider is
enough. The emulator is imported only when a fixture is used, to keep every
other pytest run's start-up cheap.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from airflow_provider_cb.testing.emulator import ChargebeeEmulator

CONNECTION_ENV = "AIRFLOW_CONN_CHARGEBEE_DEFAULT"


@pytest.fixture
def chargebee_emulator() -> Iterator[ChargebeeEmulator]:
    """A started emulator with no invoices, stopped after the test."""
    from airflow_provider_cb.testing.emulator import ChargebeeEmulator

    with ChargebeeEmulator() as emulator:
        yield emulator


@pytest.fixture
def chargebee_conn_env(
    chargebee_emulator: ChargebeeEmulator, monkeypatch: pytest.MonkeyPatch
) -> ChargebeeEmulator:
    """The emulator, with ``chargebee_default`` pointing at it through the environment."""
    monkeypatch.setenv(CONNECTION_ENV, chargebee_emulator.connection_json())
    return chargebee_emulator
