"""What a request says when the shared budget's store fails: not sent, refused, or unknown."""

from __future__ import annotations

import httpx
import pytest

from airflow_provider_cb.chargebee_api.errors import RateLimitStoreError
from airflow_provider_cb.chargebee_api.ratebudget import RateBudget

from ..conftest import api_error, json_response, make_rig

CLOSE = "/invoices/inv_1/close"


class StoreDiesAfter(RateBudget):
    """A budget whose store answers ``answers`` reservations, then is gone."""

    def __init__(self, answers: int) -> None:
        super().__init__(None)
        self.answers = answers

    def _reserve(self, slot: str) -> float:
        if self.answers == 0:
            raise RateLimitStoreError("rate_limit_store: cannot use redis://:[redacted]@h/0")
        self.answers -= 1
        return 0.0

    def pause_for(self, seconds: float) -> None:
        self._reserve("")


def send_with(budget: RateBudget, first_answer: httpx.Response | Exception) -> RateLimitStoreError:
    rig = make_rig([first_answer, json_response(200, {})])
    rig.transport.budget = budget
    with pytest.raises(RateLimitStoreError) as caught:
        rig.transport.request("POST", CLOSE, idempotency_key="k-1")
    return caught.value


def test_nothing_sent_says_so() -> None:
    error = send_with(StoreDiesAfter(0), json_response(200, {}))
    assert str(error).startswith("POST /invoices/inv_1/close was not sent: rate_limit_store:")
    assert (error.sent, error.attempts) == (False, 0)
    assert error.retryable


def test_a_lost_answer_then_no_budget_is_an_unknown_outcome() -> None:
    error = send_with(StoreDiesAfter(1), httpx.ReadTimeout("late"))
    assert error.sent is True
    assert "may have been applied" in str(error)
    assert "The outcome is unknown; a re-run is safe" in str(error)


def test_a_refused_try_then_no_budget_applied_nothing() -> None:
    error = send_with(StoreDiesAfter(1), api_error(429, "lock_timeout"))
    assert error.sent is True
    assert "refused an earlier try without acting" in str(error)
    assert "Nothing was applied" in str(error)


def test_a_store_failure_is_not_retried_within_the_request() -> None:
    budget = StoreDiesAfter(0)
    rig = make_rig([json_response(200, {})])
    rig.transport.budget = budget
    with pytest.raises(RateLimitStoreError):
        rig.transport.request("GET", "/invoices/inv_1")
    assert rig.backoff_sleeps == [] and rig.server.requests == []
