"""French formatting of figures for people: euros as `1 234,50 €`, counts, months."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from babel.dates import format_date
from babel.numbers import format_currency, format_decimal

LOCALE = "fr_FR"


def euros(amount: Decimal | str | int) -> str:
    """`Decimal('1234.5')` → `'1 234,50 €'` (CLDR French: narrow no-break spaces)."""
    return format_currency(Decimal(amount), "EUR", locale=LOCALE)


def count(value: int) -> str:
    """`12345` → `'12 345'`."""
    return format_decimal(value, locale=LOCALE)


def month_name(day: date) -> str:
    """`date(2024, 3, 1)` → `'mars 2024'`."""
    return format_date(day, "LLLL y", locale=LOCALE)
