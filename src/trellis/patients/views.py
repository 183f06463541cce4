from __future__ import annotations

import uuid

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from trellis.accounts.decorators import staff_view
from trellis.accounts.services import has_any_role
from trellis.core.errors import InvalidInput
from trellis.patients import services
from trellis.patients.chart import chart_panels
from trellis.patients.forms import ConsentForm, PatientForm, WithdrawConsentForm
from trellis.patients.services import REGISTRAR_ROLES
from trellis.web.forms import show_input_error
from trellis.web.http import TrellisRequest

PAGE_SIZE = 50


@staff_view(patient_data=True)
def patient_list(request: TrellisRequest) -> HttpResponse:
    query = request.GET.get("q", "")
    patients = services.search_patients(request.user, request.program, query, request=request)
    context = {
        "patients": patients[:PAGE_SIZE],
        "total": patients.count(),
        "query": query,
        "page_size": PAGE_SIZE,
        "can_register": has_any_role(request.user, request.program, REGISTRAR_ROLES),
    }
    template = "patients/_results.html" if request.htmx else "patients/list.html"
    return render(request, template, context)


@staff_view(REGISTRAR_ROLES, patient_data=True)
def register(request: TrellisRequest) -> HttpResponse:
    form = PatientForm(request.POST or None)
    program = request.program
    assert program is not None  # staff_view checked a role in it
    if request.method == "POST" and form.is_valid():
        patient = services.register_patient(
            request.user, program, form.cleaned_data, request=request
        )
        messages.success(request, _("Patient registered."))
        return redirect("patients:chart", patient_id=patient.pk)
    return render(request, "patients/form.html", {"form": form, "creating": True})


@staff_view(patient_data=True)
def chart(request: TrellisRequest, patient_id: uuid.UUID) -> HttpResponse:
    patient = services.get_patient(request.user, patient_id, request=request)
    context = {
        "patient": patient,
        "age": patient.age_on(timezone.localdate()),
        "consents": services.consents_of(request.user, patient),
        "consent_form": ConsentForm(),
        "can_edit": has_any_role(request.user, patient.program, REGISTRAR_ROLES),
        "panels": chart_panels(request, patient),
    }
    return render(request, "patients/chart.html", context)


@staff_view(REGISTRAR_ROLES, patient_data=True)
def edit(request: TrellisRequest, patient_id: uuid.UUID) -> HttpResponse:
    patient = services.get_patient(request.user, patient_id, request=request)
    form = PatientForm(request.POST or None, instance=patient)
    if request.method == "POST" and form.is_valid():
        # The form worked on ``patient`` in memory; the service re-applies and saves atomically.
        data = {name: form.cleaned_data[name] for name in form.Meta.fields}
        fresh = services.get_patient(request.user, patient_id, audit=False)
        services.update_patient(request.user, fresh, data, request=request)
        messages.success(request, _("Changes saved."))
        return redirect("patients:chart", patient_id=patient.pk)
    return render(request, "patients/form.html", {"form": form, "patient": patient})


@staff_view(patient_data=True)
@require_POST
def add_consent(request: TrellisRequest, patient_id: uuid.UUID) -> HttpResponse:
    patient = services.get_patient(request.user, patient_id, request=request)
    form = ConsentForm(request.POST)
    if form.is_valid():
        services.add_consent(request.user, patient, request=request, **form.cleaned_data)
        messages.success(request, _("Consent recorded."))
        return redirect("patients:chart", patient_id=patient.pk)
    context = {
        "patient": patient,
        "age": patient.age_on(timezone.localdate()),
        "consents": services.consents_of(request.user, patient),
        "consent_form": form,
        "can_edit": has_any_role(request.user, patient.program, REGISTRAR_ROLES),
        "panels": chart_panels(request, patient),
    }
    return render(request, "patients/chart.html", context, status=400)


@staff_view(patient_data=True)
def withdraw_consent(
    request: TrellisRequest, patient_id: uuid.UUID, consent_id: int
) -> HttpResponse:
    """A confirm page (what is withdrawn, when, why); only its POST withdraws the consent."""
    patient = services.get_patient(request.user, patient_id, audit=False)
    consent = services.get_consent(request.user, patient, consent_id)
    form = WithdrawConsentForm(
        request.POST if request.method == "POST" else None,
        initial={"withdrawn_on": timezone.localdate()},
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.withdraw_consent(
                request.user,
                patient,
                consent.pk,
                on=form.cleaned_data["withdrawn_on"],
                reason=form.cleaned_data["reason"],
                request=request,
            )
        except InvalidInput as exc:
            show_input_error(form, exc)
        else:
            messages.success(request, _("Consent withdrawn."))
            return redirect("patients:chart", patient_id=patient.pk)
    context = {"patient": patient, "consent": consent, "form": form}
    return render(
        request, "patients/withdraw_consent.html", context, status=400 if form.errors else 200
    )
