"""Dosing pages: thin views over :mod:`trellis.dosing.services`."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from datetime import datetime
from typing import Any

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from trellis.accounts.decorators import staff_view
from trellis.accounts.models import CLINICAL_ROLES, Role
from trellis.accounts.services import has_any_role
from trellis.care import services as care
from trellis.core import rems
from trellis.core.errors import Conflict, InvalidInput
from trellis.core.safety import short_infusion_minutes
from trellis.dosing import forms as f
from trellis.dosing import services
from trellis.dosing.models import DosingSession, Status
from trellis.dosing.pdf import text_pdf
from trellis.dosing.services import BOARD_ROLES, DOSING_ROLES, REMS_ROLES
from trellis.patients import services as patients
from trellis.web.http import TrellisRequest

VIEW_ROLES = CLINICAL_ROLES


# --- board ----------------------------------------------------------------------------------------


@staff_view(BOARD_ROLES, patient_data=True)
def board(request: TrellisRequest) -> HttpResponse:
    rows = services.board(request.user, request.program, request=request)
    context = {"rows": rows, "now": timezone.now()}
    template = "dosing/_partials/board.html" if request.htmx else "dosing/board.html"
    return render(request, template, context)


# --- sessions -------------------------------------------------------------------------------------


@staff_view(DOSING_ROLES, patient_data=True)
def start(request: TrellisRequest, patient_id: uuid.UUID) -> HttpResponse:
    patient = patients.get_patient(request.user, patient_id, request=request)
    assert request.program is not None
    chairs = services.free_dosing_chairs(patient.program)
    form = f.StartSessionForm(request.POST or None, chairs=chairs)
    episode = services.episode_for_new_session(request.user, patient)
    status = 200
    if request.method == "POST" and form.is_valid():
        if episode is None:
            form.add_error(None, _("This patient has no active course."))
        else:
            try:
                session = services.start_session(
                    request.user, episode, chair=form.cleaned_data["chair"], request=request
                )
            except InvalidInput as exc:
                form.add_error("chair" if exc.field == "chair" else None, exc.detail)
            except Conflict as exc:
                form.add_error(None, exc.message)
            else:
                return redirect("dosing:session", session_id=session.pk)
    if request.method == "POST":
        status = 400
    context = {
        "patient": patient,
        "form": form,
        "episode": episode,
        "free_chairs": chairs.exists(),
        "track_title": care.protocol_of(episode).title if episode else "",
    }
    return render(request, "dosing/start.html", context, status=status)


def _session_context(
    request: TrellisRequest, session: DosingSession, **bound: Any
) -> dict[str, Any]:
    track = services.track_requirements(session)
    now = timezone.now()
    predose_initial = dict(session.predose)
    for key in ("planned_start", "last_food", "last_liquids"):
        if predose_initial.get(key):
            predose_initial[key] = timezone.localtime(
                datetime.fromisoformat(predose_initial[key])
            ).strftime(f.DT_FORMAT)
    rems_row = services.rems_form_of(session)
    rems_form = services.form_from_json(rems_row.data) if rems_row else None
    user = request.user
    ctx: dict[str, Any] = {
        "session": session,
        "patient": session.patient,
        "track": track,
        "missing": services.predose_missing(session) if session.status == Status.CHECKING else [],
        "hold_reasons": services.predose_hold_reasons(session),
        "observations": services.observations_of(session),
        "events": services.adverse_events_of(session),
        "discharge": services.discharge_of(session),
        "readiness": services.readiness(session, now) if session.started_at else None,
        "amendments": services.amendments_of(session),
        "rems_row": rems_row,
        "rems_fields": _rems_table(rems_form, rems_row) if rems_form else [],
        "sign_blockers": services.sign_blockers(session) if not session.is_signed else [],
        "can_dose": has_any_role(user, session.program, DOSING_ROLES),
        "is_prescriber": has_any_role(user, session.program, [Role.PRESCRIBER]),
        "dose_rule": services.dose_rule(session),
        "short_infusion": (
            short_infusion_minutes(
                services.dose_rule(session), session.started_at, session.stopped_at
            )
            if session.started_at
            else None
        ),
        "device_times": [datetime.fromisoformat(t) for t in session.device_times],
        "predose_form": bound.get("predose_form")
        or f.PredoseForm(initial=predose_initial, track=track),
        "override_form": bound.get("override_form") or f.ReasonForm(prefix="override"),
        "pregnancy_form": bound.get("pregnancy_form") or f.ReasonForm(prefix="pregnancy"),
        "dose_form": bound.get("dose_form") or f.DoseForm(initial={"started_at": f.now_local()}),
        "end_form": bound.get("end_form") or f.EndForm(initial={"at": f.now_local()}),
        "obs_form": bound.get("obs_form") or f.ObservationForm(initial={"at": f.now_local()}),
        "ae_form": bound.get("ae_form") or f.AdverseEventForm(initial={"at": f.now_local()}),
        "checks_form": bound.get("checks_form") or f.ChecksForm(initial=_checks_initial(session)),
        "discharge_form": bound.get("discharge_form")
        or f.DischargeForm(initial={"language": session.patient.preferred_language}),
        "amend_form": bound.get("amend_form") or f.AmendmentForm(),
        "problem": bound.get("problem"),
    }
    return ctx


def _checks_initial(session: DosingSession) -> dict[str, str]:
    out = {}
    for name in (
        "sedation",
        "sedation_resolved",
        "dissociation",
        "dissociation_resolved",
        "respiratory_depression",
        "respiratory_depression_resolved",
    ):
        value = getattr(session, name)
        out[name] = "" if value is None else ("yes" if value else "no")
    return out


def _rems_table(form: rems.PatientMonitoringForm, row: Any) -> list[dict[str, Any]]:
    values = rems.form_to_csv_row(form)
    return [
        {
            "name": name,
            "label": name.replace("_", " "),
            "value": values[name],
            "missing": name in row.missing,
            "prefilled": name in form.prefilled,
        }
        for name in rems.CSV_COLUMNS
    ]


def _page(
    request: TrellisRequest, session: DosingSession, status: int = 200, **bound: Any
) -> HttpResponse:
    return render(
        request, "dosing/session.html", _session_context(request, session, **bound), status=status
    )


@staff_view(VIEW_ROLES, patient_data=True)
def session_detail(request: TrellisRequest, session_id: uuid.UUID) -> HttpResponse:
    session = services.get_session(request.user, session_id, request=request)
    return _page(request, session)


def _post(
    request: TrellisRequest,
    session_id: uuid.UUID,
    form_name: str,
    make_form: Callable[[DosingSession], Any],
    act: Callable[[DosingSession, Any], Any],
    done: str,
    anchor: str = "",
) -> HttpResponse:
    """Validate ``form``, run the service; on a problem re-render with it beside the field."""
    session = services.get_session(request.user, session_id, request=request)
    form = make_form(session)
    if form.is_valid():
        try:
            act(session, form)
        except InvalidInput as exc:
            if hasattr(form, "add_service_error"):
                form.add_service_error(exc)
            else:
                form.add_error(None, exc.message)
        except Conflict as exc:
            fresh = services.get_session(request.user, session_id, audit=False)
            return _page(request, fresh, status=409, problem=exc.message, **{form_name: form})
        else:
            messages.success(request, done)
            target = redirect("dosing:session", session_id=session.pk)
            if anchor:
                target["Location"] += f"#{anchor}"
            return target
    fresh = services.get_session(request.user, session_id, audit=False)
    return _page(request, fresh, status=400, **{form_name: form})


@staff_view(DOSING_ROLES, patient_data=True)
@require_POST
def predose(request: TrellisRequest, session_id: uuid.UUID) -> HttpResponse:
    return _post(
        request,
        session_id,
        "predose_form",
        lambda s: f.PredoseForm(request.POST, track=services.track_requirements(s)),
        lambda s, form: services.record_predose(request.user, s, form.values(), request=request),
        _("Pre-dose check saved."),
        "predose",
    )


@staff_view(DOSING_ROLES, patient_data=True)
@require_POST
def override(request: TrellisRequest, session_id: uuid.UUID) -> HttpResponse:
    return _post(
        request,
        session_id,
        "override_form",
        lambda s: f.ReasonForm(request.POST, prefix="override"),
        lambda s, form: services.record_override(
            request.user, s, form.cleaned_data["reason"], request=request
        ),
        _("Override recorded."),
        "predose",
    )


@staff_view(DOSING_ROLES, patient_data=True)
@require_POST
def pregnancy_review(request: TrellisRequest, session_id: uuid.UUID) -> HttpResponse:
    return _post(
        request,
        session_id,
        "pregnancy_form",
        lambda s: f.ReasonForm(request.POST, prefix="pregnancy"),
        lambda s, form: services.record_pregnancy_review(
            request.user, s, form.cleaned_data["reason"], request=request
        ),
        _("Pregnancy review recorded."),
        "predose",
    )


@staff_view(DOSING_ROLES, patient_data=True)
@require_POST
def signoff(request: TrellisRequest, session_id: uuid.UUID) -> HttpResponse:
    session = services.get_session(request.user, session_id, request=request)
    services.sign_off_predose(request.user, session, request=request)
    messages.success(request, _("Pre-dose check signed off."))
    return redirect("dosing:session", session_id=session.pk)


@staff_view(DOSING_ROLES, patient_data=True)
@require_POST
def dose(request: TrellisRequest, session_id: uuid.UUID) -> HttpResponse:
    def act(s: DosingSession, form: Any) -> Any:
        mg = form.cleaned_data.get("requested_mg")
        return services.start_dose(
            request.user,
            s,
            lot_number=form.cleaned_data["lot_number"],
            started_at=form.cleaned_data["started_at"],
            requested_mg=float(mg) if mg is not None else None,
            request=request,
        )

    return _post(
        request,
        session_id,
        "dose_form",
        lambda s: f.DoseForm(request.POST),
        act,
        _("Dose recorded; monitoring started."),
        "monitoring",
    )


@staff_view(DOSING_ROLES, patient_data=True)
@require_POST
def end(request: TrellisRequest, session_id: uuid.UUID) -> HttpResponse:
    return _post(
        request,
        session_id,
        "end_form",
        lambda s: f.EndForm(request.POST),
        lambda s, form: services.end_administration(
            request.user, s, at=form.cleaned_data["at"], request=request
        ),
        _("Infusion end recorded."),
        "monitoring",
    )


@staff_view(DOSING_ROLES, patient_data=True)
@require_POST
def observe(request: TrellisRequest, session_id: uuid.UUID) -> HttpResponse:
    return _post(
        request,
        session_id,
        "obs_form",
        lambda s: f.ObservationForm(request.POST),
        lambda s, form: services.record_observation(
            request.user, s, at=form.cleaned_data["at"], values=form.values(), request=request
        ),
        _("Observation recorded."),
        "monitoring",
    )


@staff_view(DOSING_ROLES, patient_data=True)
@require_POST
def adverse_event(request: TrellisRequest, session_id: uuid.UUID) -> HttpResponse:
    def act(s: DosingSession, form: Any) -> Any:
        d = form.cleaned_data
        return services.record_adverse_event(
            request.user,
            s,
            at=d["at"],
            description=d["description"],
            severity=d["severity"],
            action_taken=d["action_taken"],
            outcome=d["outcome"],
            resolved=d["resolved"],
            request=request,
        )

    return _post(
        request,
        session_id,
        "ae_form",
        lambda s: f.AdverseEventForm(request.POST),
        act,
        _("Adverse event recorded."),
        "events",
    )


@staff_view(DOSING_ROLES, patient_data=True)
@require_POST
def close_event(
    request: TrellisRequest, session_id: uuid.UUID, event_id: uuid.UUID
) -> HttpResponse:
    session = services.get_session(request.user, session_id, request=request)
    form = f.CloseEventForm(request.POST)
    if not form.is_valid():
        return _page(
            request, session, status=400, problem=_("Give the outcome to close the event.")
        )
    services.close_adverse_event(
        request.user, session, event_id, outcome=form.cleaned_data["outcome"], request=request
    )
    messages.success(request, _("Adverse event closed."))
    return redirect("dosing:session", session_id=session.pk)


@staff_view(DOSING_ROLES, patient_data=True)
@require_POST
def checks(request: TrellisRequest, session_id: uuid.UUID) -> HttpResponse:
    return _post(
        request,
        session_id,
        "checks_form",
        lambda s: f.ChecksForm(request.POST),
        lambda s, form: services.record_checks(request.user, s, form.values(), request=request),
        _("Clinician checks recorded."),
        "discharge",
    )


@staff_view(DOSING_ROLES, patient_data=True)
@require_POST
def discharge(request: TrellisRequest, session_id: uuid.UUID) -> HttpResponse:
    return _post(
        request,
        session_id,
        "discharge_form",
        lambda s: f.DischargeForm(request.POST),
        lambda s, form: services.discharge(request.user, s, request=request, **form.cleaned_data),
        _("Patient discharged."),
        "discharge",
    )


@staff_view(DOSING_ROLES, patient_data=True)
@require_POST
def sign(request: TrellisRequest, session_id: uuid.UUID) -> HttpResponse:
    session = services.get_session(request.user, session_id, request=request)
    try:
        services.sign_session(request.user, session, request=request)
    except Conflict as exc:
        return _page(request, session, status=409, problem=exc.message)
    messages.success(request, _("Session record signed."))
    return redirect("dosing:session", session_id=session.pk)


@staff_view(DOSING_ROLES, patient_data=True)
@require_POST
def amend(request: TrellisRequest, session_id: uuid.UUID) -> HttpResponse:
    return _post(
        request,
        session_id,
        "amend_form",
        lambda s: f.AmendmentForm(request.POST),
        lambda s, form: services.amend(request.user, s, request=request, **form.cleaned_data),
        _("Amendment added."),
        "amendments",
    )


@staff_view(VIEW_ROLES, patient_data=True)
def instructions(request: TrellisRequest, session_id: uuid.UUID) -> HttpResponse:
    """Printable after-care instructions in the patient's language (or ``?lang=``)."""
    session = services.get_session(request.user, session_id, request=request)
    released = services.discharge_of(session)
    lang = (
        request.GET.get("lang")
        or (released.language if released else "")
        or (session.patient.preferred_language)
    )
    if lang not in ("en", "es"):
        lang = "en"
    with translation.override(lang):
        return render(
            request,
            "dosing/instructions.html",
            {"session": session, "patient": session.patient, "lang": lang},
        )


