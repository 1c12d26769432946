"""The emulated site's invoices and what each action does to them.

Which invoices an action may touch and the status it leads to come from the
client's :data:`~airflow_provider_cb.client.invoices.ACTIONS` table; this module
adds only the side effects a real site has beyond the status change. Invoices are
kept in v2 shape and rendered as v1 or v2 on the way out, under the one state
lock, so a response always shows a consistent invoice.
"""

from __future__ import annotations

import copy
import threading
from collections.abc import Callable, Mapping
from typing import Any

from airflow_provider_cb.client import validation
from airflow_provider_cb.client.invoices import InvoiceAction, describe_invoice_state
from airflow_provider_cb.testing import listing
from airflow_provider_cb.testing.clock import Clock
from airflow_provider_cb.testing.fields import complete
from airflow_provider_cb.testing.records import AppliedAction, RecordLog
from airflow_provider_cb.testing.wire import Answer, ApiError, json_answer, not_found, wrong_value

Invoice = dict[str, Any]
Effect = Callable[[InvoiceAction, Invoice, Mapping[str, Any], int], dict[str, Any]]

_PAYABLE = ("posted", "payment_due", "not_paid")
"""Statuses a customer's payment can settle: the invoice is final and money is owed."""
_V1_STATUS = {"posted": "payment_due"}
"""v1 has no ``posted`` status; such invoices read as ``payment_due`` there."""


