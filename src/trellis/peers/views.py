"""Peer pages: circles, a circle's roster and attendance, notes, and matching."""

from __future__ import annotations

from datetime import date

from django.contrib import messages
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from trellis.accounts.decorators import staff_view
from trellis.accounts.models import Program
from trellis.accounts.services import has_any_role
from trellis.core.errors import Conflict, InvalidInput
from trellis.peers import services
from trellis.peers.forms import CircleForm, NoteForm
from trellis.peers.models import Attendance
from trellis.web.http import TrellisRequest


def _program(request: TrellisRequest) -> Program:
    if request.program is None:
        raise Http404
    return request.program


def _today() -> date:
    return timezone.localdate()


@staff_view(services.CIRCLE_ROLES)
def index(request: TrellisRequest) -> HttpResponse:
    program = _program(request)
    circles = [(c, services.enrolled_count(c)) for c in services.circles_for(request.user, program)]
    return render(
        request,
        "peers/index.html",
        {
            "circles": circles,
            "can_coordinate": has_any_role(request.user, program, services.COORDINATOR_ROLES),
        },
    )


@staff_view(services.CIRCLE_ROLES)
def create(request: TrellisRequest) -> HttpResponse:
    program = _program(request)
    form = CircleForm(request.POST or None, program=program)
    if request.method == "POST" and form.is_valid():
        try:
            circle = services.create_circle(request.user, program, dict(form.cleaned_data))
        except InvalidInput as exc:
            form.add_error(
                exc.field if exc.field in form.fields else None, str(exc).split(": ", 1)[-1]
            )
        else:
            messages.success(request, _("Circle created with its weekly meetings."))
            return redirect("peers:circle", circle_id=circle.pk)
    return render(request, "peers/create.html", {"form": form}, status=400 if form.errors else 200)


@staff_view(services.CIRCLE_ROLES)
def circle(request: TrellisRequest, circle_id: int) -> HttpResponse:
    program = _program(request)
    c = services.get_circle(request.user, program, circle_id)
    meetings, rows = services.roster(request.user, c, request=request)
    note_form = NoteForm(request.POST or None)
    may_run = services._may_run(request.user, c)
    if request.method == "POST" and may_run and note_form.is_valid():
        try:
            services.add_note(request.user, c, note_form.cleaned_data["text"])
        except InvalidInput as exc:
            note_form.add_error("text", str(exc).split(": ", 1)[-1])
        else:
            messages.success(request, _("Note saved."))
            return redirect("peers:circle", circle_id=c.pk)
    today = _today()
    past = [m for m in meetings if m.date <= today]
    context = {
        "circle": c,
        "meetings": meetings,
        "past_meetings": past[-6:],
        "rows": rows,
        "note_form": note_form,
        "notes": services.notes_of(request.user, c)[:20] if may_run else [],
        "may_run": may_run,
        "statuses": Attendance.Status.choices,
        "full_names": has_any_role(request.user, program, services.COORDINATOR_ROLES),
    }
    return render(request, "peers/circle.html", context, status=400 if note_form.errors else 200)


@staff_view(services.CIRCLE_ROLES)
@require_POST
def attendance(request: TrellisRequest, circle_id: int, meeting_id: int) -> HttpResponse:
    program = _program(request)
    c = services.get_circle(request.user, program, circle_id)
    marks: dict[int, str] = {}
    for key, value in request.POST.items():
        if key.startswith("member-") and value:
            try:
                marks[int(key.removeprefix("member-"))] = str(value)
            except ValueError:
                raise InvalidInput(key, _("Not a member of this circle.")) from None
    services.record_attendance(request.user, c, meeting_id, marks)
    messages.success(request, _("Attendance saved."))
    return redirect("peers:circle", circle_id=c.pk)


@staff_view(services.COORDINATOR_ROLES, patient_data=True)
def matching(request: TrellisRequest) -> HttpResponse:
    program = _program(request)
    error = ""
    if request.method == "POST":
        patient_id = request.POST.get("patient", "")
        circle_id = request.POST.get("circle", "")
        try:
            patient = services.get_patient_for_circle(request.user, program, patient_id)
            c = services.get_circle(request.user, program, int(circle_id))
        except ValueError:
            raise Http404 from None
        try:
            services.join_circle(request.user, c, patient, _today())
        except (Conflict, InvalidInput) as exc:
            error = str(exc)
        else:
            messages.success(
                request,
                _("%(name)s joins %(circle)s.") % {"name": patient.full_name, "circle": c.name},
            )
            return redirect("peers:matching")
    view = services.run_matching(request.user, program, _today(), request=request)
    return render(
        request,
        "peers/matching.html",
        {"match": view, "error": error},
        status=409 if error else 200,
    )
