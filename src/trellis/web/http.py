"""The request as Trellis views see it, after its middleware ran (for type-checking views)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.http import HttpRequest

if TYPE_CHECKING:
    from django_htmx.middleware import HtmxDetails

    from trellis.accounts.models import Program, User


class TrellisRequest(HttpRequest):
    user: User
    program: Program | None
    htmx: HtmxDetails
    request_id: str
