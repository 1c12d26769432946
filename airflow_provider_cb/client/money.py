"""Money for people: minor units shown in major units with the currency's own exponent.

Chargebee sends amounts in the currency's minor unit (ISO 4217): cents for EUR,
whole yen for JPY, fils for KWD. Assuming two decimals everywhere shows a JPY
10,000 invoice as "JPY 100.00", so the exponent comes from the currency.
"""

from __future__ import annotations

ZERO_DECIMAL = frozenset(
    {"BIF", "CLP", "DJF", "GNF", "ISK", "JPY", "KMF", "KRW", "PYG"}
    | {"RWF", "UGX", "UYI", "VND", "VUV", "XAF", "XOF", "XPF"}
)
THREE_DECIMAL = frozenset(("BHD", "IQD", "JOD", "KWD", "LYD", "OMR", "TND"))


def minor_unit_exponent(currency: str) -> int:
    """0, 2 or 3: how many decimals the currency's minor unit has (ISO 4217)."""
    code = currency.upper()
    if code in ZERO_DECIMAL:
        return 0
    return 3 if code in THREE_DECIMAL else 2


def format_money(minor: int, currency: str) -> str:
    """Minor units for people: ``"EUR 250.07"`` for 25007 EUR, ``"JPY 10,000"`` for 10000 JPY."""
    exponent = minor_unit_exponent(currency)
    sign = "-" if minor < 0 else ""
    whole, fraction = divmod(abs(minor), 10**exponent)
    decimals = f".{fraction:0{exponent}d}" if exponent else ""
    return f"{currency.upper()} {sign}{whole:,}{decimals}"
