"""Coverage: payer, plan, prior authorisation and REMS noted; the payer checklist."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest
from tests.support import Cast

from trellis.access import services
from trellis.access.models import Coverage
from trellis.core.errors import InvalidInput, NotAllowed

TODAY = date(2026, 3, 2)


def cover(cast: Cast, **kwargs: Any) -> Coverage:
    return services.record_coverage(cast.coordinator_a, cast.patient_a, today=TODAY, **kwargs)


@pytest.mark.django_db
def test_esketamine_coverage_with_prior_auth_and_rems(cast: Cast) -> None:
    row = cover(
        cast,
        payer="commercial",
        plan_name="  Example   PPO ",
        member_id="ABC123",
        prior_auth_status="approved",
        prior_auth_requested_on=TODAY - timedelta(days=10),
        prior_auth_decided_on=TODAY - timedelta(days=2),
        prior_auth_expires_on=TODAY + timedelta(days=180),
        percent_covered={"esketamine_56": 80},
        copay={"integration": "25"},
    )
    row.refresh_from_db()
    assert row.plan_name == "Example PPO"
    assert row.copay == {"integration": "25.00"}
    assert services.current_coverage(cast.nurse_a, cast.patient_a) == row
    assert services.current_coverage(cast.coordinator_b, cast.patient_a) is None
    terms = services.core_coverage(row)
    assert terms is not None
    assert terms.percent_covered["esketamine_56"] == 80


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"payer": "bitcoin"}, "coverage.payer"),
        ({"payer": "commercial"}, "member_id"),
        ({"payer": "uninsured", "plan_name": "X"}, "plan_name"),
        ({"payer": "uninsured", "prior_auth_status": "pending"}, "prior_auth_status"),
        ({"payer": "uninsured", "percent_covered": {"integration": 50}}, "coverage.payer"),
        (
            {"payer": "medicaid", "member_id": "M", "prior_auth_status": "pending"},
            "prior_auth_requested_on",
        ),
        (
            {"payer": "medicaid", "member_id": "M", "prior_auth_status": "approved"},
            "prior_auth_decided_on",
        ),
        (
            {
                "payer": "medicaid",
                "member_id": "M",
                "prior_auth_status": "denied",
                "prior_auth_requested_on": TODAY,
                "prior_auth_decided_on": TODAY - timedelta(days=1),
            },
            "prior_auth_decided_on",
        ),
        (
            {"payer": "medicaid", "member_id": "M", "prior_auth_expires_on": TODAY},
            "prior_auth_expires_on",
        ),
        (
            {"payer": "medicare", "member_id": "M", "percent_covered": {"integration": 120}},
            "coverage.percent_covered.integration",
        ),
    ],
)
def test_bad_coverage_is_refused_naming_the_field(
    cast: Cast, kwargs: dict[str, Any], field: str
) -> None:
    with pytest.raises(InvalidInput) as exc:
        cover(cast, **kwargs)
    assert exc.value.field == field
    assert not Coverage.objects.exists()


@pytest.mark.django_db
def test_only_coordinators_and_admins_record_coverage(cast: Cast) -> None:
    with pytest.raises(NotAllowed):
        services.record_coverage(cast.therapist_a, cast.patient_a, payer="uninsured")


@pytest.mark.parametrize(
    ("payer", "eligible"),
    [("commercial", True), ("medicaid", False), ("medicare", False), ("va_tricare", False)],
)
def test_savings_programme_only_for_commercial(payer: str, eligible: bool) -> None:
    assert services.savings_programme_eligible(payer) is eligible


def test_checklist_names_rems_and_medicare_codes() -> None:
    checklist = services.payer_checklist("medicare")
    keys = {i.key: i.status for i in checklist.items}
    assert keys["rems_patient_enrolment"] == "required"
    assert set(checklist.billing_codes) == {"G2082", "G2083"}


@pytest.mark.django_db
def test_rems_enrolment_is_read_from_dosing_when_it_offers_it(cast: Cast) -> None:
    from trellis.dosing import services as dosing

    assert services.rems_enrolment_on_file(cast.nurse_a, cast.patient_a) is None
    dosing.enrol_patient(
        cast.coordinator_a, cast.patient_a, rems_patient_id="R-1", enrolled_on=TODAY
    )
    on_file = services.rems_enrolment_on_file(cast.nurse_a, cast.patient_a)
    assert on_file is not None
    assert on_file.enrolled_on == TODAY
    assert services.rems_enrolment_on_file(cast.coordinator_b, cast.patient_a) is None


@pytest.mark.django_db
def test_rems_enrolment_has_one_source_read_by_coverage_and_dosing(client: Any, cast: Cast) -> None:
    """Issue 19: the enrolment was entered in two places that did not agree; now coverage
    keeps no REMS field and shows (and links to) the one dosing reads for the first-dose gate."""
    from django.urls import reverse
    from tests.support import sign_in

    from trellis.dosing import services as dosing

    assert "rems_enrolled_on" not in {f.name for f in Coverage._meta.get_fields()}
    sign_in(client, cast.coordinator_a)
    url = reverse("access:coverage", args=[cast.patient_a.pk])
    page = client.get(url).content.decode()
    assert "No Spravato REMS patient enrolment on file" in page
    assert "#rems-enrolment" in page
    assert 'name="rems_enrolled_on"' not in page
    dosing.enrol_patient(
        cast.coordinator_a, cast.patient_a, rems_patient_id="R-77", enrolled_on=TODAY
    )
    page = client.get(url).content.decode()
    assert "R-77" in page
