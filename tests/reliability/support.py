"""Shared helpers of the reliability tests: connections to the emulator, waiting, figures."""

from __future__ import annotations

import json
import os
import threading
import time
from collections import Counter
from collections.abc import Callable, Mapping
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from airflow_provider_cb.testing import ChargebeeEmulator

CONNECTION_ENV = "AIRFLOW_CONN_CHARGEBEE_DEFAULT"
FIGURES_ENV = "CB_RELIABILITY_FIGURES"
"""Set to a file path to also write the figures of a run there (e.g. for docs/reliability.md)."""

FAULT_MIX: Mapping[str, float] = {
    "rate_limit": 0.005,
    "rate_limit_no_retry_after": 0.01,
    "lock_timeout": 0.01,
    "site_not_ready": 0.01,
    "server_503": 0.005,
    "gateway_html_502": 0.01,
    "gateway_html_504": 0.01,
    "reset_before": 0.01,
    "lose_response": 0.01,
    "slow_response": 0.01,
    "malformed_json": 0.01,
}
"""About 10% of requests faulted, every kind of fault the emulator knows.

``rate_limit`` (429 with ``Retry-After: 1``) pauses every worker for a second, as it
must, so it is the rarest kind here only to keep the run short.
"""

CLIENT_TIMEOUT = 0.5
SLOW_SECONDS = 0.8
"""An injected slow response takes longer than the client waits for it."""
FAULTED_CONNECTION: Mapping[str, Any] = {
    "timeout": CLIENT_TIMEOUT,
    "lift_rate_budget": True,
    "rate_limit_block_seconds": 0.2,
}
"""The connection extras of a run under injected faults. Its 429s are drawn at random,
not earned by going over a limit, so the pace is lifted instead of learned ever lower
(learning is proven in tests/integration/test_rate_budget.py); each 429 still pauses
every worker, for its ``Retry-After`` or, without one, 0.2 s."""


def connection_json(emulator: ChargebeeEmulator, **extra: Any) -> str:
    """The emulator's Airflow connection with extra connection fields merged in."""
    conn = json.loads(emulator.connection_json())
    conn["extra"].update(extra)
    return json.dumps(conn)


def airflow_env(home: Path, dags: Path, emulator: ChargebeeEmulator) -> dict[str, str]:
    """The environment of an ``airflow`` command run on ``home`` and ``dags``, against the emulator."""
    return {
        **os.environ,
        "AIRFLOW_HOME": str(home),
        "AIRFLOW__CORE__DAGS_FOLDER": str(dags),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW_CONN_CHARGEBEE_DEFAULT": connection_json(emulator),
    }


def use_connection(
    monkeypatch: pytest.MonkeyPatch,
    emulator: ChargebeeEmulator,
    conn_id: str = "chargebee_default",
    **extra: Any,
) -> None:
    monkeypatch.setenv(f"AIRFLOW_CONN_{conn_id.upper()}", connection_json(emulator, **extra))


def settle(emulator: ChargebeeEmulator, quiet_seconds: float | None = None) -> None:
    """Wait until the emulator has recorded every request it is still working on.

    A request held back by a ``slow_response`` fault is recorded only once its
    sleep is over, possibly after the client gave up on it and moved on.
    """
    quiet = quiet_seconds if quiet_seconds is not None else emulator.faults.slow_seconds + 0.3
    seen = -1
    while seen != len(emulator.requests):
        seen = len(emulator.requests)
        time.sleep(quiet)


def faulted_requests(emulator: ChargebeeEmulator) -> Counter[str]:
    """Faults by kind, counted from the requests the emulator recorded."""
    return Counter(r.fault for r in emulator.requests if r.fault is not None)


class Figures:
    """Collects the figures of the slow tests; written as JSON, one line printed per test."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.lines: list[str] = []
        self._lock = threading.Lock()
        self._data: dict[str, dict[str, Any]] = {}

    def record(self, name: str, **values: Any) -> None:
        line = f"[reliability] {name}: " + ", ".join(
            f"{key}={json.dumps(value, sort_keys=True)}" for key, value in values.items()
        )
        print(line)
        with self._lock:
            self.lines.append(line)
            self._data[name] = values
            text = json.dumps(self._data, indent=2, sort_keys=True) + "\n"
            self.path.write_text(text)
            extra = os.environ.get(FIGURES_ENV)
            if extra:
                Path(extra).write_text(text)


class TinyServer:
    """A loopback HTTP server answering every request with ``answer(method, path, headers)``.

    ``answer`` returns (status, headers, body). Requests are recorded as
    (method, path, headers) so a test can see what reached it, or that nothing did.
    """

    def __init__(
        self,
        answer: Callable[[str, str, Mapping[str, str]], tuple[int, Mapping[str, str], bytes]],
    ) -> None:
        self.answer = answer
        self.requests: list[tuple[str, str, dict[str, str]]] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                if length:
                    self.rfile.read(length)
                headers = {k.lower(): v for k, v in self.headers.items()}
                server.requests.append((self.command, self.path, headers))
                status, extra, body = server.answer(self.command, self.path, headers)
                self.send_response(status)
                for name, value in extra.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            do_POST = do_GET

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def __enter__(self) -> TinyServer:
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join()
