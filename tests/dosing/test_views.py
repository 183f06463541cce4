"""Dosing pages: board (full page and htmx fragment), session forms, REMS pages, access."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone
from tests.dosing.conftest import predose_values
from tests.dosing.test_sessions import run_to_discharge
from tests.support import Cast, sign_in

from trellis.core.errors import Conflict
from trellis.dosing import services
from trellis.dosing.models import DosingSession

M = timedelta(minutes=1)


@pytest.fixture
def session(cast: Cast, ready_course: Any, chair: Any) -> Any:
    return services.start_session(cast.nurse_a, ready_course, chair=chair)


def url(name: str, session: Any, *extra: Any) -> str:
    return reverse(f"dosing:{name}", args=[session.pk, *extra])


@pytest.mark.django_db
def test_board_full_page_and_htmx_fragment(client: Any, cast: Cast, session: Any) -> None:
    sign_in(client, cast.nurse_a)
    page = client.get(reverse("dosing:board")).content.decode()
    assert "<html" in page
    assert 'hx-trigger="every 15s"' in page
    assert "Chair 1" in page
    assert "Robin Example" in page
    fragment = client.get(reverse("dosing:board"), HTTP_HX_REQUEST="true").content.decode()
    assert "<html" not in fragment
    assert 'id="board"' in fragment
    assert "Robin Example" in fragment


@pytest.mark.django_db
def test_predose_form_shows_errors_beside_fields_and_saves_nothing(
    client: Any, cast: Cast, session: Any
) -> None:
    sign_in(client, cast.nurse_a)
    response = client.post(
        url("predose", session),
        {"systolic": "80", "diastolic": "120", "spo2": "130", "identity_confirmed": "on"},
    )
    body = response.content.decode()
    assert response.status_code == 400
    assert "Enter a whole number from 50 to 100." in body
    assert "Nothing was saved" in body
    assert DosingSession.objects.get(pk=session.pk).predose == {}
    response = client.post(url("predose", session), {"systolic": "80", "diastolic": "120"})
    assert "Diastolic must be below systolic" in response.content.decode()


@pytest.mark.django_db
def test_nurse_records_the_predose_check_through_the_page(
    client: Any, cast: Cast, session: Any, prescriber: Any
) -> None:
    sign_in(client, cast.nurse_a)
    start = timezone.localtime() + 5 * M
    fmt = "%Y-%m-%dT%H:%M"
    data = {
        "identity_confirmed": "on",
        "screening_changes_reviewed": "on",
        "pregnancy_status": "not_applicable",
        "planned_start": start.strftime(fmt),
        "last_food": (start - 60 * M).strftime(fmt),
        "last_liquids": (start - 60 * M).strftime(fmt),
        "concomitant_medicines_reviewed": "on",
        "phq9_item9": "0",
        "systolic": "150",
        "diastolic": "85",
        "heart_rate": "70",
        "spo2": "98",
        "ride_home_confirmed": "on",
        "no_driving_advice_given": "on",
    }
    response = client.post(url("predose", session), data)
    assert response.status_code == 302
    body = client.get(url("session", session)).content.decode()
    assert "last food 60 min before the planned start; needs ≥ 120 min" in body
    assert "systolic 150 &gt; 140" in body
    # The dose cannot start: the page answers 409 with the list, nothing is recorded.
    response = client.post(
        url("dose", session), {"lot_number": "EK1", "started_at": start.strftime(fmt)}
    )
    assert response.status_code == 409
    assert "pre-dose list is empty" in response.content.decode()
    assert DosingSession.objects.get(pk=session.pk).started_at is None
    # Only a prescriber may override.
    response = client.post(url("override", session), {"override-reason": "fine"})
    assert response.status_code == 403
    sign_in(client, prescriber)
    response = client.post(url("override", session), {"override-reason": ""})
    assert response.status_code == 400
    assert "Give the reason." in response.content.decode()
    response = client.post(url("override", session), {"override-reason": "Repeat BP 136/84"})
    assert response.status_code == 302
    assert DosingSession.objects.get(pk=session.pk).override_reason == "Repeat BP 136/84"


@pytest.mark.django_db
def test_session_rems_pages_and_exports(
    client: Any, cast: Cast, session: Any, prescriber: Any
) -> None:
    start = timezone.now() - 130 * M
    services.record_predose(cast.nurse_a, session, predose_values(start), now=start - 10 * M)
    services.sign_off_predose(prescriber, session)
    run_to_discharge(cast, session, start)
    sign_in(client, cast.nurse_a)
    body = client.get(url("session", session)).content.decode()
    assert "REMS Patient Monitoring Form" in body
    assert "Sign the session record" in body
    assert client.get(url("rems_form", session)).status_code == 200
    csv = client.get(url("rems_csv", session))
    assert csv["Content-Type"].startswith("text/csv")
    assert "synthetic" in csv["Content-Disposition"]
    pdf = client.get(url("rems_pdf", session))
    assert pdf.content.startswith(b"%PDF-1.4")
    due = client.get(reverse("dosing:rems_due")).content.decode()
    assert "Robin Example" in due
    assert client.post(url("sign", session)).status_code == 302
    assert (
        client.post(url("observe", session), {"at": "2026-01-01T10:00", "spo2": "97"}).status_code
        == 409
    )
    response = client.post(
        url("amend", session),
        {"field": "released_to", "new_value": "Sister (synthetic)", "reason": "Wrong name"},
    )
    assert response.status_code == 302
    body = client.get(url("session", session)).content.decode()
    assert "Partner (synthetic)" in body
    assert "Sister (synthetic)" in body
    english = client.get(url("instructions", session)).content.decode()
    assert "Do not drive" in english
    assert "988" in english
    spanish = client.get(url("instructions", session) + "?lang=es").content.decode()
    assert "988" in spanish
    assert "Do not drive" not in spanish


@pytest.mark.django_db
def test_enrolment_from_the_chart_panel(client: Any, cast: Cast, safety_plan_on_file: None) -> None:
    from tests.dosing.conftest import open_course

    open_course(cast)
    sign_in(client, cast.nurse_a)
    chart = client.get(reverse("patients:chart", args=[cast.patient_a.pk])).content.decode()
    assert "not enrolled" in chart
    response = client.post(
        reverse("dosing:enrol", args=[cast.patient_a.pk]),
        {"rems_patient_id": "", "enrolled_on": "2026-01-05"},
    )
    assert response.status_code == 302
    assert services.enrolment_of(cast.nurse_a, cast.patient_a) is None
    client.post(
        reverse("dosing:enrol", args=[cast.patient_a.pk]),
        {"rems_patient_id": "SYN1", "enrolled_on": "2026-01-05"},
    )
    assert services.enrolment_of(cast.nurse_a, cast.patient_a).rems_patient_id == "SYN1"


@pytest.mark.django_db
def test_settings_page_records_certification_and_validates_thresholds(
    client: Any, cast: Cast
) -> None:
    sign_in(client, cast.nurse_a)
    assert client.get(reverse("dosing:settings")).status_code == 403
    sign_in(client, cast.admin_a)
    response = client.post(
        reverse("dosing:settings"),
        {"thresholds-save": "1", "thresholds": '{"alert_systolic": 100}'},
    )
    assert response.status_code == 400
    assert "alert_systolic" in response.content.decode()
    response = client.post(
        reverse("dosing:settings"),
        {
            "certify": "1",
            "cert-setting_name": "Clinic A",
            "cert-authorised_representative": "Ada",
            "cert-certified_on": "2026-01-02",
        },
    )
    assert response.status_code == 302
    assert services.setting_certified(cast.program_a)
    # Issue 19: the lifecycle from the page; a suspension without a reason is refused.
    response = client.post(
        reverse("dosing:settings"), {"change-cert": "1", "change-change": "suspend"}
    )
    assert response.status_code == 400
    assert services.setting_certified(cast.program_a)
    response = client.post(
        reverse("dosing:settings"),
        {"change-cert": "1", "change-change": "suspend", "change-reason": "Oximeter audit"},
    )
    assert response.status_code == 302
    assert not services.setting_certified(cast.program_a)
    page = client.get(reverse("dosing:settings")).content.decode()
    assert "suspended" in page
    assert "Oximeter audit" in page
    response = client.post(
        reverse("dosing:settings"), {"renew": "1", "renew-certified_on": "2026-02-01"}
    )
    assert response.status_code == 302
    assert services.setting_certified(cast.program_a)


@pytest.mark.django_db
@pytest.mark.parametrize("who", ["coordinator_b", "peer_a", "analyst_a"])
def test_other_programs_and_non_clinical_roles_get_404(
    client: Any, cast: Cast, session: Any, who: str
) -> None:
    sign_in(client, getattr(cast, who))
    for name in ("session", "rems_form", "rems_csv", "rems_pdf", "instructions"):
        assert client.get(url(name, session)).status_code == 404, name
    for name in ("predose", "dose", "observe", "sign", "amend", "discharge"):
        assert client.post(url(name, session)).status_code == 404, name
    assert client.get(reverse("dosing:start", args=[cast.patient_a.pk])).status_code == 404
    assert client.post(reverse("dosing:enrol", args=[cast.patient_a.pk])).status_code == 404
    if who != "coordinator_b":
        assert client.get(reverse("dosing:board")).status_code == 404
    else:  # B's coordinator sees B's (empty) board, never A's sessions
        assert client.get(reverse("dosing:board")).status_code == 404


@pytest.mark.django_db
def test_a_therapist_reads_the_session_but_cannot_record(
    client: Any, cast: Cast, session: Any
) -> None:
    sign_in(client, cast.therapist_a)
    assert client.get(url("session", session)).status_code == 200
    assert client.post(url("predose", session), {}).status_code == 404


@pytest.mark.django_db
@pytest.mark.parametrize("typo", ["1_30", "+130", "١٣٠"])
def test_vital_signs_on_the_form_take_ascii_digits_only(
    client: Any, cast: Cast, session: Any, typo: str
) -> None:
    """Issue 18: Django's own field reads ``1_30`` as 130; a typo must not become a vital."""
    sign_in(client, cast.nurse_a)
    response = client.post(url("predose", session), {"systolic": typo, "diastolic": "80"})
    assert response.status_code == 400
    assert "Enter a whole number from 40 to 300 mmHg." in response.content.decode()
    assert DosingSession.objects.get(pk=session.pk).predose == {}


