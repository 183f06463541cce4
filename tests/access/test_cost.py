"""The cost of a course: every track, the program's prices, coverage first, then the sliding fee."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest
from tests.support import Cast

from trellis.access import services
from trellis.audit.models import AuditEvent
from trellis.core.cost import DEFAULT_PRICES
from trellis.core.errors import InvalidInput, NotAllowed
from trellis.core.pathway import plan
from trellis.core.protocols import list_protocols, load_protocol

TODAY = date(2026, 3, 2)
TRACKS = [p.id for p in list_protocols()]


def assess(cast: Cast, income: str, household: int = 1) -> None:
    services.assess_patient_fee(
        cast.coordinator_a,
        cast.patient_a,
        year=2026,
        region="contiguous",
        household_size=household,
        annual_income=income,
        document_kind="tax_return",
        document_date=TODAY,
        today=TODAY,
    )


def cover(cast: Cast, **kwargs: Any) -> None:
    services.record_coverage(cast.coordinator_a, cast.patient_a, today=TODAY, **kwargs)


def test_there_are_eight_tracks() -> None:
    assert len(TRACKS) == 8


@pytest.mark.django_db
@pytest.mark.parametrize("track", TRACKS)
def test_every_track_is_costed_from_its_plan(cast: Cast, track: str) -> None:
    estimate = services.estimate_course_cost(cast.nurse_a, cast.patient_a, protocol_id=track)
    protocol = load_protocol(track)
    planned = plan(protocol, estimate.computed_on)
    assert estimate.source == "plan"
    assert len(estimate.cost.lines) == len(planned.activities)
    doses = [li for li in estimate.cost.lines if li.kind == "dose"]
    assert len(doses) == len(planned.of_kind("dose"))
    expected = sum((DEFAULT_PRICES[li.drug or li.kind] for li in estimate.cost.lines), Decimal(0))
    assert estimate.cost.gross == expected > 0
    # No coverage and no assessment: the patient pays the gross.
    assert estimate.cost.patient_out_of_pocket == estimate.cost.gross
    assert estimate.cost.payer == "uninsured"


@pytest.mark.django_db
def test_esketamine_doses_are_priced_by_mg(cast: Cast) -> None:
    estimate = services.estimate_course_cost(
        cast.nurse_a, cast.patient_a, protocol_id="esketamine-trd", later_dose_mg=56
    )
    drugs = [li.drug for li in estimate.cost.lines if li.kind == "dose"]
    assert set(drugs) == {"esketamine_56"}
    estimate = services.estimate_course_cost(
        cast.nurse_a, cast.patient_a, protocol_id="esketamine-trd"
    )
    drugs = [li.drug for li in estimate.cost.lines if li.kind == "dose"]
    assert drugs[0] == "esketamine_56"
    assert set(drugs[1:]) == {"esketamine_84"}
    with pytest.raises(InvalidInput) as exc:
        services.estimate_course_cost(
            cast.nurse_a, cast.patient_a, protocol_id="esketamine-trd", later_dose_mg=70
        )
    assert exc.value.field == "later_dose_mg"


@pytest.mark.django_db
def test_navigator_contacts_are_not_billed(cast: Cast) -> None:
    plain = services.estimate_course_cost(cast.nurse_a, cast.patient_a, protocol_id="iv-trd")
    with_chw = services.estimate_course_cost(
        cast.nurse_a, cast.patient_a, protocol_id="iv-trd", adaptations=["chw-navigator"]
    )
    assert with_chw.not_billed == 2
    assert with_chw.cost.gross == plain.cost.gross


@pytest.mark.django_db
def test_program_prices_are_used(cast: Cast) -> None:
    services.save_prices(cast.admin_a, cast.program_a, {"ketamine_iv": "400", "integration": "100"})
    estimate = services.estimate_course_cost(cast.nurse_a, cast.patient_a, protocol_id="iv-trd")
    assert estimate.prices_version == 1
    assert {li.gross for li in estimate.cost.lines if li.kind == "dose"} == {Decimal("400.00")}
    assert {li.gross for li in estimate.cost.lines if li.kind == "integration"} == {
        Decimal("100.00")
    }


@pytest.mark.django_db
def test_coverage_is_applied_before_the_sliding_fee_discount(cast: Cast) -> None:
    # Commercial 80 % after a $500 deductible; class B (80 % discount) on the patient's share.
    cover(
        cast,
        payer="commercial",
        plan_name="Example PPO",
        member_id="X1",
        percent_covered=dict.fromkeys(
            ["preparation", "integration", "follow_up", "ketamine_iv"], 80
        ),
        deductible_remaining="500",
    )
    assess(cast, "17000")  # 17,000 / 15,960 = 106.5 % → class B
    estimate = services.estimate_course_cost(cast.nurse_a, cast.patient_a, protocol_id="iv-trd")
    lines = [li for li in estimate.cost.lines if li.gross > 0]
    # 1st: preparation $150 entirely in the deductible → share 150 → 80 % off → $30.
    first = lines[0]
    assert (first.kind, first.deductible_applied, first.covered) == (
        "preparation",
        Decimal(150),
        Decimal(0),
    )
    assert (first.discount, first.patient) == (Decimal("120.00"), Decimal("30.00"))
    # After the deductible: a $500 dose → plan 80 % → share $100 → 80 % off → $20.
    later_dose = [li for li in lines if li.kind == "dose"][-1]
    assert (later_dose.covered, later_dose.discount, later_dose.patient) == (
        Decimal("400.00"),
        Decimal("80.00"),
        Decimal("20.00"),
    )
    c = estimate.cost
    assert c.gross == c.covered + c.discount + c.patient_out_of_pocket


@pytest.mark.django_db
def test_class_a_pays_the_nominal_fee_per_billable_visit(cast: Cast) -> None:
    assess(cast, "10000")  # 62.7 % → class A, $20 per visit
    estimate = services.estimate_course_cost(cast.nurse_a, cast.patient_a, protocol_id="iv-trd")
    billable = [li for li in estimate.cost.lines if li.gross > 0]
    assert {li.patient for li in billable} == {Decimal("20.00")}
    assert estimate.cost.patient_out_of_pocket == 20 * len(billable)


@pytest.mark.django_db
def test_uninsured_coverage_and_no_assessment_pays_gross(cast: Cast) -> None:
    cover(cast, payer="uninsured")
    estimate = services.estimate_course_cost(cast.nurse_a, cast.patient_a, protocol_id="iv-ptsd")
    assert estimate.cost.covered == 0
    assert estimate.cost.discount == 0


@pytest.mark.django_db
def test_active_episode_plan_is_used_and_follows_plan_changes(cast: Cast) -> None:
    from trellis.care import services as care

    with pytest.raises(InvalidInput) as exc:
        services.estimate_course_cost(cast.nurse_a, cast.patient_a)
    assert exc.value.field == "protocol"
    episode = care.start_episode(
        cast.coordinator_a,
        cast.patient_a,
        protocol_id="iv-trd",
        referred_on=TODAY - timedelta(days=1),
        start_date=TODAY,
    )
    before = services.estimate_course_cost(cast.nurse_a, cast.patient_a)
    assert before.source == "episode"
    assert before.protocol.id == "iv-trd"
    care.add_relapse_booster(cast.nurse_a, episode, TODAY + timedelta(days=40))
    after = services.estimate_course_cost(cast.nurse_a, cast.patient_a)
    assert after.cost.gross > before.cost.gross  # the booster session is priced


@pytest.mark.django_db
def test_cost_is_for_clinical_roles_and_audited(cast: Cast) -> None:
    with pytest.raises(NotAllowed):
        services.estimate_course_cost(cast.analyst_a, cast.patient_a, protocol_id="iv-trd")
    services.estimate_course_cost(cast.nurse_a, cast.patient_a, protocol_id="iv-trd")
    assert AuditEvent.objects.filter(
        object_type="access.course_cost", patient_id=cast.patient_a.pk, action="view"
    ).exists()


@pytest.mark.django_db
def test_a_pending_prior_authorisation_shows_self_pay_with_if_approved(
    cast: Cast, client: Any
) -> None:
    """Issue 19: while the esketamine prior authorisation is pending, the estimate does not
    count the insurer's share: it is self-pay, with the covered figure beside it "if
    approved" (screen and printout); a denied one is self-pay with no "if approved"."""
    from django.urls import reverse
    from tests.support import sign_in

    terms = {
        "payer": "commercial",
        "plan_name": "Example PPO",
        "member_id": "X1",
        "percent_covered": {"esketamine_56": 80, "esketamine_84": 80},
        "prior_auth_requested_on": TODAY - timedelta(days=3),
    }
    cover(cast, prior_auth_status="pending", **terms)
    estimate = services.estimate_course_cost(
        cast.nurse_a, cast.patient_a, protocol_id="esketamine-trd"
    )
    assert estimate.prior_auth == "pending"
    assert estimate.cost.covered == 0
    assert estimate.cost.patient_out_of_pocket == estimate.cost.gross
    assert estimate.if_approved is not None
    assert estimate.if_approved.covered > 0
    assert estimate.if_approved.patient_out_of_pocket < estimate.cost.patient_out_of_pocket
    sign_in(client, cast.coordinator_a)
    query = "?protocol=esketamine-trd"
    page = client.get(reverse("access:cost", args=[cast.patient_a.pk]) + query).content.decode()
    assert "Prior authorisation is pending." in page
    assert "If approved" in page
    printout = client.get(
        reverse("access:cost_print", args=[cast.patient_a.pk]) + query
    ).content.decode()
    assert 'data-testid="if-approved"' in printout

    cover(cast, prior_auth_status="denied", prior_auth_decided_on=TODAY, **terms)
    denied = services.estimate_course_cost(
        cast.nurse_a, cast.patient_a, protocol_id="esketamine-trd"
    )
    assert (denied.prior_auth, denied.if_approved, denied.cost.covered) == ("denied", None, 0)
    # IV ketamine needs no esketamine authorisation: its estimate is unchanged.
    assert (
        services.estimate_course_cost(cast.nurse_a, cast.patient_a, protocol_id="iv-trd").prior_auth
        == ""
    )


