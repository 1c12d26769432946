"""ListingGuard: a listing ends, whatever the server offers as a next page."""

from __future__ import annotations

from typing import Any

import pytest

from airflow_provider_cb.chargebee_api.errors import ChargebeeValidationError
from airflow_provider_cb.invoicing.list_filters import (
    DEFAULT_MAX_PAGES,
    PAGE_SIZE,
    SHORT_PAGES_ALLOWED,
    ListingGuard,
    ListingStoppedError,
    pages_for,
)

FULL = [{"id": "inv"}] * PAGE_SIZE


def follow(guard: ListingGuard, pages: list[list[Any]]) -> int:
    """Feed pages with fresh offsets; the number followed before the guard stopped."""
    for number, page in enumerate(pages):
        try:
            guard.follow(page, f"offset_{number}")
        except ListingStoppedError:
            return number
    return len(pages)


def test_full_pages_are_followed_up_to_the_page_budget() -> None:
    guard = ListingGuard(max_pages=5)
    with pytest.raises(ListingStoppedError, match=r"max_pages=5 is spent \(500 invoices read\)"):
        follow_all(guard, [FULL] * 10)
    assert guard.pages == 5


def follow_all(guard: ListingGuard, pages: list[list[Any]]) -> None:
    for number, page in enumerate(pages):
        guard.follow(page, f"offset_{number}")


def test_a_few_short_pages_are_tolerated_then_the_listing_stops() -> None:
    guard = ListingGuard()
    assert follow(guard, [FULL[:1]] * 20) == SHORT_PAGES_ALLOWED
    with pytest.raises(ListingStoppedError, match="fewer than 100 invoices yet offered a next"):
        guard.follow(FULL[:1], "one_more")


def test_short_pages_among_full_ones_count_too() -> None:
    pages = [FULL, FULL[:50], FULL, FULL[:99], FULL, FULL[:1], FULL, FULL[:2]]
    assert follow(ListingGuard(), pages) == 7


@pytest.mark.parametrize(
    ("pages", "offsets", "problem"),
    [([[]], ["a"], "an empty page"), ([FULL, FULL], ["a", "a"], "was given before")],
)
def test_loops_stop_at_once(pages: list[list[Any]], offsets: list[str], problem: str) -> None:
    guard = ListingGuard()
    with pytest.raises(ListingStoppedError, match=problem) as raised:
        for page, offset in zip(pages, offsets, strict=True):
            guard.follow(page, offset)
    assert raised.value.retryable is False


def test_the_default_budget_and_the_budget_max_results_needs() -> None:
    assert ListingGuard().max_pages == DEFAULT_MAX_PAGES
    # 10,000 invoices and one more need 101 full pages; short pages are allowed on top.
    assert pages_for(10_000) == 101 + SHORT_PAGES_ALLOWED
    assert pages_for(1) == 1 + SHORT_PAGES_ALLOWED


@pytest.mark.parametrize("bad", [0, -1, True, 2.5, "10"])
def test_a_bad_page_budget_is_refused(bad: object) -> None:
    with pytest.raises(ChargebeeValidationError, match=r"^max_pages: "):
        ListingGuard(max_pages=bad)  # type: ignore[arg-type]