def test_first_dose_prerequisites_are_said_at_the_door_in_plain_words(
    client: Any, cast: Cast, prescriber: Any, chair: Any
) -> None:
    """Issue 19: with first-dose blockers open (no safety plan, preparation not done, not
    enrolled) the start page lists them in plain words with links, and no session opens; no
    internal key or field path is shown."""
    from tests.dosing.conftest import certify

    from trellis.care import services as care

    certify(cast)
    today = timezone.localdate()
    episode = care.start_episode(
        cast.coordinator_a,
        cast.patient_a,
        protocol_id="esketamine-trd",
        referred_on=today - timedelta(days=3),
        start_date=today - timedelta(days=2),
    )
    sign_in(client, cast.nurse_a)
    url = reverse("dosing:start", args=[cast.patient_a.pk])
    page = client.get(url).content.decode()
    assert 'data-testid="prerequisites"' in page
    assert "Screening has not been recorded." in page
    assert reverse("care:episode", args=[episode.pk]) in page
    for internal in ("rems_patient_enrolment", "safety_plan:", "events[", "preparation:"):
        assert internal not in page
    response = client.post(url, {"chair": chair.pk})
    assert response.status_code == 400
    assert "Screening has not been recorded." in response.content.decode()
    from tests.dosing.conftest import enrol

    enrol(cast)
    with pytest.raises(Conflict, match="no session is opened") as err:
        services.start_session(cast.nurse_a, episode, chair=chair)
    assert "Screening has not been recorded." in err.value.message
    assert not DosingSession.objects.filter(episode=episode).exists()