# --- REMS -----------------------------------------------------------------------------------------


@staff_view(REMS_ROLES, patient_data=True)
def rems_due(request: TrellisRequest) -> HttpResponse:
    rows = services.rems_forms_due(request.user, request.program)
    return render(request, "dosing/rems_due.html", {"rows": rows, "today": timezone.localdate()})


@staff_view(VIEW_ROLES, patient_data=True)
def rems_form(request: TrellisRequest, session_id: uuid.UUID) -> HttpResponse:
    session = services.get_session(request.user, session_id, request=request)
    row = services.get_rems_form(request.user, session, request=request)
    form = services.form_from_json(row.data)
    context = {
        "session": session,
        "row": row,
        "fields": _rems_table(form, row),
        "problems": rems.form_problems(form),
    }
    return render(request, "dosing/rems_form.html", context)


@staff_view(VIEW_ROLES, patient_data=True)
def rems_csv(request: TrellisRequest, session_id: uuid.UUID) -> HttpResponse:
    session = services.get_session(request.user, session_id, request=request)
    row = services.get_rems_form(request.user, session, request=request, export="csv")
    body = services.rems_csv(row, session.patient.is_synthetic)
    response = HttpResponse(body, content_type="text/csv; charset=utf-8")
    name = f"rems-form-{row.session_date.isoformat()}-{str(session.pk)[:8]}"
    if session.patient.is_synthetic:
        name += "-synthetic"
    response["Content-Disposition"] = f'attachment; filename="{name}.csv"'
    return response


