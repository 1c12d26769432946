"""What the emulated site allows and does, written from Chargebee's own documents.

These rules are the emulator's second opinion: they come from Chargebee's API
reference (the page of each endpoint), its v1 OpenAPI specification and the
enums of the official Python SDK (``chargebee`` 3.x), never from the client's
action table, so a rule the client gets wrong fails a test instead of passing
everywhere. For each action: the API version that serves it, its body
parameters, the statuses it acts on, what else it needs, and what it changes.

- ``close`` (v2) and ``collect`` (v1, with at least one line item): a
  ``pending`` invoice is finalized.
- ``write_off``: ``payment_due``, ``not_paid`` or ``posted``; marked ``paid``
  with an adjustment credit note.
- ``stop_dunning``: ``payment_due`` with auto collection on for the invoice's
  subscription or customer (the Invoice object has no such attribute); becomes
  ``not_paid``.
- ``pause_dunning``: the same, not already paused; sets ``expected_payment_date``.
- ``resume_dunning``: ``payment_due`` with a paused dunning; clears it.

Anything else answers 409 ``invalid_state_for_request`` (the status the
specification's ``components/schemas/409`` gives).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from airflow_provider_cb.testing.params import Param
from airflow_provider_cb.testing.wire import wrong_value

Invoice = dict[str, Any]
Effect = Callable[[Invoice, Mapping[str, Any], int, str], dict[str, Any]]
"""Changes the invoice (body, now, auto collection) and returns related objects to answer."""

INVOICE_STATUSES = ("paid", "posted", "payment_due", "not_paid", "voided", "pending")
"""``Invoice.Status`` in the Python SDK; v1 has no ``posted``."""
DUNNING_STATUSES = ("in_progress", "exhausted", "stopped", "success")
"""``Invoice.DunningStatus`` in the Python SDK."""
AUTO_COLLECTION = ("on", "off")
"""``enums.AutoCollection``: a customer's setting, which a subscription's overrides."""
NOTE_ENTITY_TYPES = (
    "customer",
    "subscription",
    "coupon",
    "plan_item_price",
    "addon_item_price",
    "charge_item_price",
    "plan_price",
    "addon_price",
    "charge_price",
    "invoice",
    "quote",
    "credit_note",
    "transaction",
    "plan",
    "addon",
    "order",
    "item_family",
    "item",
    "item_price",
    "plan_item",
    "addon_item",
    "charge_item",
    "differential_price",
    "attached_item",
    "feature",
    "subscription_entitlement",
    "item_entitlement",
    "business_entity",
    "price_variant",
    "omnichannel_subscription",
    "omnichannel_subscription_item",
    "omnichannel_transaction",
    "recorded_purchase",
    "omnichannel_subscription_item_scheduled_change",
    "sales_order",
)
"""``enums.EntityType``, the type of ``CloseNotesToRemoveParams.entity_type`` in the SDK."""

COMMENT = Param("comment", "text", max_length=300)
"""Every action's ``comment``: at most 300 characters (API reference)."""
CLOSE_PARAMS = (
    COMMENT,
    Param("invoice_note", "text", max_length=2000),
    Param("remove_general_note", "boolean"),
    Param("invoice_date", "timestamp", when="past"),
    Param(
        "notes_to_remove",
        "objects",
        items=(
            Param("entity_type", "text", choices=NOTE_ENTITY_TYPES, required=True),
            Param("entity_id", "text", max_length=100, required=True),
        ),
    ),
)


@dataclass(frozen=True, slots=True)
class Condition:
    """Something besides its status an invoice needs for an action, in words for the 409."""

    holds: Callable[[Invoice, str], bool]
    text: str


@dataclass(frozen=True, slots=True)
class SiteAction:
    """One ``POST /api/<version>/invoices/{id}/<name>`` endpoint of the emulated site."""

    name: str
    api_version: str
    params: tuple[Param, ...]
    statuses: frozenset[str]
    effect: Effect
    needs: tuple[Condition, ...] = ()

    def refusal(self, invoice: Invoice, auto_collection: str) -> str | None:
        """Why the invoice cannot take this action now, or None when it can."""
        if invoice["status"] not in self.statuses:
            return f"{self.name} needs status {' or '.join(sorted(self.statuses))}"
        for condition in self.needs:
            if not condition.holds(invoice, auto_collection):
                return f"{self.name} needs {condition.text}"
        return None


def is_paused(invoice: Mapping[str, Any]) -> bool:
    """A paused dunning shows as an expected payment date on a ``payment_due`` invoice."""
    return invoice["status"] == "payment_due" and invoice.get("expected_payment_date") is not None


def describe(invoice: Mapping[str, Any], auto_collection: str) -> str:
    """The invoice's state in a 409's message."""
    parts = [f"status {invoice['status']}"]
    if invoice.get("dunning_status"):
        parts.append(f"dunning {invoice['dunning_status']}")
    if is_paused(invoice):
        parts.append("dunning paused")
    parts.append(f"auto collection {auto_collection}")
    return ", ".join(parts)


