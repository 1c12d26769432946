"""RateBudget with a fake clock: spacing, burst, pauses and the unlimited budget."""

from __future__ import annotations

import itertools

import pytest

from airflow_provider_cb.client.ratebudget import RateBudget

from .conftest import FakeClock


def budget(rpm: float | None, clock: FakeClock, burst: float | None = None) -> RateBudget:
    return RateBudget(rpm, burst=burst, clock=clock.clock, sleep=clock.sleep)


def send_times(b: RateBudget, clock: FakeClock, count: int) -> list[float]:
    """When each of ``count`` back-to-back callers is let through, relative to the start."""
    start = clock.now
    times = []
    for _ in range(count):
        b.acquire()
        times.append(round(clock.now - start, 6))
    return times


def test_unlimited_never_waits(fake_clock: FakeClock) -> None:
    b = budget(None, fake_clock)
    assert [b.acquire() for _ in range(500)] == [0.0] * 500
    assert fake_clock.sleeps == []
    assert b.waited_seconds == 0.0


@pytest.mark.parametrize(
    ("rpm", "expected"),
    [
        (60, [0.0, 1.0, 2.0, 3.0, 4.0]),
        (120, [0.0, 0.5, 1.0, 1.5, 2.0]),
        (150, [0.0, 0.4, 0.8, 1.2, 1.6]),
        (30, [0.0, 2.0, 4.0, 6.0, 8.0]),
    ],
)
def test_spacing_at_the_configured_rate(
    rpm: float, expected: list[float], fake_clock: FakeClock
) -> None:
    assert send_times(budget(rpm, fake_clock, burst=1), fake_clock, 5) == expected


def test_sustained_rate_over_a_minute(fake_clock: FakeClock) -> None:
    b = budget(150, fake_clock, burst=1)
    times = send_times(b, fake_clock, 151)
    assert times[-1] == pytest.approx(60.0)
    assert b.waited_seconds == pytest.approx(60.0)


def test_no_minute_exceeds_rate_plus_burst(fake_clock: FakeClock) -> None:
    b = budget(150, fake_clock)  # default burst: one second's worth, 2.5 requests
    times = send_times(b, fake_clock, 400)
    for start in times:
        in_window = [t for t in times if start <= t < start + 60]
        assert len(in_window) <= 150 + 2.5


def test_default_burst_at_120_per_minute(fake_clock: FakeClock) -> None:
    assert send_times(budget(120, fake_clock), fake_clock, 4) == [0.0, 0.0, 0.5, 1.0]


def test_default_burst_is_one_second_of_requests(fake_clock: FakeClock) -> None:
    b = budget(3600, fake_clock)  # 60 per second
    times = send_times(b, fake_clock, 61)
    assert times[:60] == [0.0] * 60
    assert times[60] > 0.0


def test_concurrent_callers_queue_up(fake_clock: FakeClock) -> None:
    """Reservations made at the same instant (threads) are spaced one after another."""
    b = budget(60, fake_clock)
    waits = [b._reserve() for _ in range(4)]
    assert waits == [0.0, 1.0, 2.0, 3.0]


def test_burst_capacity(fake_clock: FakeClock) -> None:
    b = budget(60, fake_clock, burst=5)
    assert send_times(b, fake_clock, 7) == [0.0, 0.0, 0.0, 0.0, 0.0, 1.0, 2.0]


def test_idle_time_refills_up_to_the_burst_only(fake_clock: FakeClock) -> None:
    b = budget(60, fake_clock, burst=3)
    send_times(b, fake_clock, 3)
    fake_clock.now += 100  # idle long enough to earn 100 tokens; the bucket holds 3
    assert send_times(b, fake_clock, 5) == [0.0, 0.0, 0.0, 1.0, 2.0]


def test_pause_for_holds_the_next_caller(fake_clock: FakeClock) -> None:
    b = budget(60, fake_clock, burst=10)
    b.pause_for(30)
    waited = b.acquire()
    assert 30.0 <= waited <= 31.0


def test_pause_for_drains_the_bucket(fake_clock: FakeClock) -> None:
    """After the pause the burst is gone: callers go at the steady rate, not all at once."""
    b = budget(60, fake_clock, burst=10)
    b.pause_for(30)
    times = send_times(b, fake_clock, 4)
    assert times[0] >= 30.0
    gaps = [round(later - earlier, 6) for earlier, later in itertools.pairwise(times)]
    assert gaps == [1.0, 1.0, 1.0]


def test_pause_for_holds_every_caller(fake_clock: FakeClock) -> None:
    b = budget(60, fake_clock, burst=10)
    b.pause_for(30)
    waits = [b._reserve() for _ in range(3)]  # three threads arriving during the pause
    assert all(wait >= 30.0 for wait in waits)
    assert waits == sorted(waits)


def test_pause_on_unlimited_budget_holds_every_caller(fake_clock: FakeClock) -> None:
    b = budget(None, fake_clock)
    b.pause_for(12)
    assert [b._reserve() for _ in range(3)] == [12.0, 12.0, 12.0]
    assert b.acquire() == 12.0
    assert b.acquire() == 0.0  # the pause is over


def test_shorter_pause_does_not_cut_a_longer_one(fake_clock: FakeClock) -> None:
    b = budget(None, fake_clock)
    b.pause_for(60)
    b.pause_for(10)
    assert b.acquire() == 60.0


def test_pause_counts_in_waited_seconds(fake_clock: FakeClock) -> None:
    b = budget(None, fake_clock)
    b.pause_for(5)
    b.acquire()
    b.pause_for(2.5)
    b.acquire()
    assert b.waited_seconds == 7.5
    assert fake_clock.sleeps == [5.0, 2.5]


def test_pause_for_holds_callers_already_waiting(fake_clock: FakeClock) -> None:
    b = budget(60, fake_clock)
    b.acquire()  # takes the only token; the next caller must wait 1s

    def sleep_while_another_thread_hits_429(seconds: float) -> None:
        fake_clock.sleeps.append(seconds)
        if len(fake_clock.sleeps) == 1:
            b.pause_for(30)  # another worker got 429 Retry-After: 30 meanwhile
        fake_clock.now += seconds

    b._sleep = sleep_while_another_thread_hits_429
    paused_until = fake_clock.now + 30
    b.acquire()
    assert fake_clock.now >= paused_until