@staff_view(VIEW_ROLES, patient_data=True)
def rems_pdf(request: TrellisRequest, session_id: uuid.UUID) -> HttpResponse:
    session = services.get_session(request.user, session_id, request=request)
    row = services.get_rems_form(request.user, session, request=request, export="pdf")
    body = text_pdf(services.rems_lines(row, session.patient.is_synthetic))
    response = HttpResponse(body, content_type="application/pdf")
    name = f"rems-form-{row.session_date.isoformat()}-{str(session.pk)[:8]}"
    if session.patient.is_synthetic:
        name += "-synthetic"
    response["Content-Disposition"] = f'attachment; filename="{name}.pdf"'
    return response


@staff_view(REMS_ROLES, patient_data=True)
@require_POST
def rems_submit(request: TrellisRequest, session_id: uuid.UUID) -> HttpResponse:
    session = services.get_session(request.user, session_id, request=request)
    services.mark_rems_submitted(request.user, session, request=request)
    messages.success(request, _("REMS form marked submitted."))
    if request.POST.get("next") == "due":
        return redirect("dosing:rems_due")
    return redirect("dosing:rems_form", session_id=session.pk)


@staff_view(REMS_ROLES, patient_data=True)
@require_POST
def enrol(request: TrellisRequest, patient_id: uuid.UUID) -> HttpResponse:
    patient = patients.get_patient(request.user, patient_id, request=request)
    form = f.EnrolmentForm(request.POST)
    if form.is_valid():
        try:
            services.enrol_patient(request.user, patient, request=request, **form.cleaned_data)
        except InvalidInput as exc:
            form.add_service_error(exc)
        else:
            messages.success(request, _("REMS enrolment recorded."))
            return redirect("patients:chart", patient_id=patient.pk)
    errors = "; ".join(
        f"{form.fields[k].label if k in form.fields else ''}: {' '.join(str(e) for e in v)}"
        for k, v in form.errors.items()
    )
    messages.error(request, _("REMS enrolment not saved: %(errors)s") % {"errors": errors})
    return redirect("patients:chart", patient_id=patient.pk)


