"""Care pages: the board, starting a course, screening, the episode page, the library; specific
errors beside the field and nothing saved on bad input; 404 for other programs and non-clinical
roles on every episode URL."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.urls import reverse
from django.utils import timezone
from tests.care.conftest import START, no_answers, open_course
from tests.support import Cast, sign_in

from trellis.care import services
from trellis.care.models import Episode, ProgramProtocol


def body(response: Any) -> str:
    return response.content.decode()


def episode_urls(episode: Any) -> list[str]:
    names = [
        "episode",
        "screening",
        "approve_review",
        "document_requirement",
        "record_event",
        "withdraw",
        "complete_booster",
    ]
    return [reverse(f"care:{n}", kwargs={"episode_id": episode.pk}) for n in names]


@pytest.mark.django_db
@pytest.mark.parametrize("who", ["coordinator_b", "peer_a", "analyst_a"])
def test_every_episode_url_is_404_outside_the_care_team(client: Any, cast: Cast, who: str) -> None:
    episode = open_course(cast)
    sign_in(client, getattr(cast, who))
    urls = [*episode_urls(episode), reverse("care:start", args=[cast.patient_a.pk])]
    for url in urls:
        assert client.get(url).status_code in (404, 405), (who, url)
        assert client.post(url, {"reason": "x" * 10, "note": "y" * 20}).status_code == 404, (
            who,
            url,
        )
    episode.refresh_from_db()
    assert episode.phase == "referred"
    if who != "coordinator_b":
        assert client.get(reverse("care:board")).status_code == 404


@pytest.mark.django_db
def test_board_lists_courses_and_filters_with_htmx(client: Any, cast: Cast) -> None:
    open_course(cast)
    sign_in(client, cast.nurse_a)
    page = body(client.get(reverse("care:board")))
    assert "Example, Robin" in page
    assert "Screening: not yet recorded" in page
    partial = client.get(reverse("care:board"), {"track": "iv-ptsd"}, HTTP_HX_REQUEST="true")
    assert "<html" not in body(partial)
    assert "No active course matches." in body(partial)
    assert "Example, Robin" in body(client.get(reverse("care:board"), {"language": "en"}))
    # Program B's coordinator sees B's (empty) board, never A's courses.
    sign_in(client, cast.coordinator_b)
    assert "Example, Robin" not in body(client.get(reverse("care:board")))


@pytest.mark.django_db
def test_start_course_errors_are_specific_and_nothing_is_saved(client: Any, cast: Cast) -> None:
    sign_in(client, cast.coordinator_a)
    url = reverse("care:start", args=[cast.patient_a.pk])
    page = client.get(url)
    assert page.status_code == 200
    assert "Transport help" in body(page)
    today = timezone.localdate()
    bad = client.post(
        url,
        {
            "protocol": "",
            "referred_on": (today + timedelta(days=2)).isoformat(),
            "start_date": today.isoformat(),
            "adaptations": ["teleport"],
        },
    )
    assert bad.status_code == 400
    text = body(bad)
    assert "Choose the track this course follows." in text
    assert "The referral date cannot be in the future." in text
    assert "Select a valid choice. teleport is not one of the available choices." in text
    before = client.post(
        url,
        {
            "protocol": "iv-trd",
            "referred_on": today.isoformat(),
            "start_date": (today - timedelta(days=1)).isoformat(),
        },
    )
    assert "The pathway cannot start before the referral date." in body(before)
    assert not services.episodes_of(cast.coordinator_a, cast.patient_a).exists()

    ok = client.post(
        url,
        {
            "protocol": "iv-trd",
            "referred_on": today.isoformat(),
            "start_date": today.isoformat(),
            "adaptations": ["interpreter", "medical-distrust"],
            "primary_therapist": str(cast.therapist_a.pk),
        },
    )
    episode = Episode.objects.get(patient=cast.patient_a)
    assert ok.status_code == 302
    assert ok["Location"] == reverse("care:screening", args=[episode.pk])
    assert episode.adaptations == ["interpreter", "medical-distrust"]
    assert episode.primary_therapist == cast.therapist_a
    again = client.post(url, {"protocol": "iv-ptsd", "referred_on": today, "start_date": today})
    assert again.status_code == 409
    assert "already has an active course" in body(again)


@pytest.mark.django_db
def test_start_offers_only_enabled_tracks_and_planners_only(
    client: Any, cast: Cast, prescriber_a: Any
) -> None:
    services.set_protocol_enabled(prescriber_a, cast.program_a, "iv-ocd", False)
    sign_in(client, cast.coordinator_a)
    url = reverse("care:start", args=[cast.patient_a.pk])
    assert 'value="iv-ocd"' not in body(client.get(url))
    today = timezone.localdate().isoformat()
    refused = client.post(url, {"protocol": "iv-ocd", "referred_on": today, "start_date": today})
    assert refused.status_code == 400
    assert not services.episodes_of(cast.coordinator_a, cast.patient_a).exists()
    sign_in(client, cast.therapist_a)
    assert client.get(url).status_code == 404  # therapists do not open courses


@pytest.mark.django_db
def test_screening_form_needs_every_answer_then_shows_the_result(client: Any, cast: Cast) -> None:
    episode = open_course(cast)
    sign_in(client, cast.coordinator_a)
    url = reverse("care:screening", args=[episode.pk])
    page = body(client.get(url))
    assert "Current psychotic symptoms?" in page
    assert "excludes" in page
    answers = {f"item_{k}": "no" for k in no_answers("iv-trd")}
    missing = dict(answers)
    missing.pop("item_pregnancy")
    bad = client.post(url, missing)
    assert bad.status_code == 400
    assert "Answer yes or no." in body(bad)
    assert not services.screenings_of(episode).exists()

    excluded = client.post(url, {**answers, "item_current_mania": "yes"})
    assert excluded.status_code == 302
    page = body(client.get(reverse("care:episode", args=[episode.pk])))
    assert "This course cannot proceed" in page
    assert "current_mania (excludes)" in page


@pytest.mark.django_db
def test_review_approval_needs_a_prescribers_note(
    client: Any, cast: Cast, prescriber_a: Any
) -> None:
    episode = open_course(cast)
    services.record_screening(
        cast.coordinator_a, episode, {**no_answers("iv-trd"), "glaucoma": True}
    )
    sign_in(client, prescriber_a)
    url = reverse("care:approve_review", args=[episode.pk])
    bad = client.post(url, {"note": "ok"})
    assert bad.status_code == 400
    assert "Give the reasoning in a sentence" in body(bad)
    assert services.latest_screening(episode).review_approved_by is None
    assert (
        client.post(url, {"note": "Open-angle glaucoma, controlled; ophthalmology ok"}).status_code
        == 302
    )
    assert services.latest_screening(episode).review_approved_by == prescriber_a
    sign_in(client, cast.coordinator_a)
    assert client.post(url, {"note": "x" * 20}).status_code == 404  # prescribers only


@pytest.mark.django_db
def test_episode_page_records_events_with_specific_errors(client: Any, cast: Cast) -> None:
    episode = open_course(
        cast,
        referred_on=timezone.localdate() - timedelta(days=3),
        start_date=timezone.localdate() - timedelta(days=3),
    )
    services.record_screening(
        cast.coordinator_a, episode, no_answers("iv-trd"), at=timezone.now() - timedelta(days=2)
    )
    sign_in(client, cast.therapist_a)
    page = client.get(reverse("care:episode", args=[episode.pk]))
    assert page.status_code == 200
    text = body(page)
    assert "What is still missing before dose 1" in text
    assert "<svg" in text
    assert "<title" in text
    prep = services.activities_of(episode).get(kind="preparation", index=1)
    url = reverse("care:record_event", args=[episode.pk])
    future = (timezone.localtime() + timedelta(days=2)).strftime("%Y-%m-%dT%H:%M")
    bad = client.post(url, {"activity": str(prep.pk), "at": future})
    assert bad.status_code == 400
    assert "This cannot be in the future" in body(bad)
    early = (timezone.localtime() - timedelta(days=30)).strftime("%Y-%m-%dT%H:%M")
    assert "before the referral date" in body(
        client.post(url, {"activity": str(prep.pk), "at": early})
    )
    assert "Choose what happened." in body(client.post(url, {"activity": "", "at": "x"}))
    assert not services.events_of(episode).filter(kind="preparation_done").exists()
    when = (timezone.localtime() - timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M")
    ok = client.post(url, {"activity": str(prep.pk), "at": when, "note": "Intentions set"})
    assert ok.status_code == 302
    prep.refresh_from_db()
    assert prep.status == "done"
    episode.refresh_from_db()
    assert episode.phase == "preparing"


@pytest.mark.django_db
def test_an_event_that_contradicts_the_course_is_refused(client: Any, cast: Cast) -> None:
    episode = open_course(
        cast,
        referred_on=timezone.localdate() - timedelta(days=3),
        start_date=timezone.localdate() - timedelta(days=3),
    )
    services.record_screening(
        cast.coordinator_a,
        episode,
        {**no_answers("iv-trd"), "current_psychosis": True},
        at=timezone.now() - timedelta(days=2),
    )
    sign_in(client, cast.therapist_a)
    prep = services.activities_of(episode).get(kind="preparation", index=1)
    when = (timezone.localtime() - timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M")
    bad = client.post(
        reverse("care:record_event", args=[episode.pk]), {"activity": str(prep.pk), "at": when}
    )
    assert bad.status_code == 400
    assert "This does not fit the course so far" in body(bad)
    assert not services.events_of(episode).filter(kind="preparation_done").exists()


@pytest.mark.django_db
def test_withdraw_and_document_requirement_forms(client: Any, cast: Cast) -> None:
    episode = open_course(cast, track="iv-ptsd")
    sign_in(client, cast.therapist_a)
    req_url = reverse("care:document_requirement", args=[episode.pk])
    bad = client.post(req_url, {"kind": "consent_to_touch_documented", "detail": " "})
    assert bad.status_code == 400
    assert "Say what was documented." in body(bad)
    wrong = client.post(req_url, {"kind": "mood_stabiliser_documented", "detail": "lithium"})
    assert "Select a valid choice" in body(wrong)  # not a requirement of this track
    assert not services.requirements_of(episode).exists()
    client.post(req_url, {"kind": "consent_to_touch_documented", "detail": "No touch; ask first"})
    assert services.requirements_of(episode).count() == 1

    sign_in(client, cast.coordinator_a)
    url = reverse("care:withdraw", args=[episode.pk])
    bad = client.post(url, {"reason": ""})
    assert bad.status_code == 400
    assert "Say why the course stops." in body(bad)
    assert client.post(url, {"reason": "Chose to stop"}).status_code == 302
    episode.refresh_from_db()
    assert episode.phase == "withdrawn"


@pytest.mark.django_db
def test_chart_panel_and_home_card(client: Any, cast: Cast) -> None:
    sign_in(client, cast.coordinator_a)
    chart = body(client.get(reverse("patients:chart", args=[cast.patient_a.pk])))
    assert "Care pathway" in chart
    assert reverse("care:start", args=[cast.patient_a.pk]) in chart
    episode = open_course(cast)
    chart = body(client.get(reverse("patients:chart", args=[cast.patient_a.pk])))
    assert reverse("care:episode", args=[episode.pk]) in chart
    assert reverse("care:start", args=[cast.patient_a.pk]) not in chart
    home = body(client.get(reverse("web:home")))
    assert "Active courses" in home
    assert "integration gaps open" in home


@pytest.mark.django_db
def test_library_pages_validate_next_to_the_field(
    client: Any, cast: Cast, prescriber_a: Any
) -> None:
    sign_in(client, cast.nurse_a)
    assert client.get(reverse("care:library")).status_code == 403
    sign_in(client, prescriber_a)
    assert "iv-trd" in body(client.get(reverse("care:library")))
    toggle = client.post(reverse("care:toggle_protocol", args=["iv-aud"]), {"enabled": "0"})
    assert toggle.status_code == 302
    assert not ProgramProtocol.objects.get(program=cast.program_a, protocol_id="iv-aud").enabled

    copy_url = reverse("care:copy_protocol", args=["iv-trd"])
    bad = client.post(copy_url, {"new_id": "mine"})
    assert bad.status_code == 400
    assert "starts with the program" in body(bad)
    assert client.post(copy_url, {"new_id": "prog-a-iv-trd"}).status_code == 302
    edit = reverse("care:edit_protocol", args=["prog-a-iv-trd"])
    row = ProgramProtocol.objects.get(protocol_id="prog-a-iv-trd")
    text = row.yaml_text.replace("within_hours: 72", "within_hours: 0", 1)
    bad = client.post(edit, {"yaml_text": text})
    assert bad.status_code == 400
    assert "prog-a-iv-trd.yaml: integration.within_hours:" in body(bad)
    row.refresh_from_db()
    assert row.revision == 1
    fixed = row.yaml_text.replace("within_hours: 72", "within_hours: 48", 1).replace(
        'version: "1.0.0"', 'version: "1.0.1"', 1
    )
    assert client.post(edit, {"yaml_text": fixed}).status_code == 302
    row.refresh_from_db()
    assert (row.revision, row.version) == (2, "1.0.1")
    sign_in(client, cast.coordinator_b)
    assert client.get(edit).status_code == 403


@pytest.mark.django_db
def test_referred_on_start_is_kept(cast: Cast) -> None:
    episode = open_course(cast)
    assert episode.start_date == START
