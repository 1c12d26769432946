"""Fakes shared by the unit tests: a manual clock and a scripted HTTP server.

The sensor and trigger tests get the emulator and a payer from ``tests.sensor_support``.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest

from airflow_provider_cb.chargebee_api.encoding import RequestOrigin
from airflow_provider_cb.chargebee_api.ratebudget import RateBudget
from airflow_provider_cb.chargebee_api.settings import ClientSettings
from airflow_provider_cb.chargebee_api.transport import Transport
from tests.redis_server import redis_server as redis_server
from tests.sensor_support import emulator as emulator
from tests.sensor_support import pay_after_reads as pay_after_reads

API_KEY = "test_cbKEY0123456789abcdef"


class FakeClock:
    """``clock()`` reads the time; ``sleep(s)`` records the wait and moves time on."""

    def __init__(self, start: float = 1000.0) -> None:
        self.now = start
        self.sleeps: list[float] = []

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


@pytest.fixture
def fake_clock() -> FakeClock:
    return FakeClock()


def json_response(status: int, body: Any, headers: dict[str, str] | None = None) -> httpx.Response:
    return httpx.Response(
        status,
        content=json.dumps(body).encode(),
        headers={"content-type": "application/json", **(headers or {})},
    )


def api_error(
    status: int, code: str, *, error_type: str | None = None, headers: dict[str, str] | None = None
) -> httpx.Response:
    body: dict[str, Any] = {"message": f"{code} happened", "api_error_code": code}
    if error_type:
        body["type"] = error_type
    return json_response(status, body, headers)


Step = httpx.Response | Exception | Callable[[httpx.Request], httpx.Response]


@dataclass
class ScriptedServer:
    """Answers each request with the next scripted step and records every request."""

    steps: list[Step]
    requests: list[httpx.Request] = field(default_factory=list)

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        if not self.steps:
            raise AssertionError(f"unexpected extra request {request.method} {request.url}")
        step = self.steps.pop(0)
        if isinstance(step, Exception):
            if isinstance(step, httpx.RequestError):
                step.request = request
            raise step
        if callable(step) and not isinstance(step, httpx.Response):
            return step(request)
        return step

    def header_values(self, name: str) -> list[str | None]:
        return [request.headers.get(name) for request in self.requests]


@dataclass
class Rig:
    transport: Transport
    server: ScriptedServer
    clock: FakeClock
    backoff_sleeps: list[float]


def make_rig(
    steps: list[Step],
    *,
    max_retries: int = 4,
    origin: RequestOrigin | None = None,
    **settings_kwargs: Any,
) -> Rig:
    """A Transport on a MockTransport, with fake sleeps for backoff and for the budget."""
    clock = FakeClock()
    backoff_sleeps: list[float] = []
    server = ScriptedServer(list(steps))
    settings = ClientSettings(
        api_key=API_KEY,
        site="acme",
        test_site=True,
        max_retries=max_retries,
        **settings_kwargs,
    )
    transport = Transport(
        settings,
        origin=origin,
        budget=RateBudget(None, clock=clock.clock, sleep=clock.sleep),
        sleep=backoff_sleeps.append,
        http_transport=httpx.MockTransport(server),
    )
    return Rig(transport, server, clock, backoff_sleeps)
