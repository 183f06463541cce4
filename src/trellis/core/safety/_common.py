"""Validation helpers shared by the safety rules (private to :mod:`trellis.core.safety`).

Every value that comes from a person or a file passes through one of these, so that bad input
raises :class:`~trellis.core.errors.InvalidInput` naming the field, with one specific message.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from trellis.core.errors import InvalidInput
from trellis.core.numbers import strict_decimal, strict_whole

# Plausible physiological ranges for recorded values: outside them the value is a typing error,
# not a clinical finding, so it is refused rather than alerted on.
SYSTOLIC_RANGE = (40, 300)
DIASTOLIC_RANGE = (20, 200)
HEART_RATE_RANGE = (20, 250)
SPO2_RANGE = (50, 100)
MOAAS_RANGE = (0, 5)
CADSS_RANGE = (0, 92)
WEIGHT_RANGE_KG = (30.0, 300.0)
AGE_RANGE = (0, 120)

DRUGS = ("esketamine", "ketamine")


def describe(value: object) -> str:
    """Render a bad value for an error message: strings quoted, JSON null as ``null``."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return f'"{value}"'
    return repr(value)


def whole_number(value: object, field: str, low: int, high: int) -> int:
    """Return ``value`` as an int in ``[low, high]``; refuse booleans, fractions and text."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InvalidInput(
            field, f"must be a whole number from {low} to {high}, got {describe(value)}"
        )
    if isinstance(value, float):
        if not math.isfinite(value) or not value.is_integer():
            raise InvalidInput(
                field, f"must be a whole number from {low} to {high}, got {describe(value)}"
            )
        value = int(value)
    if not low <= value <= high:
        raise InvalidInput(field, f"must be a whole number from {low} to {high}, got {value}")
    return value


def whole_number_text(text: str, field: str, low: int, high: int) -> int:
    """Parse a command-line whole number (``"120"``) into an int in ``[low, high]``."""
    # ASCII digits only, no sign or "_" (trellis.core.numbers, the one strict parser).
    value = strict_whole(text)
    if value is None:
        raise InvalidInput(
            field, f"must be a whole number from {low} to {high}, got {describe(text)}"
        )
    return whole_number(value, field, low, high)


def number(value: object, field: str, low: float, high: float, unit: str = "") -> float:
    """Return ``value`` as a finite float in ``[low, high]``; refuse booleans and text."""
    suffix = f" {unit}" if unit else ""
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise InvalidInput(
            field, f"must be a number from {low:g} to {high:g}{suffix}, got {describe(value)}"
        )
    if not low <= value <= high:
        raise InvalidInput(
            field, f"must be a number from {low:g} to {high:g}{suffix}, got {value:g}"
        )
    return float(value)


def number_text(text: str, field: str, low: float, high: float, unit: str = "") -> float:
    """Parse a command-line number (``"72.5"``) into a float in ``[low, high]``."""
    suffix = f" {unit}" if unit else ""
    parsed = strict_decimal(text)  # ASCII digits and one decimal point only
    if parsed is None:
        raise InvalidInput(
            field, f"must be a number from {low:g} to {high:g}{suffix}, got {describe(text)}"
        )
    return number(float(parsed), field, low, high, unit)


def boolean(value: object, field: str) -> bool:
    """Return ``value`` if it is a real boolean (JSON true/false), else refuse it."""
    if not isinstance(value, bool):
        raise InvalidInput(field, f"must be true or false, got {describe(value)}")
    return value


def choice(value: object, field: str, allowed: tuple[str, ...]) -> str:
    """Return ``value`` if it is one of ``allowed``."""
    if not isinstance(value, str) or value not in allowed:
        raise InvalidInput(field, f"must be one of {', '.join(allowed)}, got {describe(value)}")
    return value


def blood_pressure(value: object, field: str) -> tuple[int, int]:
    """Validate a ``[systolic, diastolic]`` pair (whole mmHg, systolic above diastolic)."""
    if not isinstance(value, list | tuple) or len(value) != 2:
        raise InvalidInput(field, f"must be [systolic, diastolic], got {describe(value)}")
    systolic = whole_number(value[0], f"{field}[0] (systolic)", *SYSTOLIC_RANGE)
    diastolic = whole_number(value[1], f"{field}[1] (diastolic)", *DIASTOLIC_RANGE)
    if diastolic >= systolic:
        raise InvalidInput(
            field, f"diastolic {diastolic} must be below systolic {systolic} (values swapped?)"
        )
    return systolic, diastolic


def parse_datetime(value: object, field: str) -> datetime:
    """Parse an ISO 8601 date-time string (``Z`` accepted) or pass a datetime through."""
    if isinstance(value, datetime):
        return value
    if not isinstance(value, str):
        raise InvalidInput(field, f"must be an ISO 8601 date-time, got {describe(value)}")
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        raise InvalidInput(
            field, f"must be an ISO 8601 date-time like 2026-01-15T09:30, got {describe(value)}"
        ) from None


def same_awareness(times: Mapping[str, datetime | None]) -> None:
    """Refuse a mix of naive and time-zone-aware date-times in one input.

    Comparing a naive time with an aware one is ambiguous (which zone was meant?), so Trellis
    requires all date-times of one decision to be naive (one local clock) or all to carry an
    offset; the first field that differs from the first one is named.
    """
    first_field: str | None = None
    first_aware = False
    for field, value in times.items():
        if value is None:
            continue
        aware = value.tzinfo is not None and value.utcoffset() is not None
        if first_field is None:
            first_field, first_aware = field, aware
        elif aware != first_aware:
            kind = "has a time-zone offset" if aware else "has no time-zone offset"
            other = "does not" if aware else "does"
            raise InvalidInput(
                field,
                f"{kind} but {first_field} {other}: give all date-times with an offset or none",
            )


def minutes_between(start: datetime, end: datetime) -> float:
    """Minutes from ``start`` to ``end`` (negative if ``end`` is earlier)."""
    return (end - start).total_seconds() / 60.0


def reject_unknown_keys(mapping: Mapping[str, Any], known: tuple[str, ...], where: str) -> None:
    """Refuse keys that are not in ``known`` (a typo must not silently fall back to a default)."""
    for key in mapping:
        if key not in known:
            raise InvalidInput(f"{where}.{key}", f"unknown setting (known: {', '.join(known)})")
