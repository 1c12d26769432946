"""How an invoice reads on each API version, from the one record the store keeps.

v2 shows the fields of the official Python SDK's ``InvoiceResponse``; v1 those
of the ``Invoice`` schema in Chargebee's v1 OpenAPI specification
(``tests/contract/spec/``): ``start_date``/``end_date`` for ``date``, ``amount``
for the total, ``paid_on`` for ``paid_at``, no ``posted`` status and no line
item ids. ``tests/contract/`` fails when either shows a field its model lacks.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

_V1_STATUS = {"posted": "payment_due"}
"""v1 has no ``posted`` status; such invoices read as ``payment_due`` there."""


def render(invoice: Mapping[str, Any], api_version: str) -> dict[str, Any]:
    """The invoice as the given API version shows it."""
    return v1(invoice) if api_version == "v1" else v2(invoice)


def v2(invoice: Mapping[str, Any]) -> dict[str, Any]:
    shown = present(invoice)
    shown["line_items"] = [
        {**item, "tax_amount": 0, "pricing_model": "flat_fee"} for item in invoice["line_items"]
    ]
    shown["notes"] = [dict(note) for note in invoice["notes"]]
    return shown


def v1(invoice: Mapping[str, Any]) -> dict[str, Any]:
    return present(
        {
            "id": invoice["id"],
            "customer_id": invoice["customer_id"],
            "subscription_id": invoice.get("subscription_id"),
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
            "paid_on": invoice.get("paid_at"),
            "dunning_status": invoice.get("dunning_status"),
            "first_invoice": invoice["first_invoice"],
            "sub_total": invoice["sub_total"],
            "tax": invoice["tax"],
            "currency_code": invoice["currency_code"],
            "line_items": [
                {
                    **{key: value for key, value in item.items() if key != "id"},
                    "tax": 0,
                    "type": "charge",
                }
                for item in invoice["line_items"]
            ],
            "notes": [dict(note) for note in invoice["notes"]],
        }
    )


def present(record: Mapping[str, Any]) -> dict[str, Any]:
    """Chargebee leaves out attributes that have no value rather than sending null."""
    return {key: value for key, value in record.items() if value is not None}
