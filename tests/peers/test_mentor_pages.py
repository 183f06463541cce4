"""The patient peer preferences page, the mentors page and the circle's "leave" button."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.urls import reverse
from tests.peers.helpers import EVENINGS, consent, due_patient, make_circle, today
from tests.support import PATIENT_DATA, Cast, sign_in

from trellis.care.models import Episode
from trellis.patients.services import register_patient
from trellis.peers import services
from trellis.peers.models import (
    CircleMembership,
    MentorContact,
    MentorPairing,
    MentorProfile,
    PeerPreferences,
)

pytestmark = pytest.mark.django_db


def prefs_url(patient: Any) -> str:
    return reverse("peers:preferences", kwargs={"patient_id": patient.pk})


def test_preferences_page_renders_for_a_coordinator(client: Any, cast: Cast) -> None:
    make_circle(cast, identity_focus="Veterans")
    sign_in(client, cast.coordinator_a)
    response = client.get(prefs_url(cast.patient_a))
    assert response.status_code == 200
    assert b"Veterans" in response.content
    assert b"Weekly availability window 3" in response.content


def test_preferences_bad_submission_shows_the_field_error_and_saves_nothing(
    client: Any, cast: Cast
) -> None:
    sign_in(client, cast.coordinator_a)
    response = client.post(
        prefs_url(cast.patient_a), {"weekday_0": "1", "start_0": "20:00", "end_0": "18:00"}
    )
    assert response.status_code == 400
    assert b"The end must be after the start." in response.content
    assert not PeerPreferences.objects.filter(patient=cast.patient_a).exists()


def test_preferences_good_submission_saves(client: Any, cast: Cast) -> None:
    make_circle(cast, identity_focus="Veterans")
    sign_in(client, cast.coordinator_a)
    response = client.post(
        prefs_url(cast.patient_a),
        {
            "weekday_0": "1",
            "start_0": "17:00",
            "end_0": "21:00",
            "weekday_2": "3",
            "start_2": "09:00",
            "end_2": "12:00",
            "identities": ["Veterans"],
            "other_identities": "Parents",
            "mentor_opt_in": "on",
        },
    )
    assert response.status_code == 302
    prefs = PeerPreferences.objects.get(patient=cast.patient_a)
    assert prefs.availability == [
        {"weekday": 1, "start": "17:00", "end": "21:00"},
        {"weekday": 3, "start": "09:00", "end": "12:00"},
    ]
    assert prefs.identity_opt_in == ["Veterans", "Parents"]
    assert prefs.mentor_opt_in is True


def test_other_programs_coordinator_gets_404_on_preferences(client: Any, cast: Cast) -> None:
    sign_in(client, cast.coordinator_b)
    assert client.get(prefs_url(cast.patient_a)).status_code == 404
    assert client.post(prefs_url(cast.patient_a), {}).status_code == 404
    assert not PeerPreferences.objects.filter(patient=cast.patient_a).exists()


def finished_patient(cast: Cast, given: str, *, opted_in: bool = True) -> Any:
    patient = due_patient(cast, given)
    Episode.objects.filter(patient=patient).update(phase="sustaining")
    services.set_preferences(cast.coordinator_a, patient, EVENINGS, mentor_opt_in=opted_in)
    return patient


def mentee(cast: Cast, given: str) -> Any:
    return register_patient(cast.admin_a, cast.program_a, {**PATIENT_DATA, "given_name": given})


def trained_mentor(cast: Cast, given: str = "Mina") -> MentorProfile:
    return services.mark_mentor_training(
        cast.coordinator_a, finished_patient(cast, given), today() - timedelta(days=1)
    )


def test_mentors_page_renders_with_candidates_pairings_and_proposals(
    client: Any, cast: Cast
) -> None:
    candidate = finished_patient(cast, "Cara")
    profile = trained_mentor(cast)
    services.pair_mentor(cast.coordinator_a, profile, mentee(cast, "Milo"), today())
    due_patient(cast, "Newt")  # an active course and no mentor: a proposal
    sign_in(client, cast.coordinator_a)
    response = client.get(reverse("peers:mentors"))
    assert response.status_code == 200
    body = response.content.decode()
    assert candidate.full_name in body
    assert "Mark training done for" in body
    assert "1 of 3 mentees" in body
    assert "Pair Newt" in body
    assert "Log contact" in body


def test_mark_training_bad_date_saves_nothing_good_one_saves(client: Any, cast: Cast) -> None:
    candidate = finished_patient(cast, "Cara")
    sign_in(client, cast.coordinator_a)
    url = reverse("peers:mentors")
    bad = client.post(url, {"action": "training", "patient": candidate.pk, "on": "not a date"})
    assert bad.status_code == 400
    assert "Mentor training done on" in bad.content.decode()
    assert not MentorProfile.objects.filter(patient=candidate).exists()
    good = client.post(url, {"action": "training", "patient": candidate.pk, "on": today()})
    assert good.status_code == 302
    assert MentorProfile.objects.get(patient=candidate).training_done_on == today()


def test_log_contact_field_error_then_saves(client: Any, cast: Cast) -> None:
    pairing = services.pair_mentor(
        cast.coordinator_a, trained_mentor(cast), mentee(cast, "Milo"), today()
    )
    sign_in(client, cast.coordinator_a)
    url = reverse("peers:mentors")
    p = f"c{pairing.pk}-"
    data = {"action": "contact", "pairing": pairing.pk, p + "date": today(), p + "mode": "phone"}
    bad = client.post(url, {**data, p + "minutes": "500"})
    assert bad.status_code == 400
    assert "240" in bad.content.decode()
    assert not MentorContact.objects.exists()
    good = client.post(url, {**data, p + "minutes": "30", p + "note": "Checked in."})
    assert good.status_code == 302
    assert MentorContact.objects.get().minutes == 30


def test_pair_button_refuses_a_fourth_mentee(client: Any, cast: Cast) -> None:
    profile = trained_mentor(cast)
    for name in ("Ana", "Ben", "Cy"):
        services.pair_mentor(cast.coordinator_a, profile, mentee(cast, name), today())
    fourth = mentee(cast, "Dee")
    sign_in(client, cast.coordinator_a)
    response = client.post(
        reverse("peers:mentors"), {"action": "pair", "mentor": profile.pk, "mentee": fourth.pk}
    )
    assert response.status_code == 409
    assert "This mentor already has the most mentees allowed." in response.content.decode()
    assert not MentorPairing.objects.filter(mentee=fourth).exists()
    assert MentorPairing.objects.filter(mentor=profile).count() == 3


def test_pair_button_pairs(client: Any, cast: Cast) -> None:
    profile = trained_mentor(cast)
    new = mentee(cast, "Ana")
    sign_in(client, cast.coordinator_a)
    response = client.post(
        reverse("peers:mentors"), {"action": "pair", "mentor": profile.pk, "mentee": new.pk}
    )
    assert response.status_code == 302
    assert MentorPairing.objects.get(mentee=new).mentor == profile


def test_leave_circle_button(client: Any, cast: Cast) -> None:
    circle = make_circle(cast)
    patient = due_patient(cast, "Lee")
    membership = services.join_circle(cast.coordinator_a, circle, patient, today())
    sign_in(client, cast.coordinator_a)
    page = client.get(reverse("peers:circle", kwargs={"circle_id": circle.pk}))
    assert page.status_code == 200
    assert "Leave circle: " in page.content.decode()
    url = reverse("peers:leave", kwargs={"circle_id": circle.pk})
    client.post(url, {"membership": membership.pk, "on": ""})
    membership.refresh_from_db()
    assert membership.status == CircleMembership.Status.ACTIVE
    response = client.post(url, {"membership": membership.pk, "on": today()})
    assert response.status_code == 302
    membership.refresh_from_db()
    assert membership.status == CircleMembership.Status.LEFT
    assert membership.left_on == today()


def test_chart_panel_links_to_preferences(client: Any, cast: Cast) -> None:
    consent(cast, cast.patient_a)
    sign_in(client, cast.coordinator_a)
    response = client.get(reverse("patients:chart", kwargs={"patient_id": cast.patient_a.pk}))
    assert prefs_url(cast.patient_a) in response.content.decode()
