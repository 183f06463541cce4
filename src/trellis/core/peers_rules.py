"""Peer-app rules that are not in :mod:`trellis.core.peers` (CLINICAL.md §7).

A facilitator note is about the group and is kept apart from every patient record, so it may
not name a member: :func:`names_in_note` finds any member's full name (given + family name, in
either order, case- and accent-insensitively, whole words) in a note.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable


def _fold(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text)
    plain = "".join(c for c in decomposed if not unicodedata.combining(c))
    return " ".join(re.findall(r"\w+", plain.casefold()))


def names_in_note(text: str, members: Iterable[tuple[str, str]]) -> list[str]:
    """Full names ``"given family"`` of ``members`` that appear in ``text`` (sorted, unique)."""
    folded = f" {_fold(text)} "
    found = set()
    for given, family in members:
        g, f = _fold(given), _fold(family)
        if not g or not f:
            continue
        if f" {g} {f} " in folded or f" {f} {g} " in folded or f" {f} , {g} " in folded:
            found.add(f"{given} {family}")
    return sorted(found)
