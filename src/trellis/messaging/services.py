"""Secure messages: the patient writes from the check-in link, the care team answers from the
program's shared inbox.

- Every patient message goes through :func:`trellis.alerts.services.alert_on_risk_words` (the one
  path for a patient's free text, CLINICAL.md §2) in the transaction that stores it: suicide-risk
  words raise an urgent alert, and the patient's page shows 988/911 at once.
- A staff reply tells the patient a message is waiting (SMS/e-mail through the outbox, on the
  channels they consented to) with a fresh check-in link and nothing else: no health details, no
  program name, no message text (e-mail and SMS are not secure channels).
- Every read and write is audited; staff see only their current program's threads (404 for a
  patient of another program).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db import transaction
from django.db.models import Count, Min, Q, QuerySet
from django.http import Http404, HttpRequest
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from trellis.accounts.models import CLINICAL_ROLES, Membership, Program, User
from trellis.accounts.services import require_roles
from trellis.alerts.services import alert_on_risk_words
from trellis.audit.models import Action
from trellis.audit.services import record
from trellis.checkin.models import CheckInLink
from trellis.core.errors import InvalidInput
from trellis.messaging.models import MAX_LENGTH, Message, Thread
from trellis.patients.models import Patient

#: Inbox views: every thread, threads with unread patient messages, mine, unassigned.
BOXES = ("all", "unread", "mine", "unassigned")


def clean_body(body: str) -> str:
    """The message text, trimmed: refused when empty or longer than :data:`MAX_LENGTH`."""
    text = (body or "").strip()
    if not text:
        raise InvalidInput("body", "write a message first")
    if len(text) > MAX_LENGTH:
        raise InvalidInput("body", f"at most {MAX_LENGTH} characters (this one has {len(text)})")
    return text


def _patient_actor(patient: Patient) -> str:
    return f"patient:{patient.pk}"


def _thread_of(patient: Patient, now: datetime) -> Thread:
    thread, _created = Thread.objects.get_or_create(
        program=patient.program,
        patient=patient,
        defaults={"created_at": now, "last_message_at": now},
    )
    return thread


# --- the patient's side (check-in link) ---------------------------------------------------------


def messages_of_link(link: CheckInLink) -> list[Message]:
    """The patient's conversation, oldest first (their own link's patient only)."""
    return list(
        Message.objects.filter(program=link.program, thread__patient=link.patient).order_by(
            "created_at", "id"
        )
    )


def unread_replies(link: CheckInLink) -> int:
    """Care-team messages the patient has not opened yet (for the check-in page)."""
    return Message.objects.filter(
        program=link.program,
        thread__patient=link.patient,
        sender=Message.Sender.STAFF,
        read_at__isnull=True,
    ).count()


@transaction.atomic
def mark_read_by_patient(link: CheckInLink, *, request: HttpRequest | None = None) -> int:
    """The patient opened their messages: every care-team message so far is read."""
    now = timezone.now()
    count = Message.objects.filter(
        program=link.program,
        thread__patient=link.patient,
        sender=Message.Sender.STAFF,
        read_at__isnull=True,
    ).update(read_at=now)
    if count:
        record(
            action=Action.UPDATE,
            request=request,
            actor=None,
            actor_username=_patient_actor(link.patient),
            program=link.program,
            patient_id=link.patient_id,
            object_type="messaging.thread",
            detail={"read_by_patient": count, "via": "check-in link"},
        )
    return count


@transaction.atomic
def write_as_patient(
    link: CheckInLink,
    body: str,
    *,
    language: str = "en",
    now: datetime | None = None,
    request: HttpRequest | None = None,
) -> Message:
    """The patient writes to the care team. Stored whole with its audit row and, when it holds
    suicide-risk words, its urgent alert (``message.risk_phrases`` lists them)."""
    text = clean_body(body)
    now = now or timezone.now()
    patient = link.patient
    thread = _thread_of(patient, now)
    message = Message.objects.create(
        program=patient.program,
        thread=thread,
        sender=Message.Sender.PATIENT,
        body=text,
        language=language if language in ("en", "es") else "en",
        created_at=now,
    )
    Thread.objects.filter(pk=thread.pk).update(last_message_at=now)
    found = alert_on_risk_words(
        program=patient.program,
        patient=patient,
        text=text,
        source=message,
        where="a message from the patient",
        at=now,
    )
    if found:
        message.risk_phrases = found
        message.save(update_fields=["risk_phrases"])
    record(
        action=Action.CREATE,
        request=request,
        actor=None,
        actor_username=_patient_actor(patient),
        program=patient.program,
        patient_id=patient.pk,
        obj=message,
        detail={"via": "check-in link", "risk": bool(found), "length": len(text)},
    )
    return message


# --- the care team's side (the program's shared inbox) ------------------------------------------


@dataclass(frozen=True)
class InboxRow:
    thread: Thread
    unread: int
    oldest_unread: datetime | None

    @property
    def patient(self) -> Patient:
        return self.thread.patient


def _threads(user: Any, program: Program | None) -> QuerySet[Thread]:
    if program is None:
        return Thread.objects.none()
    require_roles(user, program, CLINICAL_ROLES)
    unread = Q(messages__sender=Message.Sender.PATIENT, messages__read_at__isnull=True)
    return (
        Thread.objects.visible_to(user)
        .filter(program=program)
        .select_related("patient", "assigned_to")
        .annotate(
            unread=Count("messages", filter=unread),
            oldest_unread=Min("messages__created_at", filter=unread),
        )
    )


def inbox_rows(
    user: Any, program: Program | None, box: str = "all", *, limit: int | None = None
) -> tuple[list[InboxRow], int]:
    """Threads of ``box`` (see :data:`BOXES`) and how many there are, not audited (the caller
    audits the page that shows them). Unread first, oldest unread first; then newest."""
    if box not in BOXES:
        raise InvalidInput("box", f"choose one of {', '.join(BOXES)}")
    qs = _threads(user, program)
    if box == "unread":
        qs = qs.filter(unread__gt=0)  # type: ignore[misc]  # the annotation above
    elif box == "mine":
        qs = qs.filter(assigned_to=user)
    elif box == "unassigned":
        qs = qs.filter(assigned_to__isnull=True)
    total = qs.count()
    qs = qs.order_by("-unread", "oldest_unread", "-last_message_at")
    if limit is not None:
        qs = qs[:limit]
    rows = [InboxRow(t, t.unread, t.oldest_unread) for t in qs]  # type: ignore[attr-defined]
    return rows, total


def inbox(
    user: Any, program: Program | None, box: str = "all", *, request: HttpRequest | None = None
) -> list[InboxRow]:
    """The shared inbox page (patient names shown): audited once with the patients listed."""
    rows, _total = inbox_rows(user, program, box)
    record(
        action=Action.VIEW,
        request=request,
        actor=user,
        program=program,
        object_type="messaging.inbox",
        detail={"box": box, "patients": [str(r.thread.patient_id) for r in rows]},
    )
    return rows


def _patient_in_program(
    user: Any, program: Program | None, patient_id: Any, request: HttpRequest | None
) -> Patient:
    """The patient, 404 unless in the current program and visible to ``user`` (audited)."""
    from trellis.patients.services import get_patient

    patient = get_patient(user, patient_id, request=request, audit=False)
    if program is None or patient.program_id != program.pk:
        raise Http404("No such patient")
    return patient


@dataclass(frozen=True)
class ThreadView:
    patient: Patient
    thread: Thread | None
    messages: list[Message]


@transaction.atomic
def open_thread(
    user: Any, program: Program | None, patient_id: Any, *, request: HttpRequest | None = None
) -> ThreadView:
    """A staff member opens a patient's conversation: the patient's unread messages become read
    (by this staff member); one audit event."""
    require_roles(user, program, CLINICAL_ROLES)
    patient = _patient_in_program(user, program, patient_id, request)
    thread = (
        Thread.objects.visible_to(user)
        .filter(program=patient.program, patient=patient)
        .select_related("assigned_to")
        .first()
    )
    marked = 0
    messages: list[Message] = []
    if thread is not None:
        marked = Message.objects.filter(
            thread=thread, sender=Message.Sender.PATIENT, read_at__isnull=True
        ).update(read_at=timezone.now(), read_by=user)
        messages = list(thread.messages.select_related("author", "read_by").order_by("created_at"))
    record(
        action=Action.VIEW,
        request=request,
        actor=user,
        program=patient.program,
        patient_id=patient.pk,
        obj=thread,
        object_type="messaging.thread",
        detail={"marked_read": marked},
    )
    return ThreadView(patient, thread, messages)


@transaction.atomic
def reply(
    user: Any,
    program: Program | None,
    patient_id: Any,
    body: str,
    *,
    now: datetime | None = None,
    request: HttpRequest | None = None,
) -> Message:
    """A staff member writes to the patient (a reply, or the first message of the thread). The
    patient is told a message is waiting unless an earlier reply is still unread (one nudge per
    unread batch)."""
    require_roles(user, program, CLINICAL_ROLES)
    text = clean_body(body)
    patient = _patient_in_program(user, program, patient_id, request)
    now = now or timezone.now()
    thread = _thread_of(patient, now)
    already_waiting = Message.objects.filter(
        thread=thread, sender=Message.Sender.STAFF, read_at__isnull=True
    ).exists()
    message = Message.objects.create(
        program=patient.program,
        thread=thread,
        sender=Message.Sender.STAFF,
        author=user,
        body=text,
        language=patient.preferred_language,
        created_at=now,
    )
    # Answering a patient reads what they wrote.
    Message.objects.filter(
        thread=thread, sender=Message.Sender.PATIENT, read_at__isnull=True
    ).update(read_at=now, read_by=user)
    Thread.objects.filter(pk=thread.pk).update(last_message_at=now)
    channels: list[tuple[str, str]] = []
    if not already_waiting:
        channels = notify_reply_waiting(user, patient, message)
    record(
        action=Action.CREATE,
        request=request,
        actor=user,
        program=patient.program,
        patient_id=patient.pk,
        obj=message,
        detail={"length": len(text), "notified": [c for c, _a in channels]},
    )
    return message


def reply_notice(patient: Patient, url: str) -> tuple[str, str]:
    """Subject and body telling the patient a message waits, in their language: their first
    name and a private link, nothing about their health, their care or the program."""
    lang = patient.preferred_language if patient.preferred_language in ("en", "es") else "en"
    with translation.override(lang):
        subject = _("A new message is waiting for you")
        body = _(
            "Hello %(name)s, you have a new message. Open this private link to read it: %(url)s"
        ) % {"name": patient.display_first_name, "url": url}
    return subject, body


def notify_reply_waiting(user: Any, patient: Patient, message: Message) -> list[tuple[str, str]]:
    """Queue the notice on every channel the patient consented to, with a fresh check-in link."""
    from django.conf import settings
    from django.urls import reverse

    from trellis.checkin.services import issue_link
    from trellis.notify.services import message_patient
    from trellis.patients.services import reminder_contacts

    if not reminder_contacts(patient):
        return []
    _link, token = issue_link(patient, purpose="messages", created_by=user)
    base = getattr(settings, "TRELLIS_BASE_URL", "").rstrip("/")
    subject, body = reply_notice(patient, base + reverse("messaging:patient", args=[token]))
    return message_patient(
        program=patient.program,
        patient=patient,
        subject=subject,
        body=body,
        purpose="message_waiting",
        dedupe=f"message:{message.pk}",
    )


def staff_choices(program: Program) -> list[User]:
    """Who a thread may be assigned to: staff with a clinical role in the program."""
    ids = Membership.objects.filter(program=program, role__in=CLINICAL_ROLES).values("user_id")
    return list(User.objects.filter(pk__in=ids, is_active=True).order_by("first_name", "username"))


@transaction.atomic
def assign(
    user: Any,
    program: Program | None,
    patient_id: Any,
    assignee_id: Any,
    *,
    request: HttpRequest | None = None,
) -> Thread:
    """Assign the patient's thread to a clinical staff member of the program (None: nobody)."""
    require_roles(user, program, CLINICAL_ROLES)
    patient = _patient_in_program(user, program, patient_id, request)
    assignee = None
    if assignee_id not in (None, ""):
        assignee = next(
            (u for u in staff_choices(patient.program) if str(u.pk) == str(assignee_id)), None
        )
        if assignee is None:
            raise InvalidInput("assigned_to", "choose a staff member of this program")
    thread = _thread_of(patient, timezone.now())
    Thread.objects.filter(pk=thread.pk).update(assigned_to=assignee)
    thread.refresh_from_db()
    record(
        action=Action.UPDATE,
        request=request,
        actor=user,
        program=patient.program,
        patient_id=patient.pk,
        obj=thread,
        detail={"assigned_to": assignee.get_username() if assignee else ""},
    )
    return thread


def has_thread(patient: Patient) -> bool:
    """Whether the patient has a conversation (for the demo's idempotent seeding)."""
    return Thread.objects.filter(patient=patient).exists()


def chart_summary(user: Any, patient: Patient) -> tuple[int, bool]:
    """(unread patient messages, whether a conversation exists) for the chart panel."""
    thread = Thread.objects.visible_to(user).filter(patient=patient).first()
    if thread is None:
        return 0, False
    unread = thread.messages.filter(sender=Message.Sender.PATIENT, read_at__isnull=True).count()
    return unread, True
