"""Template helpers for the care pages."""

from __future__ import annotations

import re
from typing import Any

from django import template
from django.utils.translation import gettext, ngettext
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
# The detail texts of ``trellis.core.screening`` (English there), in the page's language.
SCREENING_TEXTS: dict[str, Any] = {
    "excluded from this track": _("excluded from this track"),
    "prescriber review not yet recorded": _("prescriber review not yet recorded"),
    "not yet recorded": _("not yet recorded"),
}
PREPARATION_DONE = re.compile(r"^(\d+) of (\d+) session\(s\) done$")


def _detail(key: str, text: str) -> str:
    if key == "screening" and text in SCREENING_TEXTS:
        return str(SCREENING_TEXTS[text])
    if key == "preparation" and (m := PREPARATION_DONE.match(text)):
        done, needed = int(m.group(1)), int(m.group(2))
        return ngettext(
            "%(done)s of %(needed)s session done",
            "%(done)s of %(needed)s sessions done",
            needed,
        ) % {"done": done, "needed": needed}
    return text


@register.filter
def plain_blockers(blockers: list[str]) -> list[dict[str, Any]]:
    """``[{"label", "text", "short"}]`` for each blocker string."""
    out = []
    for raw in blockers or []:
        key, _sep, text = str(raw).partition(": ")
        label = BLOCKER_LABELS.get(key, key.replace("_", " "))
        text = _detail(key, text)
        short = f"{label}: {text}" if key in DETAILED else str(label)
        out.append({"label": label, "text": text or raw, "short": short})
    return out


@register.filter
def track_title(title: str) -> str:
    """A track's title in the page's language: the packaged tracks' titles are in the
    catalogue (a program's own copy shows the title its author wrote)."""
    return gettext(title) if title else ""


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
