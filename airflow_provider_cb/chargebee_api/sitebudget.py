"""Which rate budget a connection gets, and the one line that says how to raise the default.

Kept apart from :mod:`~airflow_provider_cb.chargebee_api.ratebudget` so that the shared
budget (which needs the optional ``redis`` package) builds on the in-process one
without either importing the other back.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from airflow_provider_cb.chargebee_api.ratebudget import RateBudget
from airflow_provider_cb.chargebee_api.settings import DEFAULT_REQUESTS_PER_MINUTE, ClientSettings

log = logging.getLogger(__name__)

_announced: set[str] = set()
_announced_lock = threading.Lock()


def announce_default_pace(settings: ClientSettings) -> None:
    """Say once per site and process that the default pace is in force, and how to raise it."""
    if settings.requests_per_minute is not None or settings.lift_rate_budget:
        return
    with _announced_lock:
        if settings.budget_key in _announced:
            return
        _announced.add(settings.budget_key)
    log.info(
        "requests_per_minute is not set for %s: pacing at %d/min, the limit of Chargebee "
        "test sites and of the lowest live plan. Set the connection extra requests_per_minute "
        "to the site's limit (live plans allow 1,000 or 3,500) to go faster",
        settings.host,
        DEFAULT_REQUESTS_PER_MINUTE,
    )


def budget_for(settings: ClientSettings, *, sleep: Callable[[float], None]) -> RateBudget:
    """The connection's budget: shared through ``rate_limit_store`` when set, else in process."""
    announce_default_pace(settings)
    if settings.rate_limit_store is not None:
        from airflow_provider_cb.chargebee_api.sharedbudget import SharedBudget

        return SharedBudget(settings, sleep=sleep)
    return RateBudget(
        settings.pace, max_concurrent_requests=settings.max_concurrent_requests, sleep=sleep
    )
