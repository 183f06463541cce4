"""Plain words for the dosing codes staff read (drug, route, dissociation rating)."""

from __future__ import annotations

from typing import Any

from django import template
from django.utils.translation import gettext_lazy as _

register = template.Library()

#: ``trellis.core.safety`` drug and route codes, and the dissociation ratings of monitoring.
DRUGS: dict[str, Any] = {"ketamine": _("ketamine"), "esketamine": _("esketamine")}
ROUTES: dict[str, Any] = {"iv": _("IV"), "im": _("IM"), "intranasal": _("nasal spray")}
RATINGS: dict[str, Any] = {
    "none": _("none"),
    "mild": _("mild"),
    "moderate": _("moderate"),
    "severe": _("severe"),
}


@register.filter
def drug_name(code: str) -> str:
    return str(DRUGS.get(code, code))


@register.filter
def route_name(code: str) -> str:
    return str(ROUTES.get(code, code))


@register.filter
def rating_name(code: str) -> str:
    return str(RATINGS.get(code, code)) if code else ""


@register.filter
def dosing_text(text: str) -> str:
    """A pre-dose, hold or discharge-readiness text of the safety rules, in the page's language."""
    from trellis.dosing.labels import translate

    return translate(text)
