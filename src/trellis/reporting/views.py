"""Quality reports (CMS159) and the problem-list forms of the chart."""

from __future__ import annotations

import uuid
from typing import Any

from django.contrib import messages
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy
from django.views.decorators.http import require_POST

from trellis.accounts.decorators import staff_view
from trellis.accounts.services import has_any_role
from trellis.core.errors import InvalidInput
from trellis.patients.services import get_patient
from trellis.reporting import forms, services
from trellis.web.http import TrellisRequest


def _form_errors(form: Any) -> str:
    return "; ".join(
        f"{form[f].label}: {' '.join(str(m) for m in e)}" for f, e in form.errors.items()
    )


EXCLUSION_LABELS = {
    "bipolar": _lazy("Bipolar disorder"),
    "personality_disorder": _lazy("Personality disorder (emotionally labile)"),
    "psychotic_disorder": _lazy("Schizophrenia or psychotic disorder"),
    "pervasive_developmental_disorder": _lazy("Pervasive developmental disorder"),
    "death": _lazy("Died"),
    "hospice": _lazy("Hospice care"),
    "palliative_care": _lazy("Palliative care"),
    "long_term_care": _lazy("Permanent long-term care"),
}


def _year(request: TrellisRequest) -> tuple[forms.YearForm, int]:
    default = timezone.localdate().year - 1  # the last complete year
    form = forms.YearForm(request.GET or {"year": default})
    year = form.cleaned_data["year"] if form.is_valid() else default
    return form, year


@staff_view(services.REPORT_ROLES)
def cms159(request: TrellisRequest) -> HttpResponse:
    program = request.program
    if program is None:
        raise Http404("No program")
    form, year = _year(request)
    drill = has_any_role(request.user, program, services.DRILL_DOWN_ROLES)
    report = services.cms159_report(request.user, program, year, drill_down=drill, request=request)
    context = {
        "form": form,
        "year": year,
        "report": report,
        "result": report.result,
        "exclusions": [(EXCLUSION_LABELS[k], n) for k, n in report.result.exclusions.items()],
        "rows": [
            (patient, r, EXCLUSION_LABELS[r.excluded] if r.excluded else "")
            for patient, r in report.rows
        ],
        "drill": drill,
        "title": _("Depression remission at twelve months (CMS159)"),
    }
    return render(request, "reporting/cms159.html", context, status=400 if form.errors else 200)


def _uds_label(code: str) -> str:
    """People read labels, not codes: table names, bands, sexes, payers, OMB categories."""
    from trellis.core.equity import OMB_CATEGORIES

    labels = {
        "age_and_sex": _("Age (on 30 June) and sex"),
        "race_and_ethnicity": _("Race and ethnicity"),
        "language": _("Language"),
        "income_percent_of_poverty": _("Income as a percent of the poverty guideline"),
        "insurance": _("Insurance"),
        "english": _("English"),
        "other_than_english": _("Best served in a language other than English"),
        "100_and_below": _("100 % and below"),
        "101_150": _("101–150 %"),
        "151_200": _("151–200 %"),
        "over_200": _("Over 200 %"),
        "unknown": _("Unknown"),
        "uninsured": _("Uninsured"),
        "medicaid": _("Medicaid"),
        "medicare": _("Medicare"),
        "other_public": _("Other public (VA, TRICARE)"),
        "private": _("Private insurance"),
        "other_or_unknown": _("Other or unknown"),
        "female": _("female"),
        "male": _("male"),
        "multiracial_and_or_multiethnic": _("Multiracial and/or multiethnic"),
    }
    if code in labels:
        return str(labels[code])
    if code in OMB_CATEGORIES:
        return _(OMB_CATEGORIES[code])
    band, _sep, sex = code.rpartition(" ")
    if band and sex in labels:
        return f"{band} {labels[sex]}"
    return code


@staff_view(services.REPORT_ROLES)
def uds(request: TrellisRequest) -> HttpResponse:
    program = request.program
    if program is None:
        raise Http404("No program")
    form, year = _year(request)
    report = services.uds_report(request.user, program, year, request=request)
    tables = [
        (_uds_label(t.name), [(_uds_label(c.group), c) for c in t.cells], t) for t in report.tables
    ]
    context = {
        "form": form,
        "year": year,
        "report": report,
        "tables": tables,
        "cms159": services.cms159_shown(report.cms159),
        "title": _("UDS-style tables"),
    }
    return render(request, "reporting/uds.html", context, status=400 if form.errors else 200)


@staff_view(services.REPORT_ROLES)
def uds_csv(request: TrellisRequest, year: int) -> HttpResponse:
    program = request.program
    if program is None:
        raise Http404("No program")
    try:
        report = services.uds_report(request.user, program, year, request=request)
    except InvalidInput as exc:
        raise Http404("No such year") from exc
    response = HttpResponse(services.uds_csv(report), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="uds-{year}.csv"'
    return response


@staff_view(services.DRILL_DOWN_ROLES)
def cms159_csv(request: TrellisRequest, year: int) -> HttpResponse:
    program = request.program
    if program is None:
        raise Http404("No program")
    report = services.cms159_report(request.user, program, year, drill_down=True, request=request)
    response = HttpResponse(services.cms159_csv(report), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="cms159-{year}.csv"'
    return response


def _save_from_chart(
    request: TrellisRequest,
    patient_id: uuid.UUID,
    form_class: Any,
    save: Any,
    saved: str,
    not_saved: str,
) -> HttpResponse:
    """A chart panel's POST: validate the form, call the service, say what happened on the chart
    (the service validates again and stores whole or nothing)."""
    patient = get_patient(request.user, patient_id, request=request)
    form = form_class(request.POST)
    if form.is_valid():
        try:
            save(request.user, patient, request=request, **form.cleaned_data)
        except InvalidInput as exc:
            messages.error(request, not_saved % {"e": exc.detail})
        else:
            messages.success(request, saved)
    else:
        messages.error(request, not_saved % {"e": _form_errors(form)})
    return redirect("patients:chart", patient_id=patient.pk)


@staff_view(services.EDIT_ROLES, patient_data=True)
@require_POST
def add_diagnosis(request: TrellisRequest, patient_id: uuid.UUID) -> HttpResponse:
    return _save_from_chart(
        request,
        patient_id,
        forms.DiagnosisForm,
        services.add_diagnosis,
        _("Diagnosis added."),
        _("Diagnosis not saved: %(e)s"),
    )


@staff_view(services.EDIT_ROLES, patient_data=True)
@require_POST
def add_status(request: TrellisRequest, patient_id: uuid.UUID) -> HttpResponse:
    return _save_from_chart(
        request,
        patient_id,
        forms.StatusEventForm,
        services.add_status_event,
        _("Status recorded."),
        _("Status not saved: %(e)s"),
    )
