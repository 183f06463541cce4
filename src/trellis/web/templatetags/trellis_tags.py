"""Template filters every staff page uses (registered as a builtin in settings.TEMPLATES)."""

from __future__ import annotations

from typing import Any

from django import template

register = template.Library()


@register.filter
def patient_name(patient: Any, style: str = "") -> str:
    """How a patient is named to staff: full name and date of birth (``Patient.staff_label``).

    Patients who share a name must be told apart wherever staff see them (calendar, alert bars,
    lists), so no staff template prints ``full_name`` on its own; a guard test scans the
    templates. ``style="list"`` puts the family name first, for lists sorted by it.
    """
    if patient is None or patient == "":
        return ""
    label = getattr(patient, "staff_label", None)
    if label is None:  # already a label (e.g. a name from a service's row)
        return str(patient)
    if style == "list":
        return patient.staff_label_list  # type: ignore[no-any-return]
    return str(label)


@register.filter
def alert_text(text: str) -> str:
    """An alert's stored (English) title or detail in the page's language."""
    from trellis.alerts.labels import translate

    return translate(text)
