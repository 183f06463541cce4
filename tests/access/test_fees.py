"""Fee assessments and the sliding-fee schedule: stored whole, refused with the field or rule."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest
from tests.support import Cast

from trellis.access import services
from trellis.access.models import FeeAssessment, FeeSchedule
from trellis.audit.models import AuditEvent
from trellis.core import fees as core_fees
from trellis.core.errors import InvalidInput, NotAllowed

TODAY = date(2026, 3, 2)


def assess(cast: Cast, **overrides: Any) -> FeeAssessment:
    kwargs: dict[str, Any] = {
        "year": 2026,
        "region": "contiguous",
        "household_size": 3,
        "annual_income": Decimal("27320"),
        "document_kind": "pay_stubs",
        "document_date": TODAY - timedelta(days=3),
        "today": TODAY,
    }
    kwargs.update(overrides)
    return services.assess_patient_fee(cast.coordinator_a, cast.patient_a, **kwargs)


def default_data() -> dict[str, Any]:
    return services.schedule_to_data(core_fees.default_schedule())


@pytest.mark.django_db
def test_assessment_stores_inputs_and_computed_result(cast: Cast) -> None:
    # 2026 contiguous, household of 3: 15,960 + 2 × 5,680 = 27,320 → exactly 100 % → class A.
    row = assess(cast)
    row.refresh_from_db()
    assert row.poverty_guideline == 27320
    assert row.percent_of_poverty == Decimal("100.0")
    assert (row.fee_class, row.discount_percent, row.nominal_fee) == ("A", 100, Decimal("20.00"))
    assert row.schedule_version == 0  # the Trellis default
    assert row.assessed_by == cast.coordinator_a
    assert row.program == cast.program_a
    event = AuditEvent.objects.get(object_type="access.feeassessment")
    assert event.patient_id == cast.patient_a.pk
    assert event.action == "create"


@pytest.mark.django_db
def test_one_cent_above_100_percent_is_class_b(cast: Cast) -> None:
    row = assess(cast, annual_income="27320.01")
    assert (row.fee_class, row.discount_percent, row.nominal_fee) == ("B", 80, None)


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"year": 1999}, "year"),
        ({"region": "guam"}, "region"),
        ({"region": "alaska", "household_size": 2}, "household_size"),  # 2026 increment unverified
        ({"household_size": 0}, "household_size"),
        ({"annual_income": "-5"}, "annual_income"),
        ({"document_kind": "other"}, "document_note"),
        ({"document_kind": "passport"}, "document_kind"),
        ({"document_date": TODAY + timedelta(days=1)}, "document_date"),
    ],
)
def test_bad_input_is_refused_naming_the_field_and_nothing_is_saved(
    cast: Cast, overrides: dict[str, Any], field: str
) -> None:
    with pytest.raises(InvalidInput) as exc:
        assess(cast, **overrides)
    assert exc.value.field == field
    assert not FeeAssessment.objects.exists()


@pytest.mark.django_db
def test_unknown_year_message_lists_the_known_years(cast: Cast) -> None:
    with pytest.raises(InvalidInput) as exc:
        assess(cast, year=2031)
    assert "unknown poverty-guideline year 2031" in exc.value.detail
    assert "2026" in exc.value.detail


@pytest.mark.django_db
def test_alaska_one_person_2026_is_assessed_explicitly(cast: Cast) -> None:
    row = assess(cast, region="alaska", household_size=1, annual_income="19950")
    assert (row.poverty_guideline, row.fee_class) == (19950, "A")


@pytest.mark.django_db
def test_only_coordinators_and_admins_assess(cast: Cast) -> None:
    with pytest.raises(NotAllowed):
        services.assess_patient_fee(
            cast.nurse_a,
            cast.patient_a,
            year=2026,
            region="contiguous",
            household_size=1,
            annual_income=1,
            document_kind="tax_return",
            document_date=TODAY,
            today=TODAY,
        )
    assert not FeeAssessment.objects.exists()


@pytest.mark.django_db
def test_other_programs_never_see_assessments(cast: Cast) -> None:
    assess(cast)
    assert services.latest_fee_assessment(cast.nurse_a, cast.patient_a) is not None
    assert services.latest_fee_assessment(cast.coordinator_b, cast.patient_a) is None
    assert services.latest_fee_assessment(cast.analyst_a, cast.patient_a) is None


@pytest.mark.django_db
def test_assessment_uses_the_programs_current_schedule_version(cast: Cast) -> None:
    data = default_data()
    data["classes"][1]["discount_percent"] = 90  # B: 90 % instead of 80 %
    services.save_schedule(cast.admin_a, cast.program_a, data)
    row = assess(cast, annual_income="27320.01")
    assert (row.fee_class, row.discount_percent, row.schedule_version) == ("B", 90, 1)


@pytest.mark.django_db
def test_schedule_versions_increase(cast: Cast) -> None:
    assert services.current_schedule(cast.program_a).version == 0
    first = services.save_schedule(cast.admin_a, cast.program_a, default_data())
    second = services.save_schedule(cast.admin_a, cast.program_a, default_data())
    assert (first.version, second.version) == (1, 2)
    assert services.current_schedule(cast.program_a).version == 2
    assert services.current_schedule(cast.program_b).version == 0


def _broken(rule: str) -> dict[str, Any]:
    data = default_data()
    classes = data["classes"]
    if rule == "hrsa_full_discount":
        classes[0].update(discount_percent=90, nominal_fee=None)
    elif rule == "hrsa_graduated":
        # Only two partial classes between 101 % and 200 %.
        data["classes"] = [
            classes[0],
            {**classes[1], "max_percent": "150"},
            {**classes[3], "max_percent": "200"},
            classes[5],
        ]
    elif rule == "hrsa_no_discount_above_200":
        classes[5]["discount_percent"] = 10
    elif rule == "hrsa_criteria":
        data["criteria"] = ["income", "household_size", "assets"]
    return data


@pytest.mark.django_db
@pytest.mark.parametrize(
    "rule",
    ["hrsa_full_discount", "hrsa_graduated", "hrsa_no_discount_above_200", "hrsa_criteria"],
)
def test_schedule_breaking_an_hrsa_rule_is_refused_naming_the_rule(cast: Cast, rule: str) -> None:
    with pytest.raises(services.ScheduleRefused) as exc:
        services.save_schedule(cast.admin_a, cast.program_a, _broken(rule))
    assert rule in {v.rule for v in exc.value.violations}
    assert rule in exc.value.message
    assert not FeeSchedule.objects.exists()


@pytest.mark.django_db
def test_only_admins_edit_the_schedule(cast: Cast) -> None:
    with pytest.raises(NotAllowed):
        services.save_schedule(cast.coordinator_a, cast.program_a, default_data())
