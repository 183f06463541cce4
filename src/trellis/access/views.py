"""Access pages: fee assessment, coverage, cost of a course, schedule and price editors, equity.

Views are thin: parse the form, call a service, render. A service's InvalidInput goes back on
the field it names; nothing is saved then.
"""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from trellis.access import charts, services
from trellis.access.forms import (
    ITEM_LABELS,
    CostForm,
    CoverageForm,
    FeeAssessmentForm,
    PriceListForm,
    ScheduleForm,
)
from trellis.accounts.decorators import staff_view
from trellis.accounts.models import CLINICAL_ROLES
from trellis.accounts.services import has_any_role
from trellis.core import cost as core_cost
from trellis.core import equity as core_equity
from trellis.core.errors import InvalidInput
from trellis.patients import services as patient_services
from trellis.patients.models import Patient
from trellis.web.forms import show_input_error
from trellis.web.http import TrellisRequest

PRINT_LANGUAGES = ("en", "es")


# --- fee assessment -----------------------------------------------------------------------------


@staff_view(CLINICAL_ROLES, patient_data=True)
def fee(request: TrellisRequest, patient_id: uuid.UUID) -> HttpResponse:
    patient = patient_services.get_patient(request.user, patient_id, request=request)
    can_assess = has_any_role(request.user, patient.program, services.FEE_ROLES)
    initial: dict[str, Any] = {}
    if patient.household_size:
        initial["household_size"] = patient.household_size
    if patient.annual_income is not None:
        initial["annual_income"] = patient.annual_income
    form = FeeAssessmentForm(request.POST or None, initial=initial)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            d = form.cleaned_data
            try:
                services.assess_patient_fee(
                    request.user,
                    patient,
                    year=d["year"],
                    region=d["region"],
                    household_size=d["household_size"],
                    annual_income=d["annual_income"],
                    document_kind=d["document_kind"],
                    document_note=d["document_note"],
                    document_date=d["document_date"],
                    request=request,
                )
            except InvalidInput as exc:
                show_input_error(form, exc)
            else:
                messages.success(request, _("Fee assessment recorded."))
                return redirect("access:fee", patient_id=patient.pk)
        status = 400
    current = services.current_schedule(patient.program)
    context = {
        "patient": patient,
        "form": form,
        "can_assess": can_assess,
        "assessments": services.fee_assessments_of(request.user, patient),
        "schedule": current.schedule,
        "schedule_version": current.version,
    }
    return render(request, "access/fee.html", context, status=status)


# --- coverage -----------------------------------------------------------------------------------


@staff_view(CLINICAL_ROLES, patient_data=True)
def coverage(request: TrellisRequest, patient_id: uuid.UUID) -> HttpResponse:
    patient = patient_services.get_patient(request.user, patient_id, request=request)
    can_edit = has_any_role(request.user, patient.program, services.FEE_ROLES)
    current = services.current_coverage(request.user, patient)
    initial: dict[str, Any] = {
        "payer": patient.payer or "uninsured",
        "prior_auth_status": "not_needed",
    }
    if current is not None:
        initial = {
            "payer": current.payer,
            "plan_name": current.plan_name,
            "member_id": current.member_id,
            "prior_auth_status": current.prior_auth_status,
            "prior_auth_requested_on": current.prior_auth_requested_on,
            "prior_auth_decided_on": current.prior_auth_decided_on,
            "prior_auth_expires_on": current.prior_auth_expires_on,
            "covered_percent": next(iter(current.percent_covered.values()), None),
            "covers_ketamine_iv": "ketamine_iv" in current.percent_covered,
            "deductible_remaining": current.deductible_remaining,
            "out_of_pocket_max_remaining": current.out_of_pocket_max_remaining,
        }
    form = CoverageForm(request.POST or None, initial=initial)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                services.record_coverage(
                    request.user, patient, request=request, **form.service_kwargs()
                )
            except InvalidInput as exc:
                form.add_service_error(exc)
            else:
                messages.success(request, _("Coverage recorded."))
                return redirect("access:coverage", patient_id=patient.pk)
        status = 400
    payer = current.payer if current is not None else (patient.payer or "uninsured")
    context = {
        "patient": patient,
        "form": form,
        "can_edit": can_edit,
        "current": current,
        "history": services.coverages_of(request.user, patient)[:10],
        "checklists": [
            services.payer_checklist(payer, None),
            core_cost.coverage_checklist(payer, "ketamine_iv"),
        ],
        "payer": payer,
        "savings_eligible": services.savings_programme_eligible(payer),
        "rems_on_file": services.rems_enrolment_on_file(request.user, patient),
    }
    return render(request, "access/coverage.html", context, status=status)


# --- cost of a course ---------------------------------------------------------------------------


def _has_episode(request: TrellisRequest, patient: Patient) -> bool:
    from trellis.care import services as care

    return (
        care.episodes_of(request.user, patient)
        .exclude(phase__in=["completed", "withdrawn"])
        .exists()
    )


def _estimate(
    request: TrellisRequest, patient: Patient
) -> tuple[CostForm, services.CostEstimate | None, str | None]:
    has_episode = _has_episode(request, patient)
    form = CostForm(request.GET or None, has_episode=has_episode, program=patient.program)
    if request.GET and not form.is_valid():
        return form, None, None
    data = form.cleaned_data if request.GET else {}
    protocol_id = data.get("protocol") or None
    if not protocol_id and not has_episode:
        return form, None, _("Choose a track to see what a course would cost.")
    try:
        estimate = services.estimate_course_cost(
            request.user,
            patient,
            protocol_id=protocol_id,
            adaptations=data.get("adaptations") or (),
            later_dose_mg=data.get("later_dose_mg"),
            request=request,
        )
    except InvalidInput as exc:
        field = {"esketamine_mg": "later_dose_mg"}.get(exc.field, exc.field)
        form.add_error(field if field in form.fields else None, exc.detail)
        return form, None, None
    return form, estimate, None


