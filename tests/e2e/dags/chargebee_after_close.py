"""A ledger job scheduled on the month-end close's asset: it runs when a close chunk finishes."""

from __future__ import annotations

from typing import Any

import pendulum
from airflow.sdk import DAG, Asset, task

MONTH_END_CLOSE = Asset("chargebee://acme/month-end-close")

with DAG(
    dag_id="chargebee_after_close",
    schedule=[MONTH_END_CLOSE],
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    tags=["chargebee-e2e"],
) as dag:

    @task
    def book_closed_invoices(**context: Any) -> list[dict[str, Any]]:
        """What the close handed over: each event's period, counts and totals; previews skipped.

        A preview (``dry_run: true``) closed nothing: Airflow still records its event.
        """
        events = context["triggering_asset_events"][MONTH_END_CLOSE]
        return [
            {key: e.extra[key] for key in ("period", "counts", "totals")}
            for e in events
            if not e.extra.get("dry_run")
        ]

    book_closed_invoices()
