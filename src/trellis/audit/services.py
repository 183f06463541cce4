"""Write and read the audit log. Services of every app call :func:`record`."""

from __future__ import annotations

import io
import uuid
from collections.abc import Iterable
from datetime import date, datetime, time
from typing import Any

from django.db import connections, router, transaction
from django.db.models import Exists, Model, OuterRef, Q, QuerySet
from django.http import HttpRequest
from django.utils import timezone

from trellis.accounts.models import Membership, Program, Role, User
from trellis.accounts.services import require_roles, roles_in
from trellis.audit.chain import GENESIS, Broken, lock_chain, row_digest, verify
from trellis.audit.exposure import note_audited
from trellis.audit.models import ACCOUNT_ACTIONS, Action, AuditEvent
from trellis.audit.redact import redact
from trellis.exports import SafeWriter


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
    account_event = action in ACCOUNT_ACTIONS
    # An account event is about the account named, never the session's user (a failed sign-in
    # from a browser where someone else is signed in), and belongs to no program.
    if actor is None and request is not None and request.user.is_authenticated:
        if not account_event:
            actor = request.user
    if actor is not None and not getattr(actor, "is_authenticated", False):
        actor = None
    if program is None and request is not None and not account_event:
        program = getattr(request, "program", None)
    if obj is not None:
        object_type = object_type or obj._meta.label_lower
        object_id = object_id or str(obj.pk)
    if not actor_username and actor is None and request is not None:
        actor_username = getattr(request, "trellis_audit_actor", "")
    roles = ",".join(sorted(roles_in(actor, program))) if actor is not None else ""
    event = AuditEvent(
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
        path=redact(request.get_full_path())[:500] if request is not None else "",
        detail=detail or {},
    )
    append([event])
    if patient_id is not None:
        note_audited(patient_id)
    if action == Action.VIEW and request is not None and patient_id is not None:
        request.__dict__.setdefault("_trellis_patient_views", {})[str(patient_id)] = event
    return event


def append(events: list[AuditEvent]) -> None:
    """Insert ``events`` (new, unsaved) in order: the one way rows enter the audit log.

    Each row is chained to the one before (``audit.chain``) under the chain lock, so concurrent
    writers on PostgreSQL never fork the chain; the lock is held until the surrounding transaction
    commits.
    """
    connection = connections[router.db_for_write(AuditEvent)]
    with transaction.atomic(using=connection.alias):
        lock_chain(connection)
        prev = (
            AuditEvent.objects.order_by("-id").values_list("row_hash", flat=True).first() or GENESIS
        )
        for event in events:
            event.prev_hash = prev
            event.row_hash = prev = row_digest(event, prev)
        AuditEvent.objects.bulk_create(events)


def verify_chain() -> tuple[int, Broken | None]:
    """Check the whole chain: (rows checked, first broken link or None)."""
    rows = AuditEvent.objects.order_by("id").iterator(chunk_size=2000)
    return verify(rows)


def record_shown(request: HttpRequest, patients: dict[str, int | None]) -> None:
    """One ``view`` row per patient whose identifiers a response showed (see ``exposure``).

    Written by ``PatientDataAuditMiddleware`` for pages whose services did not audit those
    patients themselves: lists, banners, outbox, rosters.
    """
    user: Any = getattr(request, "user", None)
    actor = user if user is not None and user.is_authenticated else None
    username = actor.get_username() if actor is not None else ""
    username = username or getattr(request, "trellis_audit_actor", "")
    programs = {p.pk: p for p in Program.objects.filter(pk__in=set(patients.values()) - {None})}
    roles = {
        pk: ",".join(sorted(roles_in(actor, program))) if actor is not None else ""
        for pk, program in programs.items()
    }
    path = redact(request.get_full_path())[:500]
    request_id = getattr(request, "request_id", "")
    ip = client_ip(request)
    append(
        [
            AuditEvent(
                actor=actor,
                actor_username=username,
                role=roles.get(program_id or 0, ""),
                program_id=program_id,
                patient_id=patient_id,
                action=Action.VIEW,
                object_type="patients.patient",
                object_id=patient_id,
                ip=ip,
                request_id=request_id,
                path=path,
                detail={"shown_on": "page"},
            )
            for patient_id, program_id in sorted(patients.items())
        ]
    )


def events_for_admin(
    user: Any,
    program: Program | None,
    *,
    action: str = "",
    actor: str = "",
    patient_id: str = "",
    since: date | None = None,
    until: date | None = None,
    category: str = "",
) -> QuerySet[AuditEvent]:
    """The program's audit events, filtered; only the program's admins may read them.

    Besides the events of the program's data, the account events (sign-in, failed sign-in,
    lock-out, sign-out; stored without a program) of the program's staff and of usernames that
    belong to nobody (someone guessing) are the program admin's to see (issue 14, finding 3).
    ``category`` is ``"account"`` for those only, ``"data"`` for the rest.
    """
    require_roles(user, program, [Role.ADMIN])
    staff = Membership.objects.filter(program=program).values("user_id")
    staff_names = User.objects.filter(memberships__program=program).values("username")
    known = User.objects.filter(username=OuterRef("actor_username"))
    account: Q = Q(program__isnull=True, action__in=ACCOUNT_ACTIONS) & (
        Q(actor_id__in=staff)
        | Q(actor__isnull=True, actor_username__in=staff_names)
        | Q(Q(actor__isnull=True), ~Exists(known))
    )
    scope: Q
    if category == "account":
        scope = account
    elif category == "data":
        scope = Q(program=program)
    else:
        scope = Q(program=program) | account
    qs = AuditEvent.objects.filter(scope).select_related("actor", "program")
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
    writer = SafeWriter(out)
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
