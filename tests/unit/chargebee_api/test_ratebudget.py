"""RateBudget with a fake clock: even spacing, pauses, learning from 429 and the slot cap."""

from __future__ import annotations

import itertools
import logging
import threading
import time

import pytest

from airflow_provider_cb.chargebee_api.ratebudget import PACING_MARGIN, RateBudget, interval_of

from ..conftest import FakeClock


def budget(rpm: float | None, clock: FakeClock) -> RateBudget:
    return RateBudget(rpm, clock=clock.clock, sleep=clock.sleep)


def send_times(b: RateBudget, clock: FakeClock, count: int) -> list[float]:
    """When each of ``count`` back-to-back callers is let through, relative to the start."""
    start = clock.now
    times = []
    for _ in range(count):
        b.acquire()
        times.append(round(clock.now - start, 6))
    return times


def gaps(times: list[float]) -> list[float]:
    return [later - earlier for earlier, later in itertools.pairwise(times)]


def evenly(rpm: float, count: int) -> list[object]:
    return [pytest.approx(interval_of(rpm), abs=1e-5)] * count


def test_unlimited_never_waits(fake_clock: FakeClock) -> None:
    b = budget(None, fake_clock)
    assert [b.acquire() for _ in range(500)] == [None] * 500
    assert fake_clock.sleeps == []
    assert b.waited_seconds == 0.0


@pytest.mark.parametrize("rpm", [30, 60, 150, 1000, 3500])
def test_requests_are_evenly_spaced_from_the_first(rpm: float, fake_clock: FakeClock) -> None:
    times = send_times(budget(rpm, fake_clock), fake_clock, 6)
    assert times[0] == 0.0
    assert gaps(times) == evenly(rpm, 5)
    assert interval_of(rpm) == pytest.approx(60 / rpm / PACING_MARGIN)


@pytest.mark.parametrize("rpm", [1, 7, 150, 1000])
def test_no_minute_holds_more_than_the_rate_yet_nearly_all_of_it(
    rpm: float, fake_clock: FakeClock
) -> None:
    """Any 60 s window, ends included, as a fixed or sliding window server counts."""
    times = send_times(budget(rpm, fake_clock), fake_clock, 3 * rpm + 1)
    counts = [sum(1 for t in times if start <= t <= start + 60) for start in times]
    assert max(counts) <= rpm
    assert min(counts[: rpm + 1]) >= 0.97 * rpm


def test_idle_time_earns_no_burst(fake_clock: FakeClock) -> None:
    b = budget(60, fake_clock)
    send_times(b, fake_clock, 3)
    fake_clock.now += 100
    times = send_times(b, fake_clock, 4)
    assert times[0] == 0.0
    assert gaps(times) == evenly(60, 3)


def test_concurrent_callers_queue_up(fake_clock: FakeClock) -> None:
    """Reservations made at the same instant (threads) are spaced one after another."""
    b = budget(60 / PACING_MARGIN, fake_clock)  # one a second, margin included
    waits = [b._reserve("") for _ in range(4)]
    assert waits == pytest.approx([0.0, 1.0, 2.0, 3.0], abs=1e-3)


def test_pause_for_holds_the_next_caller_then_paces_evenly(fake_clock: FakeClock) -> None:
    b = budget(60, fake_clock)
    b.pause_for(30)
    times = send_times(b, fake_clock, 4)
    assert times[0] == 30.0
    assert gaps(times) == evenly(60, 3)


def test_pause_for_holds_every_caller(fake_clock: FakeClock) -> None:
    b = budget(60, fake_clock)
    b.pause_for(30)
    waits = [b._reserve("") for _ in range(3)]  # three threads arriving during the pause
    assert all(wait >= 30.0 for wait in waits)
    assert waits == sorted(waits)


def test_pause_on_unlimited_budget_holds_every_caller(fake_clock: FakeClock) -> None:
    b = budget(None, fake_clock)
    b.pause_for(12)
    assert [b._reserve("") for _ in range(3)] == [12.0, 12.0, 12.0]
    b.acquire()
    assert fake_clock.sleeps == [12.0]
    b.acquire()  # the pause is over
    assert fake_clock.sleeps == [12.0]