def _close(
    action: InvoiceAction, invoice: Invoice, body: Mapping[str, Any], now: int
) -> dict[str, Any]:
    """close (v2) and collect (v1): finalize; dunning starts when money is owed and collected.

    Credits and payments are not modelled: an invoice with nothing due becomes
    ``paid``, otherwise ``action.leads_to``, with ``dunning_status`` ``in_progress``
    only when auto collection is on.
    """
    invoice_date = body.get("invoice_date")
    if invoice_date is not None:
        if invoice_date < invoice["date"]:
            raise wrong_value(
                "invoice_date", f"{invoice_date} is before the invoice's date {invoice['date']}"
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
        invoice["status"] = action.leads_to
        if invoice["auto_collection"] == "on":
            invoice["dunning_status"] = "in_progress"
    return {}


def _write_off(
    action: InvoiceAction, invoice: Invoice, body: Mapping[str, Any], now: int
) -> dict[str, Any]:
    """Settle the amount due with an adjustment credit note, as Chargebee's write-off does."""
    amount = invoice["amount_due"]
    invoice.update(status=action.leads_to, amount_due=0, write_off_amount=amount, paid_at=now)
    credit_note = {
        "id": f"cn_{invoice['id']}",
        "customer_id": invoice["customer_id"],
        "subscription_id": invoice["subscription_id"],
        "reference_invoice_id": invoice["id"],
        "type": "adjustment",
        "reason_code": "write_off",
        "create_reason_code": "Write Off",
        "status": "adjusted",
        "date": now,
        "price_type": invoice["price_type"],
        "currency_code": invoice["currency_code"],
        "total": amount,
        "amount_allocated": amount,
        "amount_refunded": 0,
        "amount_available": 0,
        "object": "credit_note",
    }
    return {"credit_note": {k: v for k, v in credit_note.items() if v is not None}}


def _stop_dunning(
    action: InvoiceAction, invoice: Invoice, body: Mapping[str, Any], now: int
) -> dict[str, Any]:
    invoice.update(status=action.leads_to, dunning_status="stopped", expected_payment_date=None)
    return {}


def _pause_dunning(
    action: InvoiceAction, invoice: Invoice, body: Mapping[str, Any], now: int
) -> dict[str, Any]:
    invoice.update(status=action.leads_to, expected_payment_date=body["expected_payment_date"])
    return {}


def _resume_dunning(
    action: InvoiceAction, invoice: Invoice, body: Mapping[str, Any], now: int
) -> dict[str, Any]:
    invoice.update(status=action.leads_to, dunning_status="in_progress", expected_payment_date=None)
    return {}


def _lead_to(
    action: InvoiceAction, invoice: Invoice, body: Mapping[str, Any], now: int
) -> dict[str, Any]:
    """An action without modelled side effects just moves the invoice to ``leads_to``."""
    invoice["status"] = action.leads_to
    return {}


_EFFECTS: Mapping[str, Effect] = {
    "close": _close,
    "collect": _close,
    "write_off": _write_off,
    "stop_dunning": _stop_dunning,
    "pause_dunning": _pause_dunning,
    "resume_dunning": _resume_dunning,
}

_EXTRA_CONDITIONS: Mapping[str, tuple[Callable[[Invoice], bool], str]] = {
    "collect": (lambda invoice: bool(invoice["line_items"]), "it has no line items"),
}
"""Eligibility rules a real site enforces beyond the action table's ``acts_on``."""


class InvoiceStore:
    """All invoices of the emulated site behind one lock."""

    def __init__(self, clock: Clock, applied: RecordLog[AppliedAction]) -> None:
        self._invoices: dict[str, Invoice] = {}
        self._index = listing.SortIndex()
        self._lock = threading.Lock()
        self._clock = clock
        self._applied = applied

    def add(self, invoice_id: str, fields: Mapping[str, Any]) -> dict[str, Any]:
        """Create an invoice from :func:`~airflow_provider_cb.testing.fields.complete` fields."""
        validation.check_id("invoice_id", invoice_id)
        status, date, amount_due = fields["status"], fields["date"], fields["amount_due"]
        line_items, subscription_id = fields["line_items"], fields["subscription_id"]
        now = int(self._clock.now())
        day = date if date is not None else now
        owed = 0 if status in ("paid", "voided") else amount_due
        each, rest = divmod(amount_due, line_items) if line_items else (0, 0)
        invoice: Invoice = {
            "id": invoice_id,
            "customer_id": fields["customer_id"] or f"cus_{invoice_id}",
            "subscription_id": subscription_id,
            "recurring": subscription_id is not None,
            "status": status,
            "price_type": "tax_exclusive",
            "date": day,
            "due_date": day,
            "net_term_days": 0,
            "currency_code": fields["currency_code"],
            "exchange_rate": 1.0,
            "total": amount_due,
            "sub_total": amount_due,
            "tax": 0,
            "amount_paid": amount_due if status == "paid" else 0,
            "amount_adjusted": 0,
            "write_off_amount": 0,
            "credits_applied": 0,
            "amount_due": owed,
            "paid_at": day if status == "paid" else None,
            "dunning_status": fields["dunning_status"],
            "expected_payment_date": fields["expected_payment_date"],
            "auto_collection": fields["auto_collection"],
            "first_invoice": False,
            "updated_at": now,
            "resource_version": now * 1000,
            "deleted": False,
            "object": "invoice",
            "line_items": [
                {
                    "id": f"li_{invoice_id}_{n}",
                    "date_from": day,
                    "date_to": day,
                    "unit_amount": each + (rest if n == 1 else 0),
                    "quantity": 1,
                    "amount": each + (rest if n == 1 else 0),
                    "is_taxed": False,
                    "description": f"Charge {n}",
                    "entity_type": "adhoc",
                }
                for n in range(1, line_items + 1)
            ],
            "notes": [dict(note) for note in fields["notes"] or ()],
        }
        with self._lock:
            if invoice_id in self._invoices:
                raise ValueError(f"invoice {invoice_id!r} already exists")
            self._invoices[invoice_id] = invoice
            self._index.add(invoice)
            return _v2(invoice)

    def get(self, invoice_id: str) -> dict[str, Any]:
        """A deep copy in v2 shape; KeyError when unknown."""
        with self._lock:
            return copy.deepcopy(_v2(self._invoices[invoice_id]))

    def all(self) -> list[dict[str, Any]]:
        with self._lock:
            ordered = sorted(self._invoices.values(), key=lambda inv: (inv["date"], inv["id"]))
            return copy.deepcopy([_v2(inv) for inv in ordered])

    def __len__(self) -> int:
        return len(self._invoices)

    def retrieve(self, invoice_id: str, api_version: str) -> Answer:
        with self._lock:
            invoice = self._invoices.get(invoice_id)
            if invoice is None:
                raise _unknown(invoice_id)
            return json_answer(200, {"invoice": render(invoice, api_version)})

    def page(self, query: listing.ListQuery, api_version: str) -> Answer:
        with self._lock:
            rows, next_offset = listing.select(self._invoices, self._index, query)
            payload: dict[str, Any] = {
                "list": [{"invoice": render(inv, api_version)} for inv in rows]
            }
            if next_offset is not None:
                payload["next_offset"] = next_offset
            return json_answer(200, payload)

    def apply(
        self,
        action: InvoiceAction,
        invoice_id: str,
        body: Mapping[str, Any],
        *,
        api_version: str,
        idempotency_key: str | None,
    ) -> Answer:
        """Act on one invoice if its state allows; record the action only when it changed it."""
        with self._lock:
            invoice = self._invoices.get(invoice_id)
            if invoice is None:
                raise _unknown(invoice_id)
            extra = _EXTRA_CONDITIONS.get(action.name)
            if not action.acts_on.matches(invoice):
                reason = f"{action.name} needs {action.acts_on.describe()}"
            elif extra is not None and not extra[0](invoice):
                reason = f"{action.name} is not allowed as {extra[1]}"
            else:
                reason = None
            if reason is not None:
                raise ApiError(
                    409,
                    "invalid_state_for_request",
                    f"Invoice {invoice_id} is in {describe_invoice_state(invoice)}; {reason}",
                )
            now = self._clock.now()
            before = self._index.keys_of(invoice)
            related = _EFFECTS.get(action.name, _lead_to)(action, invoice, body, int(now))
            self._touched(invoice, before, now)
            self._applied.append(
                AppliedAction(invoice_id, action.name, api_version, idempotency_key, body, now)
            )
            return json_answer(200, {"invoice": render(invoice, api_version), **related})

    def set_status(
        self, invoice_id: str, status: str, dunning_status: str | None
    ) -> dict[str, Any]:
        """See :meth:`ChargebeeEmulator.set_status`."""
        fields = complete({"status": status, "dunning_status": dunning_status})
        with self._lock:
            invoice = self._known(invoice_id)
            before = self._index.keys_of(invoice)
            now = self._clock.now()
            if status == "paid" and invoice["status"] != "paid":
                invoice.update(amount_paid=invoice["amount_paid"] + invoice["amount_due"])
                invoice.update(amount_due=0, paid_at=int(now))
            elif status == "voided":
                invoice["amount_due"] = 0
            invoice["status"] = status
            if dunning_status is not None:
                invoice["dunning_status"] = fields["dunning_status"]
            self._touched(invoice, before, now)
            return _v2(invoice)

    def record_payment(self, invoice_id: str, amount: int | None) -> dict[str, Any]:
        """See :meth:`ChargebeeEmulator.record_payment`."""
        with self._lock:
            invoice = self._known(invoice_id)
            due = invoice["amount_due"]
            if invoice["status"] not in _PAYABLE or due == 0:
                raise ValueError(
                    f"invoice {invoice_id} is in {describe_invoice_state(invoice)}; a payment "
                    f"needs one of {list(_PAYABLE)} with an amount due"
                )
            paid = due if amount is None else amount
            if isinstance(paid, bool) or not isinstance(paid, int) or not 0 < paid <= due:
                raise ValueError(f"amount {paid!r:.40} must be whole cents from 1 to {due}")
            before = self._index.keys_of(invoice)
            now = self._clock.now()
            invoice.update(amount_paid=invoice["amount_paid"] + paid, amount_due=due - paid)
            if paid == due:
                invoice.update(status="paid", paid_at=int(now))
                if invoice["dunning_status"] is not None:
                    invoice["dunning_status"] = "success"
            self._touched(invoice, before, now)
            return _v2(invoice)

    def next_number(self, prefix: str) -> int:
        """One past the highest ``<prefix><digits>`` id, so a new seed continues the numbering."""
        with self._lock:
            numbers = [
                int(tail)
                for invoice_id in self._invoices
                if invoice_id.startswith(prefix) and (tail := invoice_id[len(prefix) :]).isdigit()
            ]
        return max(numbers, default=0) + 1

    def _known(self, invoice_id: str) -> Invoice:
        invoice = self._invoices.get(invoice_id)
        if invoice is None:
            raise KeyError(f"no invoice {invoice_id!r}")
        return invoice

    def _touched(self, invoice: Invoice, before: Mapping[str, listing.SortKey], now: float) -> None:
        """A changed invoice: a new ``updated_at`` and version, re-filed in the sort index."""
        invoice["updated_at"] = int(now)
        invoice["resource_version"] = max(invoice["resource_version"] + 1, int(now * 1000))
        self._index.move(before, invoice)


def render(invoice: Mapping[str, Any], api_version: str) -> dict[str, Any]:
    """The invoice as the given API version shows it."""
    return _v1(invoice) if api_version == "v1" else _v2(invoice)


def _v2(invoice: Mapping[str, Any]) -> dict[str, Any]:
    shown = {key: value for key, value in invoice.items() if value is not None}
    shown["line_items"] = [
        {**item, "tax_amount": 0, "pricing_model": "flat_fee", "object": "line_item"}
        for item in invoice["line_items"]
    ]
    shown["notes"] = [dict(note) for note in invoice["notes"]]
    return shown


def _v1(invoice: Mapping[str, Any]) -> dict[str, Any]:
    """v1 names: ``start_date``/``end_date`` for ``date``, ``amount`` for the total, ``paid_on``."""
    shown = {
        "id": invoice["id"],
        "customer_id": invoice["customer_id"],
        "subscription_id": invoice["subscription_id"],
        "recurring": invoice["recurring"],
        "status": _V1_STATUS.get(invoice["status"], invoice["status"]),
        "price_type": invoice["price_type"],
        "start_date": invoice["date"],
        "end_date": invoice["date"],
        "amount": invoice["total"],
        "amount_due": invoice["amount_due"],
        "amount_paid": invoice["amount_paid"],
        "amount_adjusted": invoice["amount_adjusted"],
        "credits_applied": invoice["credits_applied"],
        "paid_on": invoice["paid_at"],
        "dunning_status": invoice["dunning_status"],
        "first_invoice": invoice["first_invoice"],
        "sub_total": invoice["sub_total"],
        "tax": invoice["tax"],
        "currency_code": invoice["currency_code"],
        "line_items": [{**item, "tax": 0, "type": "charge"} for item in invoice["line_items"]],
        "notes": [dict(note) for note in invoice["notes"]],
    }
    return {key: value for key, value in shown.items() if value is not None}


def _unknown(invoice_id: str) -> ApiError:
    return not_found(f"Sorry, we couldn't find that resource: invoice {invoice_id}")