def _cost_context(estimate: services.CostEstimate | None) -> dict[str, Any]:
    if estimate is None:
        return {}
    lines = estimate.summary_lines()
    for line in lines:
        line["label"] = ITEM_LABELS.get(line["item"], line["item"])
    return {"estimate": estimate, "lines": lines}


@staff_view(CLINICAL_ROLES, patient_data=True)
def cost(request: TrellisRequest, patient_id: uuid.UUID) -> HttpResponse:
    patient = patient_services.get_patient(request.user, patient_id, request=request)
    form, estimate, hint = _estimate(request, patient)
    context = {"patient": patient, "form": form, "hint": hint, **_cost_context(estimate)}
    context["query"] = request.GET.urlencode()
    template = "access/_partials/cost_result.html" if request.htmx else "access/cost.html"
    return render(request, template, context, status=200 if not form.errors else 400)


@staff_view(CLINICAL_ROLES, patient_data=True)
def cost_print(request: TrellisRequest, patient_id: uuid.UUID) -> HttpResponse:
    """The printable estimate, in the patient's language (English or Spanish)."""
    patient = patient_services.get_patient(request.user, patient_id, request=request)
    language = patient.preferred_language if patient.preferred_language in PRINT_LANGUAGES else "en"
    with translation.override(language):
        form, estimate, hint = _estimate(request, patient)
        context = {
            "patient": patient,
            "form": form,
            "hint": hint,
            "print_language": language,
            "other_language": patient.preferred_language not in PRINT_LANGUAGES,
            **_cost_context(estimate),
        }
        response = render(
            request, "access/cost_print.html", context, status=200 if estimate else 400
        )
    return response


# --- program configuration ----------------------------------------------------------------------


@staff_view(services.SCHEDULE_ROLES)
def schedule(request: TrellisRequest) -> HttpResponse:
    program = request.program
    assert program is not None  # staff_view checked a role in it
    current = services.current_schedule(program)
    form = ScheduleForm(
        request.POST or None,
        initial=ScheduleForm.initial_from(services.schedule_to_data(current.schedule)),
    )
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                row = services.save_schedule(
                    request.user, program, form.schedule_data(), request=request
                )
            except services.ScheduleRefused as exc:
                form.add_violations(exc.violations)
            except InvalidInput as exc:
                form.add_error(None, exc.detail)
            else:
                messages.success(
                    request, _("Schedule saved as version %(v)s.") % {"v": row.version}
                )
                return redirect("access:schedule")
        status = 400
    context = {"form": form, "current": current}
    return render(request, "access/schedule.html", context, status=status)


@staff_view(services.SCHEDULE_ROLES)
def prices(request: TrellisRequest) -> HttpResponse:
    program = request.program
    assert program is not None
    current = services.current_prices(program)
    form = PriceListForm(request.POST or None, initial=dict(current.prices))
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                row = services.save_prices(
                    request.user, program, form.cleaned_data, request=request
                )
            except InvalidInput as exc:
                item = exc.field.removeprefix("prices.")
                form.add_error(item if item in form.fields else None, exc.detail)
            else:
                messages.success(request, _("Prices saved as version %(v)s.") % {"v": row.version})
                return redirect("access:prices")
        status = 400
    return render(request, "access/prices.html", {"form": form, "current": current}, status=status)


# --- equity -------------------------------------------------------------------------------------


def _as_of(request: TrellisRequest) -> tuple[date, str | None]:
    raw = request.GET.get("as_of", "").strip()
    today = timezone.localdate()
    if not raw:
        return today, None
    try:
        day = date.fromisoformat(raw)
    except ValueError:
        return today, _("Enter the date as YYYY-MM-DD.")
    if day > today:
        return today, _("The date cannot be in the future.")
    return day, None


@staff_view(services.EQUITY_ROLES)
def equity(request: TrellisRequest) -> HttpResponse:
    program = request.program
    assert program is not None
    as_of, error = _as_of(request)
    stage = request.GET.get("stage", "started")
    if stage not in core_equity.FUNNEL:
        stage = "started"
    report = services.equity_report(request.user, program, as_of, request=request)
    dimensions = charts.dimension_views(report, stage)
    context = {
        "as_of": as_of,
        "as_of_error": error,
        "report": report,
        "dimensions": dimensions,
        "stage": stage,
        "stages": charts.stage_choices(),
        "funnel_svg": charts.funnel_svg(report),
        "funnel_rows": charts.funnel_rows(report),
        "outcomes_known": services.outcomes_known(),
        "outcomes_missing": [
            charts.STAGE_LABELS[s]
            for s in ("response", "remission", "durable_remission_90d")
            if s not in services.outcome_stages_known()
        ],
        "program": program,
    }
    status = 400 if error else 200
    template = "access/_partials/equity_body.html" if request.htmx else "access/equity.html"
    return render(request, template, context, status=status)


@staff_view(services.EQUITY_ROLES)
def equity_csv(request: TrellisRequest) -> HttpResponse:
    program = request.program
    assert program is not None
    as_of, error = _as_of(request)
    if error:
        raise InvalidInput("as_of", error)
    text = services.equity_csv(request.user, program, as_of, request=request)
    label = "synthetic-" if program.is_synthetic else ""
    response = HttpResponse(text, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = (
        f'attachment; filename="equity-{label}{program.slug}-{as_of.isoformat()}.csv"'
    )
    return response
