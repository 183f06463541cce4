"""Strict parsing of numbers typed by a person: scores, vital signs, counts (issue 18).

Python's ``int()`` and ``float()`` (and Django's number fields, which call them) accept
``0_1`` (= 1), ``+1``, surrounding Unicode spaces and non-ASCII digits such as ``١٢`` or
full-width ``１２``, and ``str.isdigit()`` even accepts ``²``; a typo then becomes a score. Every
CLI option, form and API that takes a score or a vital sign parses through this module instead:
**ASCII digits only**, an optional decimal point with ASCII digits on both sides where a
fraction is allowed, nothing else. No sign: scores and vital signs are never negative.
Surrounding ASCII spaces are ignored (a form field often carries one).
"""

from __future__ import annotations

import re
from decimal import Decimal

from trellis.core.errors import InvalidInput

_WHOLE = re.compile(r"[0-9]+")
_DECIMAL = re.compile(r"[0-9]+(?:\.[0-9]+)?")
_ASCII_SPACE = " \t"


def strict_whole(text: str) -> int | None:
    """``text`` as a non-negative int when it is ASCII digits only (e.g. ``"12"``), else None.

    ``"0_1"``, ``"+1"``, ``"-1"``, ``"1.0"``, ``"١٢"``, ``"１２"`` and ``""`` give None.
    """
    if not isinstance(text, str):
        return None
    stripped = text.strip(_ASCII_SPACE)
    if not _WHOLE.fullmatch(stripped):
        return None
    return int(stripped)


def strict_decimal(text: str) -> Decimal | None:
    """``text`` as a non-negative Decimal when it is ASCII digits with at most one decimal
    point between digits (``"72"``, ``"72.5"``), else None (``".5"``, ``"1e3"``, ``"inf"``,
    ``"7_2"`` and non-ASCII digits too)."""
    if not isinstance(text, str):
        return None
    stripped = text.strip(_ASCII_SPACE)
    if not _DECIMAL.fullmatch(stripped):
        return None
    return Decimal(stripped)


def parse_whole(text: str, field: str, low: int, high: int, what: str = "a whole number") -> int:
    """Parse ``text`` strictly (:func:`strict_whole`) into an int in ``[low, high]``, or raise
    InvalidInput naming ``field``: ``must be a whole number from 0 to 3, got '0_1'``."""
    value = strict_whole(text)
    if value is None or not low <= value <= high:
        raise InvalidInput(field, f"must be {what} from {low} to {high}, got {text!r}")
    return value


def parse_decimal(
    text: str, field: str, low: float, high: float, what: str = "a number", unit: str = ""
) -> float:
    """Parse ``text`` strictly (:func:`strict_decimal`) into a float in ``[low, high]``, or raise
    InvalidInput naming ``field``."""
    value = strict_decimal(text)
    suffix = f" {unit}" if unit else ""
    if value is None or not low <= value <= high:
        raise InvalidInput(field, f"must be {what} from {low:g} to {high:g}{suffix}, got {text!r}")
    return float(value)