def test_shorter_pause_does_not_cut_a_longer_one(fake_clock: FakeClock) -> None:
    b = budget(None, fake_clock)
    b.pause_for(60)
    b.pause_for(10)
    b.acquire()
    assert fake_clock.sleeps == [60.0]


def test_pause_counts_in_waited_seconds(fake_clock: FakeClock) -> None:
    b = budget(None, fake_clock)
    b.pause_for(5)
    b.acquire()
    b.pause_for(2.5)
    b.acquire()
    assert b.waited_seconds == 7.5
    assert fake_clock.sleeps == [5.0, 2.5]


def test_a_pause_begun_during_a_wait_moves_the_waiter_past_it(fake_clock: FakeClock) -> None:
    b = budget(60, fake_clock)
    b.acquire()
    b._reserve("")  # another thread holds the next moment: this caller waits two intervals

    def sleep_while_another_thread_hits_429(seconds: float) -> None:
        fake_clock.sleeps.append(seconds)
        if len(fake_clock.sleeps) == 1:
            b.pause_for(30)  # another worker got 429 Retry-After: 30 meanwhile
        fake_clock.now += seconds

    b._sleep = sleep_while_another_thread_hits_429
    paused_until = fake_clock.now + 30
    b.acquire()
    assert fake_clock.now == pytest.approx(paused_until)
    # It took a new moment after the pause, so the next one is a full interval later.
    b.acquire()
    assert fake_clock.now == pytest.approx(paused_until + interval_of(60))


def test_a_429_lowers_the_rate_once_for_the_requests_paced_at_it(
    fake_clock: FakeClock, caplog: pytest.LogCaptureFixture
) -> None:
    b = budget(180, fake_clock)
    paced = [b.acquire() for _ in range(8)]  # eight workers in flight at 180/min
    with caplog.at_level(logging.WARNING, logger="airflow_provider_cb.chargebee_api.ratebudget"):
        for paced_at in paced:
            b.slow_down(paced_at)
        assert b.requests_per_minute == pytest.approx(150)
        later = b.acquire()
        b.slow_down(later)
    assert later == pytest.approx(150)
    assert b.requests_per_minute == pytest.approx(125)
    assert [record.getMessage() for record in caplog.records] == [
        "Chargebee answered 429 at 180/min; pacing at 150/min from now on",
        "Chargebee answered 429 at 150/min; pacing at 125/min from now on",
    ]
    times = send_times(b, fake_clock, 3)
    assert gaps(times) == evenly(125, 2)


def test_slowing_down_stops_at_one_a_minute(fake_clock: FakeClock) -> None:
    b = budget(1.1, fake_clock)
    b.slow_down(b.acquire())
    b.slow_down(b.acquire())
    assert b.requests_per_minute == 1.0


def test_an_unlimited_budget_learns_nothing(fake_clock: FakeClock) -> None:
    b = budget(None, fake_clock)
    b.slow_down(b.acquire())
    assert b.requests_per_minute is None


@pytest.mark.parametrize("cap", [1, 3])
def test_turn_caps_requests_in_flight(cap: int) -> None:
    b = RateBudget(None, max_concurrent_requests=cap)
    in_flight = 0
    peak = 0
    lock = threading.Lock()

    def request() -> None:
        nonlocal in_flight, peak
        with b.turn():
            with lock:
                in_flight += 1
                peak = max(peak, in_flight)
            time.sleep(0.02)
            with lock:
                in_flight -= 1

    threads = [threading.Thread(target=request) for _ in range(12)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert peak == cap


def test_turn_frees_its_slot_when_the_request_fails() -> None:
    b = RateBudget(None, max_concurrent_requests=1)
    with pytest.raises(RuntimeError), b.turn():
        raise RuntimeError("the request failed")
    with b.turn() as paced_at:
        assert paced_at is None
