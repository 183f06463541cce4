"""The Measures panel of the patient chart and the check-in section of a patient's link."""

from __future__ import annotations

from typing import Any

from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from trellis.accounts.models import CLINICAL_ROLES
from trellis.accounts.services import has_any_role
from trellis.checkin.models import CheckInLink
from trellis.measures import services
from trellis.measures.charts import chart_rows
from trellis.patients.models import Patient

BADGES = [
    ("baseline", gettext_lazy("Baseline")),
    ("response", gettext_lazy("Response")),
    ("remission", gettext_lazy("Remission")),
    ("relapse_warning", gettext_lazy("Relapse warning")),
    ("relapse", gettext_lazy("Relapse")),
]


def panel_context(
    request: Any,
    patient: Patient,
    total_form: Any = None,
    cssrs_form: Any = None,
    items_form: Any = None,
) -> dict[str, Any]:
    from trellis.measures.forms import (
        CSSRS_PREFIX,
        ITEMS_PREFIX,
        TOTAL_PREFIX,
        ClinicianItemsForm,
        ClinicianTotalForm,
        CssrsForm,
    )

    user = request.user
    assessments = services.assessments_of(user, patient, request=request)
    episode = services.current_episode(patient)
    doses = services.dose_times(episode) if episode is not None else []
    outcome = services.outcomes_for_episode(episode) if episode is not None else None
    badges = []
    if outcome is not None:
        data = outcome.to_dict()
        for key, label in BADGES:
            value = data.get(key)
            if key == "baseline" and value:
                badges.append(
                    {"key": key, "label": label, "date": value["date"], "score": value["score"]}
                )
            elif value and value != "undetermined":  # PCL-5 relapse: not defined (§3)
                badges.append({"key": key, "label": label, "date": value})
    return {
        "patient": patient,
        "episode": episode,
        "outcome": outcome,
        "primary_name": services.short_name(outcome.instrument) if outcome else "",
        "badges": badges,
        "charts": chart_rows(assessments, doses, services.primary_instrument(episode)),
        "cssrs": [a for a in assessments if a.instrument == "cssrs"][::-1][:10],
        "recent": assessments[::-1][:15],
        "doses": doses,
        "can_enter": has_any_role(user, patient.program, services.ENTRY_ROLES),
        "can_send": has_any_role(user, patient.program, services.SEND_ROLES),
        "total_form": total_form or ClinicianTotalForm(prefix=TOTAL_PREFIX),
        "cssrs_form": cssrs_form or CssrsForm(prefix=CSSRS_PREFIX),
        "items_form": items_form or ClinicianItemsForm(prefix=ITEMS_PREFIX),
    }


def measures_panel(request: Any, patient: Patient) -> dict[str, Any] | None:
    if not has_any_role(request.user, patient.program, CLINICAL_ROLES):
        return None
    return {
        "title": _("Measures"),
        "template": "measures/_partials/panel.html",
        "context": panel_context(request, patient),
    }


def checkin_section(request: Any, link: CheckInLink) -> dict[str, Any] | None:
    """Questionnaires due for this link, each done or not yet (the patient's check-in page)."""
    status = services.link_status(link)
    if not status:
        return None
    token = request.resolver_match.kwargs["token"] if request.resolver_match else ""
    for item in status:
        item["url"] = reverse(
            "measures:questionnaire", args=[token, item["instrument"], item["timepoint"]]
        )
    return {
        "title": _("Questionnaires"),
        "template": "measures/_checkin_section.html",
        "context": {"items": status},
        "order": 10,
    }