@pytest.mark.parametrize(
    ("amount", "language", "text"),
    [
        ("30000", "en", "$30,000.00"),
        ("30000", "es", "30.000,00\u00a0US$"),
        ("3000", "es", "3000,00\u00a0US$"),
        ("1234567.891", "en", "$1,234,567.89"),
        ("0.005", "es", "0,01\u00a0US$"),
        ("-20", "en", "-$20.00"),
    ],
)
def test_money_is_formatted_by_locale(amount: str, language: str, text: str) -> None:
    """Issue 19: "$30000.00" had no separators; CLDR English and Spanish patterns."""
    from trellis.access.templatetags.access_tags import format_usd

    assert format_usd(Decimal(amount), language) == text


@pytest.mark.django_db
def test_the_estimate_lists_the_programs_adapted_tracks(cast: Cast) -> None:
    """Issue 19: the track list missed the program's own adapted tracks."""
    from trellis.access.forms import CostForm
    from trellis.care import services as care

    copy = care.copy_protocol(cast.admin_a, cast.program_a, "iv-trd")
    care.set_protocol_enabled(cast.admin_a, cast.program_a, copy.protocol_id, True)
    form = CostForm(program=cast.program_a)
    ids = [value for value, _label in form.fields["protocol"].choices]
    assert copy.protocol_id in ids
    estimate = services.estimate_course_cost(
        cast.nurse_a, cast.patient_a, protocol_id=copy.protocol_id
    )
    assert estimate.protocol.id == copy.protocol_id
