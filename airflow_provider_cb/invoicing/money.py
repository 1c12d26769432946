"""Amounts for people: Chargebee's minor units shown in the currency's major unit.

Chargebee sends every amount as an integer in the currency's smallest unit, as
ISO 4217 defines it: cents for EUR (25007 is EUR 250.07), whole yen for JPY
(10000 is JPY 10,000), fils for BHD (1234 is BHD 1.234). Showing 25007 to a
controller, or dividing every currency by 100, misreads the money; every log
line, error, report and message goes through :func:`format_money`.
"""

from __future__ import annotations

from collections.abc import Mapping

EXPONENTS: Mapping[str, int] = {
    **dict.fromkeys(
        (
            "BIF", "CLP", "DJF", "GNF", "ISK", "JPY", "KMF", "KRW", "PYG",
            "RWF", "UGX", "UYI", "VND", "VUV", "XAF", "XOF", "XPF",
        ),
        0,
    ),
    **dict.fromkeys(("BHD", "IQD", "JOD", "KWD", "LYD", "OMR", "TND"), 3),
    **dict.fromkeys(("CLF", "UYW"), 4),
}  # fmt: skip
"""ISO 4217 minor-unit exponents other than 2, the exponent of every other currency."""

TOTAL_NAMES: Mapping[str, str] = {"write_off": "amount written off"}
"""What a task's totals sum, per action: the invoice ``total`` unless named here."""


def exponent(currency: str) -> int:
    """Digits after the decimal point in ``currency`` (2 unless ISO 4217 says otherwise)."""
    return EXPONENTS.get(currency.upper(), 2)


def major_units(minor: int, currency: str) -> str:
    """``25007, "EUR"`` -> ``250.07``: a plain decimal a spreadsheet reads as a number."""
    return _decimal(minor, currency, grouping="")


def format_money(minor: int, currency: str) -> str:
    """``25007, "EUR"`` -> ``EUR 250.07``; ``10000, "JPY"`` -> ``JPY 10,000``; signed."""
    return f"{currency} {_decimal(minor, currency, grouping=',')}"


def _decimal(minor: int, currency: str, *, grouping: str) -> str:
    digits = exponent(currency)
    sign = "-" if minor < 0 else ""
    whole, fraction = divmod(abs(minor), 10**digits)
    text = f"{whole:{grouping}d}"
    return f"{sign}{text}.{fraction:0{digits}d}" if digits else f"{sign}{text}"


def total_name(action: str) -> str:
    """What the totals of ``action`` sum, for the line that shows them."""
    return TOTAL_NAMES.get(action, "invoice total")


def summed_amount(
    action: str, *, total: int | None, amount_due: int | None, write_off_amount: int | None
) -> int | None:
    """One invoice's share of its task's totals, as :func:`total_name` names it.

    A write-off sums what it writes off: ``write_off_amount`` once Chargebee shows
    one, before that (a preview, a failure) the ``amount_due`` it would write off.
    Every other action sums the invoice ``total``, which closing or a dunning
    change leaves as it is.
    """
    if action == "write_off":
        return write_off_amount or amount_due
    return total
