"""The equity dashboard from database records: funnel, suppression, CSV, who may see it."""

from __future__ import annotations

import csv
import io
from datetime import date, timedelta
from typing import Any

import pytest
from django.urls import reverse
from django.utils import timezone
from tests.support import PATIENT_DATA, Cast, sign_in

from trellis.access import services
from trellis.audit.models import AuditEvent
from trellis.core.errors import NotAllowed


def today() -> date:
    # Assessments are stamped now: the dashboard is read as of today.
    return timezone.localdate()


# 12 English, 11 Vietnamese and 3 Spanish speakers: Spanish is a small cell ("<11") and, so
# that it cannot be recovered from the total, the next smallest (Vietnamese, 11) is suppressed.
LANGUAGES = ["en"] * 12 + ["vi"] * 11 + ["es"] * 3
NAMES = ["Quinn", "Rowan", "Sasha", "Taylor", "Uma", "Vale"]


def cohort(cast: Cast) -> list[Any]:
    from trellis.care import services as care
    from trellis.patients.services import register_patient

    services.set_rurality_table(cast.admin_a, cast.program_a, {"606": "urban"}, "test table")
    patients = []
    for i, lang in enumerate(LANGUAGES):
        data = {
            **PATIENT_DATA,
            "given_name": NAMES[i % len(NAMES)],
            "family_name": f"Cohort{chr(65 + i)}",
            "preferred_language": lang,
            "race_ethnicity": ["white"] if i % 2 else ["black"],
            "zip_code": "60614" if i < 20 else "99999",
            "payer": "medicaid",
        }
        patient = register_patient(cast.admin_a, cast.program_a, data)
        care.start_episode(
            cast.coordinator_a,
            patient,
            protocol_id="iv-trd",
            referred_on=today() - timedelta(days=20),
            start_date=today() - timedelta(days=19),
        )
        if i < 15:
            services.assess_patient_fee(
                cast.coordinator_a,
                patient,
                year=2026,
                region="contiguous",
                household_size=1,
                annual_income=40000,  # 250.6 % → class F
                document_kind="self_attestation",
                document_date=today() - timedelta(days=5),
                today=today(),
            )
        patients.append(patient)
    return patients


def groups(report: Any, dimension: str) -> dict[str, Any]:
    dim = report.dimensions[dimension]
    out = {g.group: g for g in dim.groups}
    out["total"] = dim.total
    return out


@pytest.mark.django_db
def test_records_come_from_the_programs_data(cast: Cast) -> None:
    cohort(cast)
    records = services.equity_records(cast.program_a, today())
    assert len(records) == 26  # one per episode; patient_a has no episode
    assert sum(r.poverty_class == "F" for r in records) == 15
    assert sum(r.rurality == "urban" for r in records) == 20
    assert {r.rurality for r in records} == {"urban", "unknown"}  # 99999 is not in the table
    assert {r.payer for r in records} == {"medicaid"}
    assert all(r.referred and not r.started for r in records)
    assert all(r.out_of_pocket is not None for r in records)
    # Before the referrals nothing is counted; program B has none of these.
    assert services.equity_records(cast.program_a, today() - timedelta(days=21)) == []
    assert services.equity_records(cast.program_b, today()) == []


@pytest.mark.django_db
def test_small_cells_and_their_complement_are_suppressed(cast: Cast) -> None:
    cohort(cast)
    report = services.equity_report(cast.analyst_a, cast.program_a, today())
    lang = groups(report, "language")
    assert lang["en"].episodes == 12
    assert lang["es"].episodes == "<11"
    assert lang["vi"].episodes == "suppressed"  # complementary: 26 − 12 would reveal it
    assert lang["total"].episodes == 26
    assert lang["es"].stages["referred"].rate == "suppressed"
    assert lang["en"].stages["referred"].disparity_ratio is not None
    poverty = groups(report, "poverty_class")
    assert poverty["F"].episodes == 15
    assert poverty["unknown"].episodes == 11


@pytest.mark.django_db
def test_outcome_providers_feed_the_funnel(cast: Cast, monkeypatch: pytest.MonkeyPatch) -> None:
    cohort(cast)
    calls = []

    def provider(episode: Any, as_of: date) -> dict[str, bool]:
        calls.append(episode.pk)
        return {"response": True}

    monkeypatch.setattr(services, "OUTCOME_PROVIDERS", [provider])
    records = services.equity_records(cast.program_a, today())
    assert len(calls) == 26
    assert not any(r.response for r in records)  # nobody started: no outcome is counted
    assert services.outcomes_known()


