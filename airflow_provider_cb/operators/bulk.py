"""What an action task says while it acts on many invoices: its chunk's name and its log lines."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, cast

from airflow_provider_cb.invoicing.money import format_money

if TYPE_CHECKING:
    from airflow.sdk import Context

    from airflow_provider_cb.invoicing.bulk_runs import BulkSummary

log = logging.getLogger(__name__)


def gerund(action: str) -> str:
    """``close`` -> ``closing``, ``stop_dunning`` -> ``stopping dunning on``."""
    verb, _, rest = action.partition("_")
    if verb.endswith("e"):
        verb = verb[:-1]
    elif len(verb) <= 4 and verb[-1] not in "aeiouwy" and verb[-2] in "aeiou":
        verb += verb[-1]
    return f"{verb}ing {rest} on" if rest else f"{verb}ing"


def name_chunk(context: Context, ids: Sequence[str]) -> None:
    """Offer ``invoice_range`` (``inv_000101…inv_000200 (100)``) to a ``map_index_template``."""
    label = f"{ids[0]}…{ids[-1]} ({len(ids)})" if ids else "no invoices (0)"
    cast("dict[str, Any]", context)["invoice_range"] = label


def log_start(
    action: str,
    count: int,
    *,
    rate: float | None,
    max_workers: int,
    dry_run: bool,
    pace_scope: str,
) -> None:
    """One line a controller reads first: what, how many, how fast, for real or not."""
    log.info(
        "%s%s %d invoices at <= %s/min with %d workers, dry run: %s; %s",
        "DRY RUN: " if dry_run else "",
        gerund(action),
        count,
        f"{rate:g}" if rate else "unlimited",
        max_workers,
        "yes" if dry_run else "no",
        pace_scope,
    )
    if count == 0:
        log.info("%s: nothing to do, no invoices were selected", action)


def log_preview(summary: BulkSummary) -> None:
    """A dry run lists each invoice it would act on, with its amount when known."""
    for record in summary.records:
        if record.outcome == "would_act":
            amount = (
                f" ({format_money(record.amount_due, record.currency_code)} due)"
                if record.amount_due is not None and record.currency_code is not None
                else ""
            )
            log.info("DRY RUN: would %s %s%s", summary.action, record.invoice_id, amount)
