"""Small template filters of the access app."""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction

from django import template

register = template.Library()


@register.filter
def percent(value: Fraction | Decimal | int | None) -> str:
    """An exact percent bound (a Fraction) without trailing zeros, e.g. 125 or 137.5."""
    if value is None:
        return ""
    if isinstance(value, Fraction):
        value = Decimal(value.numerator) / Decimal(value.denominator)
    text = format(Decimal(value), "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


@register.filter
def payer_label(value: str) -> str:
    """The payer kind's label (e.g. "VA / TRICARE") for a stored key."""
    from trellis.patients.models import Payer

    return str(dict(Payer.choices).get(value, value))


def format_usd(amount: Decimal | int | float | str | None, language: str) -> str:
    """US dollars written for a reader of ``language`` (issue 19: "$30000.00" had no
    separators). English: ``$30,000.00``. Spanish (CLDR ``es``): ``30.000,00 US$``, with the
    thousands point only from five digits on (CLDR minimum grouping), e.g. ``3000,00 US$``.
    Rounded half-up to cents; negative amounts keep their sign in front."""
    if amount is None or amount == "":
        return ""
    value = Decimal(str(amount)).quantize(Decimal("0.01"), rounding="ROUND_HALF_UP")
    sign = "-" if value < 0 else ""
    whole, cents = f"{abs(value):.2f}".split(".")
    if (language or "en").split("-")[0] == "es":
        grouped = f"{int(whole):,}".replace(",", ".") if len(whole) > 4 else whole
        return f"{sign}{grouped},{cents}\u00a0US$"
    return f"{sign}${int(whole):,}.{cents}"


@register.filter
def money(value: Decimal | int | float | str | None) -> str:
    """A dollar amount in the active language (see :func:`format_usd`)."""
    from django.utils.translation import get_language

    return format_usd(value, get_language() or "en")
