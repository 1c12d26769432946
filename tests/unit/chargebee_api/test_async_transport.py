"""The async sender makes the sync sender's decisions: the same script, the same tries and waits."""

from __future__ import annotations

import asyncio
import random
from collections.abc import Callable
from typing import Any, Literal

import httpx
import pytest

from airflow_provider_cb.chargebee_api import async_transport
from airflow_provider_cb.chargebee_api.answers import ApiResponse
from airflow_provider_cb.chargebee_api.async_transport import AsyncTransport
from airflow_provider_cb.chargebee_api.errors import ChargebeeError
from airflow_provider_cb.chargebee_api.ratebudget import RateBudget
from airflow_provider_cb.chargebee_api.settings import SITE_BLOCK_SECONDS, ClientSettings
from airflow_provider_cb.chargebee_api.transport import IDEMPOTENCY_HEADER, Transport

from ..conftest import API_KEY, FakeClock, ScriptedServer, Step, api_error, json_response

OK = {"invoice": {"id": "inv_1", "status": "paid"}}
Mode = Literal["sync", "async"]


def ok() -> httpx.Response:
    return json_response(200, OK)


def site_limit(**headers: str) -> httpx.Response:
    return api_error(429, "api_request_limit_exceeded", headers=headers)


SCRIPTS: dict[str, tuple[str, Callable[[], list[Step]]]] = {
    "retry_after": ("GET", lambda: [site_limit(**{"Retry-After": "3"}), ok()]),
    "429_lowers_rate": ("GET", lambda: [site_limit(), site_limit(), ok()]),
    "5xx_then_ok": (
        "GET",
        lambda: [
            api_error(503, "internal_temporary_error"),
            httpx.Response(502, content=b"<html>gateway</html>"),
            ok(),
        ],
    ),
    "5xx_gives_up": ("GET", lambda: [api_error(503, "internal_temporary_error")] * 3),
    "post_lost_answers": (
        "POST",
        lambda: [httpx.ConnectTimeout("slow"), httpx.ReadTimeout("slow"), ok()],
    ),
    "client_error_is_final": ("POST", lambda: [api_error(400, "param_wrong_value")]),
    "not_json": ("GET", lambda: [httpx.Response(200, content=b"<html>"), ok()]),
}


def _summary(outcome: ApiResponse | ChargebeeError) -> tuple[Any, ...]:
    if isinstance(outcome, ApiResponse):
        return ("answer", outcome.body, outcome.attempts, outcome.replayed)
    return (type(outcome).__name__, str(outcome), outcome.attempts, outcome.retryable)


def run(mode: Mode, script: str, monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """One request through one sender; every wait, budget's or backoff's, on one fake clock."""
    method, steps = SCRIPTS[script]
    random.seed(7)  # the same backoff jitter for both senders
    clock, server = FakeClock(), ScriptedServer(steps())
    budget = RateBudget(120, clock=clock.clock, sleep=clock.sleep)
    settings = ClientSettings(api_key=API_KEY, site="acme", max_retries=2)
    outcome: ApiResponse | ChargebeeError
    if mode == "sync":
        sync = Transport(
            settings, budget=budget, sleep=clock.sleep, http_transport=httpx.MockTransport(server)
        )
        try:
            outcome = sync.request(method, "/invoices/inv_1")
        except ChargebeeError as error:
            outcome = error
        sync.close()
        retries = sync.retries
    else:

        async def wait(seconds: float) -> None:
            clock.sleep(seconds)
            await asyncio.sleep(0)

        monkeypatch.setattr(async_transport, "_sleep", wait)
        transport = AsyncTransport(
            settings, budget=budget, http_transport=httpx.MockTransport(server)
        )

        async def send() -> ApiResponse | ChargebeeError:
            try:
                return await transport.send(transport.prepare(method, "/invoices/inv_1"))
            except ChargebeeError as error:
                return error
            finally:
                await transport.aclose()

        outcome = asyncio.run(send())
        retries = transport.retries
    return {
        "outcome": _summary(outcome),
        "sent": [request.method for request in server.requests],
        "keys": len(set(server.header_values(IDEMPOTENCY_HEADER))),
        "waits": clock.sleeps,
        "retries": retries,
        "rate": budget.requests_per_minute,
    }


@pytest.mark.parametrize("script", SCRIPTS)
def test_both_senders_take_the_same_decisions(script: str, monkeypatch: pytest.MonkeyPatch) -> None:
    assert run("async", script, monkeypatch) == run("sync", script, monkeypatch)


def test_the_async_sender_obeys_retry_after_through_the_budget(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    result = run("async", "retry_after", monkeypatch)

    assert result["outcome"] == ("answer", OK, 2, False)
    assert result["waits"] == [3.0]
    assert result["retries"] == 1


def test_the_async_sender_lowers_the_rate_after_a_site_limit(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    result = run("async", "429_lowers_rate", monkeypatch)

    assert result["outcome"][0] == "answer"
    assert result["rate"] == pytest.approx(120 * (5 / 6) ** 2)  # each 429 at its own rate
    # Without Retry-After, each waits the documented block, held in the budget for every worker.
    assert result["waits"] == [pytest.approx(SITE_BLOCK_SECONDS)] * 2


def test_the_async_sender_reuses_a_posts_key_and_gives_up_after_max_retries(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert run("async", "post_lost_answers", monkeypatch)["keys"] == 1
    gave_up = run("async", "5xx_gives_up", monkeypatch)
    assert gave_up["outcome"][0] == "ServerError"
    assert gave_up["sent"] == ["GET"] * 3
