"""Every response that shows a patient's identifiers writes an audit row (issue 14, finding 2).

The walk: the synthetic demo, every URL pattern of the site (GET), as every demo staff member.
A response that contains a demo patient's full name, phone or e-mail (or, for the roster pages a
peer facilitator sees, a first name next to attendance) must have added a ``view`` row for that
patient. It also checks the role-rights table from the other side: a role whose pages showed a
patient identifier must be one that needs the second factor.
"""

from __future__ import annotations

import html
import re
import uuid
from typing import Any

import pytest
from django.urls import reverse
from django.urls.resolvers import RegexPattern
from tests.accounts.test_access import all_views, placeholder
from tests.support import sign_in

from trellis.accounts.models import IDENTIFIER_ROLES, Membership, User
from trellis.audit.models import AuditEvent
from trellis.patients.models import Patient
from trellis.web.demo import DEMO_SLUG, seed_demo

SKIP_PREFIXES = ("admin:", "djdt:")


def _first(model_label: str, **filters: Any) -> Any:
    from django.apps import apps

    model = apps.get_model(model_label)
    row = model._base_manager.filter(**filters).order_by("pk").first()
    return row.pk if row is not None else None


def _values(patient: Patient) -> dict[str, Any]:
    """A demo object for each URL parameter, tied to ``patient`` where the model allows."""
    from trellis.dosing.models import DosingSession

    program = patient.program
    session = DosingSession._base_manager.filter(patient=patient).order_by("pk").first()
    circle = _first("peers.Circle", program=program)
    return {
        "patient_id": patient.pk,
        "episode_id": _first("care.Episode", patient=patient),
        "session_id": session.pk if session else None,
        "alert_id": _first("alerts.Alert", program=program),
        "circle_id": circle,
        "meeting_id": _first("peers.Meeting", circle_id=circle),
        "consent_id": _first("patients.Consent", patient=patient),
        "appointment_id": _first("booking.Appointment", program=program),
        "proposal_id": _first("booking.PlanProposal", program=program),
        "message_id": _first("notify.OutboxMessage", program=program),
        "note_id": _first("integration.ProcessNote", program=program),
        "referral_id": _first("integration.Referral", patient=patient),
        "screening_id": _first("integration.HrsnScreening", patient=patient),
        "rota_id": _first("booking.StaffRota", program=program),
        "protocol_id": "esketamine-trd",
    }


def _urls(values: dict[str, Any]) -> list[str]:
    urls = []
    for name, pattern in all_views():
        if name.startswith(SKIP_PREFIXES) or not name:
            continue
        converters = pattern.pattern.converters
        if "token" in converters:
            continue  # the patient's own pages; covered by tests/checkin
        if isinstance(pattern.pattern, RegexPattern):  # the FHIR API's resource URLs
            groups = pattern.pattern.regex.groupindex
            urls.append(
                reverse(name, kwargs={g: "Patient" if g == "rtype" else "no-such" for g in groups})
            )
            continue
        kwargs = {
            key: values.get(key) if values.get(key) is not None else placeholder(conv)
            for key, conv in converters.items()
        }
        urls.append(reverse(name, kwargs=kwargs))
    return urls


class Identifiers:
    """Every demo patient's full name (both orders), phone, e-mail and first name, as one regex.

    A name two people share (patients drawn from the same name lists, an emergency contact who
    happens to carry a patient's name) maps to all of them: a page showing it must audit one.
    First names that are also staff names are left out (they appear in every page's header).
    """

    def __init__(self, patients: list[Patient], staff_words: set[str]) -> None:
        self.owners: dict[str, set[str]] = {}
        contacts = {p.emergency_contact_name for p in patients if p.emergency_contact_name}
        contacts |= {word for name in contacts for word in name.split()}
        for p in patients:
            forms = [f"{p.given_name} {p.family_name}", f"{p.family_name}, {p.given_name}"]
            forms += [v for v in (p.phone, p.email) if v]
            if p.given_name not in staff_words:
                forms.append(p.given_name)  # a roster shows first names only
            for form in forms:
                if form in contacts:
                    continue  # the chart shows contacts; a shared name proves nothing
                self.owners.setdefault(form, set()).add(str(p.pk))
        escaped = {html.escape(f) for f in self.owners} | set(self.owners)
        alternatives = "|".join(re.escape(f) for f in sorted(escaped, key=len, reverse=True))
        self.rx = re.compile(rf"(?<![\w@.+])(?:{alternatives})(?![\w@])")

    def shown(self, body: str) -> dict[str, set[str]]:
        """Identifier found in ``body`` -> the patients it may belong to."""
        return {
            html.unescape(m.group(0)): self.owners[html.unescape(m.group(0))]
            for m in self.rx.finditer(body)
        }


@pytest.mark.django_db
def test_every_page_that_shows_a_patient_audits_it(client: Any) -> None:
    seed_demo()
    patients = list(Patient.objects.all())
    staff = list(User.objects.filter(memberships__isnull=False).distinct().order_by("username"))
    staff_words = {u.first_name for u in staff} | {u.last_name for u in staff}
    identifiers = Identifiers(patients, staff_words)
    from trellis.dosing.models import DosingSession

    session = DosingSession._base_manager.filter(program__slug=DEMO_SLUG).order_by("pk").first()
    assert session is not None
    rich = session.patient
    urls = _urls(_values(rich))
    assert len(urls) > 60  # the walk must not silently check nothing
    problems: list[str] = []
    seen_by_role: dict[str, int] = {}
    shown_pages = 0
    for user in staff:
        sign_in(client, user)
        roles = set(Membership.objects.filter(user=user).values_list("role", flat=True))
        for url in urls:
            before = AuditEvent.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
            response = client.get(url)
            if response.status_code != 200 or getattr(response, "streaming", False):
                continue
            body = response.content.decode("utf-8", "replace")
            shown = identifiers.shown(body)
            if not shown:
                continue
            shown_pages += 1
            for role in roles:
                seen_by_role[role] = seen_by_role.get(role, 0) + 1
            audited = {
                str(pid)
                for pid in AuditEvent.objects.filter(pk__gt=before, patient_id__isnull=False)
                .values_list("patient_id", flat=True)
                .distinct()
            }
            missing = sorted(form for form, owners in shown.items() if not owners & audited)
            if missing:
                problems.append(f"{user.username} {url}: not audited: {', '.join(missing)}")
    assert shown_pages > 50  # lists, charts, boards, banners really were checked
    assert problems == [], "\n".join(problems)
    # A role whose pages show patient identifiers must need the second factor (finding 1).
    assert set(seen_by_role) <= IDENTIFIER_ROLES, seen_by_role


def test_identifier_patterns_do_not_match_inside_other_words() -> None:
    p = Patient(
        id=uuid.uuid4(), given_name="Ana", family_name="Ruiz", phone="+15555551001", email=""
    )
    ids = Identifiers([p], set())
    assert set(ids.shown("<td>Ruiz, Ana</td>")) == {"Ruiz, Ana", "Ana"} - {"Ana"} | {"Ruiz, Ana"}
    assert ids.shown("Ana · 3 of 4") == {"Ana": {str(p.pk)}}
    assert ids.shown("Anatomy and Banana") == {}
    assert "+15555551001" in ids.shown("call +15555551001 now")
    assert ids.shown("+155555510012") == {}
