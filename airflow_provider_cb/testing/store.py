"""The emulated site's invoices, customers and subscriptions, and actions applied to them.

Which invoices an action may touch and what it changes come from the emulator's
own :mod:`~airflow_provider_cb.testing.rules`; auto collection is read from the
invoice's subscription or customer, as Chargebee keeps it. Everything is kept in
v2 shape and rendered as v1 or v2 on the way out, under the one state lock, so
a response always shows a consistent invoice.
"""

from __future__ import annotations

import copy
import threading
from collections.abc import Mapping
from typing import Any

from airflow_provider_cb.testing import listing
from airflow_provider_cb.testing.accounts import (
    Account,
    auto_collection_of,
    new_customer,
    new_subscription,
)
from airflow_provider_cb.testing.clock import Clock
from airflow_provider_cb.testing.fields import check_choice, check_id, complete
from airflow_provider_cb.testing.records import AppliedAction, RecordLog
from airflow_provider_cb.testing.rules import AUTO_COLLECTION, Invoice, SiteAction, describe
from airflow_provider_cb.testing.shapes import render, v2
from airflow_provider_cb.testing.wire import Answer, ApiError, json_answer, not_found

_PAYABLE = ("posted", "payment_due", "not_paid")
"""Statuses a customer's payment can settle: the invoice is final and money is owed."""


