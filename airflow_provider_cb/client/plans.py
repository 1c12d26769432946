"""What a selection is about to hand to the action operators, and its money guard.

A plan counts the invoices, sums ``amount_due`` and ``total`` per currency and
keeps the largest few, so a controller sees the size of a month-end before
anything acts; ``max_amount_due`` stops a selection that is larger than expected.
"""

from __future__ import annotations

import heapq
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from airflow_provider_cb.client.errors import ChargebeeValidationError

LARGEST = 5


def check_max_amount_due(value: object) -> dict[str, int] | None:
    """``{"EUR": 5_000_000}``: currency code -> amount in minor units (cents)."""
    if value is None:
        return None
    if not isinstance(value, Mapping) or not value:
        raise ChargebeeValidationError(
            "max_amount_due", f"{value!r} must be a dict of currency code -> minor units"
        )
    limits: dict[str, int] = {}
    for currency, amount in value.items():
        if not (isinstance(currency, str) and len(currency) == 3 and currency.isalpha()):
            raise ChargebeeValidationError("max_amount_due", f"{currency!r} is not a currency code")
        if isinstance(amount, bool) or not isinstance(amount, int) or amount < 0:
            raise ChargebeeValidationError(
                f"max_amount_due[{currency}]", f"{amount!r} must be a non-negative integer"
            )
        limits[currency.upper()] = amount
    return limits


@dataclass
class SelectionPlan:
    """Count, per-currency sums and the largest invoices of one selection."""

    range: str
    count: int = 0
    totals: dict[str, dict[str, int]] = field(default_factory=dict)
    _largest: list[tuple[int, str, str]] = field(default_factory=list)

    def add(self, invoice: Mapping[str, Any]) -> None:
        currency = str(invoice.get("currency_code") or "unknown")
        amount_due = int(invoice.get("amount_due") or 0)
        sums = self.totals.setdefault(currency, {"amount_due": 0, "total": 0})
        sums["amount_due"] += amount_due
        sums["total"] += int(invoice.get("total") or 0)
        self.count += 1
        entry = (amount_due, currency, str(invoice["id"]))
        if len(self._largest) < LARGEST:
            heapq.heappush(self._largest, entry)
        else:
            heapq.heappushpop(self._largest, entry)

    @property
    def largest(self) -> list[dict[str, Any]]:
        return [
            {"invoice_id": invoice_id, "currency_code": currency, "amount_due": amount}
            for amount, currency, invoice_id in sorted(self._largest, reverse=True)
        ]

    def check(self, max_amount_due: Mapping[str, int] | None) -> None:
        """Raise, before anything acts, when a currency's amount due exceeds its limit."""
        if max_amount_due is None:
            return
        for currency, sums in sorted(self.totals.items()):
            if currency not in max_amount_due:
                raise ChargebeeValidationError(
                    "max_amount_due",
                    f"the selection owes {currency} {sums['amount_due']} but there is no limit "
                    f"for {currency}; add one or narrow the filters",
                )
            if sums["amount_due"] > max_amount_due[currency]:
                raise ChargebeeValidationError(
                    f"max_amount_due[{currency}]",
                    f"the selection of {self.count} invoices {self.range} owes {currency} "
                    f"{sums['amount_due']} (minor units), more than the limit "
                    f"{max_amount_due[currency]}; raise the limit or narrow the filters",
                )

    def as_dict(self) -> dict[str, Any]:
        return {
            "count": self.count,
            "range": self.range,
            "totals": {currency: dict(sums) for currency, sums in sorted(self.totals.items())},
            "largest": self.largest,
        }
