"""Fixtures of the integration tests: a real Redis for the shared rate budget."""

from __future__ import annotations

import shutil
from collections.abc import Iterator

import pytest

from tests.redis_server import RedisServer


@pytest.fixture
def redis_server() -> Iterator[RedisServer]:
    """A fresh ``redis-server`` on loopback with a password (the test is skipped without one)."""
    if shutil.which("redis-server") is None:
        pytest.skip("redis-server is not installed (Debian: apt-get install redis-server)")
    with RedisServer(password="s3cret-store-pass") as server:
        yield server
