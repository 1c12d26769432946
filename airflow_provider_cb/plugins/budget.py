"""The sites' rate budgets on the month-end page: one per Chargebee connection with a store.

A shared ``rate_limit_store`` keeps the site's pace and what its 429s taught it
(:func:`~airflow_provider_cb.chargebee_api.sharedbudget.read_site_budget`); a connection
without one paces each process alone and has nothing to show. Connections are
those of type ``chargebee`` in Airflow's metadata database and in the API
server's ``AIRFLOW_CONN_*`` environment; other secrets backends cannot be
listed. The store's URL and password never reach the page: a store that fails
is reported by the kind of error alone.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Iterable
from typing import Any

from airflow_provider_cb.chargebee_api.errors import ChargebeeValidationError, RateLimitStoreError
from airflow_provider_cb.chargebee_api.settings import ClientSettings
from airflow_provider_cb.hooks.chargebee import ChargebeeHook

ENV_PREFIX = "AIRFLOW_CONN_"


def chargebee_connection_ids() -> list[str]:
    """Connections of type ``chargebee``: the metadata database's and the environment's."""
    from airflow.models.connection import Connection
    from airflow.utils.session import create_session
    from sqlalchemy import select

    with create_session() as session:
        ids = set(
            session.scalars(
                select(Connection.conn_id).where(Connection.conn_type == ChargebeeHook.conn_type)
            )
        )
    for name in os.environ:
        if name.startswith(ENV_PREFIX) and len(name) > len(ENV_PREFIX):
            conn_id = name[len(ENV_PREFIX) :].lower()
            try:
                kind = ChargebeeHook.get_connection(conn_id).conn_type
            except Exception:  # an unparsable variable is no Chargebee connection
                continue
            if kind == ChargebeeHook.conn_type:
                ids.add(conn_id)
    return sorted(ids)


def _when(epoch: float | None) -> str | None:
    if epoch is None:
        return None
    return dt.datetime.fromtimestamp(epoch, dt.UTC).isoformat(timespec="seconds")


def _rate(per_minute: float | None) -> float | None:
    return None if per_minute is None else round(per_minute, 1)


def _site(settings: ClientSettings) -> dict[str, Any]:
    return {
        "site": (settings.site or "no-site") + ("-test" if settings.test_site else ""),
        "host": settings.host,
        "configured_per_minute": _rate(settings.pace),
    }


def site_budget(conn_id: str) -> dict[str, Any] | None:
    """The connection's site budget as its store holds it; None without a store."""
    from airflow_provider_cb.chargebee_api.sharedbudget import read_site_budget

    try:
        settings = ChargebeeHook(chargebee_conn_id=conn_id).connection_settings()[0]
    except ChargebeeValidationError as error:
        return {"conn_id": conn_id, "error": f"the connection's {error.param} is refused"}
    if settings.rate_limit_store is None:
        return None
    shown = {"conn_id": conn_id, **_site(settings)}
    try:
        state = read_site_budget(settings)
    except RateLimitStoreError as error:
        cause = type(error.__context__).__name__ if error.__context__ else "no answer"
        return {**shown, "error": f"the rate_limit_store did not answer ({cause})"}
    return {
        **shown,
        "requests_per_minute": _rate(state.requests_per_minute),
        "learned_per_minute": _rate(state.learned_per_minute),
        "processes": state.processes,
        "site_429s": state.site_429s,
        "first_429_at": _when(state.first_429_at),
        "last_429_at": _when(state.last_429_at),
        "lowered_at": _when(state.lowered_at),
        "lowered_to": _rate(state.lowered_to),
    }


def site_budgets(conn_ids: Iterable[str]) -> list[dict[str, Any]]:
    """Each connection's site budget, for the connections that have a store."""
    return [budget for conn_id in conn_ids if (budget := site_budget(conn_id)) is not None]
