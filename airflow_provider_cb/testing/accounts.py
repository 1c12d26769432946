"""The emulated site's customers and subscriptions: where auto collection lives.

Chargebee's Invoice object has no ``auto_collection``: the setting belongs to
the customer, and a subscription's own setting (when it has one) overrides the
customer's. Their fields follow the official Python SDK's ``CustomerResponse``
and ``SubscriptionResponse``; only what an invoice test needs is modelled.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

Account = dict[str, Any]


def new_customer(customer_id: str, auto_collection: str, currency_code: str, now: int) -> Account:
    """A customer as ``GET /customers/{id}`` shows it, with no card and no credits."""
    return {
        "id": customer_id,
        "auto_collection": auto_collection,
        "net_term_days": 0,
        "allow_direct_debit": False,
        "created_at": now,
        "taxability": "taxable",
        "updated_at": now,
        "resource_version": now * 1000,
        "pii_cleared": "active",
        "channel": "web",
        "card_status": "no_card",
        "preferred_currency_code": currency_code,
        "promotional_credits": 0,
        "unbilled_charges": 0,
        "refundable_credits": 0,
        "excess_payments": 0,
        "deleted": False,
    }


def new_subscription(
    subscription_id: str,
    customer_id: str,
    auto_collection: str | None,
    currency_code: str,
    now: int,
) -> Account:
    """An active monthly subscription; ``auto_collection`` None takes the customer's."""
    subscription: Account = {
        "id": subscription_id,
        "customer_id": customer_id,
        "currency_code": currency_code,
        "status": "active",
        "billing_period": 1,
        "billing_period_unit": "month",
        "current_term_start": now,
        "current_term_end": now + 30 * 86_400,
        "next_billing_at": now + 30 * 86_400,
        "created_at": now,
        "started_at": now,
        "activated_at": now,
        "updated_at": now,
        "resource_version": now * 1000,
        "has_scheduled_changes": False,
        "channel": "web",
        "due_invoices_count": 0,
        "deleted": False,
    }
    if auto_collection is not None:
        subscription["auto_collection"] = auto_collection
    return subscription


def auto_collection_of(customer: Mapping[str, Any], subscription: Mapping[str, Any] | None) -> str:
    """The setting Chargebee applies to an invoice: the subscription's, else the customer's."""
    if subscription is not None and subscription.get("auto_collection") is not None:
        return str(subscription["auto_collection"])
    return str(customer["auto_collection"])
