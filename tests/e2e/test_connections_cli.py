"""``airflow connections test`` on a Chargebee connection, as an operator types it.

Each case runs the real CLI in a subprocess with ``AIRFLOW_CONN_CHARGEBEE_DEFAULT``
pointing at the emulator; the four run side by side to keep the wait short.
"""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from airflow_provider_cb.testing import ChargebeeEmulator
from tests.e2e.live import CANARY_KEY, WRONG_KEY, free_port
from tests.helpers import airflow_cli

pytestmark = pytest.mark.slow


@pytest.fixture
def emulator() -> Iterator[ChargebeeEmulator]:
    with ChargebeeEmulator(CANARY_KEY) as running:
        yield running


def connection(key: str, **extra: Any) -> str:
    extra = {"lift_rate_budget": True, **extra}  # the emulator limits nothing
    return json.dumps({"conn_type": "chargebee", "host": "acme", "password": key, "extra": extra})


def test_connections_test_command(
    chargebee_airflow_home: Path, emulator: ChargebeeEmulator
) -> None:
    cases = {
        "good": connection(CANARY_KEY, base_url=emulator.base_url, test_site=True),
        "bad key": connection(WRONG_KEY, base_url=emulator.base_url),
        # The emulator serves only /api/...: another path answers 404 as an unknown site does.
        "unknown site": connection(CANARY_KEY, base_url=f"{emulator.base_url}/no-such-site"),
        "unreachable": connection(
            CANARY_KEY, base_url=f"http://127.0.0.1:{free_port()}", max_retries=0
        ),
    }
    running = {
        case: subprocess.Popen(
            [*airflow_cli(), "connections", "test", "chargebee_default"],
            env={
                **os.environ,
                "AIRFLOW__CORE__TEST_CONNECTION": "Enabled",
                "AIRFLOW_CONN_CHARGEBEE_DEFAULT": conn,
            },
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        for case, conn in cases.items()
    }
    results = {case: (p.wait(timeout=120), p.communicate()[0]) for case, p in running.items()}

    expected = {
        "good": (0, "Connection success!"),
        "bad key": (1, "Chargebee rejected the API key (401): check the key and test_site."),
        "unknown site": (1, "Chargebee does not know this site (404): check the site name."),
        "unreachable": (1, "Could not reach Chargebee: GET /invoices: ConnectError"),
    }
    for case, (code, message) in expected.items():
        returncode, output = results[case]
        assert (returncode, message in output) == (code, True), f"{case}:\n{output}"
        assert CANARY_KEY not in output and WRONG_KEY not in output, f"{case} leaks a key"
    # One read each for the good key, the bad key and the unknown site; never a write.
    assert sorted((r.method, r.path, r.status) for r in emulator.requests) == [
        ("GET", "/api/v2/invoices", 200),
        ("GET", "/api/v2/invoices", 401),
        ("GET", "/no-such-site/api/v2/invoices", 404),
    ]
