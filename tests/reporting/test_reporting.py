"""Health-centre reporting: the problem list (validated, audited, scoped) and CMS159 from the
database, on the page (drill-down for clinical roles only), as CSV and from the CLI."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest
from django.urls import reverse
from django.utils import timezone
from tests.support import Cast, sign_in

from trellis.audit.models import AuditEvent
from trellis.checkin import services as checkin
from trellis.core.errors import InvalidInput, NotAllowed
from trellis.measures import services as measures
from trellis.reporting import services
from trellis.reporting.models import Diagnosis

pytestmark = pytest.mark.django_db
YEAR = timezone.localdate().year - 1
INDEX = dt.date(YEAR, 2, 3)


def phq9(patient: Any, day: dt.date, total: int) -> None:
    when = timezone.make_aware(dt.datetime.combine(day, dt.time(10)))
    tag = f"t-{day:%Y%m%d}"
    link, _ = checkin.issue_link(
        patient,
        purpose=measures.PURPOSE,
        payload={"due": [{"instrument": "phq9", "timepoint": tag}]},
        now=when - dt.timedelta(minutes=5),
    )
    answers = dict.fromkeys([str(k) for k in range(1, 10)], 0)
    for k in range(total):
        answers[str(k % 8 + 1)] += 1
    measures.record_patient_answers(link, "phq9", answers, tag, now=when)


def remitting_patient(cast: Cast) -> None:
    services.add_diagnosis(
        cast.admin_a, cast.patient_a, code="F33.1", onset=dt.date(YEAR - 1, 5, 1)
    )
    phq9(cast.patient_a, INDEX, 14)
    phq9(cast.patient_a, INDEX + dt.timedelta(days=365), 3)


def test_add_diagnosis_validates_and_audits(cast: Cast) -> None:
    with pytest.raises(InvalidInput) as exc:
        services.add_diagnosis(cast.admin_a, cast.patient_a, code="sad", onset=dt.date(2020, 1, 1))
    assert exc.value.field == "code"
    with pytest.raises(InvalidInput) as exc:
        services.add_diagnosis(
            cast.admin_a, cast.patient_a, code="F33.1", onset=timezone.localdate() + dt.timedelta(1)
        )
    assert exc.value.field == "onset"
    with pytest.raises(InvalidInput) as exc:
        services.add_diagnosis(
            cast.admin_a,
            cast.patient_a,
            code="F33.1",
            onset=dt.date(2020, 1, 1),
            resolved=dt.date(2019, 1, 1),
        )
    assert exc.value.field == "resolved"
    assert not Diagnosis.objects.exists()
    row = services.add_diagnosis(
        cast.admin_a, cast.patient_a, code="f33.1", onset=dt.date(2020, 1, 1)
    )
    assert row.code == "F33.1"
    assert AuditEvent.objects.filter(object_type="reporting.diagnosis", action="create").exists()


def test_other_roles_and_programs_cannot_add(cast: Cast) -> None:
    with pytest.raises(NotAllowed):
        services.add_diagnosis(cast.peer_a, cast.patient_a, code="F33.1", onset=dt.date(2020, 1, 1))
    with pytest.raises(NotAllowed):
        services.add_status_event(cast.coordinator_b, cast.patient_a, kind="death", date=INDEX)
    with pytest.raises(InvalidInput) as exc:
        services.add_status_event(cast.admin_a, cast.patient_a, kind="moved", date=INDEX)
    assert exc.value.field == "kind"


def test_cms159_from_the_database(cast: Cast) -> None:
    remitting_patient(cast)
    result = services.cms159_for_cli(cast.program_a, YEAR)
    assert (result.denominator, result.numerator, result.rate) == (1, 1, 1.0)
    services.add_status_event(
        cast.admin_a, cast.patient_a, kind="palliative_care", date=INDEX + dt.timedelta(days=30)
    )
    excluded = services.cms159_for_cli(cast.program_a, YEAR)
    assert excluded.denominator == 0
    assert excluded.exclusions["palliative_care"] == 1
    assert services.cms159_for_cli(cast.program_b, YEAR).denominator == 0


def test_page_drill_down_for_clinical_roles_only(client: Any, cast: Cast) -> None:
    remitting_patient(cast)
    admin = sign_in(client, cast.admin_a)
    page = admin.get(reverse("reporting:cms159"), {"year": YEAR}).content.decode()
    assert "1/1" in page
    assert cast.patient_a.full_name in page
    csv_text = admin.get(reverse("reporting:cms159_csv", args=[YEAR])).content.decode()
    assert cast.patient_a.full_name in csv_text
    assert AuditEvent.objects.filter(object_type="reporting.cms159", action="export").exists()
    analyst = sign_in(client, cast.analyst_a)
    page = analyst.get(reverse("reporting:cms159"), {"year": YEAR}).content.decode()
    assert "1/1" in page
    assert cast.patient_a.family_name not in page
    assert analyst.get(reverse("reporting:cms159_csv", args=[YEAR])).status_code in {403, 404}


def test_chart_panel_adds_a_diagnosis(client: Any, cast: Cast) -> None:
    admin = sign_in(client, cast.admin_a)
    url = reverse("reporting:add_diagnosis", args=[cast.patient_a.pk])
    admin.post(url, {"code": "F34.1", "onset": "2021-03-01", "description": "Dysthymia"})
    chart = admin.get(reverse("patients:chart", args=[cast.patient_a.pk])).content.decode()
    assert "F34.1" in chart
    bad = admin.post(url, {"code": "nope", "onset": "2021-03-01"}, follow=True).content.decode()
    assert "Diagnosis not saved" in bad
    assert Diagnosis.objects.count() == 1
    other = sign_in(client, cast.coordinator_b)
    assert other.post(url, {"code": "F34.1", "onset": "2021-03-01"}).status_code == 404


def test_cli_cms159_json_contract(cli: Any, cast: Cast) -> None:
    remitting_patient(cast)
    result = cli("report", "cms159", "--program", cast.program_a.slug, "--year", str(YEAR),
                 "--format", "json")  # fmt: skip
    assert result.code == 0
    data = json.loads(result.out)
    assert {"denominator", "numerator", "rate", "exclusions"} <= set(data)
    assert (data["denominator"], data["numerator"], data["rate"]) == (1, 1, 1.0)
    bad = cli("report", "cms159", "--program", "nope", "--year", str(YEAR))
    assert bad.code == 2
    assert bad.out == ""
    assert bad.err.startswith("trellis: error: --program")


def test_exclusion_labels_cover_the_measure() -> None:
    from trellis.core.cms159 import EXCLUSION_REASONS
    from trellis.reporting.views import EXCLUSION_LABELS

    assert set(EXCLUSION_LABELS) == set(EXCLUSION_REASONS)


def test_uds_tables_page_and_csv(client: Any, cast: Cast) -> None:
    remitting_patient(cast)
    admin = sign_in(client, cast.admin_a)
    page = admin.get(reverse("reporting:uds"), {"year": YEAR}).content.decode()
    assert "Income as a percent of the poverty guideline" in page
    assert "&lt;11" in page  # one patient: a small cell
    assert "100_and_below" not in page  # labels, not codes
    csv_text = admin.get(reverse("reporting:uds_csv", args=[YEAR])).content.decode()
    assert "income_percent_of_poverty" in csv_text
    assert cast.patient_a.family_name not in csv_text
    assert ",1\r\n" not in csv_text  # no count from 1 to 10 leaves unsuppressed
    analyst = sign_in(client, cast.analyst_a)
    assert analyst.get(reverse("reporting:uds"), {"year": YEAR}).status_code == 200
    other = sign_in(client, cast.coordinator_b)
    body = other.get(reverse("reporting:uds"), {"year": YEAR}).content.decode()
    assert "0 patients seen" in body
