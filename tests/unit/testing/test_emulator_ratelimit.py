"""The emulator's three ways of counting a minute, on a clock the test holds still."""

from __future__ import annotations

import pytest

from airflow_provider_cb.testing.clock import Clock
from airflow_provider_cb.testing.ratelimit import (
    FixedWindowLimiter,
    SlidingWindowLimiter,
    TokenBucketLimiter,
    make_limiter,
)

MINUTE = 1_800_000_000.0  # a window boundary: a multiple of 60


class StillClock(Clock):
    def __init__(self, at: float) -> None:
        super().__init__()
        self.at = at

    def now(self) -> float:
        return self.at


def hits(limiter: object, clock: StillClock, times: list[float]) -> list[int | None]:
    answers = []
    for at in times:
        clock.at = MINUTE + at
        answers.append(limiter.hit())  # type: ignore[attr-defined]
    return answers


def test_fixed_window_resets_on_the_minute() -> None:
    clock = StillClock(MINUTE)
    limiter = FixedWindowLimiter(clock, 3)
    assert hits(limiter, clock, [0, 1, 2, 50.5, 59.9, 60, 61]) == [
        None,
        None,
        None,
        10,
        1,
        None,
        None,
    ]


def test_fixed_window_lets_a_burst_straddle_the_boundary() -> None:
    """What the fixed window misses and the other two catch: 2 x limit within seconds."""
    clock = StillClock(MINUTE)
    limiter = FixedWindowLimiter(clock, 3)
    assert hits(limiter, clock, [58, 58.5, 59, 60, 60.5, 61]) == [None] * 6


def test_sliding_window_counts_the_last_60_seconds() -> None:
    clock = StillClock(MINUTE)
    limiter = SlidingWindowLimiter(clock, 3)
    assert hits(limiter, clock, [58, 58.5, 59, 60]) == [None, None, None, 59]
    # The refused request counts too: Retry-After waits until enough have aged out.
    assert hits(limiter, clock, [119]) == [None]


def test_sliding_window_keeps_a_hammering_client_blocked() -> None:
    clock = StillClock(MINUTE)
    limiter = SlidingWindowLimiter(clock, 2)
    assert hits(limiter, clock, [0, 1, 2, 30, 61.5]) == [None, None, 59, 32, 29]


def test_sliding_window_passes_requests_spaced_exactly_at_the_limit() -> None:
    clock = StillClock(MINUTE)
    limiter = SlidingWindowLimiter(clock, 3)
    assert hits(limiter, clock, [20.0 * n for n in range(30)]) == [None] * 30
    assert hits(limiter, clock, [599.9]) == [21]


def test_token_bucket_holds_one_second_of_the_rate() -> None:
    clock = StillClock(MINUTE)
    limiter = TokenBucketLimiter(clock, 600)  # 10 a second, 10 at most at once
    assert hits(limiter, clock, [0.0] * 10) == [None] * 10
    assert hits(limiter, clock, [0.0, 0.05, 0.11, 0.11]) == [1, 1, None, 1]


def test_token_bucket_at_one_a_second() -> None:
    clock = StillClock(MINUTE)
    limiter = TokenBucketLimiter(clock, 60)
    assert hits(limiter, clock, [0, 0.5, 1.0, 2.0, 2.1]) == [None, 1, None, None, 1]


@pytest.mark.parametrize("window", ["fixed", "sliding", "token_bucket"])
def test_no_limit_lets_everything_through(window: str) -> None:
    clock = StillClock(MINUTE)
    limiter = make_limiter(window, clock, None)
    assert hits(limiter, clock, [0.0] * 1000) == [None] * 1000
    limiter.limit = 2
    assert None not in hits(limiter, clock, [0.0] * 3)[-1:]


def test_an_unknown_window_is_refused_by_name() -> None:
    with pytest.raises(
        ValueError, match="rate_limit_window must be one of fixed, sliding, token_bucket"
    ):
        make_limiter("leaky", StillClock(MINUTE), 10)


def test_a_limit_below_one_is_refused() -> None:
    with pytest.raises(ValueError, match="requests_per_minute"):
        make_limiter("sliding", StillClock(MINUTE), 0)