def _finalize(leads_to: str) -> Effect:
    """close and collect: stamp the date, edit the notes, and settle or leave the amount due.

    Credits and payments are not modelled: an invoice with nothing due becomes
    ``paid``, otherwise ``leads_to``, with dunning ``in_progress`` only when
    auto collection is on (a charge would be attempted and could fail).
    """

    def effect(
        invoice: Invoice, body: Mapping[str, Any], now: int, auto_collection: str
    ) -> dict[str, Any]:
        invoice_date = body.get("invoice_date")
        if invoice_date is not None:
            if invoice_date < invoice["date"]:
                raise wrong_value(
                    "invoice_date",
                    f"{invoice_date} is before the invoice's date {invoice['date']}",
                )
            invoice["date"] = invoice["due_date"] = invoice_date
        notes: list[dict[str, Any]] = invoice["notes"]
        if body.get("remove_general_note"):
            notes = [note for note in notes if note.get("entity_type") is not None]
        removed = {(n["entity_type"], n["entity_id"]) for n in body.get("notes_to_remove", ())}
        notes = [n for n in notes if (n.get("entity_type"), n.get("entity_id")) not in removed]
        if body.get("invoice_note") is not None:
            notes.append({"note": body["invoice_note"]})
        invoice["notes"] = notes
        if invoice["amount_due"] == 0:
            invoice.update(status="paid", paid_at=now)
        else:
            invoice["status"] = leads_to
            if auto_collection == "on":
                invoice["dunning_status"] = "in_progress"
        return {}

    return effect


def _write_off(
    invoice: Invoice, body: Mapping[str, Any], now: int, auto_collection: str
) -> dict[str, Any]:
    """Settle the amount due with an adjustment credit note (``WriteOffResponse``)."""
    amount = invoice["amount_due"]
    invoice.update(status="paid", amount_due=0, write_off_amount=amount, paid_at=now)
    credit_note = {
        "id": f"cn_{invoice['id']}",
        "customer_id": invoice["customer_id"],
        "subscription_id": invoice.get("subscription_id"),
        "reference_invoice_id": invoice["id"],
        "type": "adjustment",
        "reason_code": "write_off",
        "create_reason_code": "Write Off",
        "status": "adjusted",
        "date": now,
        "price_type": invoice["price_type"],
        "currency_code": invoice["currency_code"],
        "total": amount,
        "sub_total": amount,
        "amount_allocated": amount,
        "amount_refunded": 0,
        "amount_available": 0,
        "resource_version": now * 1000,
        "updated_at": now,
        "deleted": False,
    }
    return {"credit_note": {k: v for k, v in credit_note.items() if v is not None}}


def _stop_dunning(
    invoice: Invoice, body: Mapping[str, Any], now: int, auto_collection: str
) -> dict[str, Any]:
    invoice.update(status="not_paid", dunning_status="stopped", expected_payment_date=None)
    return {}


def _pause_dunning(
    invoice: Invoice, body: Mapping[str, Any], now: int, auto_collection: str
) -> dict[str, Any]:
    invoice["expected_payment_date"] = body["expected_payment_date"]
    return {}


def _resume_dunning(
    invoice: Invoice, body: Mapping[str, Any], now: int, auto_collection: str
) -> dict[str, Any]:
    invoice.update(dunning_status="in_progress", expected_payment_date=None)
    return {}


AUTO_COLLECTION_ON = Condition(
    lambda invoice, auto_collection: auto_collection == "on",
    "auto collection on for the invoice's subscription or customer",
)
NOT_PAUSED = Condition(lambda invoice, _: not is_paused(invoice), "a dunning not paused")
PAUSED = Condition(lambda invoice, _: is_paused(invoice), "a paused dunning")
HAS_LINE_ITEMS = Condition(lambda invoice, _: bool(invoice["line_items"]), "a line item")

_OWED = frozenset({"payment_due", "not_paid", "posted"})
SITE_ACTIONS: Mapping[tuple[str, str], SiteAction] = {
    (action.api_version, action.name): action
    for action in (
        SiteAction("close", "v2", CLOSE_PARAMS, frozenset({"pending"}), _finalize("payment_due")),
        SiteAction(
            "collect",
            "v1",
            (),
            frozenset({"pending"}),
            _finalize("payment_due"),
            (HAS_LINE_ITEMS,),
        ),
        SiteAction("write_off", "v2", (COMMENT,), _OWED, _write_off),
        SiteAction(
            "stop_dunning",
            "v2",
            (COMMENT,),
            frozenset({"payment_due"}),
            _stop_dunning,
            (AUTO_COLLECTION_ON,),
        ),
        SiteAction(
            "pause_dunning",
            "v2",
            (Param("expected_payment_date", "timestamp", required=True, when="future"), COMMENT),
            frozenset({"payment_due"}),
            _pause_dunning,
            (AUTO_COLLECTION_ON, NOT_PAUSED),
        ),
        SiteAction(
            "resume_dunning",
            "v2",
            (COMMENT,),
            frozenset({"payment_due"}),
            _resume_dunning,
            (PAUSED,),
        ),
    )
}
"""The actions by (API version, endpoint): each is served only on its own version."""
