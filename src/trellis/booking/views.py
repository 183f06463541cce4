"""Booking pages: setup, plan the coming weeks, the plan as a week calendar, accept, cancel."""

from __future__ import annotations

import uuid
from datetime import timedelta

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from trellis.accounts.decorators import staff_view
from trellis.accounts.models import User
from trellis.accounts.services import has_any_role
from trellis.booking import services
from trellis.booking.forms import (
    AvailabilityForm,
    CancelForm,
    PatientDaysForm,
    PlanForm,
    RotaForm,
    SettingsForm,
)
from trellis.booking.models import WEEKDAY_CHOICES
from trellis.checkin.models import CheckInLink
from trellis.checkin.views import checkin_view
from trellis.core.errors import Conflict, InvalidInput
from trellis.patients.services import get_patient
from trellis.web.forms import show_input_error
from trellis.web.http import TrellisRequest


def _program(request: TrellisRequest):  # type: ignore[no-untyped-def]
    if request.program is None:
        raise Http404
    return request.program


@staff_view(services.VIEWER_ROLES, patient_data=True)
def index(request: TrellisRequest) -> HttpResponse:
    program = _program(request)
    can_plan = has_any_role(request.user, program, services.PLANNER_ROLES)
    context = {
        "form": PlanForm(),
        "can_plan": can_plan,
        "proposals": services.proposals(request.user, program)[:10],
        "conf": services.settings_of(program),
        "hours": services.clinic_hours(program),
        "rota_count": services.rotas(program).count(),
    }
    return render(request, "booking/index.html", context)


@staff_view(services.VIEWER_ROLES, patient_data=True)
def setup(request: TrellisRequest) -> HttpResponse:
    program = _program(request)
    user = request.user
    can_plan = has_any_role(user, program, services.PLANNER_ROLES)
    staff = services.rota_staff(program)
    conf = services.settings_of(program)
    initial: dict[str, object] = {
        "nurse_ratio": conf.nurse_ratio,
        "reminder_hours": conf.reminder_hours,
    }
    for h in services.clinic_hours(program):
        initial[f"opens_{h.weekday}"] = h.opens
        initial[f"closes_{h.weekday}"] = h.closes
    which = request.POST.get("form") if request.method == "POST" else None
    settings_form = SettingsForm(request.POST if which == "settings" else None, initial=initial)
    rota_form = RotaForm(request.POST if which == "rota" else None, staff=staff)
    status = 200
    if which and not can_plan:
        return HttpResponse(status=403)
    if which == "settings":
        status = 400
        if settings_form.is_valid():
            try:
                services.save_settings(
                    user,
                    program,
                    settings_form.cleaned_data["nurse_ratio"],
                    settings_form.hours(),
                    reminder_hours=settings_form.cleaned_data["reminder_hours"],
                    request=request,
                )
            except InvalidInput as exc:
                show_input_error(settings_form, exc, "nurse_ratio")
            else:
                messages.success(request, _("Clinic hours and nurse ratio saved."))
                return redirect("booking:setup")
    elif which == "rota":
        status = 400
        if rota_form.is_valid():
            d = rota_form.cleaned_data
            member = User.objects.get(pk=int(d["staff"]))
            try:
                services.add_rota(
                    user,
                    program,
                    member,
                    d["role"],
                    d["start"],
                    d["end"],
                    weekday=d["weekday"],
                    on=d["date"],
                    request=request,
                )
            except InvalidInput as exc:
                show_input_error(rota_form, exc, "role")
            else:
                messages.success(request, _("Rota window added."))
                return redirect("booking:setup")
    hour_rows = [
        (name, settings_form[f"opens_{wd}"], settings_form[f"closes_{wd}"])
        for wd, name in WEEKDAY_CHOICES
    ]
    context = {
        "settings_form": settings_form,
        "hour_rows": hour_rows,
        "rota_form": rota_form,
        "rotas": services.rotas(program),
        "can_plan": can_plan,
    }
    return render(request, "booking/setup.html", context, status=status)


@staff_view(services.PLANNER_ROLES, patient_data=True)
@require_POST
def delete_rota(request: TrellisRequest, rota_id: int) -> HttpResponse:
    services.delete_rota(request.user, _program(request), rota_id)
    messages.success(request, _("Rota window removed."))
    return redirect("booking:setup")


@staff_view(services.PLANNER_ROLES, patient_data=True)
@require_POST
def plan(request: TrellisRequest) -> HttpResponse:
    program = _program(request)
    form = PlanForm(request.POST)
    if form.is_valid():
        d = form.cleaned_data
        try:
            proposal = services.propose(
                request.user,
                program,
                d["method"],
                d["time_limit"],
                days=7 * d["weeks"],
                request=request,
            )
        except InvalidInput as exc:
            show_input_error(form, exc)
        else:
            return redirect("booking:proposal", proposal_id=proposal.pk)
    context = {
        "form": form,
        "can_plan": True,
        "proposals": services.proposals(request.user, program)[:10],
        "conf": services.settings_of(program),
        "hours": services.clinic_hours(program),
        "rota_count": services.rotas(program).count(),
    }
    return render(request, "booking/index.html", context, status=400)


