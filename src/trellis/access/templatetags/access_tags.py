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
