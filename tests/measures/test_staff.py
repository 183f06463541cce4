"""Clinician entry (totals, C-SSRS), outcomes, relapse warning, the chart panel, access."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from tests.measures.helpers import at, days_ago, dosed_episode
from tests.support import Cast, sign_in

from trellis.alerts.models import Alert
from trellis.care import services as care
from trellis.checkin import services as checkin
from trellis.core.errors import InvalidInput, NotAllowed
from trellis.measures import services
from trellis.measures.models import Assessment


def cssrs_post(answers: dict[str, str]) -> dict[str, str]:
    return {f"cssrs-{k}": v for k, v in answers.items()}


CSSRS_NONE = dict.fromkeys(("q1", "q2", "q6", "q6_3mo"), "no") | dict.fromkeys(
    ("q3", "q4", "q5"), "not_asked"
)


def phq9(patient: Any, total: int, when: Any, tag: str) -> Assessment:
    """A patient-reported PHQ-9 with ``total`` (item 9 = 0) taken at ``when``."""
    answers = {str(i): 0 for i in range(1, 10)}
    left = total
    for i in range(1, 9):
        answers[str(i)] = min(3, left)
        left -= answers[str(i)]
    link, _ = checkin.issue_link(
        patient, purpose="assessments", payload={"due": [{"instrument": "phq9", "timepoint": tag}]}
    )
    return services.record_patient_answers(link, "phq9", answers, tag, now=when)


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("answers", "risk", "alerted"),
    [
        ({"q1": "yes", "q2": "yes", "q3": "yes", "q4": "no", "q5": "no"}, "moderate", True),
        ({"q1": "yes", "q2": "yes", "q3": "no", "q4": "no", "q5": "no"}, "low", False),
        ({"q1": "yes", "q2": "yes", "q3": "yes", "q4": "yes", "q5": "no"}, "high", True),
        ({"q6": "yes", "q6_3mo": "no"}, "moderate", True),
        ({"q1": "yes"}, "low", False),
        ({}, "none", False),
    ],
)
def test_cssrs_moderate_or_high_raises_an_urgent_alert(
    cast: Cast, answers: dict[str, str], risk: str, alerted: bool
) -> None:
    a = services.record_cssrs(cast.nurse_a, cast.patient_a, CSSRS_NONE | answers)
    assert a.risk == risk
    assert a.total is None
    assert a.entered_by == cast.nurse_a
    alerts = Alert.objects.filter(kind="suicide_risk", severity="urgent", patient=cast.patient_a)
    assert alerts.count() == (1 if alerted else 0)


@pytest.mark.django_db
def test_cssrs_skip_logic_is_enforced_in_the_form(client: Any, cast: Cast) -> None:
    sign_in(client, cast.nurse_a)
    data = cssrs_post(CSSRS_NONE | {"q2": "no", "q3": "yes"})
    response = client.post(f"/measures/patients/{cast.patient_a.pk}/cssrs/", data)
    assert response.status_code == 400
    assert "Asked only after" in response.content.decode()
    assert not Assessment.objects.exists()
    missing = client.post(f"/measures/patients/{cast.patient_a.pk}/cssrs/", {"cssrs-q1": "no"})
    assert missing.status_code == 400
    assert "Choose yes, no or not asked." in missing.content.decode()
    # CLINICAL.md §2: yes to q2 with its follow-up questions unanswered is incomplete.
    incomplete = client.post(
        f"/measures/patients/{cast.patient_a.pk}/cssrs/",
        cssrs_post(CSSRS_NONE | {"q1": "yes", "q2": "yes", "q3": "yes"}),
    )
    assert incomplete.status_code == 400
    assert "Answer this question" in incomplete.content.decode()
    assert not Assessment.objects.exists()
    ok = client.post(
        f"/measures/patients/{cast.patient_a.pk}/cssrs/",
        cssrs_post(CSSRS_NONE | {"q1": "yes", "q2": "yes", "q3": "yes", "q4": "no", "q5": "no"}),
    )
    assert ok.status_code == 302
    assert Assessment.objects.get().risk == "moderate"
    assert Alert.objects.filter(kind="suicide_risk").count() == 1


@pytest.mark.django_db
def test_clinician_totals_are_range_checked(client: Any, cast: Cast) -> None:
    with pytest.raises(InvalidInput, match="0 to 60"):
        services.record_clinician_total(cast.nurse_a, cast.patient_a, "madrs", 61)
    with pytest.raises(InvalidInput, match="clinician-rated"):
        services.record_clinician_total(cast.nurse_a, cast.patient_a, "phq9", 10)
    with pytest.raises(NotAllowed):
        services.record_clinician_total(cast.coordinator_a, cast.patient_a, "madrs", 20)
    sign_in(client, cast.nurse_a)
    url = f"/measures/patients/{cast.patient_a.pk}/total/"
    bad = client.post(url, {"mtotal-instrument": "ybocs", "mtotal-total": "41"})
    assert bad.status_code == 400
    assert "The YBOCS total must be from 0 to 40." in bad.content.decode()
    assert client.post(url, {"mtotal-instrument": "moaas", "mtotal-total": "x"}).status_code == 400
    assert not Assessment.objects.exists()
    ok = client.post(
        url,
        {"mtotal-instrument": "madrs", "mtotal-total": "31", "mtotal-taken_at": "2026-01-05T10:00"},
    )
    assert ok.status_code == 302
    saved = Assessment.objects.get()
    assert (saved.instrument, saved.total, saved.source) == ("madrs", 31, "clinician")
    assert saved.entered_by == cast.nurse_a
    assert saved.answers == {}


@pytest.mark.django_db
def test_outcomes_for_episode_use_the_track_primary_and_the_first_dose(
    cast: Cast, monkeypatch: pytest.MonkeyPatch
) -> None:
    start = days_ago(40)
    episode = dosed_episode(cast, monkeypatch, doses=2, start=start)
    assert services.outcomes_for_episode(episode).status == "undetermined"
    phq9(cast.patient_a, 20, at(start + timedelta(3)), "baseline")
    phq9(cast.patient_a, 9, at(start + timedelta(9)), "week_1")
    outcome = services.outcomes_for_episode(episode)
    assert outcome.instrument == "phq9"
    assert outcome.baseline is not None
    assert outcome.baseline.score == 20
    assert outcome.response == start + timedelta(9)
    assert outcome.status == "response"


@pytest.mark.django_db
def test_relapse_warning_adds_the_booster_once_and_a_warning_alert(
    cast: Cast, monkeypatch: pytest.MonkeyPatch
) -> None:
    start = days_ago(40)
    episode = dosed_episode(cast, monkeypatch, doses=2, start=start)
    phq9(cast.patient_a, 20, at(start + timedelta(3)), "baseline")
    phq9(cast.patient_a, 8, at(start + timedelta(10)), "week_1")
    assert not care.open_boosters(episode).exists()
    phq9(cast.patient_a, 15, at(start + timedelta(20)), "week_2")  # 8 + 5 or more: warning
    boosters = care.open_boosters(episode).count()
    assert boosters >= 1
    warning = Alert.objects.get(kind="relapse_warning")
    assert warning.severity == "warning"
    assert str(start + timedelta(20)) in warning.title
    phq9(cast.patient_a, 16, at(start + timedelta(24)), "week_3")  # same warning date
    assert care.open_boosters(episode).count() == boosters
    assert Alert.objects.filter(kind="relapse_warning").count() == 1


@pytest.mark.django_db
def test_chart_shows_the_measures_panel_with_trajectory_and_badges(
    client: Any, cast: Cast, monkeypatch: pytest.MonkeyPatch
) -> None:
    start = days_ago(40)
    dosed_episode(cast, monkeypatch, doses=2, start=start)
    phq9(cast.patient_a, 20, at(start + timedelta(3)), "baseline")
    phq9(cast.patient_a, 4, at(start + timedelta(10)), "week_1")
    services.record_clinician_total(cast.nurse_a, cast.patient_a, "madrs", 30)
    sign_in(client, cast.nurse_a)
    body = client.get(f"/patients/{cast.patient_a.pk}/").content.decode()
    assert "<h2>Measures</h2>" in body
    assert body.count('<svg class="trajectory"') == 2  # PHQ-9 and MADRS
    assert 'class="dose"' in body
    assert "<title" in body
    assert 'class="band band-0"' in body
    assert "Remission" in body
    assert "Baseline" in body
    assert 'style="' not in body[body.index("<h2>Measures</h2>") :].split("</section>")[0]
    page = client.get(f"/measures/patients/{cast.patient_a.pk}/")
    assert page.status_code == 200
    assert '<th scope="col">Total</th>' in page.content.decode()


@pytest.mark.django_db
def test_send_link_now_respects_consent_and_shows_the_link(client: Any, cast: Cast) -> None:
    from trellis.notify.models import OutboxMessage
    from trellis.patients.services import add_consent

    sign_in(client, cast.coordinator_a)
    url = f"/measures/patients/{cast.patient_a.pk}/send-link/"
    body = client.post(url).content.decode()
    assert "Not sent" in body
    # Issue 19: it says why, channel by channel (the cast's patient has a phone, no consent).
    assert "Text message: the patient has not consented to reminders by text." in body
    assert "E-mail: " in body
    assert "/c/" in body
    assert not OutboxMessage.objects.exists()
    add_consent(cast.nurse_a, cast.patient_a, kind="reminders_sms", given_on=days_ago(1))
    body = client.post(url).content.decode()
    assert "+15555550123" in body
    message = OutboxMessage.objects.get()
    assert message.channel == "sms"
    assert "/c/" in message.body
    assert "PHQ" not in message.body


@pytest.mark.django_db
@pytest.mark.parametrize("who", ["coordinator_b", "peer_a", "analyst_a"])
def test_other_programs_and_non_clinical_roles_get_404(client: Any, cast: Cast, who: str) -> None:
    sign_in(client, getattr(cast, who))
    pk = cast.patient_a.pk
    assert client.get(f"/measures/patients/{pk}/").status_code == 404
    assert (
        client.post(
            f"/measures/patients/{pk}/total/", {"mtotal-instrument": "madrs", "mtotal-total": "1"}
        ).status_code
        == 404
    )
    assert client.post(f"/measures/patients/{pk}/cssrs/", cssrs_post(CSSRS_NONE)).status_code == 404
    assert client.post(f"/measures/patients/{pk}/send-link/").status_code == 404
    assert not Assessment.objects.exists()


@pytest.mark.django_db
def test_series_is_checked_and_audited(cast: Cast) -> None:
    from trellis.audit.models import AuditEvent

    services.record_clinician_total(cast.nurse_a, cast.patient_a, "madrs", 30)
    assert [a.total for a in services.series(cast.nurse_a, cast.patient_a, "madrs")] == [30]
    assert AuditEvent.objects.filter(object_type="measures.assessment_series").count() == 1
    with pytest.raises(NotAllowed):
        services.series(cast.coordinator_b, cast.patient_a, "madrs")
    assert len(services.series(None, cast.patient_a, "madrs")) == 1


@pytest.mark.django_db
def test_htmx_entry_swaps_the_panel_fragment(client: Any, cast: Cast) -> None:
    sign_in(client, cast.nurse_a)
    url = f"/measures/patients/{cast.patient_a.pk}/total/"
    bad = client.post(
        url, {"mtotal-instrument": "madrs", "mtotal-total": "99"}, HTTP_HX_REQUEST="true"
    )
    body = bad.content.decode()
    assert bad.status_code == 200  # htmx swaps 2xx only: the errors must reach the page
    assert body.lstrip().startswith('<div class="measures-panel"')
    assert "The MADRS total must be from 0 to 60." in body
    ok = client.post(
        url, {"mtotal-instrument": "madrs", "mtotal-total": "25"}, HTTP_HX_REQUEST="true"
    )
    assert ok.status_code == 200
    assert 'role="status">Score saved.' in ok.content.decode()
    assert Assessment.objects.get().total == 25


@pytest.mark.django_db
def test_qids_item_12_raises_the_suicide_alert_like_phq9_item_9(cast: Cast) -> None:
    """CLINICAL.md §2: any instrument with a suicide item raises the same flag on the same path."""
    answers = {str(i): 0 for i in range(1, 17)} | {"12": 1}
    a = services.record_clinician_items(cast.nurse_a, cast.patient_a, "qids-sr16", answers)
    assert a.flags == ["suicidal_ideation"]
    assert a.suicide_item == "12"  # the chart's badge names QIDS item 12, not PHQ-9 item 9
    alert = Alert.objects.get(kind="suicide_risk", severity="urgent", patient=cast.patient_a)
    assert alert.title == "Suicide risk: QIDS-SR16 item 12 = 1"
    quiet = {str(i): 0 for i in range(1, 17)}
    services.record_clinician_items(cast.nurse_a, cast.patient_a, "qids-sr16", quiet)
    assert Alert.objects.filter(kind="suicide_risk").count() == 1
    with pytest.raises(InvalidInput):
        services.record_clinician_items(cast.nurse_a, cast.patient_a, "phq9", answers)


@pytest.mark.django_db
@pytest.mark.parametrize("typo", ["+7", "0_7", "٧"])
def test_clinician_total_form_takes_ascii_digits_only(client: Any, cast: Cast, typo: str) -> None:
    sign_in(client, cast.nurse_a)
    url = f"/measures/patients/{cast.patient_a.pk}/total/"
    response = client.post(url, {"mtotal-instrument": "asrm", "mtotal-total": typo})
    assert response.status_code == 400
    assert not Assessment.objects.exists()
    ok = client.post(url, {"mtotal-instrument": "asrm", "mtotal-total": "7"})
    assert ok.status_code == 302
    assert Assessment.objects.get().flags == ["possible_mania"]


@pytest.mark.django_db
def test_qids_items_form_raises_the_suicide_alert(client: Any, cast: Cast) -> None:
    """The staff path for QIDS-SR16 (paper form, item by item): item 12 >= 1 raises the same
    urgent alert as PHQ-9 item 9 (CLINICAL.md §2)."""
    sign_in(client, cast.nurse_a)
    url = f"/measures/patients/{cast.patient_a.pk}/items/"
    data = {f"qids-{i}": "0" for i in range(1, 17)}
    missing = client.post(url, {k: v for k, v in data.items() if k != "qids-12"})
    assert missing.status_code == 400
    assert "Choose the answer on the paper form" in missing.content.decode()
    assert client.post(url, data | {"qids-12": "+1"}).status_code == 400
    assert not Assessment.objects.exists()
    ok = client.post(url, data | {"qids-12": "2", "qids-5": "3"})
    assert ok.status_code == 302
    a = Assessment.objects.get()
    assert (a.instrument, a.total, a.flags) == ("qids-sr16", 5, ["suicidal_ideation"])
    assert Alert.objects.get(kind="suicide_risk").title == "Suicide risk: QIDS-SR16 item 12 = 2"
    page = client.get(f"/measures/patients/{cast.patient_a.pk}/").content.decode()
    assert "item 12" in page
