"""Cards on the home page, contributed by each domain app.

An app adds a card by appending a callable to ``CARD_PROVIDERS`` in its ``AppConfig.ready``; the
callable gets the request and returns a card dict (title, number, url, link_text) or ``None``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.http import HttpRequest

Card = dict[str, Any]
CARD_PROVIDERS: list[Callable[[HttpRequest], Card | None]] = []


def home_cards(request: HttpRequest) -> list[Card]:
    cards = []
    for provider in CARD_PROVIDERS:
        card = provider(request)
        if card is not None:
            cards.append(card)
    return cards