# --- settings (admin) -----------------------------------------------------------------------------


@staff_view([Role.ADMIN])
def settings_page(request: TrellisRequest) -> HttpResponse:
    program = request.program
    assert program is not None
    cert_form = f.CertificationForm(
        request.POST if "certify" in request.POST else None, prefix="cert"
    )
    th_form = f.ThresholdsForm(
        request.POST if "thresholds-save" in request.POST else None,
        initial={"thresholds": json.dumps(services.threshold_overrides(program), indent=2)},
    )
    status = 200
    if request.method == "POST":
        if "certify" in request.POST and cert_form.is_valid():
            try:
                services.record_certification(
                    request.user, program, request=request, **cert_form.cleaned_data
                )
            except InvalidInput as exc:
                cert_form.add_service_error(exc)
            else:
                messages.success(request, _("REMS certification recorded."))
                return redirect("dosing:settings")
        elif "thresholds-save" in request.POST and th_form.is_valid():
            services.save_thresholds(
                request.user, program, th_form.cleaned_data["thresholds"], request=request
            )
            messages.success(request, _("Thresholds saved."))
            return redirect("dosing:settings")
        status = 400
    context = {
        "cert_form": cert_form,
        "th_form": th_form,
        "certification": services.certification_in_force(program),
        "certifications": services.certifications(program),
        "thresholds": services.thresholds_for(program).to_dict(),
    }
    return render(request, "dosing/settings.html", context, status=status)
