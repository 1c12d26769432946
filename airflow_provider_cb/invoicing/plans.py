"""What a selection is about to hand to the action operators, and its money guard.

A plan counts the invoices, sums ``amount_due`` and ``total`` per currency and
keeps the largest few of each currency, so a controller sees the size of a month-end before
anything acts; ``max_amount_due`` stops a selection that is larger than expected.
"""

from __future__ import annotations

import heapq
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from airflow_provider_cb.chargebee_api.errors import ChargebeeValidationError
from airflow_provider_cb.invoicing.money import format_money

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
    _largest: dict[str, list[tuple[int, str]]] = field(default_factory=dict)

    def add(self, invoice: Mapping[str, Any]) -> None:
        currency = str(invoice.get("currency_code") or "unknown")
        amount_due = int(invoice.get("amount_due") or 0)
        sums = self.totals.setdefault(currency, {"amount_due": 0, "total": 0})
        sums["amount_due"] += amount_due
        sums["total"] += int(invoice.get("total") or 0)
        self.count += 1
        heap = self._largest.setdefault(currency, [])
        entry = (amount_due, str(invoice["id"]))
        if len(heap) < LARGEST:
            heapq.heappush(heap, entry)
        else:
            heapq.heappushpop(heap, entry)

    @property
    def largest(self) -> dict[str, list[dict[str, Any]]]:
        """Per currency, its largest invoices by amount due: amounts compare only within one."""
        return {
            currency: [
                {"invoice_id": invoice_id, "amount_due": amount}
                for amount, invoice_id in sorted(heap, reverse=True)
            ]
            for currency, heap in sorted(self._largest.items())
        }

    def check(self, max_amount_due: Mapping[str, int] | None) -> None:
        """Raise, before anything acts, when a currency's amount due exceeds its limit."""
        if max_amount_due is None:
            return
        for currency, sums in sorted(self.totals.items()):
            owed = sums["amount_due"]
            if currency not in max_amount_due:
                raise ChargebeeValidationError(
                    "max_amount_due",
                    f"the selection owes {format_money(owed, currency)} but there is no limit "
                    f"for {currency}; add one in minor units (e.g. {{{currency!r}: {owed}}}) "
                    "or narrow the filters",
                )
            limit = max_amount_due[currency]
            if owed > limit:
                raise ChargebeeValidationError(
                    f"max_amount_due[{currency}]",
                    f"the selection of {self.count} invoices {self.range} owes "
                    f"{format_money(owed, currency)}, more than the limit "
                    f"{format_money(limit, currency)} (in minor units, as the limit is given: "
                    f"{owed} > {limit}); raise the limit or narrow the filters",
                )

    def describe(self) -> str:
        """The plan for people: per currency, what is due and the largest invoices."""
        parts = []
        for currency, sums in sorted(self.totals.items()):
            largest = ", ".join(
                f"{entry['invoice_id']} {format_money(entry['amount_due'], currency)}"
                for entry in self.largest.get(currency, [])
            )
            parts.append(
                f"{currency}: {format_money(sums['amount_due'], currency)} due of "
                f"{format_money(sums['total'], currency)} invoiced (largest: {largest})"
            )
        return f"{self.count} invoices {self.range}" + ("; " + "; ".join(parts) if parts else "")

    def as_dict(self) -> dict[str, Any]:
        return {
            "count": self.count,
            "range": self.range,
            "totals": {currency: dict(sums) for currency, sums in sorted(self.totals.items())},
            "largest": self.largest,
        }
