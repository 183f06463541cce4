"""Template helpers for the care pages."""

from __future__ import annotations

from typing import Any

from django import template
from django.utils.translation import gettext_lazy as _

register = template.Library()

# The first-dose blockers of trellis.core.screening read "key: text"; people read a label.
BLOCKER_LABELS: dict[str, Any] = {
    "screening": _("Screening"),
    "preparation": _("Preparation"),
    "safety_plan": _("Safety plan"),
    "rems_patient_enrolment": _("REMS enrolment"),
    "part2_consent": _("42 CFR Part 2 consent"),
    "mood_stabiliser_documented": _("Mood stabiliser"),
    "consent_to_touch_documented": _("Consent to touch"),
    "preparation_teach_back": _("Preparation guide questions"),
}
# Blockers whose text carries the detail that matters (a count, the screening state).
DETAILED = {"screening", "preparation"}


@register.filter
def plain_blockers(blockers: list[str]) -> list[dict[str, Any]]:
    """``[{"label", "text", "short"}]`` for each blocker string."""
    out = []
    for raw in blockers or []:
        key, _sep, text = str(raw).partition(": ")
        label = BLOCKER_LABELS.get(key, key.replace("_", " "))
        short = f"{label}: {text}" if key in DETAILED else str(label)
        out.append({"label": label, "text": text or raw, "short": short})
    return out


@register.filter
def get_item(mapping: dict[str, Any], key: str) -> Any:
    return mapping.get(key, key)


@register.filter
def activity_name(act: Any) -> str:
    from trellis.care.forms import activity_label

    return activity_label(act)


@register.inclusion_tag("care/_next_due.html")
def next_due(act: Any, today: Any) -> dict[str, Any]:
    """The next activity: its target date, or "due now, by <latest>" once the target passed."""
    return {"act": act, "today": today}


KIND_PLURALS: dict[str, Any] = {
    "preparation": _("preparation"),
    "dose": _("doses"),
    "integration": _("integration"),
    "peer_circle": _("peer circle"),
    "assessment": _("measures"),
    "follow_up": _("follow-up"),
}


@register.filter
def kind_name(kind: str) -> Any:
    return KIND_PLURALS.get(kind, kind)
