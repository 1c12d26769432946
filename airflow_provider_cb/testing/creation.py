"""Creating customers and invoices through the API, as a system test does on a real site.

``POST /api/v2/customers`` and ``POST /api/v2/invoices/create_for_charge_items_and_charges``
take the few parameters a rehearsal sends (names from the official SDK's
``CreateParams`` and ``CreateForChargeItemsAndChargesParams``; lengths from the
API reference). An invoice made this way is closed at once, as Chargebee closes
it: ``payment_due`` for what is owed, with dunning ``in_progress`` only when
auto collection is on. Pending invoices (metered billing) cannot be created
through the API, here as on Chargebee.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from typing import Any

from airflow_provider_cb.testing.accounts import auto_collection_of
from airflow_provider_cb.testing.fields import complete
from airflow_provider_cb.testing.params import Param
from airflow_provider_cb.testing.rules import AUTO_COLLECTION
from airflow_provider_cb.testing.store import InvoiceStore
from airflow_provider_cb.testing.wire import Answer, ApiError, json_answer, not_found, wrong_value

CUSTOMER_PARAMS = (
    Param("id", "text", max_length=50),
    Param("first_name", "text", max_length=150),
    Param("last_name", "text", max_length=150),
    Param("email", "text", max_length=70),
    Param("auto_collection", "text", choices=AUTO_COLLECTION),
    Param("preferred_currency_code", "text", max_length=3),
)
INVOICE_PARAMS = (
    Param("customer_id", "text", max_length=50),
    Param("subscription_id", "text", max_length=50),
    Param("currency_code", "text", max_length=3),
    Param(
        "charges",
        "objects",
        required=True,
        items=(
            Param("amount", "integer", required=True),
            Param("description", "text", max_length=250, required=True),
        ),
    ),
)


def create_customer(store: InvoiceStore, body: Mapping[str, Any]) -> Answer:
    """A new customer; an id already taken is 400 ``duplicate_entry``."""
    details = {key: body[key] for key in ("first_name", "last_name", "email") if key in body}
    try:
        customer = store.add_customer(
            body.get("id") or f"cus_{secrets.token_hex(6)}",
            body.get("auto_collection", "on"),
            body.get("preferred_currency_code", "USD"),
            details,
        )
    except ValueError as error:
        raise ApiError(400, "duplicate_entry", str(error), param="id") from None
    return json_answer(200, {"customer": customer})


def create_invoice(store: InvoiceStore, body: Mapping[str, Any]) -> Answer:
    """A closed invoice of the charges, numbered on from the site's last numeric id."""
    customer_id, subscription_id = body.get("customer_id"), body.get("subscription_id")
    if customer_id is None and subscription_id is None:
        raise wrong_value("customer_id", "customer_id or subscription_id is required")
    try:
        subscription = store.account("subscription", subscription_id) if subscription_id else None
        customer_id = customer_id or (subscription or {})["customer_id"]
        customer = store.account("customer", customer_id)
    except KeyError as error:
        raise not_found(f"Sorry, we couldn't find that resource: {error.args[0]}") from None
    amounts = [charge["amount"] for charge in body["charges"]]
    if not amounts or min(amounts) < 1:
        raise wrong_value("charges[amount][0]", "every charge needs an amount of at least 1")
    dunning = "in_progress" if auto_collection_of(customer, subscription) == "on" else None
    fields = complete(
        {
            "status": "payment_due",
            "customer_id": customer_id,
            "subscription_id": subscription_id,
            "amount_due": sum(amounts),
            "line_items": len(amounts),
            "dunning_status": dunning,
            "currency_code": body.get("currency_code", customer["preferred_currency_code"]),
        }
    )
    try:
        invoice = store.add(None, fields)
    except ValueError as error:  # a subscription of another customer
        raise wrong_value("subscription_id", str(error)) from None
    return json_answer(200, {"invoice": invoice})