@pytest.mark.django_db
def test_dashboard_renders_suppression_and_no_names_for_analysts(client: Any, cast: Cast) -> None:
    patients = cohort(cast)
    sign_in(client, cast.analyst_a)
    response = client.get(reverse("access:equity"), {"as_of": today().isoformat()})
    assert response.status_code == 200
    body = response.content.decode()
    assert "&lt;11" in body
    assert "suppressed" in body
    assert "<svg" in body
    assert "<title" in body
    assert "<desc" in body
    for p in [cast.patient_a, *patients]:
        assert p.family_name not in body
    assert "Robin" not in body
    assert AuditEvent.objects.filter(
        object_type="access.equity_dashboard", actor=cast.analyst_a
    ).exists()


@pytest.mark.django_db
def test_csv_export_is_labelled_suppressed_and_audited(client: Any, cast: Cast) -> None:
    patients = cohort(cast)
    sign_in(client, cast.coordinator_a)
    response = client.get(reverse("access:equity_csv"), {"as_of": today().isoformat()})
    assert response.status_code == 200
    assert "synthetic" in response["Content-Disposition"]
    text = response.content.decode()
    rows = list(csv.DictReader(io.StringIO(text)))
    lang = {r["group"]: r for r in rows if r["dimension"] == "language"}
    assert lang["es"]["episodes"] == "<11"
    assert lang["vi"]["episodes"] == "suppressed"
    assert lang["en"]["episodes"] == "12"
    assert lang["total"]["episodes"] == "26"
    assert {r["data"] for r in rows} == {"synthetic"}
    for p in patients:
        assert p.family_name not in text
        assert str(p.pk) not in text
    assert AuditEvent.objects.filter(action="export", object_type="access.equity_csv").exists()


@pytest.mark.django_db
@pytest.mark.parametrize("who", ["nurse_a", "therapist_a", "peer_a"])
def test_dashboard_is_for_admins_coordinators_and_analysts(
    client: Any, cast: Cast, who: str
) -> None:
    sign_in(client, getattr(cast, who))
    assert client.get(reverse("access:equity")).status_code == 403
    assert client.get(reverse("access:equity_csv")).status_code == 403
    with pytest.raises(NotAllowed):
        services.equity_report(getattr(cast, who), cast.program_a, today())


@pytest.mark.django_db
def test_other_program_sees_only_its_own(client: Any, cast: Cast) -> None:
    cohort(cast)
    sign_in(client, cast.coordinator_b)
    response = client.get(reverse("access:equity_csv"), {"as_of": today().isoformat()})
    rows = list(csv.DictReader(io.StringIO(response.content.decode())))
    totals = {r["episodes"] for r in rows if r["group"] == "total"}
    assert totals == {"0"}
    assert {r["program"] for r in rows} == {"prog-b"}


@pytest.mark.django_db
def test_bad_as_of_date_is_explained(client: Any, cast: Cast) -> None:
    sign_in(client, cast.admin_a)
    response = client.get(reverse("access:equity"), {"as_of": "02/03/2026"})
    assert response.status_code == 400
    assert "YYYY-MM-DD" in response.content.decode()
    assert client.get(reverse("access:equity_csv"), {"as_of": "2999-01-01"}).status_code == 400


@pytest.mark.django_db
def test_started_and_measures_outcomes_reach_the_funnel(
    cast: Cast, monkeypatch: pytest.MonkeyPatch
) -> None:
    from types import SimpleNamespace

    from trellis.care import services as care
    from trellis.core.protocols import load_protocol

    episode = care.start_episode(
        cast.coordinator_a,
        cast.patient_a,
        protocol_id="iv-trd",
        referred_on=today() - timedelta(days=30),
        start_date=today() - timedelta(days=29),
    )
    answers = {i.id: False for i in load_protocol("iv-trd").screening if i.age_below is None}
    care.record_screening(
        cast.coordinator_a, episode, answers, at=timezone.now() - timedelta(days=29)
    )
    # The first-dose gate (safety plan, REMS…) is tested by care; here only the funnel matters.
    monkeypatch.setattr(care, "first_dose_blockers", lambda episode: [])
    for n in (1, 2, 3):
        care.record_event(
            cast.nurse_a,
            episode,
            "preparation_done",
            at=timezone.now() - timedelta(days=28 - n),
            index=n,
        )
    care.record_event(
        cast.nurse_a, episode, "dose_given", at=timezone.now() - timedelta(days=10), index=1
    )
    response_day = today() - timedelta(days=2)
    fake = SimpleNamespace(response=response_day, remission=None)
    monkeypatch.setattr(services, "_measures_outcomes_function", lambda: lambda episode: fake)
    (record,) = services.equity_records(cast.program_a, today())
    assert record.screened
    assert record.started
    assert not record.completed_series_with_80pct_integration  # 1 of 6 doses
    assert record.response
    assert not record.remission
    # As of before the response date, it had not happened yet.
    (earlier,) = services.equity_records(cast.program_a, response_day - timedelta(days=1))
    assert not earlier.response
    assert services.outcome_stages_known() == {"response", "remission", "durable_remission_90d"}
