"""Fixtures of the integration tests: the emulator and a client for it, a real Redis."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from airflow_provider_cb.testing import ChargebeeEmulator
from tests.integration.emulator_calls import KEY
from tests.redis_server import redis_server as redis_server


@pytest.fixture
def emulator(
    chargebee_mock_emulator: ChargebeeEmulator, request: pytest.FixtureRequest
) -> Iterator[ChargebeeEmulator]:
    """Answers in process; a test marked ``loopback`` gets it listening on 127.0.0.1 too."""
    if request.node.get_closest_marker("loopback") is None:
        yield chargebee_mock_emulator
        return
    with chargebee_mock_emulator:
        yield chargebee_mock_emulator


@pytest.fixture
def http(emulator: ChargebeeEmulator) -> Iterator[httpx.Client]:
    transport = emulator.mock_transport()
    with httpx.Client(
        base_url="http://emulator", transport=transport, auth=(KEY, ""), timeout=10
    ) as client:
        yield client
