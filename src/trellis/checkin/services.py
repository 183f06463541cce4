"""Issue and resolve check-in links; the sections of the patient's check-in page.

Apps add what the patient sees (questionnaires due, their circle, their safety plan, their
journal) by appending to ``CHECKIN_SECTIONS`` a callable ``(request, link) -> section | None``
where a section is ``{"title", "template", "context", "order"}``. Each app serves its own forms
under ``/c/<token>/…`` with the :func:`trellis.checkin.views.checkin_view` decorator.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.http import Http404, HttpRequest
from django.utils import timezone

from trellis.accounts.models import CLINICAL_ROLES
from trellis.accounts.services import require_roles
from trellis.audit.models import Action
from trellis.audit.services import client_ip, record
from trellis.checkin.models import CheckInLink
from trellis.core.errors import InvalidInput
from trellis.patients.models import Patient

DEFAULT_HOURS = 72
TOKEN_BYTES = 32  # 256 bits (the issue asks for at least 128)

CHECKIN_SECTIONS: list[Callable[[HttpRequest, CheckInLink], dict[str, Any] | None]] = []


class LinkExpired(Exception):
    """The link exists but has expired or was revoked (the page says so plainly)."""

    def __init__(self, link: CheckInLink) -> None:
        super().__init__("expired")
        self.link = link


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def link_url(token: str) -> str:
    base = getattr(settings, "TRELLIS_BASE_URL", "").rstrip("/")
    return f"{base}/c/{token}/"


@transaction.atomic
def issue_link(
    patient: Patient,
    *,
    purpose: str = "general",
    payload: dict[str, Any] | None = None,
    hours: int = DEFAULT_HOURS,
    created_by: Any = None,
    now: Any = None,
) -> tuple[CheckInLink, str]:
    """Create a link for ``patient``; returns the row and the token (shown or sent once, never
    stored). ``created_by`` is the staff member (checked), or None for scheduled reminders."""
    if created_by is not None:
        require_roles(created_by, patient.program, CLINICAL_ROLES)
    if not 1 <= hours <= 24 * 14:
        raise InvalidInput("hours", "a check-in link lasts from 1 hour to 14 days")
    now = now or timezone.now()
    token = secrets.token_urlsafe(TOKEN_BYTES)
    link = CheckInLink.objects.create(
        token_hash=hash_token(token),
        program=patient.program,
        patient=patient,
        purpose=purpose,
        payload=payload or {},
        created_at=now,
        created_by=created_by,
        expires_at=now + timedelta(hours=hours),
    )
    record(
        action=Action.CREATE,
        actor=created_by,
        program=patient.program,
        patient_id=patient.pk,
        obj=link,
        detail={"purpose": purpose, "hours": hours},
    )
    return link, token


def resolve(token: str, *, now: Any = None) -> CheckInLink:
    """The link for ``token``: Http404 when unknown, :class:`LinkExpired` when expired/revoked."""
    if not token or len(token) > 100:
        raise Http404("No such link")
    link = (
        CheckInLink.objects.select_related("patient", "program")
        .filter(token_hash=hash_token(token))
        .first()
    )
    if link is None:
        raise Http404("No such link")
    if not link.is_valid(now):
        raise LinkExpired(link)
    return link


def touch(link: CheckInLink, request: HttpRequest | None) -> None:
    """Record that the patient opened the link (audited; the patient is the actor)."""
    CheckInLink.objects.filter(pk=link.pk).update(last_used_at=timezone.now())
    record(
        action=Action.VIEW,
        request=request,
        actor=None,
        actor_username=f"patient:{link.patient_id}",
        program=link.program,
        patient_id=link.patient_id,
        obj=link,
        detail={"via": "check-in link"},
    )


@transaction.atomic
def revoke(user: Any, link_id: int, *, request: HttpRequest | None = None) -> CheckInLink:
    try:
        link = CheckInLink.objects.visible_to(user).get(pk=link_id)
    except CheckInLink.DoesNotExist as exc:
        raise Http404("No such link") from exc
    require_roles(user, link.program, CLINICAL_ROLES)
    CheckInLink.objects.filter(pk=link.pk).update(revoked_at=timezone.now())
    record(
        action=Action.UPDATE,
        request=request,
        actor=user,
        program=link.program,
        patient_id=link.patient_id,
        obj=link,
        detail={"revoked": True},
    )
    link.refresh_from_db()
    return link


def sections_for(request: HttpRequest, link: CheckInLink) -> list[dict[str, Any]]:
    sections = []
    for provider in CHECKIN_SECTIONS:
        section = provider(request, link)
        if section is not None:
            sections.append(section)
    return sorted(sections, key=lambda s: s.get("order", 50))


# --- throttling and the birth-year question (issue 14, finding 6) -------------------------------
def _client_key(request: HttpRequest) -> str:
    return f"trellis:checkin-fail:{client_ip(request) or 'unknown'}"


def throttled(request: HttpRequest) -> bool:
    """Has this client address had too many unknown or expired links in the window?"""
    return int(cache.get(_client_key(request), 0)) >= settings.CHECKIN_FAILURE_LIMIT


def count_failure(request: HttpRequest) -> None:
    key = _client_key(request)
    if not cache.add(key, 1, timeout=settings.CHECKIN_FAILURE_WINDOW_SECONDS):
        try:
            cache.incr(key)
        except ValueError:  # expired between add and incr
            cache.add(key, 1, timeout=settings.CHECKIN_FAILURE_WINDOW_SECONDS)


_UNLOCKED = "trellis_checkin_unlocked"


def is_unlocked(request: HttpRequest, link: CheckInLink) -> bool:
    return link.pk in request.session.get(_UNLOCKED, [])


def _attempts_key(link: CheckInLink) -> str:
    return f"trellis:checkin-birth-year:{link.pk}"


def birth_year_locked(link: CheckInLink) -> bool:
    return int(cache.get(_attempts_key(link), 0)) >= settings.CHECKIN_BIRTH_YEAR_ATTEMPTS


def check_birth_year(request: HttpRequest, link: CheckInLink, answer: str) -> str:
    """``"ok"`` (and the link's private pages open for this browser session), ``"wrong"``,
    ``"invalid"`` or ``"locked"``. Counted per link, not per browser: a new cookie does not
    buy new guesses."""
    if birth_year_locked(link):
        return "locked"
    answer = answer.strip()
    if not (answer.isdigit() and len(answer) == 4):
        return "invalid"
    if int(answer) == link.patient.date_of_birth.year:
        unlocked = [*request.session.get(_UNLOCKED, []), link.pk]
        request.session[_UNLOCKED] = unlocked[-20:]
        return "ok"
    key = _attempts_key(link)
    if not cache.add(key, 1, timeout=int((link.expires_at - timezone.now()).total_seconds()) + 60):
        cache.incr(key)
    record(
        action=Action.DENIED,
        request=request,
        actor_username=f"patient:{link.patient_id}",
        program=link.program,
        patient_id=link.patient_id,
        obj=link,
        detail={"reason": "birth year did not match"},
    )
    return "locked" if birth_year_locked(link) else "wrong"
