"""Numbers formatted for people: money with its currency, rates as %, counts with separators.

Display only: a value is rounded for the eye, never changed. The exact value goes into the
element's data-value attribute (see templates/_macros.html).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

# ISO 4217 currencies without minor units, shown without decimals.
ZERO_DECIMAL_CURRENCIES = {"JPY", "KRW", "VND", "CLP", "ISK"}
MISSING = "–"

KINDS = ("money", "rate", "rate_whole", "count", "ratio", "days", "months", "multiple", "text")


def data_value(value: Any) -> str:
    """The exact value for the data-value attribute ('' for null)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, (int, Decimal)):
        return str(value)
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    return str(value)


def _number(value: float, decimals: int) -> str:
    return f"{value:,.{decimals}f}"


def format_value(value: Any, kind: str, currency: str | None = None) -> str:
    """`value` as a person reads it; `kind` is one of KINDS."""
    if value is None or (isinstance(value, float) and value != value):
        return MISSING
    if kind == "text":
        return str(value)
    number = float(value)
    if kind == "money":
        code = currency or ""
        decimals = 0 if code in ZERO_DECIMAL_CURRENCIES else 2
        return f"{_number(number, decimals)} {code}".strip()
    if kind == "rate":
        return f"{number * 100:.1f} %"
    if kind == "rate_whole":
        return f"{number * 100:.0f} %"
    if kind == "count":
        return _number(number, 0 if number == int(number) else 1)
    if kind == "ratio":
        return _number(number, 2)
    if kind == "days":
        return f"{_number(number, 0 if number == int(number) else 1)} d"
    if kind == "months":
        return f"{number:.1f} mo"
    if kind == "multiple":
        return f"{number:.1f}×"
    raise ValueError(f"Unknown number kind {kind!r}: use one of {', '.join(KINDS)}.")


# The scorecard's unit column → how its values read.
UNIT_KINDS = {
    "count": "count",
    "amount": "money",
    "amount_rate": "money",
    "rate": "rate",
    "ratio": "ratio",
}


def unit_kind(unit: str | None) -> str:
    return UNIT_KINDS.get(unit or "", "ratio")
