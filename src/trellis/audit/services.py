"""Write and read the audit log. Services of every app call :func:`record`."""

from __future__ import annotations

import csv
import io
import uuid
from collections.abc import Iterable
from datetime import date, datetime, time
from typing import Any

from django.db.models import Model, QuerySet
from django.http import HttpRequest
from django.utils import timezone

from trellis.accounts.models import Program, Role
from trellis.accounts.services import require_roles, roles_in
from trellis.audit.models import Action, AuditEvent


def client_ip(request: HttpRequest | None) -> str | None:
    """The peer address. Proxies' X-Forwarded-For is not trusted: it is set by the client."""
    if request is None:
        return None
    return request.META.get("REMOTE_ADDR") or None


def record(
    *,
    action: str,
    request: HttpRequest | None = None,
    actor: Any = None,
    program: Program | None = None,
    patient_id: uuid.UUID | str | None = None,
    obj: Model | None = None,
    object_type: str = "",
    object_id: str = "",
    detail: dict[str, Any] | None = None,
    actor_username: str = "",
) -> AuditEvent:
    """Append one audit event: who, role, program, patient, object, time, IP and request id.

    One request that shows a patient's data (the chart with its panels from several apps) is one
    view of that patient: further ``view`` events for the same patient in the same request are
    folded into the first, so "viewing a patient creates exactly one audit event" holds.
    """
    if action == Action.VIEW and request is not None and patient_id is not None:
        seen: dict[str, AuditEvent] = request.__dict__.setdefault("_trellis_patient_views", {})
        if str(patient_id) in seen:
            return seen[str(patient_id)]
    if actor is None and request is not None and request.user.is_authenticated:
        actor = request.user
    if actor is not None and not getattr(actor, "is_authenticated", False):
        actor = None
    if program is None and request is not None:
        program = getattr(request, "program", None)
    if obj is not None:
        object_type = object_type or obj._meta.label_lower
        object_id = object_id or str(obj.pk)
    roles = ",".join(sorted(roles_in(actor, program))) if actor is not None else ""
    event = AuditEvent.objects.create(
        actor=actor,
        actor_username=actor_username or (actor.get_username() if actor is not None else ""),
        role=roles,
        program=program,
        patient_id=patient_id,
        action=action,
        object_type=object_type,
        object_id=object_id,
        ip=client_ip(request),
        request_id=getattr(request, "request_id", "") if request is not None else "",
        path=request.get_full_path()[:500] if request is not None else "",
        detail=detail or {},
    )
    if action == Action.VIEW and request is not None and patient_id is not None:
        request.__dict__.setdefault("_trellis_patient_views", {})[str(patient_id)] = event
    return event


def events_for_admin(
    user: Any,
    program: Program | None,
    *,
    action: str = "",
    actor: str = "",
    patient_id: str = "",
    since: date | None = None,
    until: date | None = None,
) -> QuerySet[AuditEvent]:
    """The program's audit events, filtered; only the program's admins may read them."""
    require_roles(user, program, [Role.ADMIN])
    qs = AuditEvent.objects.filter(program=program).select_related("actor", "program")
    if action:
        qs = qs.filter(action=action)
    if actor:
        qs = qs.filter(actor_username__icontains=actor)
    if patient_id:
        qs = qs.filter(patient_id=patient_id)
    tz = timezone.get_current_timezone()
    if since:
        qs = qs.filter(at__gte=datetime.combine(since, time.min, tzinfo=tz))
    if until:
        qs = qs.filter(at__lte=datetime.combine(until, time.max, tzinfo=tz))
    return qs


CSV_COLUMNS = [
    "time",
    "actor",
    "role",
    "program",
    "patient_id",
    "action",
    "object_type",
    "object_id",
    "ip",
    "request_id",
    "path",
]


def to_csv(events: Iterable[AuditEvent]) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CSV_COLUMNS)
    for e in events:
        writer.writerow(
            [
                e.at.isoformat(),
                e.actor_username,
                e.role,
                e.program.slug if e.program else "",
                str(e.patient_id or ""),
                e.action,
                e.object_type,
                e.object_id,
                e.ip or "",
                e.request_id,
                e.path,
            ]
        )
    return out.getvalue()


__all__ = ["Action", "client_ip", "events_for_admin", "record", "to_csv"]
