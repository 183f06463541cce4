"""Sessions that happen in order: preparation n comes after preparation n − 1.

Source: CLINICAL.md §6 and the tracks' ``preparation`` block (docs/protocols.md): preparation
sessions build on each other (intentions, then set and setting, then consent to touch…), so the
record must show them in order. Reading made here: a numbered session needs the one before it
recorded first, and cannot be dated before it (the same moment is allowed, for a session
recorded twice by mistake and corrected). Session 1 has no predecessor.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

#: Activities whose numbered sessions must be recorded in order.
ORDERED = frozenset({"preparation"})


def out_of_order(
    name: str, index: int, at: datetime, done: Mapping[int, datetime | None]
) -> str | None:
    """Why recording ``name`` number ``index`` at ``at`` breaks the order, or None.

    ``done`` maps the indices of the sessions of ``name`` already recorded to when they were
    done (None if the time is unknown).
    """
    if name not in ORDERED or index <= 1:
        return None
    previous = index - 1
    if previous not in done:
        return f"{name} {previous} must be recorded before {name} {index}"
    when = done[previous]
    if when is not None and at < when:
        return f"{name} {index} cannot be dated before {name} {previous} ({when:%Y-%m-%d %H:%M})"
    return None
