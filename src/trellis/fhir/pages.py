"""People's pages of the FHIR app: the chart's record download (staff), the patient's plain
summary (check-in link) and the admins' list of API clients."""

from __future__ import annotations

import json
import uuid
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from trellis.accounts.decorators import staff_view
from trellis.accounts.models import CLINICAL_ROLES, Role
from trellis.accounts.services import has_any_role
from trellis.checkin.views import checkin_view
from trellis.core.errors import InvalidInput
from trellis.fhir import record, services
from trellis.fhir.forms import ClientForm
from trellis.web.forms import show_input_error

VISIT_KINDS = {
    "preparation": gettext_lazy("Preparation session"),
    "dose": gettext_lazy("Treatment session"),
    "integration": gettext_lazy("Integration session"),
    "peer_circle": gettext_lazy("Peer circle"),
    "follow_up": gettext_lazy("Follow-up visit"),
    "assessment": gettext_lazy("Questionnaire"),
}
DRUGS = {"ketamine": gettext_lazy("Ketamine"), "esketamine": gettext_lazy("Esketamine")}


@staff_view(CLINICAL_ROLES, patient_data=True)
def download_record(request: HttpRequest, patient_id: uuid.UUID) -> HttpResponse:
    """The patient's whole record as a FHIR Bundle (JSON file), audited."""
    patient, bundle = record.bundle_for_staff(request.user, patient_id, request)
    resp = HttpResponse(
        json.dumps(bundle, ensure_ascii=False, indent=1), content_type="application/fhir+json"
    )
    resp["Content-Disposition"] = f'attachment; filename="record-{patient.pk}.fhir.json"'
    resp["Cache-Control"] = "no-store"
    return resp


def chart_panel(request: Any, patient: Any) -> dict[str, Any] | None:
    if not has_any_role(request.user, patient.program, CLINICAL_ROLES):
        return None
    return {
        "title": _("Record download"),
        "template": "fhir/_chart_panel.html",
        "context": {"url": reverse("fhir:download_record", args=[patient.pk])},
    }


def checkin_section(request: Any, link: Any) -> dict[str, Any] | None:
    token = request.resolver_match.kwargs["token"] if request.resolver_match else ""
    return {
        "title": _("Your record"),
        "template": "fhir/_checkin_section.html",
        "context": {"url": reverse("fhir:summary", args=[token])},
        "order": 90,
    }


@checkin_view
def summary(request: HttpRequest, link: Any) -> HttpResponse:
    from trellis.measures.services import patient_title

    data = record.plain_summary(link, request)
    for s in data["scores"]:
        s["title"] = patient_title(s["instrument"])
        s["max"] = {"phq9": 27, "gad7": 21, "pcl5": 80}.get(s["instrument"])
    for d in data["doses"]:
        d["label"] = DRUGS.get(d["drug"], d["drug"])
    for v in data["visits"]:
        v["label"] = VISIT_KINDS.get(v["kind"], v["kind"])
    token = request.resolver_match.kwargs["token"] if request.resolver_match else ""
    data["home"] = reverse("checkin:home", args=[token])
    return render(request, "fhir/summary.html", data)


@staff_view([Role.ADMIN])
def clients(request: HttpRequest) -> HttpResponse:
    """The program's FHIR API clients, and a form to register one (as the CLI does)."""
    program = getattr(request, "program", None)
    form = ClientForm(request.POST or None)
    created = None
    if request.method == "POST" and form.is_valid():
        try:
            created = services.register_client(
                request.user,
                program,  # type: ignore[arg-type]
                name=form.cleaned_data["name"],
                scopes=form.cleaned_data["scopes"],
                jwks=form.cleaned_data["jwks"],
                jwks_url=form.cleaned_data["jwks_url"] or "",
            )
            form = ClientForm()
        except InvalidInput as exc:
            field = {"--jwks": "jwks", "--scopes": "scopes", "--name": "name"}.get(exc.field)
            show_input_error(form, InvalidInput(field or exc.field, exc.detail))
    return render(
        request,
        "fhir/clients.html",
        {
            "clients": services.clients_of(request.user, program),
            "program": program,
            "form": form,
            "created": created,
        },
    )
