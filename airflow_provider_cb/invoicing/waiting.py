"""When a wait on invoices ends: the rule shared by the sensor's pokes and the trigger.

A wait ends ``reached`` when an invoice shows a target status or dunning status,
``unreachable`` when it is in a final status that can never match (or, for a
batch, when an invoice is not found at all), and goes on otherwise. The payloads
built here are small JSON, whether a poke or the triggerer produced them.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection, Iterable, Mapping, Sequence
from typing import Any, Literal

from airflow_provider_cb.chargebee_api.errors import (
    ChargebeeError,
    ChargebeeValidationError,
    RateLimitError,
)
from airflow_provider_cb.invoicing.action_table import DUNNING_STATUSES, INVOICE_STATUSES

WaitOutcome = Literal["reached", "waiting", "unreachable"]
TERMINAL_STATUSES = frozenset({"paid", "voided"})
"""A paid invoice stays paid and a voided one stays voided: neither status ever changes."""
BATCH_READ_SIZE = 100
"""Invoices read per request in a batch wait: a full list page filtered by ``id[in]``."""
NAMED_IN_MESSAGES = 10
"""How many invoices a message names before it says "and N more"."""


def check_targets(
    statuses: Iterable[str] | None, dunning_statuses: Iterable[str] | None
) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """Both target lists as tuples of known values; at least one target is required."""
    checked = []
    for param, values, known in (
        ("target_statuses", statuses, INVOICE_STATUSES),
        ("target_dunning_statuses", dunning_statuses, DUNNING_STATUSES),
    ):
        if isinstance(values, str):
            raise ChargebeeValidationError(param, f"must be a list, e.g. [{values!r}]")
        items = tuple(values or ())
        unknown = [value for value in items if value not in known]
        if unknown:
            raise ChargebeeValidationError(
                param, f"{unknown[0]!r} is not one of {', '.join(known)}"
            )
        checked.append(items)
    if not checked[0] and not checked[1]:
        raise ChargebeeValidationError(
            "target_statuses", "give at least one status or dunning status to wait for"
        )
    return checked[0], checked[1]


def ends_wait(error: ChargebeeError) -> bool:
    """Whether a read that failed with ``error`` ends the wait, in every mode alike.

    A rate limit never does: the client has already waited as Chargebee told it, and
    a busy site says nothing about the invoices, so the next poll simply comes later.
    """
    return not isinstance(error, RateLimitError)


def wait_outcome(
    invoice: Mapping[str, Any], statuses: Collection[str], dunning_statuses: Collection[str]
) -> WaitOutcome:
    """Whether an invoice in this state ends the wait, may still get there, or never will."""
    if invoice.get("status") in statuses or invoice.get("dunning_status") in dunning_statuses:
        return "reached"
    if invoice.get("status") in TERMINAL_STATUSES:
        return "unreachable"
    return "waiting"


def describe_targets(statuses: Collection[str], dunning_statuses: Collection[str]) -> str:
    parts = []
    if statuses:
        parts.append("status " + " or ".join(statuses))
    if dunning_statuses:
        parts.append("dunning status " + " or ".join(dunning_statuses))
    return " or ".join(parts)


def wait_event(
    outcome: WaitOutcome | Literal["error"],
    invoice_id: str,
    invoice: Mapping[str, Any] | None = None,
    *,
    message: str = "",
    retryable: bool = False,
) -> dict[str, Any]:
    """The payload a wait on one invoice ends with."""
    return {
        "outcome": outcome,
        "invoice_id": invoice_id,
        "status": invoice.get("status") if invoice else None,
        "dunning_status": invoice.get("dunning_status") if invoice else None,
        "message": message,
        "retryable": retryable,
    }


def end_of_wait(
    invoice_id: str,
    invoice: Mapping[str, Any],
    statuses: Collection[str],
    dunning_statuses: Collection[str],
) -> dict[str, Any] | None:
    """The event that ends a wait on this invoice, or None while it may still get there."""
    outcome = wait_outcome(invoice, statuses, dunning_statuses)
    if outcome == "waiting":
        return None
    message = ""
    if outcome == "unreachable":
        message = (
            f"invoice {invoice_id} is {invoice.get('status')}, a final status: "
            f"it can never reach {describe_targets(statuses, dunning_statuses)}"
        )
    return wait_event(outcome, invoice_id, invoice, message=message)


def read_batches(invoice_ids: Sequence[str]) -> list[Sequence[str]]:
    """The ids in groups of :data:`BATCH_READ_SIZE`, one list request each."""
    return [
        invoice_ids[start : start + BATCH_READ_SIZE]
        for start in range(0, len(invoice_ids), BATCH_READ_SIZE)
    ]


def _named(items: Sequence[str]) -> str:
    shown = ", ".join(items[:NAMED_IN_MESSAGES])
    more = len(items) - NAMED_IN_MESSAGES
    return shown + (f" and {more} more" if more > 0 else "")


def _status_of(invoice: Mapping[str, Any]) -> str:
    dunning = invoice.get("dunning_status")
    return f"{invoice.get('status')}" + (f", dunning {dunning}" if dunning else "")


def outstanding(
    invoice_ids: Sequence[str],
    invoices: Mapping[str, Mapping[str, Any]],
    statuses: Collection[str],
    dunning_statuses: Collection[str],
) -> list[str]:
    """The invoices read that have not reached a target yet, each with its current status."""
    return [
        f"{invoice_id} ({_status_of(invoices[invoice_id])})"
        for invoice_id in invoice_ids
        if invoice_id in invoices
        and wait_outcome(invoices[invoice_id], statuses, dunning_statuses) == "waiting"
    ]


def describe_outstanding(total: int, waiting: Sequence[str]) -> str:
    return f"{len(waiting)} of {total} invoices still outstanding: {_named(waiting)}"


def end_of_batch_wait(
    invoice_ids: Sequence[str],
    invoices: Mapping[str, Mapping[str, Any]],
    statuses: Collection[str],
    dunning_statuses: Collection[str],
) -> dict[str, Any] | None:
    """The event that ends a wait on many invoices, or None while any may still get there.

    One invoice that can never reach a target (or that the site does not know) ends
    the wait at once: waiting on for the others could only end in a timeout.
    """
    missing = [invoice_id for invoice_id in invoice_ids if invoice_id not in invoices]
    final = [
        f"{invoice_id} ({_status_of(invoices[invoice_id])})"
        for invoice_id in invoice_ids
        if invoice_id in invoices
        and wait_outcome(invoices[invoice_id], statuses, dunning_statuses) == "unreachable"
    ]
    targets = describe_targets(statuses, dunning_statuses)
    if missing or final:
        problems = []
        if final:
            problems.append(
                f"{len(final)} in a final status that can never reach {targets}: {_named(final)}"
            )
        if missing:
            problems.append(f"{len(missing)} not found on the site: {_named(missing)}")
        return batch_event(
            "unreachable",
            invoice_ids,
            invoices,
            message=f"of {len(invoice_ids)} invoices, " + "; ".join(problems),
        )
    if outstanding(invoice_ids, invoices, statuses, dunning_statuses):
        return None
    return batch_event("reached", invoice_ids, invoices)


def judge_batch(
    invoice_ids: Sequence[str],
    read: Iterable[Mapping[str, Any]],
    statuses: Collection[str],
    dunning_statuses: Collection[str],
) -> tuple[dict[str, Any] | None, str]:
    """From the invoices one read returned: the event that ends the wait (or None), and
    while the wait goes on, what is still outstanding (for the log)."""
    invoices = {str(invoice.get("id")): invoice for invoice in read}
    event = end_of_batch_wait(invoice_ids, invoices, statuses, dunning_statuses)
    if event is not None:
        return event, ""
    waiting = outstanding(invoice_ids, invoices, statuses, dunning_statuses)
    return None, describe_outstanding(len(invoice_ids), waiting)


def batch_event(
    outcome: WaitOutcome | Literal["error"],
    invoice_ids: Sequence[str],
    invoices: Mapping[str, Mapping[str, Any]] | None = None,
    *,
    message: str = "",
    retryable: bool = False,
) -> dict[str, Any]:
    """The payload a wait on many invoices ends with: counts, never the invoices themselves."""
    read = list((invoices or {}).values())
    return {
        "outcome": outcome,
        "invoices": len(invoice_ids),
        "statuses": dict(Counter(str(invoice.get("status")) for invoice in read)),
        "dunning_statuses": dict(
            Counter(str(i["dunning_status"]) for i in read if i.get("dunning_status"))
        ),
        "message": message,
        "retryable": retryable,
    }