@pytest.mark.django_db
def test_an_overdue_rems_form_shows_on_the_form_and_the_submitters_home(
    client: Any,
    cast: Cast,
    ready_course: Any,
    prescriber: Any,
    chair: Any,
    request_cleanup: list[Any],
) -> None:
    """Issue 19: past the 7-day deadline (CLINICAL.md §4) the form says it is overdue and the
    home page of whoever must submit it (the monitoring nurse, the program's coordinators)
    carries a card; a nurse with no part in the session sees none."""
    from trellis.accounts.models import Role
    from trellis.accounts.services import create_staff

    start = timezone.now() - timedelta(minutes=130)
    session = services.start_session(cast.nurse_a, ready_course, chair=chair)
    services.record_predose(
        cast.nurse_a, session, predose_values(start), now=start - timedelta(minutes=10)
    )
    services.sign_off_predose(prescriber, session)
    run_to_discharge(cast, session, start)
    other = create_staff(
        username="otto",
        password="correct horse battery",
        program=cast.program_a,
        roles=[Role.NURSE],
    )
    assert services.overdue_rems_forms(cast.nurse_a, cast.program_a) == []
    traveller = time_machine.travel(timezone.now() + timedelta(days=9))
    traveller.start()
    request_cleanup.append(traveller.stop)
    assert [r.session_id for r in services.overdue_rems_forms(cast.nurse_a, cast.program_a)] == [
        session.pk
    ]
    assert services.overdue_rems_forms(other, cast.program_a) == []
    assert len(services.overdue_rems_forms(cast.coordinator_a, cast.program_a)) == 1
    sign_in(client, cast.nurse_a)
    home = client.get("/").content.decode()
    assert "REMS forms overdue" in home
    page = client.get(reverse("dosing:rems_form", args=[session.pk])).content.decode()
    assert "Overdue: due" in page
    assert "Prescriber attestation" in page
    assert "Pia Prescriber" in page
    sign_in(client, other)
    assert "REMS forms overdue" not in client.get("/").content.decode()


@pytest.fixture
def request_cleanup() -> Any:
    stops: list[Any] = []
    yield stops
    for stop in stops:
        stop()