class InvoiceStore:
    """All invoices, customers and subscriptions of the emulated site behind one lock."""

    def __init__(self, clock: Clock, applied: RecordLog[AppliedAction]) -> None:
        self._invoices: dict[str, Invoice] = {}
        self._customers: dict[str, Account] = {}
        self._subscriptions: dict[str, Account] = {}
        self._index = listing.SortIndex()
        self._lock = threading.Lock()
        self._clock = clock
        self._applied = applied

    def add_customer(
        self,
        customer_id: str,
        auto_collection: str,
        currency_code: str = "USD",
        details: Mapping[str, str] | None = None,
    ) -> dict[str, Any]:
        """A new customer (``details``: names and email); ValueError when the id is taken."""
        check_id("customer_id", customer_id)
        check_choice("auto_collection", auto_collection, AUTO_COLLECTION)
        with self._lock:
            if customer_id in self._customers:
                raise ValueError(f"customer {customer_id!r} already exists")
            now = int(self._clock.now())
            customer = new_customer(customer_id, auto_collection, currency_code, now)
            customer.update(details or {})
            self._customers[customer_id] = customer
            return copy.deepcopy(customer)

    def add_subscription(
        self, subscription_id: str, customer_id: str, auto_collection: str | None
    ) -> dict[str, Any]:
        """A new subscription of an existing customer; ValueError when the id is taken."""
        check_id("subscription_id", subscription_id)
        if auto_collection is not None:
            check_choice("auto_collection", auto_collection, AUTO_COLLECTION)
        with self._lock:
            if subscription_id in self._subscriptions:
                raise ValueError(f"subscription {subscription_id!r} already exists")
            customer = self._customers.get(customer_id)
            if customer is None:
                raise KeyError(f"no customer {customer_id!r}")
            subscription = new_subscription(
                subscription_id,
                customer_id,
                auto_collection,
                customer["preferred_currency_code"],
                int(self._clock.now()),
            )
            self._subscriptions[subscription_id] = subscription
            return copy.deepcopy(subscription)

    def account(self, kind: str, account_id: str) -> dict[str, Any]:
        """A copy of a ``customer`` or ``subscription``; KeyError when unknown."""
        with self._lock:
            return copy.deepcopy(self._accounts(kind)[account_id])

    def retrieve_account(self, kind: str, account_id: str) -> Answer:
        """``GET /customers/{id}`` and ``GET /subscriptions/{id}``."""
        with self._lock:
            account = self._accounts(kind).get(account_id)
            if account is None:
                raise not_found(f"Sorry, we couldn't find that resource: {kind} {account_id}")
            return json_answer(200, {kind: account})

    def add(self, invoice_id: str | None, fields: Mapping[str, Any]) -> dict[str, Any]:
        """Create an invoice from :func:`~airflow_provider_cb.testing.fields.complete` fields.

        ``invoice_id`` None numbers it on from the highest numeric id, as Chargebee
        numbers the invoices it creates.

        Its customer (by default its subscription's, else ``cus_<invoice_id>``) and
        subscription are created when new; ``auto_collection``, when given, is set
        on the customer.
        """
        if invoice_id is not None:
            check_id("invoice_id", invoice_id)
        now = int(self._clock.now())
        with self._lock:
            if invoice_id is None:
                invoice_id = str(self._next_number(""))
            if invoice_id in self._invoices:
                raise ValueError(f"invoice {invoice_id!r} already exists")
            invoice = _new_invoice(invoice_id, fields, now)
            self._file_accounts(invoice, fields["auto_collection"], now)
            self._invoices[invoice_id] = invoice
            self._index.add(invoice)
            return v2(invoice)

    def get(self, invoice_id: str) -> dict[str, Any]:
        """A deep copy in v2 shape; KeyError when unknown."""
        with self._lock:
            return copy.deepcopy(v2(self._invoices[invoice_id]))

    def all(self) -> list[dict[str, Any]]:
        with self._lock:
            ordered = sorted(self._invoices.values(), key=lambda inv: (inv["date"], inv["id"]))
            return copy.deepcopy([v2(inv) for inv in ordered])

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
        action: SiteAction,
        invoice_id: str,
        body: Mapping[str, Any],
        *,
        idempotency_key: str | None,
    ) -> Answer:
        """Act on one invoice if its state allows; record the action only when it changed it."""
        with self._lock:
            invoice = self._invoices.get(invoice_id)
            if invoice is None:
                raise _unknown(invoice_id)
            auto_collection = self._auto_collection(invoice)
            reason = action.refusal(invoice, auto_collection)
            if reason is not None:
                raise ApiError(
                    409,
                    "invalid_state_for_request",
                    f"Invoice {invoice_id} is in {describe(invoice, auto_collection)}; {reason}",
                )
            now = self._clock.now()
            before = self._index.keys_of(invoice)
            related = action.effect(invoice, body, int(now), auto_collection)
            self._touched(invoice, before, now)
            self._applied.append(
                AppliedAction(
                    invoice_id, action.name, action.api_version, idempotency_key, body, now
                )
            )
            return json_answer(200, {"invoice": render(invoice, action.api_version), **related})

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
            return v2(invoice)

    def record_payment(self, invoice_id: str, amount: int | None) -> dict[str, Any]:
        """See :meth:`ChargebeeEmulator.record_payment`."""
        with self._lock:
            invoice = self._known(invoice_id)
            due = invoice["amount_due"]
            if invoice["status"] not in _PAYABLE or due == 0:
                state = describe(invoice, self._auto_collection(invoice))
                raise ValueError(
                    f"invoice {invoice_id} is in {state}; a payment "
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
            return v2(invoice)

    def next_number(self, prefix: str) -> int:
        """One past the highest ``<prefix><digits>`` id, so a new seed continues the numbering."""
        with self._lock:
            return self._next_number(prefix)

    def _next_number(self, prefix: str) -> int:
        numbers = [
            int(tail)
            for invoice_id in self._invoices
            if invoice_id.startswith(prefix) and (tail := invoice_id[len(prefix) :]).isdigit()
        ]
        return max(numbers, default=0) + 1

    def _file_accounts(self, invoice: Invoice, auto_collection: str | None, now: int) -> None:
        """Make the invoice's customer and subscription exist; set the customer's setting.

        An invoice named without a customer belongs to its subscription's customer,
        or else to a new ``cus_<invoice_id>``.
        """
        subscription_id = invoice["subscription_id"]
        subscription = self._subscriptions.get(subscription_id) if subscription_id else None
        if invoice["customer_id"] is None:
            invoice["customer_id"] = (
                subscription["customer_id"] if subscription else f"cus_{invoice['id']}"
            )
        customer_id = invoice["customer_id"]
        if subscription is not None and subscription["customer_id"] != customer_id:
            raise ValueError(
                f"subscription {subscription_id!r} belongs to customer "
                f"{subscription['customer_id']!r}, not {customer_id!r}"
            )
        customer = self._customers.get(customer_id)
        if customer is None:
            customer = new_customer(
                customer_id, auto_collection or "on", invoice["currency_code"], now
            )
            self._customers[customer_id] = customer
        elif auto_collection is not None and customer["auto_collection"] != auto_collection:
            customer.update(auto_collection=auto_collection, updated_at=now)
            customer["resource_version"] = max(customer["resource_version"] + 1, now * 1000)
        if subscription_id and subscription is None:
            self._subscriptions[subscription_id] = new_subscription(
                subscription_id, customer_id, None, invoice["currency_code"], now
            )

    def _auto_collection(self, invoice: Invoice) -> str:
        subscription_id = invoice["subscription_id"]
        subscription = self._subscriptions.get(subscription_id) if subscription_id else None
        return auto_collection_of(self._customers[invoice["customer_id"]], subscription)

    def _accounts(self, kind: str) -> dict[str, Account]:
        return self._customers if kind == "customer" else self._subscriptions

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


def _new_invoice(invoice_id: str, fields: Mapping[str, Any], now: int) -> Invoice:
    """The stored record of a new invoice, in v2 shape, its line items sharing the total."""
    status, date, amount_due = fields["status"], fields["date"], fields["amount_due"]
    line_items, subscription_id = fields["line_items"], fields["subscription_id"]
    day = date if date is not None else now
    owed = 0 if status in ("paid", "voided") else amount_due
    each, rest = divmod(amount_due, line_items) if line_items else (0, 0)
    invoice: Invoice = {
        "id": invoice_id,
        "customer_id": fields["customer_id"],
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
        "first_invoice": False,
        "term_finalized": True,
        "is_gifted": False,
        "generated_at": day,
        "updated_at": now,
        "resource_version": now * 1000,
        "deleted": False,
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
    return invoice


def _unknown(invoice_id: str) -> ApiError:
    return not_found(f"Sorry, we couldn't find that resource: invoice {invoice_id}")