@staff_view(services.VIEWER_ROLES, patient_data=True)
def proposal(request: TrellisRequest, proposal_id: uuid.UUID) -> HttpResponse:
    found = services.get_proposal(request.user, proposal_id, request=request)
    verification = found.verification
    weeks = services.calendar(found)
    try:
        week = min(max(int(request.GET.get("week", "0")), 0), len(weeks) - 1)
    except ValueError:
        week = 0
    context = {
        "proposal": found,
        "weeks": weeks[week : week + 1],
        "week": week,
        "previous_week": week - 1 if week > 0 else None,
        "next_week": week + 1 if week + 1 < len(weeks) else None,
        "week_count": len(weeks),
        "violations": verification.get("violations", []),
        "valid": verification.get("valid", False),
        "can_accept": found.accepted_at is None
        and has_any_role(request.user, found.program, services.PLANNER_ROLES),
        "end_date": found.start_date + timedelta(days=found.days - 1),
        "now": timezone.now(),
    }
    if request.htmx:
        return render(request, "booking/_partials/calendar.html", context)
    return render(request, "booking/proposal.html", context)


@staff_view(services.PLANNER_ROLES, patient_data=True)
@require_POST
def accept(request: TrellisRequest, proposal_id: uuid.UUID) -> HttpResponse:
    found = services.get_proposal(request.user, proposal_id, request=request)
    try:
        made = services.accept(request.user, found, request=request)
    except Conflict as exc:
        messages.error(request, exc.message)
        return redirect("booking:proposal", proposal_id=found.pk)
    messages.success(
        request, _("Plan accepted: %(n)d appointments booked or moved.") % {"n": len(made)}
    )
    return redirect("booking:proposal", proposal_id=found.pk)


@staff_view(services.PLANNER_ROLES, patient_data=True)
@require_POST
def cancel(request: TrellisRequest, appointment_id: uuid.UUID) -> HttpResponse:
    appt = services.get_appointment(request.user, appointment_id, request=request)
    form = CancelForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Say why the appointment is cancelled."))
        return redirect("patients:chart", patient_id=appt.patient_id)
    try:
        repaired = services.cancel(request.user, appt, form.cleaned_data["reason"], request=request)
    except (Conflict, InvalidInput) as exc:
        messages.error(request, exc.message)
        return redirect("patients:chart", patient_id=appt.patient_id)
    if repaired is None:
        messages.success(request, _("Appointment cancelled. No repaired course could be found."))
        return redirect("patients:chart", patient_id=appt.patient_id)
    messages.success(request, _("Appointment cancelled. Review the repaired course below."))
    return redirect("booking:proposal", proposal_id=repaired.pk)


@staff_view(services.VIEWER_ROLES, patient_data=True)
def availability(request: TrellisRequest, patient_id: uuid.UUID) -> HttpResponse:
    """When a patient can come (the scheduler books only inside these times)."""
    patient = get_patient(request.user, patient_id, request=request)
    can_edit = has_any_role(request.user, patient.program, services.PLANNER_ROLES)
    current = services.availability_of(patient)
    initial: dict[str, object] = {}
    for w in current:
        initial[f"from_{w.weekday}"] = w.start
        initial[f"until_{w.weekday}"] = w.end
    form = AvailabilityForm(request.POST if request.method == "POST" else None, initial=initial)
    status = 200
    if request.method == "POST":
        if not can_edit:
            return HttpResponse(status=403)
        status = 400
        if form.is_valid():
            try:
                services.set_availability(request.user, patient, form.pairs(), request=request)
            except InvalidInput as exc:
                show_input_error(form, exc)
            else:
                messages.success(request, _("Availability saved."))
                return redirect("patients:chart", patient_id=patient.pk)
    context = {
        "patient": patient,
        "form": form,
        "rows": form.rows(),
        "current": current,
        "can_edit": can_edit,
        "multiple": len({w.weekday for w in current}) < len(current),
    }
    return render(request, "booking/availability.html", context, status=status)


# The patient's page (check-in link). Its POST keeps Django's CSRF protection: check-in pages
# send the referrer to this site only (``checkin_view``), so the browser's Origin header matches.
@checkin_view
def patient_availability(request: HttpRequest, link: CheckInLink) -> HttpResponse:
    """On the patient's phone: which days, mornings or afternoons they can come."""
    token = request.resolver_match.kwargs["token"] if request.resolver_match else ""
    names = dict(WEEKDAY_CHOICES)
    days = [(wd, str(names[wd])) for wd in sorted(services.open_days(link.patient.program))]
    initial = {f"day_{wd}": c for wd, c in services.day_choices_of(link.patient).items()}
    form = PatientDaysForm(
        request.POST if request.method == "POST" else None, days=days, initial=initial
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.set_availability_by_patient(link, form.choices(), request=request)
        except InvalidInput as exc:
            show_input_error(form, exc)
        else:
            url = reverse("booking:patient_availability", args=[token])
            return redirect(f"{url}?saved=1&lang={translation.get_language()}")
    context = {
        "token": token,
        "form": form,
        "name": link.patient.display_first_name,
        "saved": request.GET.get("saved") == "1",
    }
    return render(
        request, "booking/patient_availability.html", context, status=400 if form.errors else 200
    )
